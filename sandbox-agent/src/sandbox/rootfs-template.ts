// What every sandbox is made from, prepared once per host and shared by agents side by side: the
// root skeleton (a generated /etc, merged-/usr links, device bind targets, the init), copied into
// each sandbox's tmpfs root by one `cp`, and nslab-start (native/starter*.c) installed where the
// sandbox's unprivileged host uid can run it. Both are content-addressed, so concurrent agents and
// changed assets never see a half-made one.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildNative } from '../native';

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

export function buildTemplate(stateDir: string, bashrc: string): string {
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
 * nslab-start (native/starter*.c) installed where the sandbox's unprivileged host uid can run it:
 * root-owned, 0755, in the state dir, named by its content (agents side by side share it). Null
 * (use the shell path) when it cannot be built or NSLAB_STARTER=off.
 */
export function installStarter(stateDir: string): string | null {
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
