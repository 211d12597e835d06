// Where a sandbox's cgroups live and how its limits are written, on every cgroup layout a host can
// have: cgroup v2 only (every stock distribution, cloud image and Kubernetes node), the hybrid
// layout (v1 controllers + a controller-less cgroup2, as on our CI machines), and a delegated
// subtree (the agent in a Docker/Podman container or a Kubernetes pod with its own cgroup
// namespace, or a systemd unit with Delegate=yes).
//
// Each controller the sandboxes need (pids, memory, cpu) is placed on its own: in cgroup v2 when
// the v2 tree offers it, else in the v1 hierarchy that holds it. There is one code path per
// controller and version (ControllerOps below), not one copy of the driver per layout. The cgroup2
// tree is always needed: it lists a sandbox's processes and ends them with cgroup.kill.
//
// Placement of the parent of all sandboxes (`<name>`):
// - "root":    the agent sees the true root of the cgroup2 tree (a host, or a container started with
//              --cgroupns=host and /sys/fs/cgroup mounted rw): <root>/<name>, as Docker's cgroupfs
//              driver does. The root cgroup is exempt from the "no internal processes" rule.
// - "subtree": the agent was given a subtree (AGENT_CGROUP_PARENT=self or a path, or auto-detected
//              inside a cgroup namespace): <base>/<name>. The kernel forbids enabling controllers
//              for the children of a non-root cgroup that holds processes, so every process of <base>
//              (the agent, its launcher, the app) is first moved into the leaf <base>/nslab-supervisor.
//              An agent that finds itself already in that leaf (a restart) uses its parent as <base>.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultSandboxLimits, type SandboxLimits } from './driver';

export type ControllerName = 'pids' | 'memory' | 'cpu';
export const REQUIRED_CONTROLLERS: readonly ControllerName[] = ['pids', 'memory', 'cpu'];
/** The leaf the processes of a delegated subtree are moved into before controllers are enabled. */
export const SUPERVISOR_LEAF = 'nslab-supervisor';
/** cgroup v1 cpu.shares of the parent of all sandboxes (a nice-0 process weighs 1024). */
export const SANDBOXES_CPU_SHARES = 256;
/** The same weight in cgroup v2 terms (a sibling cgroup weighs 100 by default): a quarter. */
export const SANDBOXES_CPU_WEIGHT = 25;
const CPU_PERIOD_US = 100_000;

// ---------- the ceiling on all sandboxes together ----------
// Each sandbox has its own memory and pids limits, but AGENT_MAX_SESSIONS of them (200 x 256 MiB =
// 50 GiB) can exceed the host. The parent of all sandboxes therefore gets a ceiling of its own,
// sized from the host with headroom for the agent, the app and the system, so that learners
// together hit an OOM kill or "fork: Resource temporarily unavailable" inside the sandboxes, never
// the host's OOM killer or pid exhaustion. Overridable: AGENT_SANDBOXES_MEMORY_MAX (bytes, or with
// a K/M/G suffix) and AGENT_SANDBOXES_PIDS_MAX (see sandbox-agent/README.md).

/** Memory kept outside the sandboxes: at least this much, or HEADROOM_FRACTION of the host if more. */
export const MEMORY_HEADROOM_MIN_BYTES = 1024 * 1024 * 1024;
export const MEMORY_HEADROOM_FRACTION = 0.1;
/** Share of the host's pid space (min of kernel.pid_max and kernel.threads-max) sandboxes may use. */
export const PIDS_HOST_FRACTION = 0.75;
const MIN_CEILING_MEMORY_BYTES = 64 * 1024 * 1024;
const MIN_CEILING_PIDS = 64;

export interface SandboxesCeiling {
  memoryMaxBytes: number;
  pidsMax: number;
  /** How each figure was chosen, for the start-up log. */
  reason: string;
}

export interface CeilingInput {
  /** Memory the agent's host (or its container's cgroup) has. */
  hostMemoryBytes: number;
  /** min(kernel.pid_max, kernel.threads-max). */
  hostPidsMax: number;
  /** AGENT_MAX_SESSIONS. */
  maxSessions: number;
  perSandbox?: Pick<SandboxLimits, 'memoryMaxBytes' | 'pidsMax'>;
  env?: Record<string, string | undefined>;
}

