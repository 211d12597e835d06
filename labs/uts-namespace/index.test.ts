import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertPasses, clone, forged, gradeAll, loadFixture, statuses, testDefinition } from '../core/test-support';
import { utsNamespace } from './index';
import { parseUnshare } from './userns-eperm';
import type { CommandRecord } from '../core/model';

const load = (name: string) => loadFixture(import.meta.url, name);

describe('uts-namespace', () => {
  testDefinition(utsNamespace, ['userns-eperm', 'new-hostname', 'outside-unchanged', 'nsenter-uts']);

  test('recorded: done right passes every step, citing both UTS namespaces', () => {
    const obs = load('recorded-done');
    const r = assertPasses(utsNamespace, obs, ['new-hostname', 'outside-unchanged', 'nsenter-uts']);
    assert.match(r['new-hostname']!.message!.en, new RegExp(`hostname "container1"; the sandbox's uts:\\[${obs.snapshot.sandbox.baseNs.uts}\\] is "nslab"`));
  });

  test('recorded: hostname changed in the base UTS namespace instead of a new one fails', () => {
    const r = gradeAll(utsNamespace, load('recorded-base-hostname'));
    assert.deepEqual(statuses(r), { 'userns-eperm': 'failed', 'new-hostname': 'failed', 'outside-unchanged': 'failed', 'nsenter-uts': 'failed' });
    assert.match(r['new-hostname']!.message!.en, /`hostname container1` renamed the sandbox's own uts:\[\d+\]/);
    assert.match(r['new-hostname']!.hint!.en, /unshare -u bash/);
  });

  test('a new UTS namespace not renamed yet fails with a hint to set the name', () => {
    const obs = clone(load('recorded-done'));
    const inner = obs.snapshot.uts.find((u) => u.inode !== obs.snapshot.sandbox.baseNs.uts)!;
    inner.hostname = 'nslab';
    obs.transcript = [];
    const r = gradeAll(utsNamespace, obs);
    assert.equal(r['new-hostname']?.status, 'failed');
    assert.match(r['new-hostname']!.message!.en, /starts as a copy/);
  });

  test('hostname printed inside the new namespace, or by nsenter into the base one, does not count', () => {
    const obs = clone(load('recorded-done'));
    for (const c of obs.transcript) if (c.command === 'hostname') c.output = 'container1\n';
    const call = obs.transcript.find((c) => c.command.startsWith('nsenter'))!;
    call.command = 'nsenter -t 1 -u hostname';
    call.output = 'nslab\n';
    const r = gradeAll(utsNamespace, obs);
    assert.equal(r['outside-unchanged']?.status, 'failed');
    assert.equal(r['nsenter-uts']?.status, 'failed');
  });

  describe('userns-eperm (the deliberate EPERM of hostname in a fresh user namespace)', () => {
    const attempt = (command: string, exitCode: number, output: string): CommandRecord => ({ terminal: 0, command, exitCode, output, startedAtMs: 1, endedAtMs: 2 });
    const eperm = 'hostname: you must be root to change the host name\n';

    test('parseUnshare reads short, bundled and long options', () => {
      assert.deepEqual([...parseUnshare(['unshare', '-Ur', 'hostname', 'x'])!.flags].sort(), ['U', 'r']);
      assert.deepEqual(parseUnshare(['unshare', '--user', '--map-root-user', '--', 'hostname', 'x'])!.inner, ['hostname', 'x']);
      assert.deepEqual(parseUnshare(['unshare', '-T', '--boottime', '86400', 'bash'])!.inner, ['bash']);
      assert.equal(parseUnshare(['nsenter', '-U']), null);
    });

    test('the failed attempt, with the hostname unchanged in state, passes citing the exit status', () => {
      const obs = clone(load('recorded-base-hostname'));
      const base = obs.snapshot.uts.find((u) => u.inode === obs.snapshot.sandbox.baseNs.uts)!;
      base.hostname = 'nslab';
      obs.transcript = [attempt('unshare -Ur hostname container2', 1, eperm)];
      const r = gradeAll(utsNamespace, obs);
      assert.equal(r['userns-eperm']?.status, 'passed', r['userns-eperm']?.message?.en);
      assert.match(r['userns-eperm']!.message!.en, /failed \(exit status 1\) and the sandbox's uts:\[\d+\] is still "nslab"/);
    });

    test('forgeries and wrong attempts stay failed', () => {
      for (const c of [
        attempt('unshare -Uur hostname container2', 0, ''), // -u: its own UTS namespace, it succeeds
        attempt('unshare -Ur hostname container2; false', 1, eperm), // the status is not unshare's
        attempt('echo "hostname: you must be root to change the host name"', 1, eperm),
        attempt('unshare -Ur hostname', 1, eperm), // prints, does not set
        attempt('unshare -Ur hostname container2', 1, 'unshare: write failed /proc/self/uid_map: Operation not permitted\n'.replace('Operation not permitted', 'Invalid argument')),
      ]) {
        const obs = clone(load('recorded-base-hostname'));
        obs.snapshot.uts.find((u) => u.inode === obs.snapshot.sandbox.baseNs.uts)!.hostname = 'nslab';
        obs.transcript = [c];
        assert.equal(gradeAll(utsNamespace, obs)['userns-eperm']?.status, 'failed', c.command);
      }
    });

    test('a hostname that did change (state) fails even after a failed attempt', () => {
      const obs = clone(load('recorded-base-hostname'));
      obs.snapshot.uts.find((u) => u.inode === obs.snapshot.sandbox.baseNs.uts)!.hostname = 'container2';
      obs.transcript = [attempt('unshare -Ur hostname container2', 1, eperm)];
      assert.equal(gradeAll(utsNamespace, obs)['userns-eperm']?.status, 'failed');
    });
  });

  test('recorded: unshare -Ur / -U hostname fail with EPERM; the step passes on the exit status and the unchanged state', () => {
    const obs = load('recorded-eperm');
    const r = gradeAll(utsNamespace, obs);
    assert.equal(r['userns-eperm']?.status, 'passed', r['userns-eperm']?.message?.en);
    assert.match(r['userns-eperm']!.message!.en, /`unshare -U hostname container3` failed \(exit status 1\) and the sandbox's uts:\[\d+\] is still "nslab"/);
    // Forgery: the same transcript while the kernel says the hostname did change.
    const forged = clone(obs);
    forged.snapshot.uts[0]!.hostname = 'container3';
    assert.equal(gradeAll(utsNamespace, forged)['userns-eperm']?.status, 'failed');
  });
});

describe('uts-namespace forgeries (issue 13): the kernel state of the real solution, the reading steps faked', () => {
  const done = () => loadFixture(import.meta.url, 'recorded-done');

  test('outside-unchanged passes on a plain hostname outside, and stays failed on printed names', () => {
    const drop = (c: string) => c === 'hostname';
    assert.equal(gradeAll(utsNamespace, forged(done(), drop, [{ terminal: 1, command: 'hostname', output: 'nslab\n', exitCode: 0 }]))['outside-unchanged']?.status, 'passed');
    for (const typed of [
      { terminal: 0, command: 'echo nslab; hostname', output: 'nslab\ncontainer1\n' },
      { terminal: 0, command: 'echo nslab # hostname', output: 'nslab\n' },
      { terminal: 0, command: 'hostname || echo x; echo nslab', output: 'nslab\n' },
      { terminal: 0, command: 'cat /proc/sys/kernel/hostname /tmp/name', output: 'nslab\n' },
    ]) {
      const obs = forged(done(), drop, [{ exitCode: 0, ...typed }]);
      assert.equal(gradeAll(utsNamespace, obs)['outside-unchanged']?.status, 'failed', typed.command);
    }
  });

  test('nsenter-uts stays failed when nsenter did not print the name itself', () => {
    const drop = (c: string) => c.startsWith('nsenter');
    for (const command of ['nsenter -t 13 -u true; echo container1', 'nsenter -t 13 -u echo container1', 'nsenter -t 13 -u true && cat /tmp/name']) {
      const obs = forged(done(), drop, [{ terminal: 1, command, output: 'container1\n', exitCode: 0 }]);
      assert.equal(gradeAll(utsNamespace, obs)['nsenter-uts']?.status, 'failed', command);
    }
  });
});
