// Real sandboxes (root + real kernel): every command of COURSE.md, job control under node-pty,
// isolation (uid range, no route out, no host paths) and complete teardown.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { defaultSandboxLimits, type Sandbox } from './driver';
import { UnshareDriver } from './unshare-driver';
import { TestShell } from './test-shell';

const driver = new UnshareDriver({ cgroupName: `nslab-it-${randomBytes(3).toString('hex')}` });
const newId = () => `t-${randomBytes(4).toString('hex')}`;

function hostLsnsCount(): number {
  return execFileSync('/usr/bin/lsns', ['-n', '-o', 'NS'], { encoding: 'utf8' }).trim().split('\n').length;
}
/** A pid that still runs (a zombie waiting for its parent to reap it is not running). */
function running(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}
function hostMountCount(): number {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n').length;
}

describe('UnshareDriver with a real sandbox', { timeout: 120_000 }, () => {
  let sb: Sandbox;
  let shell: TestShell;
  const hostname = 'lab-it';

  before(async () => {
    await driver.preflight();
    sb = await driver.create({ id: newId(), hostname, limits: defaultSandboxLimits });
    shell = await TestShell.open(sb);
  });

  after(async () => {
    await shell?.close();
    await sb?.destroy();
    await driver.reapLeftovers(new Set());
    driver.removeCgroupParents();
  });

  test('is alive, lists its processes, reports stats', () => {
    assert.ok(sb.isAlive());
    assert.ok(sb.initHostPid > 0);
    assert.ok(sb.listHostPids().includes(sb.initHostPid));
    const st = sb.stats();
    assert.ok((st.memoryBytes ?? 0) > 0);
    assert.ok((st.pids ?? 0) >= 2);
    assert.equal(st.oomKills, 0);
  });

  test('root inside is not root outside', async () => {
    const hostUid = fs.statSync(`/proc/${sb.initHostPid}`).uid;
    assert.notEqual(hostUid, 0);
    assert.equal(hostUid, sb.uidBase);
    assert.ok(sb.uidBase >= 100_000);
    assert.equal(sb.uidCount, 65536);
    const idr = await shell.run('id -u; cat /proc/self/uid_map');
    assert.equal(idr.exitCode, 0);
    const [uid, map] = idr.output.trim().split('\n');
    assert.equal(uid, '0');
    assert.deepEqual(map!.trim().split(/\s+/).map(Number), [0, sb.uidBase, 65536]);
    // A second sandbox gets a different range.
    const other = await driver.create({ id: newId(), hostname: 'other', limits: defaultSandboxLimits });
    try {
      assert.notEqual(other.uidBase, sb.uidBase);
      assert.ok(Math.abs(other.uidBase - sb.uidBase) >= 65536);
      assert.equal(fs.statSync(`/proc/${other.initHostPid}`).uid, other.uidBase);
    } finally {
      await other.destroy();
    }
  });

  test('shell: job control, clean env, no leaked fds, marks', async () => {
    assert.ok(!shell.raw.includes('no job control'), shell.raw);
    const fds = await shell.run('ls /proc/$$/fd | sort -n | tr "\\n" " "');
    assert.equal(fds.exitCode, 0);
    for (const fd of fds.output.trim().split(/\s+/)) assert.ok(['0', '1', '2', '255'].includes(fd), fds.output);
    const env = await shell.run('env | cut -d= -f1 | sort | tr "\\n" " "');
    for (const name of env.output.trim().split(/\s+/)) {
      assert.ok(!/NODE|NSLAB_|AGENT|SECRET|npm_|DATABASE/.test(name), `env leaks ${name}`);
    }
    const pwd = await shell.run('pwd; echo "$HOME $TERM $LANG"');
    assert.equal(pwd.output.trim(), '/root\n/root xterm-256color C.UTF-8');
    const semi = await shell.run('echo a\\b; false');
    assert.equal(semi.exitCode, 1);
    assert.equal(semi.commandLine, 'echo a\\b; false');
    assert.match(shell.raw, /\x1b\]633;E;echo a\\\\b\\x3b false\x07/);
    const prompt = shell.raw.lastIndexOf('\x1b]133;A\x07');
    await shell.waitFor((r) => r.slice(prompt).includes(`root@${hostname}`), 5_000, 'prompt text');
  });

  test('Ctrl-C, Ctrl-Z + fg, resize', async () => {
    let from = shell.raw.length;
    shell.write('sleep 60\r');
    await shell.waitFor((r) => r.slice(from).includes('\x1b]133;C\x07'), 5_000, 'sleep start');
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    shell.write('\x03');
    const intr = await shell.waitForCommandEnd(from, 5_000, 'interrupted sleep');
    assert.equal(intr.exitCode, 130);
    assert.ok(Date.now() - t0 < 4_000);

    from = shell.raw.length;
    shell.write('sleep 60\r');
    await shell.waitFor((r) => r.slice(from).includes('\x1b]133;C\x07'), 5_000, 'sleep start');
    await new Promise((r) => setTimeout(r, 300));
    shell.write('\x1a');
    const stopped = await shell.waitForCommandEnd(from, 5_000, 'stopped sleep');
    assert.equal(stopped.exitCode, 148);
    assert.match(stopped.output + shell.raw.slice(from), /Stopped/);
    from = shell.raw.length;
    shell.write('fg\r');
    await shell.waitFor((r) => r.slice(from).includes('sleep 60'), 5_000, 'fg');
    await new Promise((r) => setTimeout(r, 300));
    shell.write('\x03');
    const fg = await shell.waitForCommandEnd(from, 5_000, 'fg');
    assert.equal(fg.exitCode, 130);
    assert.equal(fg.commandLine, 'fg');

    shell.resize(101, 33);
    await new Promise((r) => setTimeout(r, 100));
    const size = await shell.run('stty size');
    assert.equal(size.output.trim(), '33 101');
  });

  test('vim, less and top draw and quit', async () => {
    for (const [cmd, quit] of [
      ['vim /tmp/x.txt', '\x1b:q!\r'],
      ['less /etc/passwd', 'q'],
      ['top', 'q'],
    ] as const) {
      const from = shell.raw.length;
      shell.write(`${cmd}\r`);
      await shell.waitFor((r) => r.slice(from).includes('\x1b]133;C\x07'), 5_000, cmd);
      // Full-screen programs switch to the alternate screen or draw with cursor addressing.
      await shell.waitFor((r) => /\x1b\[\?1049h|\x1b\[\d+;\d+H/.test(r.slice(from)), 5_000, `${cmd} draws`);
      await new Promise((r) => setTimeout(r, 300));
      shell.write(quit);
      const res = await shell.waitForCommandEnd(from, 5_000, cmd);
      assert.equal(res.exitCode, 0, `${cmd}: ${res.output}`);
    }
  });

  test('every namespace command of the course works', async () => {
    const cases: Array<[string, (out: string) => void]> = [
      ['lsns', (o) => assert.match(o, /NS TYPE/)],
      ['lsns -t net', (o) => assert.match(o, /net/)],
      ['ls -la /proc/$$/ns/', (o) => assert.match(o, /net -> 'net:\[\d+\]'/)],
      ['unshare -n ip -o link | wc -l', (o) => assert.equal(o.trim(), '1')],
      ['unshare -u sh -c "hostname inner && hostname"; hostname', (o) => assert.equal(o.trim(), `inner\n${hostname}`)],
      ['unshare -i ipcs -q | head -3', () => {}],
      ['unshare -m sh -c "mount -t tmpfs t /mnt && touch /mnt/f && ls /mnt"; ls /mnt | wc -l', (o) =>
        assert.equal(o.trim(), 'f\n0')],
      ['unshare -U -r sh -c "id -u; cat /proc/self/uid_map"', (o) => assert.match(o, /^0\n\s+0\s+0\s+1\s*$/)],
      ['unshare -p -f --mount-proc ps -e --no-headers | wc -l', (o) => assert.ok(Number(o.trim()) <= 3, o)],
      ['unshare -pf --mount-proc sh -c "echo \\$\\$"', (o) => assert.equal(o.trim(), '1')],
      [
        'unshare -n sleep 60 & sleep 0.3; P=$(pgrep -n sleep); readlink /proc/$P/ns/net /proc/$$/ns/net | sort -u | wc -l; nsenter -t $P -n ip -o link | wc -l; kill $P',
        (o) => assert.match(o, /(^|\n)2\n1\n/),
      ],
      ['ip netns add x && ip netns exec x ip -o link && ip netns del x', (o) => assert.match(o, /^1: lo:/m)],
      ['ps -ef | head -2', (o) => assert.match(o, /UID\s+PID/)],
      // (user-mode-linux's top prints no "top -" summary line: the task line proves it ran too)
      ['top -b -n1 | head -2', (o) => assert.match(o, /top -|Tasks:/)],
      ['mount -t tmpfs scratch /mnt && df -h /mnt | tail -1 && umount /mnt', (o) => assert.match(o, /scratch/)],
      ['hostname', (o) => assert.equal(o.trim(), hostname)],
    ];
    for (const [cmd, check] of cases) {
      const res = await shell.run(cmd, 20_000);
      assert.equal(res.exitCode, 0, `${cmd} -> ${res.exitCode}: ${res.output}`);
      check(res.output.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, ''));
    }
  });

  test('no route out; a bridge + veth topology pings across inside the sandbox', async () => {
    const route = await shell.run('ip route get 192.0.2.1');
    assert.notEqual(route.exitCode, 0);
    assert.match(route.output, /unreachable/i);
    // Safety: only our own loopback-only namespace before building anything.
    const links = await shell.run('ip -o link | wc -l');
    assert.equal(links.output.trim(), '1');
    const build = await shell.run(
      [
        'ip netns add c1',
        'ip link add br0 type bridge',
        'ip link add veth0 type veth peer name veth1',
        'ip link set veth0 master br0',
        'ip link set veth1 netns c1',
        'ip netns exec c1 ip link set veth1 name eth0',
        'ip addr add 172.17.0.1/16 dev br0',
        'ip netns exec c1 ip addr add 172.17.0.2/16 dev eth0',
        'ip link set br0 up',
        'ip link set veth0 up',
        'ip netns exec c1 ip link set lo up',
        'ip netns exec c1 ip link set eth0 up',
        'ip route get 172.17.0.2 | grep -q br0',
        'ping -c3 -i0.2 -w5 172.17.0.2',
      ].join(' && '),
      20_000,
    );
    assert.equal(build.exitCode, 0, build.output);
    assert.match(build.output, /bytes from 172\.17\.0\.2/);
    await shell.run('ip netns del c1; ip link del br0');
  });

  test('no host paths are visible', async () => {
    const res = await shell.run(
      'ls /work 2>&1; ls -A /root; ls /run; ls /usr/local | wc -l; cat /proc/1/cmdline | tr "\\0" " "; readlink /proc/1/cwd /proc/1/root',
    );
    const o = res.output;
    assert.match(o, /ls: cannot access '\/work'/);
    assert.doesNotMatch(o, /nslab-|sandbox-agent|node_modules|postgresql/);
    assert.match(o, /\.bashrc/);
    const lsUsrLocal = o.split('\n').find((l) => /^\d+$/.test(l.trim()));
    assert.equal(lsUsrLocal?.trim(), '0');
    const find = await shell.run('find / -xdev \\( -name "unshare-driver*" -o -name "*.sqlite" \\) 2>/dev/null | wc -l');
    assert.equal(find.output.trim(), '0');
    const mounts = await shell.run('cat /proc/self/mountinfo');
    assert.doesNotMatch(mounts.output, /\/work|\/root |nslab\/rootfs/);
  });
});