function parseBytes(raw: string): number | null {
  const m = /^(\d+)\s*([KMGT]i?B?)?$/i.exec(raw.trim());
  if (!m) return null;
  const unit = (m[2] ?? '').toUpperCase()[0];
  const mult = unit === 'K' ? 2 ** 10 : unit === 'M' ? 2 ** 20 : unit === 'G' ? 2 ** 30 : unit === 'T' ? 2 ** 40 : 1;
  const n = Number(m[1]) * mult;
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * The memory and pids ceiling of the parent of all sandboxes: what AGENT_MAX_SESSIONS full
 * sandboxes would use, but never more than the host minus headroom (memory: max(1 GiB, 10%);
 * pids: a quarter of the pid space), never less than one sandbox. Env overrides win; a bad one
 * throws CgroupLayoutError naming the variable.
 */
export function sandboxesCeiling(input: CeilingInput): SandboxesCeiling {
  const per = input.perSandbox ?? defaultSandboxLimits;
  const env = input.env ?? process.env;
  const headroom = Math.max(MEMORY_HEADROOM_MIN_BYTES, Math.round(input.hostMemoryBytes * MEMORY_HEADROOM_FRACTION));
  const allFull = input.maxSessions * per.memoryMaxBytes;
  const hostLeft = input.hostMemoryBytes - headroom;
  let memoryMaxBytes = Math.max(per.memoryMaxBytes, Math.min(allFull, hostLeft));
  let memReason = allFull <= hostLeft ? `${input.maxSessions} sandboxes x ${per.memoryMaxBytes} bytes` : `host ${input.hostMemoryBytes} bytes - ${headroom} headroom`;
  const pidsAll = input.maxSessions * per.pidsMax;
  const pidsHost = Math.floor(input.hostPidsMax * PIDS_HOST_FRACTION);
  let pidsMax = Math.max(per.pidsMax, Math.min(pidsAll, pidsHost));
  let pidsReason = pidsAll <= pidsHost ? `${input.maxSessions} sandboxes x ${per.pidsMax}` : `${PIDS_HOST_FRACTION} of the host's ${input.hostPidsMax}`;
  const memRaw = env.AGENT_SANDBOXES_MEMORY_MAX;
  if (memRaw !== undefined && memRaw.trim() !== '') {
    const n = parseBytes(memRaw);
    if (n === null || n < MIN_CEILING_MEMORY_BYTES) {
      throw new CgroupLayoutError(`AGENT_SANDBOXES_MEMORY_MAX must be a size of at least 64M (bytes, or with a K/M/G suffix, e.g. 12G), got ${JSON.stringify(memRaw)}`);
    }
    memoryMaxBytes = n;
    memReason = 'AGENT_SANDBOXES_MEMORY_MAX';
  }
  const pidsRaw = env.AGENT_SANDBOXES_PIDS_MAX;
  if (pidsRaw !== undefined && pidsRaw.trim() !== '') {
    const n = /^\d+$/.test(pidsRaw.trim()) ? Number(pidsRaw.trim()) : NaN;
    if (!Number.isSafeInteger(n) || n < MIN_CEILING_PIDS) {
      throw new CgroupLayoutError(`AGENT_SANDBOXES_PIDS_MAX must be a whole number of at least ${MIN_CEILING_PIDS}, got ${JSON.stringify(pidsRaw)}`);
    }
    pidsMax = n;
    pidsReason = 'AGENT_SANDBOXES_PIDS_MAX';
  }
  return { memoryMaxBytes, pidsMax, reason: `memory.max ${memoryMaxBytes} (${memReason}), pids.max ${pidsMax} (${pidsReason})` };
}

/** The host's figures for sandboxesCeiling: MemTotal (or a smaller memory.max of the base cgroup), the pid space. */
export function hostCeilingInput(memoryBase: string | null, env: Record<string, string | undefined> = process.env): CeilingInput {
  const memTotalKb = Number(/^MemTotal:\s+(\d+) kB/m.exec(readOr('/proc/meminfo') ?? '')?.[1] ?? NaN);
  let hostMemoryBytes = Number.isFinite(memTotalKb) ? memTotalKb * 1024 : 2 ** 31;
  if (memoryBase !== null) {
    for (const f of ['memory.max', 'memory.limit_in_bytes']) {
      const limit = readNumber(path.join(memoryBase, f));
      if (limit !== null && Number.isFinite(limit) && limit > 0 && limit < hostMemoryBytes) hostMemoryBytes = limit;
    }
  }
  const pidMax = readNumber('/proc/sys/kernel/pid_max') ?? 32768;
  const threadsMax = readNumber('/proc/sys/kernel/threads-max') ?? pidMax;
  const sessions = Number(env.AGENT_MAX_SESSIONS);
  return {
    hostMemoryBytes,
    hostPidsMax: Math.min(pidMax, threadsMax),
    maxSessions: Number.isSafeInteger(sessions) && sessions > 0 ? sessions : 200,
    env,
  };
}

/** What the kernel holds for a sandbox, read back from its cgroup files. */
export interface CgroupStats {
  memoryBytes: number | null;
  pids: number | null;
  oomKills: number | null;
  /** Forks refused at pids.max (pids.events "max"). */
  pidsLimitHits: number | null;
  /** CPU time used, from the cgroup2 cpu.stat (there on every kernel >= 4.15, with or without the cpu controller). */
  cpuUsageUsec: number | null;
}

export interface AppliedLimits {
  pidsMax: number | null;
  memoryMaxBytes: number | null;
  /** 0: no swap; null: swap is not accounted on this host (no memsw / memory.swap.max). */
  swapMaxBytes: number | null;
  cpuMaxPercent: number | null;
}

/** What detection reads: injectable so the decisions are unit-tested on recorded host layouts. */
export interface HostView {
  mountinfo: string;
  selfCgroup: string;
  exists(p: string): boolean;
  read(p: string): string | null;
}

export const realHost: HostView = {
  get mountinfo() {
    return fs.readFileSync('/proc/self/mountinfo', 'utf8');
  },
  get selfCgroup() {
    return fs.readFileSync('/proc/self/cgroup', 'utf8');
  },
  exists: (p) => fs.existsSync(p),
  read: (p) => {
    try {
      return fs.readFileSync(p, 'utf8');
    } catch {
      return null;
    }
  },
};

export class CgroupLayoutError extends Error {
  constructor(message: string) {
    super(`sandbox preflight: ${message}`);
    this.name = 'CgroupLayoutError';
  }
}

interface CgroupMount {
  point: string;
  /** The cgroup path mounted there (the 4th mountinfo field), "/" for a whole hierarchy. */
  root: string;
  version: 1 | 2;
  /** v1: the controllers bound to this hierarchy. */
  controllers: string[];
}

/** Unescapes mountinfo's octal escapes (\040 for a space). */
const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const out: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(' ');
    const post = line.slice(sep + 3).split(' ');
    const fstype = post[0];
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const root = unescape(pre[3] ?? '/');
    const point = unescape(pre[4] ?? '');
    const superOpts = (post[2] ?? '').split(',');
    out.push({
      point,
      root,
      version: fstype === 'cgroup2' ? 2 : 1,
      controllers: fstype === 'cgroup' ? superOpts.filter((o) => !o.includes('=') && o !== 'rw' && o !== 'ro') : [],
    });
  }
  return out;
}

