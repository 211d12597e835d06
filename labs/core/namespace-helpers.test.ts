// Unit tests of the helpers for bridges, veths, mounts, user/PID/UTS namespaces and probes, on
// observations recorded from real sandboxes (pass) and on mutated copies of them (fail).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  hasFullCaps,
  hostnameOf,
  idInside,
  idMapAsSandboxSees,
  nestedPidInits,
  pendingPidUnshares,
  privateMounts,
  uidInOwnUserns,
  usernsOf,
} from './kernel-objects';
import { bridgePorts, hasInetAddress, interfaceNamed, netnsLabel, otherNetns, probeResult, vethPeer } from './net';
import { parseNsenterWords } from './ns-tools';
import { clone, loadFixture } from './test-support';

const fx = (lab: string, name: string) => loadFixture(new URL(`../${lab}/x.ts`, import.meta.url).href, `recorded-${name}`);

test('topology helpers: other netns, named label, address, bridge ports, veth peer', () => {
  const obs = fx('build-a-bridge', 'done');
  const snap = obs.snapshot;
  const base = snap.netns.find((n) => n.inode === snap.sandbox.baseNs.net)!;
  const [ns1] = otherNetns(snap);
  assert.ok(ns1);
  assert.equal(netnsLabel(ns1), `net:[${ns1.inode}] (ns1)`);
  const br0 = interfaceNamed(base, 'br0');
  assert.ok(hasInetAddress(br0, '172.17.0.1', 16));
  assert.ok(!hasInetAddress(br0, '172.17.0.1', 24));
  assert.deepEqual(bridgePorts(base, 'br0').map((i) => i.name), ['veth0']);
  const eth0 = interfaceNamed(ns1, 'eth0')!;
  assert.equal(vethPeer(snap, eth0)?.iface.name, 'veth0');
  assert.equal(vethPeer(snap, br0!), undefined);
  assert.equal(probeResult(obs, 'bridge-to-eth0')?.ok, true);
  assert.equal(probeResult(obs, 'nope'), undefined);
  const noPort = fx('build-a-bridge', 'no-port').snapshot;
  assert.deepEqual(bridgePorts(noPort.netns.find((n) => n.inode === noPort.sandbox.baseNs.net), 'br0'), []);
});

test('mount helpers: a private tmpfs is found; one in the base mount namespace is not', () => {
  const done = fx('mount-namespace', 'done').snapshot;
  const found = privateMounts(done, (m) => m.fsType === 'tmpfs');
  assert.deepEqual(found.map((f) => [f.mount.mountPoint, f.mount.source]), [['/mnt', 'scratch']]);
  assert.notEqual(found[0]!.mntns.inode, done.sandbox.baseNs.mnt);
  assert.deepEqual(privateMounts(fx('mount-namespace', 'base-mount').snapshot, (m) => m.fsType === 'tmpfs'), []);
});

test('user helpers: maps, uid inside, caps', () => {
  const done = fx('user-namespace', 'done').snapshot;
  const nested = done.userns!.find((u) => u.inode !== done.sandbox.baseNs.user)!;
  assert.deepEqual(idMapAsSandboxSees(done, nested.uidMap), [{ inside: 0, outside: 0, count: 1 }]);
  const p = done.processes.find((x) => x.ns.user === nested.inode)!;
  assert.equal(uidInOwnUserns(done, p), 0);
  assert.equal(idInside([], 5), 65534);
  assert.equal(idInside([{ inside: 0, outside: 100, count: 10 }], 105), 5);
  assert.ok(hasFullCaps('000001ffffffffff'));
  assert.ok(!hasFullCaps('0000000000000000'));
  assert.ok(!hasFullCaps(undefined));
  const noMap = fx('user-namespace', 'no-map').snapshot;
  const empty = noMap.userns!.find((u) => u.inode !== noMap.sandbox.baseNs.user)!;
  assert.deepEqual(empty.uidMap, []);
  const nobody = noMap.processes.find((x) => x.ns.user === empty.inode)!;
  assert.equal(uidInOwnUserns(noMap, nobody), 65534);
  assert.equal(usernsOf(noMap, 1), undefined);
});

test('PID helpers: a nested PID 1; unshare -p without -f is pending', () => {
  const done = fx('pid-namespace', 'done').snapshot;
  const [nested] = nestedPidInits(done);
  assert.ok(nested);
  assert.equal(nested.init.nsPids.at(-1), 1);
  assert.equal(nested.pidns.level, 1);
  assert.deepEqual(pendingPidUnshares(done), []);
  const noFork = fx('pid-namespace', 'no-fork').snapshot;
  assert.deepEqual(nestedPidInits(noFork), []);
  assert.deepEqual(pendingPidUnshares(noFork).map((p) => p.comm), ['sleep']);
});

test('UTS helper: hostname per namespace', () => {
  const done = fx('uts-namespace', 'done').snapshot;
  assert.equal(hostnameOf(done, done.sandbox.baseNs.uts), 'nslab');
  const inner = done.processes.find((p) => p.ns.uts !== done.sandbox.baseNs.uts)!;
  assert.equal(hostnameOf(done, inner.ns.uts), 'container1');
  assert.equal(hostnameOf(done, undefined), undefined);
  const changed = clone(done);
  changed.uts = [];
  assert.equal(hostnameOf(changed, inner.ns.uts), undefined);
});

test('parseNsenterWords: targets and namespace types', () => {
  const p = parseNsenterWords(['nsenter', '-t', '42', '-m', '-u', 'findmnt', '/mnt'])!;
  assert.equal(p.targetPid, 42);
  assert.deepEqual(p.types, ['mnt', 'uts']);
  assert.deepEqual(p.inner, ['findmnt', '/mnt']);
  const q = parseNsenterWords(['nsenter', '--target=7', '--uts', '--', 'hostname'])!;
  assert.equal(q.targetPid, 7);
  assert.deepEqual(q.types, ['uts']);
  assert.deepEqual(q.inner, ['hostname']);
  assert.ok(parseNsenterWords(['nsenter', '-t7', '-a', 'sh'])!.types.includes('mnt'));
  assert.equal(parseNsenterWords(['nsenter', '-t', '$PID', '-m', 'ls'])!.targetPid, null);
  assert.equal(parseNsenterWords(['unshare', '-m']), null);
});
