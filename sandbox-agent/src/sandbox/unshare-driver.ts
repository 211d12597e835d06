// The production SandboxDriver: util-linux `unshare` + `nsenter`, and per-sandbox cgroups for limits,
// listing and killing on whatever layout the host has (cgroup v2, hybrid, delegated: cgroups.ts). Why this tool, and how it compares with
// bubblewrap and runc: sandbox-agent/SANDBOX.md.
//
// One sandbox = (1) a short-lived "holder" process that creates the user namespace, whose uid/gid
// maps the agent (host root) writes: sandbox 0..65535 -> host uidBase..uidBase+65535, a range per
// slot; (2) a starter process that joins the sandbox's cgroups, enters that user namespace as uid 0
// and runs `unshare --pid --fork --mount --uts --ipc --net --cgroup` on the setup script
// (rootfs-setup.sh), which builds a tmpfs root, pivots into it and becomes the sandbox init (PID 1).
// The outer `unshare` stays as the init's parent, outside the PID namespace; it exits with the init.
//
// This file: what all sandboxes share (preflight, uid slots, the cgroup parent, teardown and reaping).
// One sandbox's start and shells: unshare-sandbox.ts; the root skeleton and nslab-start:
// rootfs-template.ts; reading its processes' /proc: ../procfs.ts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { agentSrcDir } from '../paths';
import { isNamespaceInit, processRuns } from '../procfs';
import { CgroupLayout, readProcs } from './cgroups';
import type { Sandbox, SandboxDriver, SandboxSpec } from './driver';
import { hostPreflight, type HostPreflight } from './host-preflight';
import { buildTemplate, installStarter } from './rootfs-template';
import { sleep, TOOLS, UnshareSandbox, SANDBOX_UID_COUNT } from './unshare-sandbox';

export { SANDBOX_NOFILE, SANDBOX_PATH, SANDBOX_UID_COUNT, sandboxNproc } from './unshare-sandbox';

const ID_RE = /^[a-z0-9-]{1,40}$/;
const HOSTNAME_RE = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

export interface UnshareDriverOptions {
  /** Name of the parent cgroup in every hierarchy (tests use their own to stay apart). */
  cgroupName?: string;
  /** Host directory for the shared empty rootfs mount point and the uid-slot claims. */
  stateDir?: string;
  /** First host uid of slot 0. */
  uidBaseStart?: number;
  /** Number of uid slots (concurrent sandboxes per host). */
  maxSlots?: number;
  /** Time allowed from spawn to "ready". */
  startTimeoutMs?: number;
  /** Directory holding rootfs-setup.sh and bashrc.bash (default: beside this module). */
  assetsDir?: string;
}

export class UnshareDriver implements SandboxDriver {
  readonly name = 'unshare';
  readonly cgroupName: string;
  readonly stateDir: string;
  private readonly uidBaseStart: number;
  private readonly maxSlots: number;
  private readonly startTimeoutMs: number;
  private readonly assetsDir: string;
  private layout: CgroupLayout | null = null;
  /** What the start-up check found (kernel, AppArmor, user namespaces, cgroup layout). */
  host: HostPreflight | null = null;
  private assets: { setup: string; templateDir: string; starter: string | null } | null = null;

  constructor(opts: UnshareDriverOptions = {}) {
    // AGENT_CGROUP_NAME lets two agents share a host (and the security battery run its own agent)
    // without reaping each other's sandboxes at start.
    this.cgroupName = opts.cgroupName ?? process.env.AGENT_CGROUP_NAME ?? 'nslab';
    if (!ID_RE.test(this.cgroupName)) throw new Error(`bad cgroupName ${this.cgroupName}`);
    this.stateDir = opts.stateDir ?? '/run/nslab';
    this.uidBaseStart = opts.uidBaseStart ?? 1_000_000;
    this.maxSlots = opts.maxSlots ?? 4096;
    this.startTimeoutMs = opts.startTimeoutMs ?? 10_000;
    this.assetsDir = opts.assetsDir ?? path.join(agentSrcDir, 'sandbox');
  }

