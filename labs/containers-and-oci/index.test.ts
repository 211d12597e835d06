import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertBilingual, assertPasses, assertRefusesBashAsSleep, cmd, editProcesses, forged } from '../core/test-support';
import { gradeAll, loadFixture, testDefinition, withAnswer, withoutAnswers, withRecords } from '../core/test-support';
import { withTranscript } from '../core/test-support';
import { containersAndOci as lab } from './index';

const load = (name: string) => loadFixture(import.meta.url, name);
const done = load('recorded-done');
const wrong = load('recorded-isolated-neighbour');
const base = done.snapshot.sandbox.baseNs;
const ids = ['shell-net-inode', 'start-neighbour', 'compare-neighbour'];

testDefinition(lab, ids, 1);

describe('containers-and-oci: recorded in a real sandbox', () => {
  test('the reference solution passes every step, citing the real inodes', () => {
    const r = assertPasses(lab, done, ids);
    assert.match(r['shell-net-inode']!.message!.en, new RegExp(`net:\\[${base.net}\\]`));
    assert.match(r['start-neighbour']!.message!.en, /sleep \(PID 13\)/);
    assert.equal(r['compare-neighbour']!.evidence.pid, 13);
    assert.equal(r['compare-neighbour']!.evidence.types, 8);
    assertBilingual(r);
  });

  test('a neighbour in its own netns and the uts inode typed as the answer fail every step', () => {
    const r = gradeAll(lab, wrong);
    for (const id of ids) assert.equal(r[id]?.status, 'failed', `${id}: ${r[id]?.message?.en}`);
    assert.match(r['shell-net-inode']!.message!.en, /uts namespace, not its network namespace/);
    assert.match(r['start-neighbour']!.message!.en, /namespaces of its own \(net\)/);
    assert.match(r['start-neighbour']!.hint!.en, /without unshare/);
    assertBilingual(r);
  });
});

describe('containers-and-oci: shell-net-inode', () => {
  const check = lab.steps[0]!.check;
  test('accepts the bare number, [n] and net:[n]; rejects other text and unknown inodes', () => {
    for (const v of [`${base.net}`, ` [${base.net}] `, `net:[${base.net}]`]) assert.equal(check(withAnswer(done, 'shell-net-inode', v)).status, 'passed', v);
    assert.match(check(withAnswer(done, 'shell-net-inode', 'net')).message.en, /not an inode/);
    assert.match(check(withAnswer(done, 'shell-net-inode', '4026531840')).message.en, /No shell of your sandbox/);
    assert.match(check(withoutAnswers(done)).message.en, /Type the inode/);
  });
});

describe('containers-and-oci: compare-neighbour', () => {
  const check = lab.steps[2]!.check;
  test('$! and $(pgrep sleep) listings count; listing your own shell does not', () => {
    const listing = done.transcript.find((r) => r.command.startsWith('ls -l /proc/13'))!;
    assert.equal(check(withTranscript(done, [{ ...listing, command: 'ls -l /proc/$!/ns/' }])).status, 'passed');
    assert.equal(check(withTranscript(done, [{ ...listing, command: 'ls -l /proc/$(pgrep -x sleep)/ns' }])).status, 'passed');
    const self = check(withTranscript(done, [{ ...listing, command: 'ls -l /proc/$$/ns/' }]));
    assert.equal(self.status, 'failed');
    assert.match(self.message.en, /your shell's own namespaces/);
  });

  test('a listing of only the net link is not a full comparison', () => {
    const r = check(withTranscript(done, [cmd('readlink /proc/13/ns/net', `net:[${base.net}]\n`)]));
    assert.equal(r.status, 'failed');
    assert.match(r.message.en, /shows only net/);
  });

  test('printed text alone cannot pass: no neighbour in the state, same transcript', () => {
    const noSleep = editProcesses(done, (p) => p.comm === 'sleep', () => null);
    const r = check(noSleep);
    assert.equal(r.status, 'failed');
    assert.match(r.message.en, /No neighbour sleep/);
  });

  test('a forged listing whose inodes differ from the state fails', () => {
    const forged = withTranscript(done, [cmd('ls -l /proc/13/ns/', "net -> 'net:[4026539999]'\nuts -> 'uts:[4026539998]'\n")]);
    assert.equal(check(forged).status, 'failed');
  });

  test('kept evidence: the neighbour may end after start-neighbour passed', () => {
    const ended = editProcesses(done, (p) => p.comm === 'sleep', () => null);
    const r = check({ ...ended, passed: { 'start-neighbour': { pid: 13 } } });
    assert.equal(r.status, 'passed', r.message.en);
  });

  test('a renamed bash is not a sleep', () => {
    const fake = editProcesses(done, (p) => p.comm === 'sleep', (p) => ({ ...p, cmdline: ['bash'] }));
    assert.equal(lab.steps[1]!.check(fake).status, 'failed');
    assert.equal(check(withRecords(fake)).status, 'failed');
  });
});

describe('containers-and-oci forgeries (issue 13): the kernel state of the real solution, the reading step faked', () => {
  const done = () => loadFixture(import.meta.url, 'recorded-done');
  const isList = (c: string) => c.startsWith('ls -l /proc/13');
  const listing = () => done().transcript.find((r) => isList(r.command))!.output;
  const base = () => done().transcript.find((r) => isList(r.command))!.output; // the neighbour shares all of them

  test('the real listing passes: the PID, $! or pgrep', () => {
    for (const command of ['ls -l /proc/13/ns/', 'sleep 1000 & ls -l /proc/$!/ns/', 'ls -l /proc/$(pgrep -xn sleep)/ns | sort']) {
      const obs = forged(done(), isList, [{ terminal: 0, command, output: listing(), exitCode: 0 }]);
      assert.equal(gradeAll(lab, obs)['compare-neighbour']?.status, 'passed', command);
    }
  });

  test("compare-neighbour stays failed when the links shown are not the sleep's listing", () => {
    for (const command of [
      'ls /proc/$!/ns; ls -l /proc/1/ns/',
      'ls /proc/13/ns && ls -l /proc/$$/ns',
      'ls -l /proc/13/ns /proc/1/ns',
      'ls -l /proc/13/ns /tmp/fake-links',
      "cat /tmp/listing # ls -l /proc/13/ns",
      'true & ls -l /proc/$!/ns',
    ]) {
      const obs = forged(done(), isList, [{ terminal: 0, command, output: base(), exitCode: 0 }]);
      assert.equal(gradeAll(lab, obs)['compare-neighbour']?.status, 'failed', command);
    }
  });
});

test('start-neighbour: a bash posing as sleep (its exe is bash\'s file) is not the sleep the step asks for (issue 13)', () => {
  assertRefusesBashAsSleep(lab, loadFixture(import.meta.url, 'recorded-done'), ['start-neighbour']);
});