/** /proc/self/cgroup: the v2 path ("0::/...") and each v1 controller's path. */
export function parseSelfCgroup(text: string): { v2: string | null; v1: Map<string, string> } {
  let v2: string | null = null;
  const v1 = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === '0' && m[2] === '') v2 = m[3]!;
    else for (const c of m[2]!.split(',')) if (c) v1.set(c, m[3]!);
  }
  return { v2, v1 };
}

/** The directory of cgroup path `cg` in a hierarchy mounted at `mount` (which shows cgroup `mountRoot`). */
function dirOf(mount: CgroupMount, cg: string): string | null {
  const root = mount.root === '/' ? '' : mount.root.replace(/\/$/, '');
  if (cg !== root && !cg.startsWith(`${root}/`) && root !== '') return null;
  const dir = path.join(mount.point, cg.slice(root.length));
  return dir.length > 1 ? dir.replace(/\/+$/, '') : dir;
}

const words = (text: string | null) => (text ?? '').trim().split(/\s+/).filter(Boolean);

/** How one controller's files are written and read; one implementation per cgroup version. */
interface ControllerOps {
  apply(dir: string, limits: SandboxLimits): void;
  /** On the parent of all sandboxes (CPU weight; memory and pids ceiling). */
  applyParent?(dir: string, ceiling: SandboxesCeiling): void;
}

