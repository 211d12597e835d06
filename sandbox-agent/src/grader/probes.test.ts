// The pure parts of the probes module, on an observation recorded from a real sandbox.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadFixture } from '../../../labs/core/testing/fixtures';
import { parsePingSummary, resolveSelector, sandboxAddresses, validateProbe } from './probes';

const snap = loadFixture(new URL('../../../labs/build-a-bridge/x.ts', import.meta.url).href, 'recorded-done').snapshot;

test('sandboxAddresses lists only addresses held inside the sandbox', () => {
  const all = sandboxAddresses(snap);
  assert.ok(all.has('172.17.0.1') && all.has('172.17.0.2') && all.has('127.0.0.1'));
  assert.ok(!all.has('8.8.8.8'));
});

test('resolveSelector: base, holdingAddress (never the base), named (through its bind mount)', () => {
  const base = resolveSelector(snap, { base: true })!;
  assert.equal(base.inode, snap.sandbox.baseNs.net);
  assert.ok(snap.processes.some((p) => p.hostPid === base.hostPid));
  const ns1 = snap.netns.find((n) => n.names?.includes('ns1'))!;
  const held = resolveSelector(snap, { holdingAddress: '172.17.0.2' })!;
  assert.deepEqual([held.inode, held.mountPoint], [ns1.inode, '/run/netns/ns1']);
  assert.equal(resolveSelector(snap, { holdingAddress: '172.17.0.1' }), null); // br0 is in the base
  assert.equal(resolveSelector(snap, { named: 'ns1' })?.inode, ns1.inode);
  assert.equal(resolveSelector(snap, { named: 'other' }), null);
});

test('validateProbe bounds count, time and the target form', () => {
  const ok = { kind: 'ping', id: 'x', from: { base: true }, to: '172.17.0.2', count: 1, timeoutMs: 1500 } as const;
  assert.equal(validateProbe(ok), null);
  assert.match(validateProbe({ ...ok, to: 'example.com' }) ?? '', /not a literal IPv4/);
  assert.match(validateProbe({ ...ok, to: '256.1.1.1' }) ?? '', /not a literal IPv4/);
  assert.match(validateProbe({ ...ok, count: 50 }) ?? '', /count/);
  assert.match(validateProbe({ ...ok, timeoutMs: 60_000 }) ?? '', /timeoutMs/);
});

test('parsePingSummary reads iputils statistics', () => {
  assert.deepEqual(parsePingSummary('--- 172.17.0.2 ping statistics ---\n2 packets transmitted, 2 received, 0% packet loss, time 1001ms\n'), { transmitted: 2, received: 2 });
  assert.deepEqual(parsePingSummary('1 packets transmitted, 0 received, 100% packet loss'), { transmitted: 1, received: 0 });
  assert.deepEqual(parsePingSummary('connect: Network is unreachable'), { transmitted: 0, received: 0 });
});
