import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertBilingual, assertPasses, cmd, editProcesses, forged, gradeAll, loadFixture } from '../core/test-support';
import { testDefinition, withTranscript } from '../core/test-support';
import type { Observation } from '../core/model';
import { namespaceTools as lab } from './index';

const load = (name: string) => loadFixture(import.meta.url, name);
const done = load('recorded-done');
const loDown = load('recorded-lo-down');
const ids = ['lsns-all', 'container-shell', 'lsns-net', 'nsenter-ip'];
const step = (id: string) => lab.steps.find((s) => s.id === id)!.check;
const rec = (o: Observation, command: string) => o.transcript.find((r) => r.command === command)!;
const containerNet = done.snapshot.processes.find((p) => p.pid === 15)!.ns.net!;

testDefinition(lab, ids, 2);

describe('namespace-tools: recorded in a real sandbox', () => {
  test('the reference solution passes every step; nsenter and ip inside agree', () => {
    const r = assertPasses(lab, done, ids);
    assert.equal(r['container-shell']!.evidence.netInode, containerNet);
    assert.equal(r['container-shell']!.evidence.loState, 'UNKNOWN');
    assert.match(r['lsns-net']!.message!.en, new RegExp(`net:\\[${containerNet}\\] with PID 15 \\(bash\\)`));
    assert.match(r['nsenter-ip']!.message!.en, /showed lo \(UNKNOWN\).*same as ip inside/);
    assertBilingual(r);
  });

  test('lo left DOWN, no lsns -t net and nsenter without -n fail with the reason', () => {
    const r = gradeAll(lab, loDown);
    assert.equal(r['lsns-all']?.status, 'passed');
    for (const id of ids.slice(1)) assert.equal(r[id]?.status, 'failed', `${id}: ${r[id]?.message?.en}`);
    assert.match(r['container-shell']!.message!.en, /its lo is still DOWN/);
    assert.match(r['container-shell']!.hint!.en, /ip link set lo up/);
    assert.match(r['lsns-net']!.message!.en, /not filtered to network namespaces/);
    assert.match(r['nsenter-ip']!.message!.en, /has no -n/);
    assertBilingual(r);
  });
});

describe('namespace-tools: variants', () => {
  test('lsns-all: a filtered lsns or a table with foreign inodes does not pass', () => {
    const all = rec(done, 'lsns');
    assert.match(step('lsns-all')(withTranscript(done, [rec(done, 'lsns -t net')])).message.en, /shows only net/);
    const foreign = all.output.replace(String(done.snapshot.sandbox.baseNs.net), '4026531840');
    assert.equal(step('lsns-all')(withTranscript(done, [{ ...all, output: foreign }])).status, 'failed');
    assert.equal(step('lsns-all')(withTranscript(done, [{ ...all, command: 'lsns -l' }])).status, 'passed');
  });

  test('container-shell: an ip listing outside, before any `ip link set lo up`, is not the inside view', () => {
    const inside = rec(done, 'ip addr');
    const r = step('container-shell')(withTranscript(done, [{ ...inside, terminal: 1 }]));
    assert.match(r.message.en, /now look at it from inside/);
  });

  test('container-shell: the state decides, not the transcript: a shell in the base netns fails', () => {
    const base = editProcesses(done, (p) => p.pid === 15, (p) => ({ ...p, ns: { ...p.ns, net: done.snapshot.sandbox.baseNs.net! } }));
    assert.match(step('container-shell')(base).message.en, /No shell runs in a network namespace of its own/);
  });

  test('lsns-net: only a -t net listing that holds the container namespace counts', () => {
    const netOnly = rec(done, 'lsns -t net');
    const without = netOnly.output
      .split('\n')
      .filter((l) => !l.startsWith(String(containerNet)))
      .join('\n');
    assert.match(step('lsns-net')(withTranscript(done, [{ ...netOnly, output: without }])).message.en, /did not list net:/);
    assert.equal(step('lsns-net')(withTranscript(done, [{ ...netOnly, command: 'lsns --type=net' }])).status, 'passed');
  });

  test('nsenter-ip: a different PID, or output that differs from the namespace, fails', () => {
    const good = rec(done, 'nsenter -t 15 -n ip addr');
    assert.match(step('nsenter-ip')(withTranscript(done, [{ ...good, command: 'nsenter -t 8 -n ip addr' }])).message.en, /not in net:/);
    const extra = cmd('nsenter -t 15 -n ip addr', `${good.output}2: eth0@if9: <BROADCAST> mtu 1500 state UP\n`, 0, 1);
    assert.equal(step('nsenter-ip')(withTranscript(done, [extra])).status, 'failed');
    assert.equal(step('nsenter-ip')(withTranscript(done, [{ ...good, command: 'nsenter --net=/proc/15/ns/net ip -br a', output: 'lo               UNKNOWN        127.0.0.1/8 ::1/128\n' }])).status, 'passed');
  });

  test('the container may exit after container-shell passed: later steps use the kept namespace', () => {
    const gone = editProcesses(done, (p) => p.pid === 15, () => null);
    const first = gradeAll(lab, done);
    const r = gradeAll(lab, gone, [first['lsns-all']!, first['container-shell']!]);
    assert.equal(r['lsns-net']?.status, 'passed', r['lsns-net']?.message?.en);
    assert.equal(r['nsenter-ip']?.status, 'passed', r['nsenter-ip']?.message?.en);
  });
});

describe('namespace-tools forgeries (issue 13): the kernel state of the real solution, the listings faked', () => {
  const out = (prefix: string) => done.transcript.find((r) => r.command === prefix)!.output;

  test('lsns, lsns -t net and nsenter ip stay failed when another command printed their output', () => {
    const cases: Array<[string, string, string]> = [
      ['lsns-all', 'lsns -t time; cat /tmp/lsns.txt', out('lsns')],
      ['lsns-all', 'cat /tmp/lsns.txt # lsns', out('lsns')],
      ['lsns-net', 'lsns -t net | sed s/x/y/', out('lsns -t net')],
      ['lsns-net', "lsns -t user && echo '4026532184 net 4 1 root'", out('lsns -t net')],
      ['nsenter-ip', 'nsenter -t 15 -n true; ip addr', out('nsenter -t 15 -n ip addr')],
      ['nsenter-ip', 'nsenter -t 15 -n cat /tmp/ip-addr', out('nsenter -t 15 -n ip addr')],
    ];
    for (const [id, command, output] of cases) {
      const drop = (c: string) => (id === 'lsns-all' ? c === 'lsns' : id === 'lsns-net' ? c === 'lsns -t net' : c.startsWith('nsenter'));
      const obs = forged(done, drop, [{ terminal: 1, command, output, exitCode: 0 }]);
      assert.equal(gradeAll(lab, obs)[id]?.status, 'failed', `${id}: ${command}`);
    }
    const real = forged(done, (c) => c === 'lsns', [{ terminal: 1, command: 'lsns | sort', output: out('lsns'), exitCode: 0 }]);
    assert.equal(gradeAll(lab, real)['lsns-all']?.status, 'passed');
  });
});
