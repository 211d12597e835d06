// The one interface between the agent and the tool that makes sandboxes. The agent never calls
// unshare/nsenter/cgroupfs itself; it asks a SandboxDriver. There is exactly one implementation in
// production (see unshare-driver.ts and sandbox-agent/README.md for why this tool) and no fake one.

export interface SandboxLimits {
  /** cgroup pids limit (processes + threads). */
  pidsMax: number;
  /** cgroup memory limit (no swap). */
  memoryMaxBytes: number;
  /** CPU share as a percentage of one core (100 = one full core). */
  cpuMaxPercent: number;
  /** Size cap of the writable layer (tmpfs holding /, /tmp, /root, /etc, /var, /run...). */
  diskMaxBytes: number;
  /** Inode cap of the writable layer. */
  inodesMax: number;
}

export const defaultSandboxLimits: SandboxLimits = {
  pidsMax: 256,
  memoryMaxBytes: 256 * 1024 * 1024,
  cpuMaxPercent: 100,
  diskMaxBytes: 64 * 1024 * 1024,
  inodesMax: 16_384,
};

export interface SandboxSpec {
  /** Agent-chosen id, [a-z0-9-]{1,40}; also names the cgroups. */
  id: string;
  /** Hostname inside the sandbox's UTS namespace. */
  hostname: string;
  limits: SandboxLimits;
}

/** How to start a root login shell inside a sandbox: the agent hands this to node-pty. */
export interface ShellCommand {
  file: string;
  args: string[];
  /** The complete environment (nothing of the agent's own env leaks in). */
  env: Record<string, string>;
  cwd: string;
}

export interface Sandbox {
  readonly id: string;
  /** Host PID of the sandbox's init (PID 1 in its PID namespace). */
  readonly initHostPid: number;
  /** First host uid/gid of this sandbox's range; sandbox uid N = host uid uidBase + N. */
  readonly uidBase: number;
  /** Number of ids mapped (65536). */
  readonly uidCount: number;
  /** Time from create() call to the sandbox being ready to exec a shell. */
  readonly startMs: number;
  /**
   * Host PIDs of every process currently in the sandbox, read from its cgroup (never by scanning
   * all of /proc). Synchronous: used by the grader's snapshot.
   */
  listHostPids(): number[];
  /** The command that starts a new root shell inside this sandbox (joins all its namespaces and cgroups). */
  shellCommand(opts: { cols: number; rows: number; terminal: number }): ShellCommand;
  /** True while the sandbox's init is alive. */
  isAlive(): boolean;
  /** Resolves when the init exits (for any reason). */
  readonly exited: Promise<void>;
  /** Kill everything, unmount, remove cgroups and directories. Idempotent. */
  destroy(): Promise<void>;
  /** Resource counters for monitoring and fairness tests (read from the sandbox's cgroups). */
  stats(): { memoryBytes: number | null; pids: number | null; oomKills: number | null; pidsLimitHits: number | null; cpuUsageUsec: number | null };
  /** The limits the kernel holds for this sandbox, read back from its cgroup files. */
  appliedLimits(): { pidsMax: number | null; memoryMaxBytes: number | null; swapMaxBytes: number | null; cpuMaxPercent: number | null };
}

export interface SandboxDriver {
  readonly name: string;
  /** Check the host can run sandboxes (tools present, cgroups writable); throws a clear error if not. */
  preflight(): Promise<void>;
  create(spec: SandboxSpec): Promise<Sandbox>;
  /** Remove sandboxes (processes, cgroups, dirs) left over by a previous agent run. Returns their ids. */
  reapLeftovers(keep: ReadonlySet<string>): Promise<string[]>;
}
