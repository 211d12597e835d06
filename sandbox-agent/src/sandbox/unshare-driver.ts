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
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildNative } from '../native';
import { agentSrcDir } from '../paths';
import { CgroupLayout, readProcs } from './cgroups';
import type { AppliedLimits, CgroupStats } from './cgroups';
import type { Sandbox, SandboxDriver, SandboxSpec, ShellCommand } from './driver';
import { hostPreflight, type HostPreflight } from './host-preflight';

export const SANDBOX_UID_COUNT = 65536;
/** Open files per sandbox process (soft = hard). */
export const SANDBOX_NOFILE = 1024;

export const SANDBOX_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Host /etc entries copied (by value) into each sandbox's generated /etc when they exist. */
const HOST_ETC_COPY = [
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/localtime',
  '/etc/os-release',
  '/etc/debian_version',
  '/etc/inputrc',
  '/etc/vim',
  '/etc/iproute2',
  '/etc/protocols',
  '/etc/services',
  '/etc/ethertypes',
  '/etc/terminfo',
  '/etc/environment',
  '/etc/issue',
];

const TOOLS = {
  sh: '/bin/sh',
  bash: '/bin/bash',
  unshare: '/usr/bin/unshare',
  nsenter: '/usr/bin/nsenter',
  mount: '/usr/bin/mount',
  umount: '/usr/bin/umount',
  pivotRoot: '/usr/sbin/pivot_root',
  hostname: '/usr/bin/hostname',
  ip: '/usr/sbin/ip',
  cp: '/usr/bin/cp',
  sleep: '/usr/bin/sleep',
  setpriv: '/usr/bin/setpriv',
} as const;

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

const STATIC_ETC: Record<string, string> = {
  passwd: 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n',
  group: 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n',
  'resolv.conf': '',
  'nsswitch.conf':
    'passwd: files\ngroup: files\nshadow: files\nhosts: files\nnetworks: files\nprotocols: files\nservices: files\n',
  profile: [
    '# nslab sandbox /etc/profile',
    `PATH=${'/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'}`,
    'export PATH',
    'if [ "${PS1-}" ] && [ "${BASH-}" ] && [ "$BASH" != /bin/sh ] && [ -f /etc/bash.bashrc ]; then',
    '  . /etc/bash.bashrc',
    'fi',
    '',
  ].join('\n'),
};

/**
 * The skeleton every sandbox root is copied from (one `cp` in the setup script): directories,
 * merged-/usr symlinks, bind targets for the device nodes, a generated /etc and a few host /etc
 * system files copied by value. World-readable (the setup runs as the sandbox's unprivileged host
 * uid); content-addressed, so concurrent agents and changed assets never see a half-made one.
 */
/**
 * PID 1 of every sandbox (learners can read it at /etc/nslab/init). It must not start a `sleep`
 * (that would show up in the exercise's `pgrep -x sleep`), so it blocks reading a FIFO nobody
 * writes; bash reaps orphaned children from its SIGCHLD handler while it waits.
 */
const SANDBOX_INIT = `# nslab sandbox init: PID 1 of this sandbox's PID namespace.
# It keeps the namespaces alive and reaps orphaned processes; when it ends, the sandbox ends.
trap '' HUP INT QUIT TERM USR1 USR2 PIPE
exec 3<>/run/.nslab-init
while :; do read -r -u 3 _ || :; done
`;

