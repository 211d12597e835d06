import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { snapshotSchema, type Snapshot } from '../../labs/core/snapshot';
import { MAP_LIMITS, mapSnapshotKey, mapSnapshotSchema, toMapSnapshot } from './map-snapshot';
import { serverMessageSchema } from './index';

const recorded = (path: string): Snapshot =>
  snapshotSchema.parse((JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as { snapshot: unknown }).snapshot);
const bridge = recorded('../../labs/build-a-bridge/fixtures/recorded-done.json');

test('the map view of a finished bridge keeps the topology and drops host ids', () => {
  const map = toMapSnapshot(bridge);
  mapSnapshotSchema.parse(map);
  assert.ok(serverMessageSchema.safeParse({ type: 'snapshot', snapshot: map }).success);
  const base = map.netns.find((n) => n.inode === map.baseNs.net);
  assert.ok(base, 'the base netns is in the map');
  const br0 = base.interfaces.find((i) => i.name === 'br0');
  assert.equal(br0?.kind, 'bridge');
  assert.deepEqual(br0?.addresses[0], '172.17.0.1/16');
  assert.equal(br0?.up, true);
  const veth0 = base.interfaces.find((i) => i.name === 'veth0');
  assert.equal(veth0?.master, 'br0');
  const other = map.netns.find((n) => n.inode === veth0?.peer?.netnsInode);
  const eth0 = other?.interfaces.find((i) => i.ifindex === veth0?.peer?.ifindex);
  assert.equal(eth0?.name, 'eth0');
  assert.ok(eth0?.addresses.includes('172.17.0.2/16'));
  const text = JSON.stringify(map);
  assert.ok(!text.includes('hostPid') && !text.includes('viaHostPid') && !text.includes('uidBase'));
  assert.ok(!/"pid_for_children"/.test(text));
});

test('the map view is bounded however big the snapshot', () => {
  const first = bridge.processes[0]!;
  const huge: Snapshot = {
    ...bridge,
    processes: Array.from({ length: 5000 }, (_, i) => ({ ...first, pid: i + 1, hostPid: i + 10, comm: 'x'.repeat(40), cmdline: ['y'.repeat(10_000)] })),
    netns: Array.from({ length: 100 }, (_, i) => ({ ...bridge.netns[0]!, inode: 1000 + i })),
  };
  const map = toMapSnapshot(huge);
  mapSnapshotSchema.parse(map);
  assert.equal(map.processes.length, MAP_LIMITS.processes);
  assert.equal(map.processCount, 5000);
  assert.equal(map.netns.length, MAP_LIMITS.netns);
  assert.ok(JSON.stringify(map).length < 64 * 1024, `${JSON.stringify(map).length} bytes`);
});

test('the key ignores the time of reading and changes with the state', () => {
  const a = toMapSnapshot(bridge);
  const b = toMapSnapshot({ ...bridge, takenAtMs: bridge.takenAtMs + 5000 });
  assert.equal(mapSnapshotKey(a), mapSnapshotKey(b));
  const c = toMapSnapshot({ ...bridge, uts: [{ inode: 1, hostname: 'changed' }] });
  assert.notEqual(mapSnapshotKey(a), mapSnapshotKey(c));
});

test('an open step that asks for a PID or an inode keeps it off the map (issue 13), the drawing keeps its shape', () => {
  const plain = toMapSnapshot(bridge);
  const hidden = toMapSnapshot(bridge, { conceal: ['pids', 'inodes'] });
  mapSnapshotSchema.parse(hidden);
  assert.ok(serverMessageSchema.safeParse({ type: 'snapshot', snapshot: hidden }).success);
  assert.deepEqual(hidden.concealed, ['inodes', 'pids']);
  assert.equal(plain.concealed, undefined);
  const sent = JSON.stringify(hidden);
  for (const p of bridge.processes) if (p.pid > hidden.processes.length) assert.ok(!sent.includes(`"pid":${p.pid},`), `PID ${p.pid} is not sent`);
  for (const inode of new Set(bridge.processes.flatMap((p) => Object.values(p.ns)))) assert.ok(!sent.includes(String(inode)), `inode ${inode} is not sent`);
  // same processes, namespaces and cables: only the numbers changed
  assert.equal(hidden.processes.length, plain.processes.length);
  assert.deepEqual(hidden.processes.map((p) => p.comm), plain.processes.map((p) => p.comm));
  assert.equal(hidden.netns.length, plain.netns.length);
  assert.equal(new Set(hidden.processes.map((p) => p.ns.net)).size, new Set(plain.processes.map((p) => p.ns.net)).size);
  const base = hidden.netns.find((n) => n.inode === hidden.baseNs.net);
  assert.ok(base?.interfaces.some((i) => i.name === 'br0'), 'the base netns still matches its alias');
  const peers = hidden.netns.flatMap((n) => n.interfaces.map((i) => i.peer?.netnsInode)).filter((x) => typeof x === 'number');
  for (const inode of peers) assert.ok(hidden.netns.some((n) => n.inode === inode), 'veth peers point at aliased namespaces');
});
