import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertBilingual, assertPasses, assertRefusesBashAsSleep, cmd, editProcesses, forged } from '../core/test-support';
import { gradeAll, loadFixture, testDefinition, withAnswer, withTranscript } from '../core/test-support';
import { parseNsTypeList } from '../core/ns-types';
import { whatIsANamespace as lab } from './index';

const load = (name: string) => loadFixture(import.meta.url, name);
const done = load('recorded-done');
const mistakes = load('recorded-mistakes');
const base = done.snapshot.sandbox.baseNs;
const ids = ['list-own-ns', 'uts-inode', 'start-isolated', 'shared-types'];
const step = (id: string) => lab.steps.find((s) => s.id === id)!.check;

testDefinition(lab, ids, 2);

describe('what-is-a-namespace: recorded in a real sandbox', () => {
  test('the reference solution passes every step', () => {
    const r = assertPasses(lab, done, ids);
    assert.match(r['uts-inode']!.message!.en, new RegExp(`uts:\\[${base.uts}\\].*"nslab"`));
    assert.equal(r['start-isolated']!.evidence.differing, 'ipc,uts');
    assert.equal(r['shared-types']!.evidence.shared, 'cgroup,mnt,net,pid,time,user');
    assertBilingual(r);
  });

  test('ls without -l, the net inode as uts, only -u and a wrong list all fail, each saying why', () => {
    const r = gradeAll(lab, mistakes);
    for (const id of ids) assert.equal(r[id]?.status, 'failed', `${id}: ${r[id]?.message?.en}`);
    assert.match(r['list-own-ns']!.message!.en, /`readlink \/proc\/\$\$\/ns\/net` shows net, not all 8 namespaces/);
    const lsOnly = gradeAll(lab, withTranscript(mistakes, mistakes.transcript.slice(0, 1)));
    assert.match(lsOnly['list-own-ns']!.message!.en, /no link targets/);
    const other = gradeAll(lab, withTranscript(mistakes, mistakes.transcript.slice(2)));
    assert.match(other['list-own-ns']!.message!.en, /another process's namespaces/);
    assert.match(r['list-own-ns']!.hint!.en, /-l/);
    assert.match(r['uts-inode']!.message!.en, /net namespace, not its UTS namespace/);
    assert.match(r['start-isolated']!.message!.en, /new namespaces for uts only/);
    assert.match(r['start-isolated']!.hint!.en, /-ui/);
    assertBilingual(r);
  });
});

describe('what-is-a-namespace: shared-types', () => {
  const check = step('shared-types');
  test('any order, case and separator; mount and network are accepted names', () => {
    for (const v of ['user time pid net mnt cgroup', 'CGROUP, Mount, Network, PID, time, user', 'cgroup、mnt、net、pid、time、user']) {
      const r = check(withAnswer(done, 'shared-types', v));
      assert.equal(r.status, 'passed', `${v}: ${r.message.en}`);
    }
  });

  test('a type that differs is named with both inodes; a missing one is counted', () => {
    const sleep = done.snapshot.processes.find((p) => p.comm === 'sleep')!;
    const extra = check(withAnswer(done, 'shared-types', 'cgroup, mnt, net, pid, time, user, uts'));
    assert.equal(extra.status, 'failed');
    assert.ok(extra.message.en.includes(`uts: uts:[${sleep.ns.uts}] vs uts:[${base.uts}]`), extra.message.en);
    const missing = check(withAnswer(done, 'shared-types', 'cgroup, mnt, net, pid, user'));
    assert.match(missing.message.en, /1 shared type\(s\) are missing/);
    assert.match(check(withAnswer(done, 'shared-types', 'net, banana')).message.en, /Not a namespace type: banana/);
  });

  test('the answer is checked against the state: with a sleep in new net+uts+ipc, the right list changes', () => {
    const netToo = editProcesses(done, (p) => p.comm === 'sleep', (p) => ({ ...p, ns: { ...p.ns, net: 4026539000 } }));
    assert.equal(check(withAnswer(netToo, 'shared-types', 'cgroup, mnt, net, pid, time, user')).status, 'failed');
    assert.equal(check(withAnswer(netToo, 'shared-types', 'cgroup, mnt, pid, time, user')).status, 'passed');
  });

  test('the pass message names the inodes that really differ, not always "only uts and ipc"', () => {
    const netToo = editProcesses(done, (p) => p.comm === 'sleep', (p) => ({ ...p, ns: { ...p.ns, net: 4026539000 } }));
    const r = check(withAnswer(netToo, 'shared-types', 'cgroup, mnt, pid, time, user'));
    assert.equal(r.status, 'passed');
    assert.doesNotMatch(r.message.en, /only its uts and ipc/);
    assert.match(r.message.en, /its ipc, net, uts inodes differ/);
    assert.doesNotMatch(r.message.zh, /只有 uts 和 ipc/);
    assert.match(r.message.zh, /不同的是 ipc、net、uts 的 inode/);
    // The plain -ui case still says exactly uts and ipc, from the evidence.
    assert.match(check(done).message.en, /its ipc, uts inodes differ/);
    // With only the kept evidence of step 3 (the sleep has exited), the same holds.
    const gone = editProcesses(netToo, (p) => p.comm === 'sleep', () => null);
    const kept = { ...withAnswer(gone, 'shared-types', 'cgroup, mnt, pid, time, user'), passed: { 'start-isolated': { pid: 15, differing: 'ipc,net,uts', shared: 'cgroup,mnt,pid,time,user' } } };
    assert.match(check(kept).message.en, /its ipc, net, uts inodes differ/);
  });

  test('without the sleep and without kept evidence it fails; with kept evidence it passes', () => {
    const gone = editProcesses(done, (p) => p.comm === 'sleep', () => null);
    assert.match(check(gone).message.en, /No sleep in its own UTS and IPC/);
    const kept = { ...gone, passed: { 'start-isolated': { pid: 15, differing: 'ipc,uts', shared: 'cgroup,mnt,net,pid,time,user' } } };
    assert.equal(check(kept).status, 'passed');
  });
});

describe('what-is-a-namespace: list-own-ns', () => {
  const check = step('list-own-ns');
  test('/proc/self/ns and /proc/<shell PID>/ns count; a hand-typed listing with wrong inodes does not', () => {
    const real = done.transcript[0]!;
    assert.equal(check(withTranscript(done, [{ ...real, command: 'ls -l /proc/self/ns' }])).status, 'passed');
    assert.equal(check(withTranscript(done, [{ ...real, command: 'ls -l /proc/8/ns/' }])).status, 'passed');
    const fake = real.output.replace(String(base.net), '4026539999');
    assert.equal(check(withTranscript(done, [{ ...real, output: fake }])).status, 'failed');
    assert.equal(check(withTranscript(done, [cmd('echo ls -la /proc/$$/ns/', real.output)])).status, 'failed');
  });
});

test('parseNsTypeList', () => {
  assert.deepEqual(parseNsTypeList('UTS and ipc'), { types: ['ipc', 'uts'] });
  assert.deepEqual(parseNsTypeList('CLONE_NEWNET, mount'), { types: ['mnt', 'net'] });
  assert.deepEqual(parseNsTypeList('net foo'), { unknown: ['foo'] });
});

describe('what-is-a-namespace forgeries (issue 13): the kernel state of the real solution, the listing faked', () => {
  const done = () => loadFixture(import.meta.url, 'recorded-done');
  const isOwn = (c: string) => c === 'ls -la /proc/$$/ns/';
  const own = () => done().transcript.find((r) => isOwn(r.command))!.output;

  test("list-own-ns passes on the shell's own listing and stays failed on one another command printed", () => {
    const real = forged(done(), isOwn, [{ terminal: 1, command: 'ls -la /proc/$$/ns/', output: own(), exitCode: 0 }]);
    assert.equal(gradeAll(lab, real)['list-own-ns']?.status, 'passed');
    for (const command of ['ls /proc/$$/ns; cat /tmp/saved', "echo '...' # ls -la /proc/$$/ns/", 'ls -la /proc/$$/ns /tmp/links', 'ls /proc/$$/ns && ls -la /proc/1/ns']) {
      const obs = forged(done(), isOwn, [{ terminal: 1, command, output: own(), exitCode: 0 }]);
      assert.equal(gradeAll(lab, obs)['list-own-ns']?.status, 'failed', command);
    }
  });
});

test('start-isolated: a bash posing as sleep (its exe is bash\'s file) is not the sleep the step asks for (issue 13)', () => {
  assertRefusesBashAsSleep(lab, loadFixture(import.meta.url, 'recorded-done'), ['start-isolated']);
});
