// One running sandbox of the UnshareDriver: how it is started (nslab-start, or the shell fallback),
// how a learner's shell enters it, and its handle (listing, stats, destroy). The driver
// (unshare-driver.ts) owns what is shared by all sandboxes: the uid slots, the cgroup layout, the
// assets, teardown.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { nsLink, readPpid } from '../procfs';
import { readProcs, type AppliedLimits, type CgroupLayout, type CgroupStats } from './cgroups';
import type { Sandbox, SandboxSpec, ShellCommand } from './driver';
import type { UnshareDriver } from './unshare-driver';

export const SANDBOX_UID_COUNT = 65536;
/** Open files per sandbox process (soft = hard). */
export const SANDBOX_NOFILE = 1024;

export const SANDBOX_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Host /etc entries copied (by value) into each sandbox's generated /etc when they exist. */
export const TOOLS = {
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

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
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

export class UnshareSandbox implements Sandbox {
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
  const own = nsLink('self', 'user');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const link = nsLink(pid, 'user');
    if (link === null) throw new Error('unshare exited before creating the user namespace');
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