  get rootfsMountPoint(): string {
    return path.join(this.stateDir, 'rootfs');
  }

  private get slotsDir(): string {
    return path.join(this.stateDir, 'slots');
  }

  async preflight(): Promise<void> {
    this.preflightSync();
  }

  private preflightSync(): void {
    if (this.layout && this.assets) return;
    if (process.getuid?.() !== 0) throw new Error('sandbox preflight: the agent must run as root');
    for (const [name, file] of Object.entries(TOOLS)) {
      try {
        fs.accessSync(file, fs.constants.X_OK);
      } catch {
        throw new Error(`sandbox preflight: ${name} not found at ${file} (install util-linux/iproute2)`);
      }
    }
    // Kernel, namespaces, user-namespace limits and AppArmor: host-preflight.ts (each with its fix).
    const host = hostPreflight();
    // The cgroup layout (v2, hybrid, delegated) and the parent of all sandboxes: cgroups.ts.
    const layout = CgroupLayout.detect();
    layout.prepare(this.cgroupName);
    fs.mkdirSync(this.rootfsMountPoint, { recursive: true, mode: 0o755 });
    fs.mkdirSync(this.slotsDir, { recursive: true, mode: 0o700 });
    const setup = fs.readFileSync(path.join(this.assetsDir, 'rootfs-setup.sh'), 'utf8');
    const bashrc = fs.readFileSync(path.join(this.assetsDir, 'bashrc.bash'), 'utf8');
    const starter = installStarter(this.stateDir);
    if (host.apparmorProfile === null && host.apparmorRestrictsUserns) {
      throw new Error(host.apparmorAdvice);
    }
    if (host.apparmorRestrictsUserns && !starter) {
      throw new Error('sandbox preflight: AppArmor restricts unprivileged user namespaces here and nslab-start could not be built (the shell fallback is not covered by the nslab-sandbox profile): install a C compiler (cc)');
    }
    this.assets = { setup, templateDir: buildTemplate(this.stateDir, bashrc), starter };
    this.host = host;
    this.layout = layout;
  }

  /** The cgroup layout this driver uses (after preflight). */
  get cgroupLayout(): CgroupLayout {
    this.preflightSync();
    return this.layout!;
  }

  /** One sandbox's cgroup directories (cgroup2 first; one per hierarchy). */
  cgroupDirs(id: string): { v2: string; all: string[] } {
    return this.cgroupLayout.sandboxDirs(this.cgroupName, id);
  }

  /** Claim a uid slot atomically (mkdir), across processes. */
  private claimSlot(owner: string): number {
    for (let slot = 0; slot < this.maxSlots; slot++) {
      const dir = path.join(this.slotsDir, String(slot));
      try {
        fs.mkdirSync(dir);
      } catch {
        continue;
      }
      fs.writeFileSync(path.join(dir, 'owner'), owner);
      return slot;
    }
    throw new Error('no free sandbox uid slot');
  }