function buildTemplate(stateDir: string, bashrc: string): string {
  const files: [string, string, number][] = [
    ...Object.entries(STATIC_ETC).map(([n, c]): [string, string, number] => [`etc/${n}`, c, 0o644]),
    ['etc/bash.bashrc', bashrc, 0o644],
    ['root/.bashrc', '# Your own settings (the shell integration is in /etc/bash.bashrc).\n', 0o644],
    ['root/.profile', '[ -f ~/.bashrc ] && . ~/.bashrc\n', 0o644],
    ['etc/nslab/init', SANDBOX_INIT, 0o755],
    ...['null', 'zero', 'full', 'random', 'urandom', 'tty'].map((d): [string, string, number] => [`dev/${d}`, '', 0o644]),
  ];
  const etcCopy = HOST_ETC_COPY.filter((p) => {
    try {
      fs.lstatSync(p);
      return true;
    } catch {
      return false;
    }
  });
  const hash = createHash('sha256')
    .update(JSON.stringify({ files, etcCopy, alternatives: usedAlternatives(), v: 2 }))
    .digest('hex')
    .slice(0, 16);
  const dir = path.join(stateDir, `template-${hash}`);
  if (fs.existsSync(dir)) return dir; // made by rename: complete when it exists
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  fs.mkdirSync(tmp, { mode: 0o755 });
  const dirs: [string, number][] = [
    ['usr', 0o755], ['etc', 0o755], ['root', 0o755], ['tmp', 0o1777], ['var', 0o755],
    ['var/tmp', 0o1777], ['var/log', 0o755], ['var/lib', 0o755], ['var/cache', 0o755],
    ['run', 0o755], ['run/lock', 0o1777], ['run/.sys', 0o755], ['home', 0o755], ['mnt', 0o755],
    ['opt', 0o755], ['srv', 0o755], ['media', 0o755], ['dev', 0o755], ['dev/pts', 0o755],
    ['dev/shm', 0o1777], ['dev/mqueue', 0o755], ['proc', 0o555], ['sys', 0o555],
  ];
  for (const [d, mode] of dirs) {
    fs.mkdirSync(path.join(tmp, d));
    fs.chmodSync(path.join(tmp, d), mode);
  }
  const links: [string, string][] = [
    ['bin', 'usr/bin'], ['sbin', 'usr/sbin'], ['lib', 'usr/lib'], ['var/run', '../run'],
    ['var/lock', '../run/lock'], ['dev/ptmx', 'pts/ptmx'], ['dev/fd', '/proc/self/fd'],
    ['dev/stdin', '/proc/self/fd/0'], ['dev/stdout', '/proc/self/fd/1'],
    ['dev/stderr', '/proc/self/fd/2'], ['dev/core', '/proc/kcore'], ['etc/mtab', '../proc/self/mounts'],
  ];
  if (fs.existsSync('/usr/lib64')) links.push(['lib64', 'usr/lib64']);
  fs.mkdirSync(path.join(tmp, 'etc/nslab'), { mode: 0o755 });
  // The FIFO the sandbox init blocks on (cp -R in the setup recreates it in every sandbox).
  execFileSync('/usr/bin/mkfifo', ['-m', '600', path.join(tmp, 'run/.nslab-init')]);
  for (const [l, target] of links) fs.symlinkSync(target, path.join(tmp, l));
  for (const [f, content, mode] of files) {
    fs.writeFileSync(path.join(tmp, f), content);
    fs.chmodSync(path.join(tmp, f), mode);
  }
  // /etc/alternatives: only the entries that the commands in /usr/bin and /usr/sbin point to (the
  // full directory has hundreds of man-page links and makes every sandbox start slower).
  fs.mkdirSync(path.join(tmp, 'etc/alternatives'), { mode: 0o755 });
  for (const name of usedAlternatives()) {
    fs.symlinkSync(fs.readlinkSync(`/etc/alternatives/${name}`), path.join(tmp, 'etc/alternatives', name));
  }
  for (const p of etcCopy) {
    fs.cpSync(p, path.join(tmp, 'etc', path.basename(p)), { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  }
  // Everything must be readable by the sandbox's host uid (which is "other" here).
  makeWorldReadable(tmp);
  try {
    fs.renameSync(tmp, dir);
  } catch {
    fs.rmSync(tmp, { recursive: true, force: true }); // another process won the race
  }
  return dir;
}

/**
 * nslab-start (native/starter.c) installed where the sandbox's unprivileged host uid can run it:
 * root-owned, 0755, in the state dir, named by its content (agents side by side share it). Null
 * (use the shell path) when it cannot be built or NSLAB_STARTER=off.
 */
function installStarter(stateDir: string): string | null {
  if (process.env.NSLAB_STARTER === 'off') return null;
  const built = buildNative('nslab-start', 'starter');
  if (!built) return null;
  const bytes = fs.readFileSync(built);
  const dest = path.join(stateDir, `nslab-start-${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}`);
  if (!fs.existsSync(dest)) {
    const tmp = `${dest}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, bytes, { mode: 0o755 });
    fs.chmodSync(tmp, 0o755);
    fs.renameSync(tmp, dest);
  }
  return dest;
}

function usedAlternatives(): string[] {
  const names = new Set<string>();
  for (const dir of ['/usr/bin', '/usr/sbin']) {
    let entries: string[] = [];
    try {
      entries = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const e of entries) {
      let target: string;
      try {
        target = fs.readlinkSync(path.join(dir, e));
      } catch {
        continue; // not a symlink
      }
      // Follow chains of alternatives (e.g. vi -> /etc/alternatives/vi -> /usr/bin/vim.tiny).
      for (let hop = 0; hop < 4 && target.startsWith('/etc/alternatives/'); hop++) {
        const name = path.basename(target);
        names.add(name);
        try {
          target = fs.readlinkSync(target);
        } catch {
          break;
        }
      }
    }
  }
  return [...names].filter((n) => {
    try {
      return fs.lstatSync(`/etc/alternatives/${n}`).isSymbolicLink();
    } catch {
      return false;
    }
  });
}

function makeWorldReadable(dir: string): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isSymbolicLink()) continue;
    const mode = fs.statSync(p).mode & 0o7777;
    if (e.isDirectory()) {
      fs.chmodSync(p, mode | 0o555);
      makeWorldReadable(p);
    } else {
      fs.chmodSync(p, (mode | 0o444) & ~0o6000);
    }
  }
}

function readPpid(pid: number): number | null {
  try {
    const m = /^PPid:\s+(\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Running (not gone, not a zombie). */
function processRuns(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** PID 1 of a PID namespace one level below ours (NSpid: <host pid> 1). */
function isNamespaceInit(pid: number): boolean {
  try {
    const m = /^NSpid:\s+(.*)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    const ids = m ? m[1]!.trim().split(/\s+/) : [];
    return ids.length === 2 && ids[1] === '1';
  } catch {
    return false;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
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

/**
 * RLIMIT_NPROC of every sandbox process, set before its user namespace exists: the kernel then
 * counts every task of every uid of the sandbox against it (ucounts of the namespace's owner), a
 * second bound beside the cgroup's pids.max, a little above it so the cgroup is what learners meet.
 */
export function sandboxNproc(pidsMax: number): number {
  return pidsMax + 64;
}

/**
 * The shell fallback's first stage, as host root in a new mount namespace the host's user namespace
 * owns (made by the `unshare --mount` that runs it): the host-provided mounts, then drop to the
 * sandbox's uid and continue as before (`unshare --user`, then rootfs-setup.sh). Same steps as
 * nslab-start's host_mounts(); args: setup script, rootfs, hostname, disk, inodes, shm, template,
 * nofile, uid base, nproc.
 */
const FALLBACK_OUTER = `set -eu
S=$1 R=$2 DISK=$4 INODES=$5 T=$7 NOFILE=$8 B=$9 NPROC=\${10}
ulimit -n "$NOFILE"; ulimit -c 0; ulimit -u "$NPROC"
read x
mount -t tmpfs -o "size=$DISK,nr_inodes=$INODES,mode=755,uid=$B,gid=$B,nosuid,nodev" nslab-root "$R"
${TOOLS.setpriv} --reuid="$B" --regid="$B" --clear-groups -- ${TOOLS.cp} -dR --preserve=mode,timestamps "$T/." "$R/"
{
  echo "/usr $R/usr none bind,ro,nosuid,nodev 0 0"
  echo "nslab-empty $R/usr/local tmpfs ro,size=4k,nr_inodes=16,mode=755,nosuid,nodev 0 0"
  for d in null zero full random urandom tty; do echo "/dev/$d $R/dev/$d none bind 0 0"; done
} >"$R/proc/.fstab-host"
mount -a -T "$R/proc/.fstab-host"
shift
exec ${TOOLS.setpriv} --reuid="$B" --regid="$B" --clear-groups -- ${TOOLS.unshare} --user -- ${TOOLS.sh} -c \
  'read x; exec ${TOOLS.unshare} --pid --fork --kill-child --mount --propagation private --uts --ipc --net --cgroup -- ${TOOLS.sh} -c "$0" nslab-setup "$@"' \
  "$S" "$1" "$2" "$3" "$4" "$5" "$6"
`;

class UnshareSandbox implements Sandbox {
  initHostPid = 0;
  readonly uidCount = SANDBOX_UID_COUNT;
  startMs = 0;
  readonly exited: Promise<void>;
  private resolveExited!: () => void;
  private starter: ChildProcess | null = null;
  private starterExited = false;
  private destroying: Promise<void> | null = null;
  /** RLIMIT_NPROC given to its processes (shells get the same). */
  private nproc = '';
  /** nslab-start, when this sandbox was started with it (its shells enter through it too). */
  private starterPath: string | null = null;

  constructor(
    private readonly driver: UnshareDriver,
    readonly id: string,
    private readonly slot: number,
    private readonly owner: string,
    readonly uidBase: number,
    private readonly dirs: { v2: string; all: string[] },
    private readonly layout: CgroupLayout,
  ) {
    this.exited = new Promise<void>((r) => (this.resolveExited = r));
  }

  private get procsFiles(): string[] {
    return this.dirs.all.map((d) => path.join(d, 'cgroup.procs'));
  }

  /** /bin/sh text that moves the shell itself into every cgroup of this sandbox. */
  private joinCgroupsScript(): string {
    return this.procsFiles.map((f) => `echo $$ >${shQuote(f)}`).join(' && ');
  }

  /** `makeCgroups` runs right after the spawn, while the starter execs; it is moved into them before "go". */
  async start(
    spec: SandboxSpec,
    assets: { templateDir: string; setup: string; starter: string | null },
    timeoutMs: number,
    makeCgroups: () => void,
  ): Promise<void> {
    const { templateDir, setup: setupScript } = assets;
    this.starterPath = assets.starter;
    const shmBytes = Math.max(1 << 20, Math.min(Math.floor(spec.limits.diskMaxBytes / 4), 64 << 20));
    // RLIMIT_NOFILE: node raises its own soft limit to the hard one (often 1048576); a sandbox gets
    // a fixed 1024 (soft = hard; raising a hard limit needs CAP_SYS_RESOURCE on the host). Also
    // RLIMIT_CORE 0 and RLIMIT_NPROC (sandboxNproc): SANDBOX.md, "Limits".
    // Both paths start as HOST ROOT and make the host-provided mounts (tmpfs root, /usr read-only,
    // /usr/local hidden, device binds) in a mount namespace the host's user namespace owns; only then
    // do they drop to the sandbox's host uid and create its user namespace, whose mount namespace
    // gets those mounts locked (SANDBOX.md, "Locked mounts"). Handshake on stdin: "cg" once the
    // process is in its cgroups (what it allocates is charged there), "go" once the maps are written.
    // nslab-start (native/starter.c) does all of it in one program; the shell path (rootfs-setup.sh)
    // is the fallback when it could not be built, or with NSLAB_STARTER=off.
    const nproc = String(sandboxNproc(spec.limits.pidsMax));
    this.nproc = nproc;
    const params = [this.driver.rootfsMountPoint, spec.hostname, String(spec.limits.diskMaxBytes), String(spec.limits.inodesMax), String(shmBytes), templateDir];
    const base = String(this.uidBase);
    const [file, args] = assets.starter
      ? [assets.starter, [...params, String(SANDBOX_NOFILE), base, nproc]]
      : [TOOLS.unshare, ['--mount', '--propagation', 'private', '--', TOOLS.bash, '-c', FALLBACK_OUTER, 'nslab-outer', setupScript, ...params, String(SANDBOX_NOFILE), base, nproc]];
    const starter = spawn(
      file,
      args,
      { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: SANDBOX_PATH } as Record<string, string> as unknown as NodeJS.ProcessEnv, cwd: '/' },
    );
    this.starter = starter;
    starter.once('exit', () => {
      this.starterExited = true;
      this.resolveExited();
    });
    starter.stdin!.on('error', () => {});
    let stderr = '';
    starter.stderr!.setEncoding('utf8');
    starter.stderr!.on('data', (d: string) => {
      if (stderr.length < 8192) stderr += d;
    });
    const spid = starter.pid;
    if (spid === undefined) throw new Error('could not spawn unshare');
    const ready = waitForLine(starter, 'ready', timeoutMs, 'sandbox setup');
    ready.catch(() => {});
    try {
      makeCgroups();
      for (const f of this.procsFiles) fs.writeFileSync(f, String(spid));
      starter.stdin!.write('cg\n');
      await waitForUserns(spid, timeoutMs);
      const map = `0 ${this.uidBase} ${SANDBOX_UID_COUNT}\n`;
      fs.writeFileSync(`/proc/${spid}/uid_map`, map);
      fs.writeFileSync(`/proc/${spid}/gid_map`, map);
      starter.stdin!.end('go\n');
      await ready;
    } catch (e) {
      // It may not have reached its cgroups (where teardown looks for processes): end it by its handle.
      if (!this.starterExited) starter.kill('SIGKILL');
      throw new Error(`${(e as Error).message}${stderr ? `: ${stderr.trim()}` : ''}`);
    }
    // Stop reading the starter's pipes (the init does not hold them; the outer unshare does).
    starter.stdout!.destroy();
    starter.stderr!.destroy();
    const init = readProcs(this.procsFiles[0]!).find((p) => p !== spid && readPpid(p) === spid);
    if (init === undefined) throw new Error('sandbox init not found after setup');
    this.initHostPid = init;
  }

  listHostPids(): number[] {
    return readProcs(path.join(this.dirs.v2, 'cgroup.procs'));
  }

  shellCommand(opts: { cols: number; rows: number; terminal: number }): ShellCommand {
    void opts; // the PTY carries the size; the terminal index needs nothing sandbox-side
    // bash, not dash: it can close the descriptors node-pty's helper leaves open (e.g. a pipe at
    // fd 251) before anything of the sandbox runs. Then join the cgroups (that needs host root), then
    // enter as the SANDBOX'S HOST UID, never as host root: `nslab-start enter` drops to it, joins the
    // user namespace as its owner, then every other namespace of the init at its cwd (/root), installs
    // the sandbox's seccomp filter and forks bash into the PID namespace. The fallback does the same
    // with `setpriv` + `nsenter` (it enters the user namespace first when unprivileged; not `--all`: an
    // unprivileged nsenter fails to re-enter the host's time namespace, which the sandbox shares),
    // without the seccomp filter (SECURITY.md).
    // Where AppArmor restricts unprivileged user namespaces (Ubuntu 23.10+) and nslab's profile is
    // loaded, the shell execs under that profile (change_onexec), so the learner's own `unshare -U`
    // keeps its capabilities inside the sandbox (host-preflight.ts).
    const host = this.driver.host;
    const apparmor =
      host?.apparmorProfile && host.apparmorExecAttr ? `printf %s ${shQuote(`exec ${host.apparmorProfile}`)} >${host.apparmorExecAttr} && ` : '';
    const base = this.uidBase;
    const enter = this.starterPath
      ? `exec ${shQuote(this.starterPath)} enter ${this.initHostPid} ${base} ${SANDBOX_NOFILE} ${this.nproc} ${TOOLS.bash} -l`
      : `ulimit -n ${SANDBOX_NOFILE} && ulimit -c 0 && ulimit -u ${this.nproc} && ` +
        `exec ${TOOLS.setpriv} --reuid=${base} --regid=${base} --clear-groups -- ${TOOLS.nsenter} --target ${this.initHostPid} --user --cgroup --ipc --uts --net --pid --mount --wd -- ${TOOLS.bash} -l`;
    const script =
      'for f in /proc/$$/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done; ' +
      `${this.joinCgroupsScript()} && ${apparmor}${enter}`;
    return {
      file: TOOLS.bash,
      args: ['--noprofile', '--norc', '-c', script],
      env: {
        TERM: 'xterm-256color',
        LANG: 'C.UTF-8',
        HOME: '/root',
        PATH: SANDBOX_PATH,
        USER: 'root',
        LOGNAME: 'root',
        SHELL: '/bin/bash',
      },
      cwd: '/',
    };
  }

  isAlive(): boolean {
    return !this.starterExited && this.initHostPid > 0 && pidAlive(this.initHostPid);
  }

  destroy(): Promise<void> {
    this.destroying ??= (async () => {
      await this.driver.teardown(this.id);
      if (this.starter && !this.starterExited) {
        await Promise.race([this.exited, sleep(2_000)]);
      }
      this.driver.freeSlot(this.slot, this.owner);
      this.resolveExited();
    })();
    return this.destroying;
  }

  stats(): CgroupStats {
    return this.layout.stats(this.driver.cgroupName, this.id);
  }

  appliedLimits(): AppliedLimits {
    return this.layout.appliedLimits(this.driver.cgroupName, this.id);
  }
}

/** Wait until the process has left the host's user namespace (polls its ns link: no exec). */
async function waitForUserns(pid: number, timeoutMs: number): Promise<void> {
  const own = fs.readlinkSync('/proc/self/ns/user');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let link: string;
    try {
      link = fs.readlinkSync(`/proc/${pid}/ns/user`);
    } catch {
      throw new Error('unshare exited before creating the user namespace');
    }
    if (link !== own) return;
    if (Date.now() > deadline) throw new Error(`no user namespace after ${timeoutMs} ms`);
    await sleep(1);
  }
}

function waitForLine(child: ChildProcess, line: string, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const done = (err?: Error) => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve();
    };
    const onData = (d: Buffer) => {
      buf += d.toString('utf8');
      if (buf.split('\n').includes(line)) done();
    };
    const onExit = (code: number | null, signal: string | null) =>
      done(new Error(`${what} exited (${signal ?? code}) before it was ready`));
    const timer = setTimeout(() => done(new Error(`${what} not ready after ${timeoutMs} ms`)), timeoutMs);
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
}