function readNumber(file: string): number | null {
  try {
    const text = fs.readFileSync(file, 'utf8').trim();
    if (text === 'max') return Number.POSITIVE_INFINITY;
    const n = Number.parseInt(text, 10);
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

function readKey(file: string, key: string): number | null {
  try {
    const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(fs.readFileSync(file, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

const write = (file: string, value: string) => fs.writeFileSync(file, value);

const OPS: Record<`${ControllerName}${1 | 2}`, ControllerOps> = {
  pids1: {
    apply: (d, l) => write(path.join(d, 'pids.max'), String(l.pidsMax)),
    applyParent: (d, c) => write(path.join(d, 'pids.max'), String(c.pidsMax)),
  },
  pids2: {
    apply: (d, l) => write(path.join(d, 'pids.max'), String(l.pidsMax)),
    applyParent: (d, c) => write(path.join(d, 'pids.max'), String(c.pidsMax)),
  },
  memory1: {
    apply: (d, l) => writeV1Memory(d, l.memoryMaxBytes),
    applyParent: (d, c) => writeV1Memory(d, c.memoryMaxBytes),
  },
  memory2: {
    apply: (d, l) => writeV2Memory(d, l.memoryMaxBytes),
    applyParent: (d, c) => writeV2Memory(d, c.memoryMaxBytes),
  },
  cpu1: {
    apply: (d, l) => {
      write(path.join(d, 'cpu.cfs_period_us'), String(CPU_PERIOD_US));
      write(path.join(d, 'cpu.cfs_quota_us'), String(cpuQuotaUs(l.cpuMaxPercent)));
    },
    applyParent: (d) => write(path.join(d, 'cpu.shares'), String(SANDBOXES_CPU_SHARES)),
  },
  cpu2: {
    apply: (d, l) => write(path.join(d, 'cpu.max'), `${cpuQuotaUs(l.cpuMaxPercent)} ${CPU_PERIOD_US}`),
    applyParent: (d) => write(path.join(d, 'cpu.weight'), String(SANDBOXES_CPU_WEIGHT)),
  },
};

/** v1: memory and memory+swap equal (no swap); memsw must stay >= the memory limit, so the order depends on the old value. */
function writeV1Memory(d: string, bytes: number): void {
  const memsw = path.join(d, 'memory.memsw.limit_in_bytes');
  const hasMemsw = fs.existsSync(memsw);
  if (hasMemsw) {
    try {
      write(memsw, String(bytes)); // raising: memsw first
    } catch {
      /* lowering: after the memory limit, below */
    }
  }
  write(path.join(d, 'memory.limit_in_bytes'), String(bytes));
  if (hasMemsw) write(memsw, String(bytes));
}

function writeV2Memory(d: string, bytes: number): void {
  write(path.join(d, 'memory.max'), String(bytes));
  const swap = path.join(d, 'memory.swap.max');
  if (fs.existsSync(swap)) write(swap, '0');
}

const cpuQuotaUs = (percent: number) => Math.max(1000, Math.round((CPU_PERIOD_US * percent) / 100));

interface Placement {
  version: 1 | 2;
  /** The directory the parent of all sandboxes is made in. */
  baseDir: string;
}

export interface CgroupLayoutSummary {
  mode: 'root' | 'subtree';
  v2Base: string;
  controllers: Record<ControllerName, { version: 1 | 2; base: string }>;
}

export class CgroupLayout {
  /** The ceiling prepare() wrote on the parent of all sandboxes. */
  ceiling: SandboxesCeiling | null = null;

  private constructor(
    readonly mode: 'root' | 'subtree',
    /** The cgroup2 directory the parent of all sandboxes is made in. */
    readonly v2Base: string,
    readonly placements: Record<ControllerName, Placement>,
  ) {}

  /**
   * Reads the host's layout. `parent` is AGENT_CGROUP_PARENT: "auto" (default), "root", "self", or
   * a cgroup path such as /system.slice/nslab.service (relative to the cgroup2 mount).
   */
  static detect(parent = process.env.AGENT_CGROUP_PARENT ?? 'auto', host: HostView = realHost): CgroupLayout {
    if (!/^(auto|root|self|\/[A-Za-z0-9._@:/-]*)$/.test(parent) || parent.includes('/..') || parent.includes('//')) {
      throw new CgroupLayoutError(
        `AGENT_CGROUP_PARENT must be auto, root, self or a cgroup path such as /system.slice/nslab.service, got ${JSON.stringify(parent)}`,
      );
    }
    const mounts = parseCgroupMounts(host.mountinfo);
    const v2Mounts = mounts.filter((m) => m.version === 2);
    const v2 =
      v2Mounts.find((m) => m.point === '/sys/fs/cgroup') ??
      v2Mounts.find((m) => m.point === '/sys/fs/cgroup/unified') ??
      v2Mounts[0];
    if (!v2) {
      throw new CgroupLayoutError(
        'no cgroup2 file system is mounted (none in /proc/self/mountinfo). nslab needs cgroup v2 (a kernel >= 5.14 for cgroup.kill). ' +
          'On a systemd host boot with systemd.unified_cgroup_hierarchy=1 (the default on every current distribution); in a container mount /sys/fs/cgroup from the host (-v /sys/fs/cgroup:/sys/fs/cgroup:rw) or let the runtime give it a cgroup namespace.',
      );
    }
    const self = parseSelfCgroup(host.selfCgroup);
    if (self.v2 === null) throw new CgroupLayoutError('/proc/self/cgroup has no cgroup2 line ("0::/...")');
    const ownDir = dirOf(v2, self.v2);
    // The true root of the cgroup2 tree has no cgroup.type (only non-root cgroups do); inside a
    // cgroup namespace the visible top is the namespace's root, a non-root cgroup.
    const trueRootVisible = !host.exists(path.join(v2.point, 'cgroup.type'));
    let mode: 'root' | 'subtree';
    let v2Base: string;
    if (parent === 'root' || (parent === 'auto' && trueRootVisible)) {
      if (!trueRootVisible) {
        throw new CgroupLayoutError(
          `AGENT_CGROUP_PARENT=root, but ${v2.point} is not the root of the cgroup tree (it has cgroup.type: the agent runs in a cgroup namespace). Use AGENT_CGROUP_PARENT=self (the delegated subtree) or run the container with --cgroupns=host.`,
        );
      }
      mode = 'root';
      v2Base = v2.point;
    } else {
      mode = 'subtree';
      if (parent === 'auto' || parent === 'self') {
        if (ownDir === null)
          throw new CgroupLayoutError(`the agent's cgroup ${self.v2} is outside the cgroup2 mount at ${v2.point}`);
        v2Base = path.basename(ownDir) === SUPERVISOR_LEAF ? path.dirname(ownDir) : ownDir;
      } else {
        const dir = dirOf(v2, parent);
        if (dir === null)
          throw new CgroupLayoutError(`AGENT_CGROUP_PARENT ${parent} is outside the cgroup2 mount at ${v2.point}`);
        v2Base = dir;
      }
    }
    const v2Available = new Set(words(host.read(path.join(v2Base, 'cgroup.controllers'))));
    // Controllers the root (or the subtree's parent) offers: in root mode the root cgroup lists every
    // controller bound to v2; in subtree mode what was delegated to the base.
    const placements = {} as Record<ControllerName, Placement>;
    for (const c of REQUIRED_CONTROLLERS) {
      if (v2Available.has(c)) {
        placements[c] = { version: 2, baseDir: v2Base };
        continue;
      }
      const v1 = mounts.find((m) => m.version === 1 && m.controllers.includes(c));
      if (v1) {
        const own = self.v1.get(c) ?? '/';
        const base =
          mode === 'root'
            ? (dirOf(v1, '/') ?? v1.point)
            : parent === 'auto' || parent === 'self'
              ? (() => {
                  const d = dirOf(v1, own) ?? v1.point;
                  return path.basename(d) === SUPERVISOR_LEAF ? path.dirname(d) : d;
                })()
              : (dirOf(v1, parent) ?? path.join(v1.point, parent));
        placements[c] = { version: 1, baseDir: base };
        continue;
      }
      const listed = [...v2Available].join(' ') || '(nothing)';
      throw new CgroupLayoutError(
        `the ${c} controller is not available: ${path.join(v2Base, 'cgroup.controllers')} lists ${listed} and no cgroup v1 hierarchy holds it. ` +
          (mode === 'subtree'
            ? `The agent runs in a delegated cgroup (${v2Base}) that was not given ${c}: for a systemd unit set Delegate=yes (deploy/systemd/nslab.service); for Docker/Podman on cgroup v2 use --privileged (or --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw); for Kubernetes a privileged pod; or enable it in the parent's cgroup.subtree_control.`
            : c === 'memory'
              ? 'Enable it at boot with the kernel parameter cgroup_enable=memory (some Raspberry Pi and embedded kernels leave it off).'
              : `Enable it in the kernel (CONFIG_CGROUP_${c === 'pids' ? 'PIDS' : 'SCHED'}).`),
      );
    }
    return new CgroupLayout(mode, v2Base, placements);
  }

  summary(): CgroupLayoutSummary {
    const controllers = {} as CgroupLayoutSummary['controllers'];
    for (const c of REQUIRED_CONTROLLERS)
      controllers[c] = { version: this.placements[c].version, base: this.placements[c].baseDir };
    return { mode: this.mode, v2Base: this.v2Base, controllers };
  }

  /** One line for the agent's start-up log. */
  describe(): string {
    const per = REQUIRED_CONTROLLERS.map((c) => `${c}: v${this.placements[c].version}`).join(', ');
    const allV2 = REQUIRED_CONTROLLERS.every((c) => this.placements[c].version === 2);
    const ceiling = this.ceiling ? `; all sandboxes: ${this.ceiling.reason}` : '';
    return `${allV2 ? 'cgroup v2' : 'hybrid (cgroup v1 controllers + cgroup2)'}, ${this.mode === 'root' ? 'at the root' : 'in the delegated subtree'} ${this.v2Base} (${per})${ceiling}`;
  }

  /** The distinct hierarchies' base directories: the cgroup2 one first. */
  private bases(): string[] {
    const out = [this.v2Base];
    for (const c of REQUIRED_CONTROLLERS) {
      const p = this.placements[c];
      if (p.version === 1 && !out.includes(p.baseDir)) out.push(p.baseDir);
    }
    return out;
  }

  /** The parent directory of all sandboxes named `name`, one per hierarchy (cgroup2 first). */
  parentDirs(name: string): string[] {
    return this.bases().map((b) => path.join(b, name));
  }

  /** One sandbox's directories, one per hierarchy; `v2` lists its processes and has cgroup.kill. */
  sandboxDirs(name: string, id: string): { v2: string; all: string[] } {
    const all = this.parentDirs(name).map((d) => path.join(d, id));
    return { v2: all[0]!, all };
  }

  /** The directory that holds `controller`'s files for a sandbox. */
  controllerDir(name: string, id: string, controller: ControllerName): string {
    return path.join(this.placements[controller].baseDir, name, id);
  }

  /**
   * Makes the parent of all sandboxes in every hierarchy and enables the controllers its children
   * need (moving a subtree's own processes into a leaf first). Idempotent. Throws CgroupLayoutError
   * with the file and the fix when the host does not allow it.
   */
  prepare(name: string): void {
    const v2Ctrls = REQUIRED_CONTROLLERS.filter((c) => this.placements[c].version === 2);
    if (v2Ctrls.length > 0) {
      if (this.mode === 'subtree') this.evacuate(this.v2Base, v2Ctrls);
      enableControllers(this.v2Base, v2Ctrls);
    }
    for (const dir of this.parentDirs(name)) {
      try {
        fs.mkdirSync(dir, { recursive: true });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new CgroupLayoutError(
          `cannot create the cgroup ${dir}: ${(e as Error).message}.` +
            (code === 'EROFS'
              ? ' /sys/fs/cgroup is mounted read-only: run the container with -v /sys/fs/cgroup:/sys/fs/cgroup:rw (Docker/Podman) or privileged (Kubernetes).'
              : ' The agent must run as root with a writable cgroup file system.'),
        );
      }
    }
    if (v2Ctrls.length > 0) enableControllers(path.join(this.v2Base, name), v2Ctrls);
    // All sandboxes together weigh a quarter of a sibling at the default weight: when learners burn
    // every core, the agent (and the system) still get the CPU first, so echo and grading stay fast.
    // Sandboxes still share among themselves by equal weight (each its own cgroup below this one).
    const cpu = this.placements.cpu;
    const ceiling = sandboxesCeiling(hostCeilingInput(this.placements.memory.baseDir));
    try {
      OPS[`cpu${cpu.version}`].applyParent?.(path.join(cpu.baseDir, name), ceiling);
    } catch {
      /* not fatal: fairness among sandboxes still holds */
    }
    // All sandboxes together stay below the host's memory and pid space (sandboxesCeiling).
    for (const c of ['memory', 'pids'] as const) {
      const dir = path.join(this.placements[c].baseDir, name);
      try {
        OPS[`${c}${this.placements[c].version}`].applyParent?.(dir, ceiling);
      } catch (e) {
        throw new CgroupLayoutError(`cannot set the ${c} ceiling of all sandboxes in ${dir} (${ceiling.reason}): ${(e as Error).message}`);
      }
    }
    this.ceiling = ceiling;
    if (!fs.existsSync(path.join(this.v2Base, name, 'cgroup.kill'))) {
      throw new CgroupLayoutError(
        `${path.join(this.v2Base, name)} has no cgroup.kill: the kernel is older than 5.14; nslab needs 5.14 or later (see SECURITY.md for the patch floor)`,
      );
    }
  }

  /** "No internal processes": move every process of `base` into its supervisor leaf. */
  private evacuate(base: string, needed: ControllerName[]): void {
    const enabled = new Set(words(readOr(path.join(base, 'cgroup.subtree_control'))));
    if (needed.every((c) => enabled.has(c))) return; // done before (the kernel keeps it empty since)
    const procs = path.join(base, 'cgroup.procs');
    if (readProcs(procs).length === 0) return;
    const leaf = path.join(base, SUPERVISOR_LEAF);
    try {
      fs.mkdirSync(leaf, { recursive: true });
    } catch (e) {
      throw new CgroupLayoutError(
        `cannot create the supervisor leaf ${leaf}: ${(e as Error).message} (is the delegated cgroup writable by the agent?)`,
      );
    }
    for (let round = 0; round < 50; round++) {
      const left = readProcs(procs);
      if (left.length === 0) return;
      for (const pid of left) {
        try {
          fs.writeFileSync(path.join(leaf, 'cgroup.procs'), String(pid));
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code !== 'ESRCH') {
            throw new CgroupLayoutError(`cannot move process ${pid} from ${base} into ${leaf}: ${(e as Error).message}`);
          }
        }
      }
    }
    throw new CgroupLayoutError(`${procs} keeps getting new processes; cannot empty it to enable controllers`);
  }

  /** Makes one sandbox's cgroups and writes its limits. */
  create(name: string, id: string, limits: SandboxLimits): { v2: string; all: string[] } {
    const dirs = this.sandboxDirs(name, id);
    for (const d of dirs.all) fs.mkdirSync(d);
    for (const c of REQUIRED_CONTROLLERS) OPS[`${c}${this.placements[c].version}`].apply(this.controllerDir(name, id, c), limits);
    return dirs;
  }

  stats(name: string, id: string): CgroupStats {
    const mem = this.controllerDir(name, id, 'memory');
    const pids = this.controllerDir(name, id, 'pids');
    const v1mem = this.placements.memory.version === 1;
    return {
      memoryBytes: readNumber(path.join(mem, v1mem ? 'memory.usage_in_bytes' : 'memory.current')),
      pids: readNumber(path.join(pids, 'pids.current')),
      oomKills: readKey(path.join(mem, v1mem ? 'memory.oom_control' : 'memory.events'), 'oom_kill'),
      pidsLimitHits: readKey(path.join(pids, 'pids.events'), 'max'),
      cpuUsageUsec: readKey(path.join(this.sandboxDirs(name, id).v2, 'cpu.stat'), 'usage_usec'),
    };
  }

  appliedLimits(name: string, id: string): AppliedLimits {
    const mem = this.controllerDir(name, id, 'memory');
    const cpu = this.controllerDir(name, id, 'cpu');
    const finite = (n: number | null) => (n === null || !Number.isFinite(n) ? null : n);
    let memoryMaxBytes: number | null;
    let swapMaxBytes: number | null;
    let cpuMaxPercent: number | null = null;
    if (this.placements.memory.version === 1) {
      memoryMaxBytes = finite(readNumber(path.join(mem, 'memory.limit_in_bytes')));
      const memsw = finite(readNumber(path.join(mem, 'memory.memsw.limit_in_bytes')));
      swapMaxBytes = memsw === null || memoryMaxBytes === null ? null : memsw - memoryMaxBytes;
    } else {
      memoryMaxBytes = finite(readNumber(path.join(mem, 'memory.max')));
      swapMaxBytes = fs.existsSync(path.join(mem, 'memory.swap.max')) ? readNumber(path.join(mem, 'memory.swap.max')) : null;
    }
    if (this.placements.cpu.version === 1) {
      const quota = readNumber(path.join(cpu, 'cpu.cfs_quota_us'));
      const period = readNumber(path.join(cpu, 'cpu.cfs_period_us'));
      if (quota !== null && period && quota > 0) cpuMaxPercent = (quota * 100) / period;
    } else {
      const [quota, period] = words(readOr(path.join(cpu, 'cpu.max')));
      if (quota && quota !== 'max' && period) cpuMaxPercent = (Number(quota) * 100) / Number(period);
    }
    return {
      pidsMax: finite(readNumber(path.join(this.controllerDir(name, id, 'pids'), 'pids.max'))),
      memoryMaxBytes,
      swapMaxBytes,
      cpuMaxPercent,
    };
  }
}

function readOr(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

export function readProcs(file: string): number[] {
  const text = readOr(file);
  if (text === null) return [];
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map(Number);
}

function enableControllers(dir: string, ctrls: ControllerName[]): void {
  const file = path.join(dir, 'cgroup.subtree_control');
  const enabled = new Set(words(readOr(file)));
  const missing = ctrls.filter((c) => !enabled.has(c));
  if (missing.length === 0) return;
  try {
    fs.writeFileSync(file, missing.map((c) => `+${c}`).join(' '));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CgroupLayoutError(
      `cannot enable ${missing.join(', ')} in ${file}: ${(e as Error).message}` +
        (code === 'EBUSY'
          ? ' (the cgroup holds processes: the "no internal processes" rule; run the agent in a delegated cgroup of its own, e.g. a systemd unit with Delegate=yes, or set AGENT_CGROUP_PARENT)'
          : code === 'ENOENT' || code === 'EINVAL'
            ? ' (the controller is not offered here: see cgroup.controllers of this directory and its parent)'
            : ''),
    );
  }
}
