import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertPasses, clone, forged, gradeAll, loadFixture, statuses, testDefinition } from '../core/test-support';
import { pidNamespace, psListingWhy, psRows } from './index';
import type { Observation } from '../core/model';

const load = (name: string) => loadFixture(import.meta.url, name);

describe('pid-namespace', () => {
  testDefinition(pidNamespace, ['no-fork', 'become-pid1', 'ps-shrinks', 'nspid-outside']);

  test('recorded: done right passes every step, citing the pid namespace and NSpid', () => {
    const obs = load('recorded-done');
    const r = assertPasses(pidNamespace, obs, ['become-pid1', 'ps-shrinks', 'nspid-outside']);
    const init = obs.snapshot.pidns!.find((n) => n.level === 1)!;
    assert.match(r['become-pid1']!.message!.en, new RegExp(`PID 1 of pid:\\[${init.inode}\\] \\(NSpid ${init.init!.pid} 1\\)`));
    assert.match(r['nspid-outside']!.message!.en, new RegExp(`NSpid of PID ${init.init!.pid} reads ${init.init!.pid} 1`));
    // Three PIDs, not two: the sandbox is itself a level below the host's PID namespace.
    assert.match(r['nspid-outside']!.message!.en, /third PID, on the host/);
    assert.match(r['nspid-outside']!.message!.zh, /第三个 PID 在宿主机上/);
  });

  test('recorded: unshare -p without -f fails with a hint about -f', () => {
    const obs = load('recorded-no-fork');
    // The kernel hides pid_for_children of the sleep until the new namespace has a PID 1.
    const sleep = obs.snapshot.processes.find((p) => p.comm === 'sleep')!;
    assert.equal(sleep.ns.pid_for_children, undefined);
    assert.equal(sleep.ns.pid, obs.snapshot.sandbox.baseNs.pid);
    const r = gradeAll(pidNamespace, obs);
    assert.deepEqual(statuses(r), { 'no-fork': 'failed', 'become-pid1': 'failed', 'ps-shrinks': 'failed', 'nspid-outside': 'failed' });
    assert.match(r['become-pid1']!.message!.en, /sleep \(PID \d+\) unshared a PID namespace, but still runs in pid:\[\d+\]/);
    assert.match(r['become-pid1']!.hint!.en, /Add -f/);
  });

  test('ps run outside the new namespace (whole sandbox, PID 1 is the init) does not count', () => {
    const obs = clone(load('recorded-done'));
    const ps = obs.transcript.find((c) => c.command === 'ps -ef')!;
    ps.output = 'UID PID PPID C STIME TTY TIME CMD\nroot 1 0 0 06:00 ? 00:00:00 /bin/bash --norc --noprofile /etc/nslab/init\nroot 8 0 0 06:00 pts/0 00:00:00 -bash\n';
    const r = gradeAll(pidNamespace, obs);
    assert.equal(r['ps-shrinks']?.status, 'failed');
    assert.match(r['ps-shrinks']!.message!.en, /listed 2 process\(es\) with the sandbox's init as PID 1: it ran outside the new PID namespace/);
  });

  test('a plain ps outside (no PID 1 in its output) is not said to show "PID 1 is its init"', () => {
    const obs = clone(load('recorded-done'));
    const ps = obs.transcript.find((c) => c.command === 'ps -ef')!;
    ps.command = 'ps';
    ps.output = '    PID TTY          TIME CMD\n      8 pts/0    00:00:00 bash\n     21 pts/0    00:00:00 ps\n';
    const r = gradeAll(pidNamespace, obs);
    assert.equal(r['ps-shrinks']?.status, 'failed');
    const { en, zh } = r['ps-shrinks']!.message!;
    assert.doesNotMatch(en, /whole sandbox|PID 1 is its init/);
    assert.doesNotMatch(zh, /整个沙箱|PID 1 是沙箱的 init/);
    assert.match(en, /`ps` listed 2 process\(es\), none of them PID 1/);
    assert.match(zh, /其中没有 1 号进程/);
  });

  test('psListingWhy says only what the output shows', () => {
    const rec = (command: string, output: string, exitCode: number | null = 0) => ({ terminal: 1, command, exitCode, output, startedAtMs: 1, endedAtMs: 2 });
    assert.match(psListingWhy(rec('ps -ef', '', 1), 9).en, /failed \(exit status 1\)/);
    assert.match(psListingWhy(rec('ps -o comm', 'COMMAND\nbash\n'), 9).en, /no process list with a PID column/);
    const many = 'PID CMD\n' + Array.from({ length: 9 }, (_, i) => `${i + 1} bash`).join('\n');
    assert.match(psListingWhy(rec('ps -e -o pid,cmd', many), 9).en, /listed 9 process\(es\), as many as your whole sandbox has \(9\)/);
  });

  test('NSpid of another process does not count', () => {
    const obs = clone(load('recorded-done'));
    const grep = obs.transcript.find((c) => /NSpid/.test(c.command))!;
    grep.command = 'grep NSpid /proc/1/status';
    grep.output = 'NSpid:\t1\n';
    assert.equal(gradeAll(pidNamespace, obs)['nspid-outside']?.status, 'failed');
  });

  test('psRows reads ps -ef and ps aux', () => {
    assert.deepEqual(psRows('UID          PID    PPID  C STIME TTY          TIME CMD\nroot           1       0  0 06:13 pts/0    00:00:00 bash\nroot           8       1  0 06:13 pts/0    00:00:00 ps -ef\n'), [
      { pid: 1, command: 'bash' },
      { pid: 8, command: 'ps -ef' },
    ]);
    assert.equal(psRows('USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND\nroot 1 0.0 0.0 1 1 pts/0 S 06:13 0:00 bash\n')?.[0]?.pid, 1);
    assert.equal(psRows('no header here'), null);
  });

  describe('no-fork (the deliberate ENOMEM of `unshare -p bash`)', () => {
    /** The no-fork recording with its sleep turned into the bash of `unshare -p bash` whose PID 1 came and went. */
    function deadNs(): Observation {
      const obs = clone(load('recorded-no-fork'));
      const bash = obs.snapshot.processes.find((p) => p.comm === 'sleep')!;
      bash.comm = 'bash';
      bash.cmdline = ['bash'];
      bash.ns.pid_for_children = 4026532999;
      obs.snapshot.pidns!.push({ inode: 4026532999, level: 1, init: null, members: 0 });
      obs.transcript = [{ terminal: 0, command: 'ls', exitCode: 254, output: 'bash: fork: Cannot allocate memory\n', startedAtMs: 1, endedAtMs: 2 }];
      return obs;
    }

    test('a readable pid_for_children with no member left passes, citing the dead namespace and the error', () => {
      const r = gradeAll(pidNamespace, deadNs());
      assert.equal(r['no-fork']?.status, 'passed', r['no-fork']?.message?.en);
      assert.match(r['no-fork']!.message!.en, /bash \(PID 13\) is still in pid:\[\d+\]; its children's pid:\[4026532999\] had a PID 1 that has exited.*`ls` failed: Cannot allocate memory/);
    });

    test('the recorded unshare -p before any fork (link hidden) is not yet the failure', () => {
      const r = gradeAll(pidNamespace, load('recorded-no-fork'));
      assert.equal(r['no-fork']?.status, 'failed');
      assert.match(r['no-fork']!.message!.en, /has had no PID 1 yet/);
    });

    test('forgeries: the error printed by echo, or a live nested namespace, do not count', () => {
      const echoed = clone(load('recorded-no-fork'));
      echoed.snapshot.processes.find((p) => p.comm === 'sleep')!.ns.pid_for_children = echoed.snapshot.sandbox.baseNs.pid!;
      echoed.transcript = [{ terminal: 0, command: 'echo "bash: fork: Cannot allocate memory"; false', exitCode: 1, output: 'bash: fork: Cannot allocate memory\n', startedAtMs: 1, endedAtMs: 2 }];
      assert.equal(gradeAll(pidNamespace, echoed)['no-fork']?.status, 'failed');
      const live = gradeAll(pidNamespace, load('recorded-done'));
      assert.equal(live['no-fork']?.status, 'failed');
    });
  });

  test('recorded: unshare -p bash, then ls: the dead PID namespace passes no-fork from state alone', () => {
    const obs = load('recorded-no-fork-bash');
    // The broken bash cannot even report its commands (the prompt hook forks): state decides.
    assert.deepEqual(obs.transcript, []);
    const r = gradeAll(pidNamespace, obs);
    assert.equal(r['no-fork']?.status, 'passed', r['no-fork']?.message?.en);
    assert.match(r['no-fork']!.message!.en, /bash \(PID \d+\) is still in pid:\[\d+\]; its children's pid:\[\d+\] had a PID 1 that has exited/);
    assert.equal(r['become-pid1']?.status, 'failed');
  });
});

describe('pid-namespace forgeries (issue 13): the kernel state of the real solution, the reading steps faked', () => {
  const done = () => loadFixture(import.meta.url, 'recorded-done');
  const isRead = (c: string) => c.includes('/status');
  const isPs = (c: string) => c.startsWith('ps');

  test('the real read passes, also piped through grep', () => {
    for (const command of ['grep NSpid /proc/14/status', 'cat /proc/14/status | grep NSpid']) {
      const obs = forged(done(), isRead, [{ terminal: 1, command, output: 'NSpid:\t14\t1\n', exitCode: 0 }]);
      assert.equal(gradeAll(pidNamespace, obs)['nspid-outside']?.status, 'passed', command);
    }
  });

  test('nspid-outside stays failed on printed or foreign text', () => {
    for (const typed of [
      { command: "echo 'NSpid: 14 1' # /proc/14/status", output: 'NSpid: 14 1\n' },
      { command: "printf 'NSpid:\\t14\\t1\\n' # /proc/14/status", output: 'NSpid:\t14\t1\n' },
      { command: "grep NSpid /proc/14/status; echo 'NSpid: 14 1'", output: 'NSpid: 14 1\n' },
      { command: 'cat /proc/14/status /tmp/forged', output: 'NSpid:\t14\t1\n' },
      { command: 'grep NSpid /proc/14/status /tmp/forged', output: '/tmp/forged:NSpid:\t14\t1\n' },
      { command: 'grep NSpid < /tmp/forged # /proc/14/status', output: 'NSpid:\t14\t1\n' },
      { command: 'grep NSpid /proc/14/status | sed s/9/1/', output: 'NSpid:\t14\t1\n' },
      { command: 'cat /proc/14/status', output: 'NSpid:\t14\t7\n' },
    ]) {
      const obs = forged(done(), isRead, [{ terminal: 1, exitCode: 0, ...typed }]);
      assert.equal(gradeAll(pidNamespace, obs)['nspid-outside']?.status, 'failed', typed.command);
    }
  });

  test('ps-shrinks stays failed on a table printed by hand, or a PID 1 that is not the namespace\'s', () => {
    const table = 'UID PID PPID C STIME TTY TIME CMD\nroot 1 0 0 06:16 ? 00:00:00 bash\nroot 4 1 0 06:16 ? 00:00:00 ps -ef\n';
    for (const typed of [
      { command: `printf '${table.replace(/\n/g, '\\n')}' # ps -ef`, output: table },
      { command: `ps -p 99999; printf '${table.replace(/\n/g, '\\n')}'`, output: table },
      { command: 'ps -ef', output: table.replace('bash', 'fakeinit') },
    ]) {
      const obs = forged(done(), isPs, [{ terminal: 0, exitCode: 0, ...typed }]);
      assert.equal(gradeAll(pidNamespace, obs)['ps-shrinks']?.status, 'failed', typed.command);
    }
    const real = forged(done(), isPs, [{ terminal: 0, command: 'ps -ef', output: table, exitCode: 0 }]);
    assert.equal(gradeAll(pidNamespace, real)['ps-shrinks']?.status, 'passed');
  });
});
