import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertLabShape, assertPasses, clone, forged, gradeAll, loadFixture, statuses } from '../core/test-support';
import type { Observation } from '../core/model';
import { buildABridge, probes } from './index';

const load = (name: string) => loadFixture(import.meta.url, name);
const ids = buildABridge.steps.map((s) => s.id);
const base = (o: Observation) => o.snapshot.netns.find((n) => n.inode === o.snapshot.sandbox.baseNs.net)!;
const other = (o: Observation) => o.snapshot.netns.find((n) => n.inode !== o.snapshot.sandbox.baseNs.net)!;

describe('build-a-bridge', () => {
  test('lab shape; the ping step declares both probes', () => {
    assertLabShape(buildABridge);
    assert.deepEqual(ids, ['create-netns', 'veth-pair', 'bridge-br0', 'move-eth0', 'ping-across']);
    assert.deepEqual(buildABridge.steps.find((s) => s.id === 'ping-across')?.probes, probes);
    for (const p of probes) assert.match(p.to, /^172\.17\.0\.[12]$/);
  });

  test('recorded: done right passes every step, citing inodes, names and the grader ping', () => {
    const obs = load('recorded-done');
    const r = assertPasses(buildABridge, obs, ids);
    assert.match(r['create-netns']!.message!.en, new RegExp(`net:\\[${other(obs).inode}\\] \\(ns1\\)`));
    assert.match(r['bridge-br0']!.message!.en, /br0 \(bridge, 172\.17\.0\.1\/16, UP\).*port veth0/);
    assert.match(r['ping-across']!.message!.en, /172\.17\.0\.1 .*⇄ 172\.17\.0\.2/);
    assert.ok(obs.probes?.every((p) => p.ok && p.status === 'ran'));
  });

  test('recorded: bridge without the veth port fails bridge-br0, move-eth0 and ping-across', () => {
    const r = gradeAll(buildABridge, load('recorded-no-port'));
    assert.deepEqual(statuses(r), { 'create-netns': 'passed', 'veth-pair': 'passed', 'bridge-br0': 'failed', 'move-eth0': 'failed', 'ping-across': 'failed' });
    assert.match(r['bridge-br0']!.message!.en, /no veth port/);
    assert.match(r['bridge-br0']!.hint!.en, /master br0/);
    assert.match(r['move-eth0']!.message!.en, /not plugged into br0/);
  });

  test('recorded: eth0 without address fails move-eth0 with the exact command', () => {
    const r = gradeAll(buildABridge, load('recorded-eth0-no-address'));
    assert.equal(r['bridge-br0']?.status, 'passed');
    assert.equal(r['move-eth0']?.status, 'failed');
    assert.match(r['move-eth0']!.message!.en, /eth0 in net:\[\d+\] \(ns1\) has IPv4 address\(es\) none, not 172\.17\.0\.2\/16/);
    assert.match(r['move-eth0']!.hint!.en, /ip addr add 172\.17\.0\.2\/16 dev eth0/);
  });

  test('negatives from the done fixture: wrong address, br0 down, eth0 down, eth0 not renamed', () => {
    const wrong = clone(load('recorded-done'));
    base(wrong).interfaces.find((i) => i.name === 'br0')!.addresses = [{ family: 'inet', address: '10.0.0.1', prefixLen: 24 }];
    assert.match(gradeAll(buildABridge, wrong)['bridge-br0']!.message!.en, /10\.0\.0\.1\/24, not 172\.17\.0\.1\/16/);

    const down = clone(load('recorded-done'));
    const br = base(down).interfaces.find((i) => i.name === 'br0')!;
    br.flags = br.flags.filter((f) => f !== 'UP');
    assert.match(gradeAll(buildABridge, down)['bridge-br0']!.message!.en, /br0 is DOWN/);

    const ethDown = clone(load('recorded-done'));
    const eth0 = other(ethDown).interfaces.find((i) => i.name === 'eth0')!;
    eth0.flags = eth0.flags.filter((f) => f !== 'UP');
    const r = gradeAll(buildABridge, ethDown);
    assert.equal(r['move-eth0']?.status, 'passed');
    assert.match(r['ping-across']!.message!.en, /eth0 in .* is DOWN/);

    const named = clone(load('recorded-done'));
    other(named).interfaces.find((i) => i.name === 'eth0')!.name = 'veth1';
    assert.match(gradeAll(buildABridge, named)['move-eth0']!.hint!.en, /set veth1 name eth0/);
  });

  test('ping-across needs the grader probes to succeed and the learner ping', () => {
    const failedProbe = clone(load('recorded-done'));
    failedProbe.probes = failedProbe.probes!.map((p) => (p.id === 'eth0-to-bridge' ? { ...p, ok: false, received: 0, reason: 'no reply' } : p));
    assert.match(gradeAll(buildABridge, failedProbe)['ping-across']!.message!.en, /ping to 172\.17\.0\.1 got no reply/);

    const noProbes = clone(load('recorded-done'));
    delete noProbes.probes;
    assert.match(gradeAll(buildABridge, noProbes)['ping-across']!.message!.en, /not pinged across/);

    const noLearnerPing = clone(load('recorded-done'));
    noLearnerPing.transcript = noLearnerPing.transcript.filter((c) => !/ping/.test(c.command));
    assert.match(gradeAll(buildABridge, noLearnerPing)['ping-across']!.message!.en, /you have not pinged across yourself/);
  });

  test('fresh sandbox: every step fails', () => {
    const fresh = clone(load('recorded-done'));
    fresh.snapshot.netns = [base(fresh)];
    fresh.snapshot.netns[0]!.interfaces = fresh.snapshot.netns[0]!.interfaces.filter((i) => i.name === 'lo');
    fresh.transcript = [];
    delete fresh.probes;
    assert.ok(Object.values(statuses(gradeAll(buildABridge, fresh))).every((s) => s === 'failed'));
  });
});

describe('build-a-bridge forgeries (issue 13)', () => {
  test("ping-across needs the learner's own ping output, not text printed after a failed ping", () => {
    const done = loadFixture(import.meta.url, 'recorded-done');
    const isPing = (c: string) => c.includes('ping');
    const reply = '2 packets transmitted, 2 received, 0% packet loss, time 1001ms\n';
    assert.equal(gradeAll(buildABridge, forged(done, isPing, [{ terminal: 0, command: 'ping -c 2 172.17.0.2', output: reply, exitCode: 0 }]))['ping-across']?.status, 'passed');
    for (const command of [
      "ping -c 1 -W 1 172.17.0.2 || echo '1 packets received'",
      "echo '2 received' # ping -c 2 172.17.0.2",
      "ping -c 1 172.17.0.2; echo '2 received'",
      "ip netns exec ns1 echo '2 received' && ping -c 1 172.17.0.2",
    ]) {
      const obs = forged(done, isPing, [{ terminal: 0, command, output: reply, exitCode: 0 }]);
      assert.equal(gradeAll(buildABridge, obs)['ping-across']?.status, 'failed', command);
    }
  });
});