describe('teardown', { timeout: 60_000 }, () => {
  after(async () => {
    await driver.reapLeftovers(new Set());
    driver.removeCgroupParents();
  });
  test('leaves no process, cgroup, mount or namespace behind; reapLeftovers kills strays', async () => {
    await driver.preflight();
    const lsnsBefore = hostLsnsCount();
    const mountsBefore = hostMountCount();
    const sb = await driver.create({ id: newId(), hostname: 'gone', limits: defaultSandboxLimits });
    const shell = await TestShell.open(sb);
    await shell.run('unshare -n sleep 600 & ip netns add y; unshare -m sleep 600 & sleep 0.2');
    const pids = sb.listHostPids();
    assert.ok(pids.length >= 4, String(pids));
    assert.ok(hostLsnsCount() > lsnsBefore);
    const dirs = driver.cgroupDirs(sb.id);
    await sb.destroy();
    await sb.destroy(); // idempotent
    await shell.close();
    await sb.exited;
    assert.equal(sb.isAlive(), false);
    for (const p of pids) assert.equal(running(p), false, `pid ${p} survived: ${fs.existsSync(`/proc/${p}`) ? fs.readFileSync(`/proc/${p}/status`, "utf8").split("\n").slice(0, 9).join(" | ") : ""}`);
    for (const d of dirs.all) assert.equal(fs.existsSync(d), false, `${d} left`);
    assert.equal(hostMountCount(), mountsBefore);
    // Namespaces are freed asynchronously by the kernel (RCU): allow a moment.
    for (let i = 0; i < 50 && hostLsnsCount() !== lsnsBefore; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(hostLsnsCount(), lsnsBefore);

    // A sandbox this driver instance does not know about (as after an agent restart) is reaped.
    const stray = await driver.create({ id: newId(), hostname: 'stray', limits: defaultSandboxLimits });
    const keepMe = await driver.create({ id: newId(), hostname: 'keep', limits: defaultSandboxLimits });
    try {
      const reaped = await new UnshareDriver({ cgroupName: driver.cgroupName }).reapLeftovers(new Set([keepMe.id]));
      assert.deepEqual(reaped, [stray.id]);
      await stray.exited;
      assert.equal(stray.isAlive(), false);
      assert.ok(keepMe.isAlive());
    } finally {
      await stray.destroy();
      await keepMe.destroy();
    }
  });
});

describe('nslab-start and the shell fallback build the same sandbox', { timeout: 60_000 }, () => {
  test('the same mounts, locks, hostname, lo state, init, fds and limits, whichever path starts it', async () => {
    const seccomps: string[] = [];
    const view = async (d: UnshareDriver) => {
      await d.preflight();
      const sb = await d.create({ id: newId(), hostname: 'same-sb', limits: defaultSandboxLimits });
      const shell = await TestShell.open(sb);
      try {
        const out = await shell.run(
          'findmnt -rn -o TARGET,FSTYPE,OPTIONS | sed "s/,size=[^,]*//; s/,nr_inodes=[^,]*//" | sort; hostname; cat /etc/hostname /etc/hosts; ' +
            'cat /sys/class/net/lo/operstate; ps -o pid,comm -p 1 --no-headers; ls /proc/1/fd | wc -l; ulimit -n; ulimit -c; ulimit -u; ls -la / | wc -l; ' +
            // Locked (SANDBOX.md): the host-provided mounts cannot be unmounted or made writable.
            'umount /usr/local 2>&1; umount -l /dev/null 2>&1; mount -o remount,bind,rw /usr 2>&1 | head -1; ls /usr/local | wc -l; stat -c "%u %g" / /etc/hosts /root',
        );
        assert.equal(out.exitCode, 0, out.output);
        const seccomp = await shell.run('grep --color=never ^Seccomp: /proc/self/status /proc/1/status');
        seccomps.push(seccomp.output.replace(/\r/g, '').replace(/\s+/g, ' ').trim());
        return out.output.replace(/\r/g, '');
      } finally {
        await shell.close();
        await sb.destroy();
        await d.reapLeftovers(new Set());
        d.removeCgroupParents();
      }
    };
    const native = await view(new UnshareDriver({ cgroupName: `nslab-it-n-${randomBytes(3).toString('hex')}` }));
    process.env.NSLAB_STARTER = 'off';
    let shellPath: string;
    try {
      shellPath = await view(new UnshareDriver({ cgroupName: `nslab-it-s-${randomBytes(3).toString('hex')}` }));
    } finally {
      delete process.env.NSLAB_STARTER;
    }
    assert.match(native, /same-sb/);
    assert.match(native, /\/usr\S* \S+ ro,/);
    assert.match(native, /umount: \/usr\/local: not mounted/);
    assert.match(native, /mount: \/usr: permission denied/);
    // The shell path's extra sysfs over the old root's /sys is detached with the old root: no difference.
    assert.equal(native, shellPath);
    // The one documented difference (SECURITY.md, "seccomp"): the fallback has no filter.
    assert.deepEqual(seccomps, ['/proc/self/status:Seccomp: 2 /proc/1/status:Seccomp: 2', '/proc/self/status:Seccomp: 0 /proc/1/status:Seccomp: 0']);
  });
});
