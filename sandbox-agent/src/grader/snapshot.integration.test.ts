// buildSnapshot against a real sandbox (root + real kernel).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { snapshotSchema, type Snapshot } from '../../../labs/core/snapshot';
import { defaultSandboxLimits, type Sandbox } from '../sandbox/driver';
import { UnshareDriver } from '../sandbox/unshare-driver';
import { TestShell } from '../sandbox/test-shell';
import { buildSnapshot } from './snapshot';
import { runProbes } from './probes';

const driver = new UnshareDriver({ cgroupName: `nslab-snap-${randomBytes(3).toString('hex')}` });

describe('buildSnapshot with a real sandbox', { timeout: 90_000 }, () => {
  let sb: Sandbox;
  let shell: TestShell;

  before(async () => {
    await driver.preflight();
    sb = await driver.create({ id: `s-${randomBytes(4).toString('hex')}`, hostname: 'snap', limits: defaultSandboxLimits });
    shell = await TestShell.open(sb);
  });
  after(async () => {
    await shell?.close();
    await sb?.destroy();
    await driver.reapLeftovers(new Set());
    driver.removeCgroupParents();
  });

  const take = async (): Promise<Snapshot> => snapshotSchema.parse(await buildSnapshot(sb, { timeoutMs: 5_000 }));

  test('base state: init is PID 1, the shell is inside, nsenter parents are not', async () => {
    const snap = await take();
    assert.equal(snap.sandbox.initHostPid, sb.initHostPid);
    assert.equal(snap.sandbox.uidBase, sb.uidBase);
    const init = snap.processes.find((p) => p.hostPid === sb.initHostPid);
    assert.ok(init);
    assert.equal(init.pid, 1);
    assert.equal(init.ppid, 0);
    assert.equal(init.uid, 0);
    assert.deepEqual(init.ns, snap.sandbox.baseNs);
    // The init starts no sleep of its own: the exercise's `pgrep -x sleep` must find only the learner's.
    assert.deepEqual(snap.processes.filter((p) => p.comm === 'sleep'), []);
    assert.deepEqual(init.cmdline, ['/bin/bash', '--norc', '--noprofile', '/etc/nslab/init']);
    const bash = snap.processes.find((p) => p.comm === 'bash' && p.pid !== 1);
    assert.ok(bash, JSON.stringify(snap.processes));
    assert.equal(bash.ppid, 0); // its parent (nsenter) is outside the sandbox
    assert.ok(!snap.processes.some((p) => p.comm === 'nsenter' || p.comm === 'unshare'));
    assert.equal(snap.netns.length, 1);
    assert.deepEqual(
      snap.netns[0]!.interfaces.map((i) => [i.name, i.flags.includes('UP')]),
      [['lo', true]],
    );
    assert.deepEqual(snap.uts, [{ inode: snap.sandbox.baseNs.uts, hostname: 'snap', ownerUserns: snap.sandbox.baseNs.user }]);
    // the init runs the host's /usr/bin/bash (the sandbox's /usr is the host's, read-only)
    assert.deepEqual(init.exe && { dev: init.exe.dev, ino: init.exe.ino }, snap.sandbox.programs?.bash);
    assert.ok(snap.durationMs >= 0 && snap.durationMs < 5_000);
    assert.deepEqual(snap.warnings, []);
  });

  test('unshare -n sleep shows a new netns with only lo; a plain sleep does not differ', async () => {
    const res = await shell.run('unshare -n sleep 60 & sleep 61 & sleep 0.3; echo ok');
    assert.equal(res.exitCode, 0);
    const snap = await take();
    const sleeps = snap.processes.filter((p) => p.comm === 'sleep');
    const isolated = sleeps.find((p) => p.cmdline.join(' ') === 'sleep 60');
    const plain = sleeps.find((p) => p.cmdline.join(' ') === 'sleep 61');
    assert.ok(isolated && plain, JSON.stringify(sleeps));
    assert.notEqual(isolated.ns.net, snap.sandbox.baseNs.net);
    assert.equal(plain.ns.net, snap.sandbox.baseNs.net);
    assert.equal(isolated.ns.uts, snap.sandbox.baseNs.uts);
    const ns = snap.netns.find((n) => n.inode === isolated.ns.net);
    assert.ok(ns?.complete);
    assert.deepEqual(ns.interfaces.map((i) => i.name), ['lo']);
    assert.equal(ns.interfaces[0]!.flags.includes('UP'), false);
    const bash = snap.processes.find((p) => p.comm === 'bash' && p.pid !== 1)!;
    assert.equal(plain.ppid, bash.pid);
    await shell.run('kill -9 %1 %2; wait');
  });

  test('nested PID namespace: nsPids and uts per namespace', async () => {
    await shell.run('unshare -u sh -c "hostname inner; exec sleep 62" & unshare -pf --mount-proc sleep 63 & sleep 0.3');
    const snap = await take();
    const inner = snap.processes.find((p) => p.cmdline.join(' ') === 'sleep 62')!;
    assert.ok(inner);
    assert.ok(snap.uts.some((u) => u.inode === inner.ns.uts && u.hostname === 'inner'));
    const nested = snap.processes.find((p) => p.cmdline.join(' ') === 'sleep 63')!;
    assert.ok(nested);
    assert.equal(nested.nsPids.length, 2);
    assert.equal(nested.nsPids[1], 1);
    assert.equal(nested.pid, nested.nsPids[0]);
    await shell.run('kill -9 %1 %2; wait');
  });

  test('bridge + veth topology reports master and peers', async () => {
    const build = await shell.run(
      [
        'ip link add br0 type bridge',
        'ip link add veth0 type veth peer name veth1',
        'ip link set veth0 master br0',
        'ip addr add 172.17.0.1/16 dev br0',
        'ip link set br0 up',
        'ip link set veth0 up',
        'unshare -n sleep 64 & sleep 0.3',
        'ip link set veth1 netns $(pgrep -f "sleep 64")',
        'nsenter -t $(pgrep -f "sleep 64") -n ip addr add 172.17.0.2/16 dev veth1',
      ].join(' && '),
    );
    assert.equal(build.exitCode, 0, build.output);
    const snap = await take();
    const base = snap.netns.find((n) => n.inode === snap.sandbox.baseNs.net)!;
    const sleeper = snap.processes.find((p) => p.cmdline.join(' ') === 'sleep 64')!;
    const other = snap.netns.find((n) => n.inode === sleeper.ns.net)!;
    const br0 = base.interfaces.find((i) => i.name === 'br0')!;
    const veth0 = base.interfaces.find((i) => i.name === 'veth0')!;
    const veth1 = other.interfaces.find((i) => i.name === 'veth1')!;
    assert.equal(br0.kind, 'bridge');
    assert.deepEqual(br0.addresses.filter((a) => a.family === 'inet'), [
      { family: 'inet', address: '172.17.0.1', prefixLen: 16 },
    ]);
    assert.equal(veth0.kind, 'veth');
    assert.equal(veth0.master, 'br0');
    assert.deepEqual(veth0.peer, { ifindex: veth1.ifindex, netnsInode: other.inode });
    assert.deepEqual(veth1.peer, { ifindex: veth0.ifindex, netnsInode: base.inode });
    assert.deepEqual(veth1.addresses.map((a) => a.address), ['172.17.0.2']);
    await shell.run('kill -9 %1; wait; ip link del br0; ip link del veth0 2>/dev/null; true');
  });

  test('many interfaces and processes: bounded, with warnings, no hang', async () => {
    const res = await shell.run(
      'for i in $(seq 1 150); do echo "link add va$i type veth peer name vb$i"; done | ip -batch - && ' +
        '{ for i in $(seq 1 60); do sleep 65 & done; sleep 0.3; echo ok; }',
      30_000,
    );
    assert.equal(res.exitCode, 0, res.output);
    assert.match(res.output, /ok/);
    const snap = await take();
    const base = snap.netns.find((n) => n.inode === snap.sandbox.baseNs.net)!;
    assert.equal(base.interfaces.length, 256);
    assert.ok(snap.warnings.some((w) => /interfaces/.test(w)));
    assert.ok(snap.processes.filter((p) => p.comm === 'sleep').length >= 60);
    assert.ok(snap.durationMs < 5_000);
    await shell.run('kill -9 $(jobs -p); wait; for i in $(seq 1 150); do echo "link del va$i"; done | ip -batch -', 30_000);
  });

  test('mount, user and PID namespaces; named netns held by no process; pid_for_children hidden', async () => {
    const res = await shell.run(
      'ip netns add nsx && ip netns exec nsx ip link set lo up && ' +
        '{ unshare -m sh -c "mount -t tmpfs scratch /mnt; exec sleep 70" & unshare -Ur sleep 71 & unshare -U sleep 72 & ' +
        'unshare -p sleep 73 & unshare -pf --mount-proc sleep 74 & sleep 0.3; echo ok; }',
    );
    assert.match(res.output, /ok/);
    const snap = await take();
    const byCmd = (c: string) => snap.processes.find((p) => p.cmdline.join(' ') === c)!;
    // mounts: the tmpfs only in the sleep's mount namespace
    const m = byCmd('sleep 70');
    const own = snap.mntns!.find((n) => n.inode === m.ns.mnt)!;
    const base = snap.mntns!.find((n) => n.inode === snap.sandbox.baseNs.mnt)!;
    assert.ok(own.complete && base.complete);
    assert.ok(own.mounts.some((x) => x.mountPoint === '/mnt' && x.fsType === 'tmpfs' && x.source === 'scratch'));
    assert.ok(!base.mounts.some((x) => x.mountPoint === '/mnt'));
    // named netns: found in the mount table, read through its bind mount (no process is in it)
    const named = snap.namedNetns!.find((n) => n.name === 'nsx' && n.mntInode === base.inode)!;
    assert.ok(named);
    assert.ok(!snap.processes.some((p) => p.ns.net === named.inode));
    const nsx = snap.netns.find((n) => n.inode === named.inode)!;
    assert.ok(nsx.complete);
    assert.deepEqual(nsx.names, ['nsx']);
    assert.deepEqual(nsx.interfaces.map((i) => [i.name, i.flags.includes('UP')]), [['lo', true]]);
    // user namespaces: maps as the host reads them, owner and parent
    const mapped = snap.userns!.find((u) => u.inode === byCmd('sleep 71').ns.user)!;
    assert.deepEqual(mapped.uidMap, [{ inside: 0, outside: sb.uidBase, count: 1 }]);
    assert.equal(mapped.parentInode, snap.sandbox.baseNs.user);
    assert.equal(mapped.ownerHostUid, sb.uidBase);
    assert.deepEqual(snap.userns!.find((u) => u.inode === byCmd('sleep 72').ns.user)!.uidMap, []);
    assert.deepEqual(snap.userns!.find((u) => u.inode === snap.sandbox.baseNs.user)!.uidMap, [{ inside: 0, outside: sb.uidBase, count: 65536 }]);
    assert.equal(byCmd('sleep 71').capEff, '000001ffffffffff');
    assert.equal(byCmd('sleep 72').capEff, '0000000000000000');
    // PID namespaces: the nested one has its PID 1; `unshare -p` without -f has none, link hidden
    const nested = snap.pidns!.find((n) => n.inode === byCmd('sleep 74').ns.pid)!;
    assert.equal(nested.level, 1);
    assert.equal(nested.init?.hostPid, byCmd('sleep 74').hostPid);
    assert.equal(snap.pidns!.find((n) => n.level === 0)!.init?.pid, 1);
    assert.equal(byCmd('sleep 73').ns.pid_for_children, undefined);
    assert.deepEqual(snap.warnings, []);
    await shell.run('kill -9 $(jobs -p); wait; ip netns del nsx');
  });

  test('nsread (the persistent reader) reports exactly what /proc reads, nsenter + ip -j and hostname report', async () => {
    const build = await shell.run(
      [
        'ip link add br9 type bridge',
        'ip link add v9a type veth peer name v9b',
        'ip link add v9c type veth peer name v9d',
        'ip link set v9a master br9',
        'ip addr add 10.9.0.1/24 dev br9',
        'ip -6 addr add fd09::1/64 dev br9',
        'ip link set br9 up && ip link set v9a up',
        'ip netns add n9 && ip link set v9b netns n9 && ip -n n9 addr add 10.9.0.2/24 dev v9b && ip -n n9 link set v9b up',
        '{ unshare -nu sh -c "hostname inner9; ip link set lo up; exec sleep 75" & sleep 0.3; }',
      ].join(' && '),
    );
    assert.equal(build.exitCode, 0, build.output);
    const viaReader = await take();
    process.env.NSLAB_NSREAD = 'off';
    let viaExec: Snapshot;
    try {
      viaExec = await take();
    } finally {
      delete process.env.NSLAB_NSREAD;
    }
    const view = (snap: Snapshot) => ({
      netns: [...snap.netns].sort((a, b) => a.inode - b.inode).map((n) => ({ inode: n.inode, complete: n.complete, names: n.names, interfaces: n.interfaces })),
      // the exec path (nsenter + hostname) cannot ask NS_GET_USERNS: owners only via nsread
      uts: [...snap.uts].sort((a, b) => a.inode - b.inode).map(({ ownerUserns: _owner, ...rest }) => rest),
      // state (R/S) of the shell may differ between two reads a moment apart; everything else may not
      processes: [...snap.processes].sort((a, b) => a.hostPid - b.hostPid).map(({ state: _state, ...rest }) => rest),
    });
    assert.deepEqual(view(viaReader), view(viaExec));
    assert.ok(viaReader.netns.length >= 3, `netns: ${viaReader.netns.length}`);
    assert.ok(viaReader.uts.some((u) => u.hostname === 'inner9'));
    // inner9's UTS namespace was made by the sandbox's root: the sandbox's user namespace owns it
    assert.equal(viaReader.uts.find((u) => u.hostname === 'inner9')?.ownerUserns, viaReader.sandbox.baseNs.user);
    const sleep = viaReader.processes.find((p) => p.comm === 'sleep');
    assert.equal(sleep?.exe?.ino, viaReader.sandbox.programs?.sleep?.ino, 'the sleep runs /usr/bin/sleep, as its exe shows from the host');
    assert.deepEqual(viaReader.warnings, []);
    await shell.run('kill -9 $(jobs -p); wait; ip netns del n9; ip link del br9; ip link del v9a; ip link del v9c; true');
  });

  test('probes: ping across a bridge both ways; targets outside the sandbox are never pinged', async () => {
    const build = await shell.run(
      [
        'ip netns add pb',
        'ip link add br0 type bridge',
        'ip link add veth0 type veth peer name veth1',
        'ip link set veth0 master br0',
        'ip addr add 172.17.0.1/16 dev br0',
        'ip link set br0 up',
        'ip link set veth0 up',
        'ip link set veth1 netns pb',
        'ip netns exec pb ip link set veth1 name eth0',
        'ip netns exec pb ip addr add 172.17.0.2/16 dev eth0',
        'ip netns exec pb ip link set eth0 up',
        'ip addr add 172.18.0.9/16 dev veth0', // held by the sandbox, but nobody answers on the bridge side
      ].join(' && '),
    );
    assert.equal(build.exitCode, 0, build.output);
    const snap = await take();
    const t0 = performance.now();
    const results = await runProbes(
      [
        { kind: 'ping', id: 'there', from: { base: true }, to: '172.17.0.2', count: 1, timeoutMs: 1500 },
        { kind: 'ping', id: 'back', from: { holdingAddress: '172.17.0.2' }, to: '172.17.0.1', count: 1, timeoutMs: 1500 },
        { kind: 'ping', id: 'named', from: { named: 'pb' }, to: '172.17.0.1', count: 2, timeoutMs: 2000 },
        { kind: 'ping', id: 'outside', from: { base: true }, to: '192.0.2.1', count: 1, timeoutMs: 1500 },
        { kind: 'ping', id: 'name', from: { base: true }, to: 'localhost', count: 1, timeoutMs: 1500 },
        { kind: 'ping', id: 'unreachable', from: { named: 'pb' }, to: '172.18.0.9', count: 1, timeoutMs: 500 },
        { kind: 'ping', id: 'nobody', from: { named: 'nope' }, to: '172.17.0.1', count: 1, timeoutMs: 500 },
      ],
      snap,
    );
    const elapsedMs = performance.now() - t0;
    const by = Object.fromEntries(results.map((r) => [r.id, r]));
    const pb = snap.netns.find((n) => n.names?.includes('pb'))!;
    assert.equal(by.there?.ok, true, JSON.stringify(by.there));
    assert.equal(by.there?.fromNetnsInode, snap.sandbox.baseNs.net);
    assert.equal(by.back?.ok, true, JSON.stringify(by.back));
    assert.equal(by.back?.fromNetnsInode, pb.inode);
    assert.equal(by.named?.received, 2);
    assert.deepEqual([by.outside?.status, by.outside?.transmitted], ['skipped', 0]);
    assert.match(by.outside?.reason ?? '', /no interface of the sandbox holds 192\.0\.2\.1/);
    assert.equal(by.name?.status, 'skipped');
    assert.deepEqual([by.unreachable?.status, by.unreachable?.ok], ['ran', false]);
    assert.equal(by.nobody?.status, 'skipped');
    assert.ok(elapsedMs < 3_000, `probes bounded in time (${Math.round(elapsedMs)} ms)`);
    await shell.run('ip link del br0; ip link del veth0 2>/dev/null; ip netns del pb; true');
  });

  test('time namespace offsets and SysV queues per IPC namespace (read only when there is a second one)', async () => {
    const plain = await take();
    assert.equal(plain.timens, undefined);
    assert.equal(plain.ipcns, undefined);
    await shell.run('ipcmk -Q >/dev/null; unshare -i sh -c "ipcmk -Q >/dev/null; ipcmk -Q >/dev/null; exec sleep 64" & unshare -T --boottime 86400 sleep 65 & sleep 0.4');
    const snap = await take();
    const t = snap.processes.find((p) => p.cmdline.join(' ') === 'sleep 65')!;
    assert.notEqual(t.ns.time, snap.sandbox.baseNs.time);
    assert.deepEqual(snap.timens, [{ inode: t.ns.time!, viaHostPid: t.hostPid, monotonicSec: 0, boottimeSec: 86400 }]);
    const i = snap.processes.find((p) => p.cmdline.join(' ') === 'sleep 64')!;
    const base = snap.ipcns!.find((n) => n.inode === snap.sandbox.baseNs.ipc)!;
    const inner = snap.ipcns!.find((n) => n.inode === i.ns.ipc)!;
    // Two queues made inside, one outside: each namespace's table holds only its own.
    assert.equal(base.msgQueues.length, 1);
    assert.equal(inner.msgQueues.length, 2);
    for (const q of inner.msgQueues) assert.ok(!base.msgQueues.some((b) => b.key === q.key));
    assert.deepEqual(snap.warnings, []);
    await shell.run('kill %1 %2; wait; ipcrm --all=msg');
  });
});

