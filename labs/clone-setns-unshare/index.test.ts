import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseNsenterWords } from '../core/ns-tools';
import { assertBilingual, assertPasses, cmd, editProcesses, forged as forgedObs, gradeAll } from '../core/test-support';
import { loadFixture, testDefinition, withRecords, withTranscript } from '../core/test-support';
import { cloneSetnsUnshare as lab, showsHostname } from './index';

const load = (name: string) => loadFixture(import.meta.url, name);
const done = load('recorded-done');
const forgotU = load('recorded-forgot-u');
const forged = load('recorded-forged');
const ids = ['unshare-uts', 'set-hostname', 'nsenter-uts', 'outside-unchanged'];
const step = (id: string) => lab.steps.find((s) => s.id === id)!.check;
const innerUts = done.snapshot.processes.find((p) => p.pid === 13)!.ns.uts!;

testDefinition(lab, ids, 2);

describe('clone-setns-unshare: recorded in a real sandbox', () => {
  test('the reference solution passes every step, citing both UTS namespaces and hostnames', () => {
    const r = assertPasses(lab, done, ids);
    assert.match(r['unshare-uts']!.message!.en, new RegExp(`bash \\(PID 13\\) runs in uts:\\[${innerUts}\\]`));
    assert.equal(r['set-hostname']!.evidence.hostname, 'container1');
    assert.equal(r['nsenter-uts']!.evidence.pid, 13);
    assert.match(r['outside-unchanged']!.message!.en, /printed "nslab"/);
    assertBilingual(r);
  });

  test('a nested bash without -u renames the whole sandbox: every step fails', () => {
    const r = gradeAll(lab, forgotU);
    for (const id of ids) assert.equal(r[id]?.status, 'failed', `${id}: ${r[id]?.message?.en}`);
    assert.match(r['unshare-uts']!.message!.en, /new shell, but still in the sandbox's uts/);
    assert.match(r['unshare-uts']!.hint!.en, /unshare -u bash/);
    assertBilingual(r);
  });

  test('hand-printed shell marks for every step fool no check', () => {
    // The forgery is real: the transcript holds records claiming the right outputs.
    assert.ok(forged.transcript.some((c) => c.command === 'nsenter -t 8 -u hostname' && c.output === 'container1\n'));
    const r = gradeAll(lab, forged);
    for (const id of ids) assert.equal(r[id]?.status, 'failed', `${id} must not pass: ${r[id]?.message?.en}`);
  });
});

describe('clone-setns-unshare: checks on variants', () => {
  test('set-hostname: the hostname must be shown, and must be the one the kernel holds', () => {
    const check = step('set-hostname');
    const notShown = withTranscript(done, done.transcript.filter((r) => r.command !== 'hostname'));
    assert.match(check(notShown).message.en, /not displayed it yet/);
    const lie = withTranscript(done, [cmd('hostname container1', ''), cmd('hostname', 'webserver\n')]);
    assert.equal(check(lie).status, 'failed');
    const uname = withTranscript(done, [cmd('uname -n', 'container1\n')]);
    assert.equal(check(uname).status, 'passed');
  });

  test('set-hostname: an inner hostname still equal to the sandbox\'s fails', () => {
    const same = { ...done, snapshot: { ...done.snapshot, uts: done.snapshot.uts.map((u) => ({ ...u, hostname: 'nslab' })) } };
    assert.match(step('set-hostname')(same).message.en, /still has the hostname "nslab"/);
  });

  test('nsenter-uts: without -u, at the wrong PID, or printing another name, it fails with the reason', () => {
    const check = step('nsenter-uts');
    assert.match(check(withTranscript(done, [cmd('nsenter -t 13 hostname', 'nslab\n', 0, 1)])).message.en, /has no -u/);
    assert.match(check(withTranscript(done, [cmd('nsenter -t 8 -u hostname', 'nslab\n', 0, 1)])).message.en, /not in uts:/);
    assert.match(check(withTranscript(done, [cmd('nsenter -t $(pgrep -n bash) -u hostname', 'container1\n', 0, 1)])).message.en, /not a PID/);
    assert.equal(check(withTranscript(done, [cmd('nsenter --target=13 --uts hostname', 'container1\n', 0, 1)])).status, 'passed');
    assert.equal(check(withTranscript(done, [cmd('nsenter -t 13 -u hostname', 'nslab\n', 0, 1)])).status, 'failed');
  });

  test('outside-unchanged: a hostname run before the change does not count', () => {
    const check = step('outside-unchanged');
    const early = cmd('hostname', 'nslab\n', 0, 1);
    const set = cmd('hostname container1', '', 0, 0);
    const kept = { 'set-hostname': { hostname: 'container1', setAtMs: set.endedAtMs! } };
    assert.equal(check({ ...withTranscript(done, [early, set]), passed: kept }).status, 'failed');
    assert.equal(check({ ...withRecords(withTranscript(done, [early, set]), cmd('hostname', 'nslab\n', 0, 1)), passed: kept }).status, 'passed');
  });

  test('the inner shell may exit once unshare-uts passed: nsenter evidence is judged on the kept namespace', () => {
    const gone = editProcesses(done, (p) => p.pid === 13, () => null);
    const r = step('unshare-uts')(gone);
    assert.equal(r.status, 'failed');
    const goneUts = { ...gone, snapshot: { ...gone.snapshot, uts: gone.snapshot.uts.filter((u) => u.inode !== innerUts) } };
    const kept = { ...goneUts, passed: { 'unshare-uts': { pid: 13, utsInode: innerUts } } };
    assert.equal(step('nsenter-uts')(kept).status, 'failed'); // its hostname can no longer be read
    const keptName = { ...kept, passed: { ...kept.passed, 'set-hostname': { hostname: 'container1', setAtMs: 1 } } };
    assert.equal(step('nsenter-uts')(keptName).status, 'passed');
  });

  test('a sleep in its own UTS namespace is not a shell', () => {
    const sleep = editProcesses(done, (p) => p.pid === 13, (p) => ({ ...p, comm: 'sleep', cmdline: ['sleep', '1000'] }));
    assert.match(step('unshare-uts')(sleep).message.en, /not a bash shell/);
  });
});

test('showsHostname and parseNsenterWords', () => {
  assert.ok(showsHostname(['hostname']));
  assert.ok(showsHostname(['hostname', '-s']));
  assert.ok(!showsHostname(['hostname', 'x']));
  assert.ok(showsHostname(['cat', '/proc/sys/kernel/hostname']));
  assert.deepEqual(parseNsenterWords(['nsenter', '-t', '42', '-u', 'hostname'])?.types, ['uts']);
  assert.deepEqual(parseNsenterWords(['nsenter', '-t', '42', '-n', '-u', 'ip', 'a'])?.types, ['net', 'uts']);
  // As nsenter's getopt reads it, -nu is -n with the optional file argument "u" (and fails).
  assert.deepEqual(parseNsenterWords(['nsenter', '-t', '42', '-nu', 'ip', 'a'])?.types, ['net']);
  assert.equal(parseNsenterWords(['nsenter', '-t', '42', '-nu', 'ip', 'a'])?.targetPid, null);
  assert.equal(parseNsenterWords(['nsenter', '--uts=/proc/42/ns/uts', 'hostname'])?.targetPid, 42);
  assert.equal(parseNsenterWords(['nsenter', '-a', '-t42', 'sh'])?.types.length, 8);
  assert.deepEqual(parseNsenterWords(['nsenter', '-t', '42', '-u', 'hostname'])?.inner, ['hostname']);
});

describe('clone-setns-unshare forgeries (issue 13): the kernel state of the real solution, the displays faked', () => {
  const isShow = (c: string) => c === 'hostname' || c.startsWith('nsenter');
  const real = [
    { terminal: 0, command: 'hostname', output: 'container1\n', exitCode: 0 },
    { terminal: 1, command: 'nsenter -t 13 -u hostname', output: 'container1\n', exitCode: 0 },
    { terminal: 1, command: 'hostname', output: 'nslab\n', exitCode: 0 },
  ];

  test('the real displays pass every step', () => {
    const r = gradeAll(lab, forgedObs(done, isShow, real));
    for (const id of ['set-hostname', 'nsenter-uts', 'outside-unchanged']) assert.equal(r[id]?.status, 'passed', id);
  });

  test('printed names do not count', () => {
    const cases: Array<[string, { terminal: number; command: string; output: string }]> = [
      ['set-hostname', { terminal: 0, command: 'echo container1 # hostname', output: 'container1\n' }],
      ['set-hostname', { terminal: 0, command: 'true; echo container1; uname -n', output: 'container1\ncontainer1\n' }],
      ['nsenter-uts', { terminal: 1, command: 'nsenter -t 13 -u true; echo container1', output: 'container1\n' }],
      ['nsenter-uts', { terminal: 1, command: 'nsenter -t 13 -u echo container1', output: 'container1\n' }],
      ['outside-unchanged', { terminal: 0, command: 'echo nslab; hostname', output: 'nslab\ncontainer1\n' }],
      ['outside-unchanged', { terminal: 0, command: 'hostname | head -0; echo nslab', output: 'nslab\n' }],
    ];
    for (const [id, typed] of cases) {
      const keep = real.filter((r) => !(id === 'set-hostname' ? r.terminal === 0 : id === 'nsenter-uts' ? r.command.startsWith('nsenter') : r.terminal === 1 && r.command === 'hostname'));
      const obs = forgedObs(done, isShow, [...keep, { exitCode: 0, ...typed }]);
      assert.equal(gradeAll(lab, obs)[id]?.status, 'failed', `${id}: ${typed.command}`);
    }
  });
});
