// `npm run test:stock-kernel`: the sandbox tests that matter, on Debian's own kernel with a
// cgroup2-only hierarchy, as every stock host has (our development and CI machines have a hybrid
// layout that cannot be switched: their memory controller is held by cgroup v1).
//
// The kernel is Debian's user-mode-linux package (linux.uml, 6.1): it boots in ~3 s as an ordinary
// process, with this machine's root file system as its root through hostfs, mounted READ-ONLY (UML
// writes hostfs as host root: nothing inside may touch the host). Its writable places are tmpfs
// (/tmp, /run, /var/tmp, /root); the one exception is an output folder of this run (a second hostfs
// mount of a fresh temp dir) where the TAP report and the exit code land. No network device is
// configured: the kernel has only its own loopback.
//
// Inside: cgroup2 alone at /sys/fs/cgroup, nothing enabled in the root's cgroup.subtree_control (the
// driver must do that itself), and node --test over the stock-kernel test files plus the driver's
// own integration test. What it proves and what not: README "Supported hosts".
//   node scripts/stock-kernel.mjs [--keep]     (--keep leaves the output folder for reading)
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const UML = '/usr/bin/linux.uml';
const TIMEOUT_MS = Number(process.env.NSLAB_STOCK_KERNEL_TIMEOUT_MS ?? 20 * 60_000);
const MEM = process.env.NSLAB_STOCK_KERNEL_MEM ?? '2G';
const FILES = [
  'sandbox-agent/src/sandbox/cgroups.stock-kernel.test.ts',
  'sandbox-agent/src/sandbox/unshare-driver.integration.test.ts',
];

function fail(message) {
  process.stderr.write(`stock-kernel: ${message}\n`);
  process.stdout.write('0 passed, 1 failed\n');
  process.exit(1);
}

if (process.getuid?.() !== 0) fail('must run as root (the sandboxes inside need it, as on a real host)');
if (!fs.existsSync(UML)) fail(`${UML} is missing: apt-get install user-mode-linux (scripts/bootstrap.sh --test does)`);

// Build what the tests would otherwise try to build inside (the root is read-only there).
const t0 = performance.now();
execFileSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '-e',
    "const m = await import('./sandbox-agent/src/native.ts'); for (const [n, s] of [['nsread', 'nsread'], ['nslab-start', 'starter']]) if (!m.buildNative(n, s)) throw new Error('cannot build ' + n);",
  ],
  {
    cwd: root,
    stdio: 'inherit',
  },
);

const out = fs.mkdtempSync(path.join(os.tmpdir(), 'nslab-stock-kernel-'));
fs.chmodSync(out, 0o755);
const umlDir = path.join(out, 'uml');
fs.mkdirSync(umlDir);
const q = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;
const init = `#!/bin/bash
# PID 1 of the user-mode-linux kernel (written by scripts/stock-kernel.mjs).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 CI=${q(process.env.CI ?? '')}
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts -o newinstance,ptmxmode=0666,mode=620
ln -sf pts/ptmx /dev/ptmx 2>/dev/null
# The repository at a path no tmpfs below covers (a clone may live in /tmp or /root): /mnt.
mount --bind ${q(root)} /mnt
for d in /tmp /run /var/tmp /root /dev/shm; do mount -t tmpfs -o mode=1777 tmpfs "$d"; done
chmod 755 /root /run
# With the options systemd mounts it with on Debian 12 (nsdelegate: a cgroup namespace is a delegation boundary).
mount -t cgroup2 -o nsdelegate,memory_recursiveprot none /sys/fs/cgroup
mkdir -p /run/out && mount -t hostfs none /run/out -o ${q(out)}
hostname stock-kernel
ip link set lo up
# veth and bridge (and ipv6) are modules in this kernel, and nothing can autoload them here (no
# /lib/modules on the read-only root): load them by path, dependencies first.
M=/usr/lib/uml/modules/$(uname -r)/kernel
for m in lib/crc-ccitt net/ipv6/ipv6 net/llc/llc net/802/stp net/bridge/bridge drivers/net/veth; do
  [ -e "$M/$m.ko" ] && { insmod "$M/$m.ko" || echo "stock-kernel: insmod $m failed"; }
done
{
  echo "kernel: $(uname -r) ($(uname -v))"
  echo "cgroup2 root controllers: $(cat /sys/fs/cgroup/cgroup.controllers); subtree_control: '$(cat /sys/fs/cgroup/cgroup.subtree_control)'"
  echo "links: $(ip -o link | cut -d: -f2 | tr -d ' ' | tr '\\n' ' ')"
} | tee /run/out/env.txt
cd /mnt || { echo 'stock-kernel: the repository is not visible inside'; echo 1 >/run/out/rc; poweroff -f; }
${q(process.execPath)} --import tsx --test --test-concurrency=1 --test-reporter=spec --test-reporter-destination=stdout \\
  --test-reporter=tap --test-reporter-destination=/run/out/stock.tap ${FILES.map(q).join(' ')}
echo $? >/run/out/rc
sync
poweroff -f
`;
const initPath = path.join(out, 'init.sh');
fs.writeFileSync(initPath, init, { mode: 0o755 });

const args = [
  `mem=${MEM}`,
  'root=/dev/root',
  'rootfstype=hostfs',
  'rootflags=/',
  'ro',
  `init=${initPath}`,
  'con=null',
  'con0=null,fd:1',
  `umid=nslab-sk-${process.pid}`,
  `uml_dir=${umlDir}`,
];
process.stdout.write(`stock-kernel: booting ${UML} ${args.join(' ')}\n`);
const tBoot = performance.now();
const child = spawn(UML, args, {
  stdio: ['ignore', 'inherit', 'inherit'],
  detached: true,
  env: { PATH: process.env.PATH, TMPDIR: out },
});
let timedOut = false;
const timer = setTimeout(() => {
  timedOut = true;
  process.stderr.write(`stock-kernel: no end after ${TIMEOUT_MS} ms: stopping the UML kernel (its own process group)\n`);
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}, TIMEOUT_MS);
const code = await new Promise((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
clearTimeout(timer);
// UML's helper processes share its process group; end any that outlived it.
try {
  process.kill(-child.pid, 'SIGKILL');
} catch {
  /* none left */
}
const seconds = ((performance.now() - tBoot) / 1000).toFixed(1);

const tap = fs.existsSync(path.join(out, 'stock.tap')) ? fs.readFileSync(path.join(out, 'stock.tap'), 'utf8') : '';
const pick = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(tap)?.[1] ?? 0);
const passed = pick('pass');
let failed = pick('fail') + pick('cancelled');
const skipped = pick('skipped') + pick('todo');
const rc = fs.existsSync(path.join(out, 'rc')) ? fs.readFileSync(path.join(out, 'rc'), 'utf8').trim() : null;
if (rc !== '0' || timedOut || code !== 0) {
  process.stderr.write(
    `stock-kernel: the tests inside ${rc === null ? 'did not finish' : `exited ${rc}`}${timedOut ? ' (timed out)' : ''}; UML exit ${code}; output kept in ${out}\n`,
  );
  if (failed === 0) failed = 1;
}
if (tap === '') failed = Math.max(failed, 1);
process.stdout.write(
  `stock-kernel: ${seconds} s in the kernel (boot + tests), ${((performance.now() - t0) / 1000).toFixed(1)} s in all\n`,
);
if (failed === 0 && !process.argv.includes('--keep')) fs.rmSync(out, { recursive: true, force: true });
else process.stdout.write(`stock-kernel: report in ${out}\n`);
process.stdout.write(`${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exit(failed === 0 ? 0 : 1);