  private releaseSlot(slot: number, owner: string): void {
    const dir = path.join(this.slotsDir, String(slot));
    try {
      if (fs.readFileSync(path.join(dir, 'owner'), 'utf8') !== owner) return;
    } catch {
      return;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }

  async create(spec: SandboxSpec): Promise<Sandbox> {
    const t0 = performance.now();
    this.preflightSync();
    if (!ID_RE.test(spec.id)) throw new Error(`bad sandbox id ${JSON.stringify(spec.id)}`);
    if (!HOSTNAME_RE.test(spec.hostname)) {
      throw new Error(`bad hostname ${JSON.stringify(spec.hostname)}`);
    }
    const owner = `${this.cgroupName}/${spec.id}`;
    const dirs = this.cgroupDirs(spec.id);
    if (fs.existsSync(dirs.v2)) throw new Error(`sandbox ${spec.id} already exists`);
    const slot = this.claimSlot(owner);
    const uidBase = this.uidBaseStart + slot * SANDBOX_UID_COUNT;
    const sb = new UnshareSandbox(this, spec.id, slot, owner, uidBase, dirs, this.layout!);
    try {
      // The cgroups are made while the starter execs (it waits for the agent before it forks).
      await sb.start(spec, this.assets!, this.startTimeoutMs, () => this.layout!.create(this.cgroupName, spec.id, spec.limits));
    } catch (e) {
      await sb.destroy();
      throw e;
    }
    sb.startMs = performance.now() - t0;
    return sb;
  }

  /** Kill and remove one sandbox's processes, cgroups and slot (also for leftovers). */
  async teardown(id: string): Promise<void> {
    const dirs = this.cgroupDirs(id);
    const procsFiles = dirs.all.map((d) => path.join(d, 'cgroup.procs'));
    const kill = (pid: number) => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    };
    // 1. Kill the init(s) first: the kernel then kills everything in the PID namespace, and the
    //    processes whose parents sit outside it (a shell under its nsenter) are reaped by those
    //    parents, not orphaned to the host's PID 1 (which may reap slowly). cgroup.kill alone does
    //    not end a PID-namespace init.
    // Only processes found in the sandbox's cgroups are ever signalled (never a remembered pid that
    // may have been reused).
    const members = new Set(procsFiles.flatMap(readProcs));
    const inits = [...members].filter(isNamespaceInit);
    inits.forEach(kill);
    const deadline = Date.now() + 5_000;
    while (inits.some(processRuns) && Date.now() < deadline) await sleep(2);
    // 2. Everything else in the cgroups (the outer unshare, nsenters, strays).
    for (;;) {
      try {
        fs.writeFileSync(path.join(dirs.v2, 'cgroup.kill'), '1');
      } catch {
        /* gone already */
      }
      const left = new Set(procsFiles.flatMap(readProcs));
      for (const pid of left) kill(pid);
      if (left.size === 0 || Date.now() > deadline) break;
      await sleep(2);
    }
    for (const d of dirs.all) {
      for (let i = 0; i < 200; i++) {
        try {
          fs.rmdirSync(d);
          break;
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') break;
          if (code !== 'EBUSY' || i === 199) break;
          await sleep(10);
        }
      }
    }
  }

  async reapLeftovers(keep: ReadonlySet<string>): Promise<string[]> {
    this.preflightSync();
    const ids = new Set<string>();
    for (const parent of this.layout!.parentDirs(this.cgroupName)) {
      let entries: fs.Dirent[] = [];
      try {
        entries = fs.readdirSync(parent, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const e of entries) if (e.isDirectory() && ID_RE.test(e.name)) ids.add(e.name);
    }
    const reaped: string[] = [];
    for (const id of ids) {
      if (keep.has(id)) continue;
      await this.teardown(id);
      reaped.push(id);
    }
    // Free uid slots owned by sandboxes of this cgroup name that are not kept.
    let slots: string[] = [];
    try {
      slots = fs.readdirSync(this.slotsDir);
    } catch {
      /* none */
    }
    for (const s of slots) {
      let owner = '';
      try {
        owner = fs.readFileSync(path.join(this.slotsDir, s, 'owner'), 'utf8');
      } catch {
        /* half-claimed: owner written right after mkdir; leave it */
        continue;
      }
      const [group, id] = owner.split('/');
      if (group === this.cgroupName && id !== undefined && !keep.has(id)) {
        fs.rmSync(path.join(this.slotsDir, s), { recursive: true, force: true });
        if (!reaped.includes(id)) reaped.push(id);
      }
    }
    return reaped;
  }

  /** Remove this driver's (empty) parent cgroups, e.g. after tests. Leaves them if still in use. */
  removeCgroupParents(): void {
    for (const dir of this.layout?.parentDirs(this.cgroupName) ?? []) {
      try {
        fs.rmdirSync(dir);
      } catch {
        /* in use or gone */
      }
    }
    this.layout = null; // the next create() runs the preflight again
  }

  /** @internal */
  freeSlot(slot: number, owner: string): void {
    this.releaseSlot(slot, owner);
  }
}
