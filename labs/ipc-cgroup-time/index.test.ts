import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertLabShape, clone, gradeAll, loadFixture, statuses } from '../core/test-support';
import type { CommandRecord, Observation } from '../core/model';
import type { ProcessInfo } from '../core/snapshot';
import { gradeLab, initialResults, passedEvidenceOf, resultsById } from '../core/grade';
import { ipcCgroupTime, ipcsKey } from './index';

const load = (name: string) => loadFixture(import.meta.url, name);
const ids = ['ipc-queue', 'ipc-invisible', 'cgroup-root', 'time-offset'];

/** A shell of the idle fixture, moved into other namespaces (hand-built; see the recorded tests below). */
function addShell(obs: Observation, pid: number, ns: Partial<Record<string, number>>, comm = 'bash'): ProcessInfo {
  const shell = obs.snapshot.processes.find((p) => p.pid === 8)!;
  const p: ProcessInfo = { ...clone(shell), pid, nsPids: [pid], hostPid: shell.hostPid + pid, ppid: 8, comm, cmdline: [comm], ns: { ...shell.ns, ...ns } as Record<string, number> };
  obs.snapshot.processes.push(p);
  return p;
}
const cmd = (terminal: number, command: string, output: string, exitCode = 0): CommandRecord => ({ terminal, command, output, exitCode, startedAtMs: 1, endedAtMs: 2 });

function handDone(): Observation {
  const obs = clone(load('hand-idle'));
  const base = obs.snapshot.sandbox.baseNs;
  addShell(obs, 20, { ipc: 4026532300 });
  obs.snapshot.ipcns = [
    { inode: base.ipc!, viaHostPid: obs.snapshot.sandbox.initHostPid, msgQueues: [], shmSegments: 0, semSets: 0 },
    { inode: 4026532300, viaHostPid: 99, msgQueues: [{ key: 0x6b8b4567, id: 0 }], shmSegments: 0, semSets: 0 },
  ];
  addShell(obs, 30, { cgroup: 4026532400 });
  addShell(obs, 40, { time: 4026532500, time_for_children: 4026532500 });
  obs.snapshot.timens = [{ inode: 4026532500, viaHostPid: 98, monotonicSec: 0, boottimeSec: 86400 }];
  obs.transcript = [
    cmd(0, 'ipcmk -Q', 'Message queue id: 0\n'),
    cmd(1, 'ipcs -q', '\n------ Message Queues --------\nkey        msqid      owner      perms      used-bytes   messages    \n\n'),
    cmd(0, 'cat /proc/self/cgroup', '0::/\n'),
  ];
  return obs;
}

describe('ipc-cgroup-time', () => {
  test('lab shape', () => {
    assertLabShape(ipcCgroupTime);
    assert.deepEqual(ipcCgroupTime.steps.map((s) => s.id), ids);
  });

  test('ipcs prints keys as 0x%08x', () => {
    assert.equal(ipcsKey(0x6b8b4567), '0x6b8b4567');
    assert.equal(ipcsKey(-1), '0xffffffff');
    assert.equal(ipcsKey(0), '0x00000000');
  });

  test('an idle sandbox passes nothing', () => {
    const r = gradeAll(ipcCgroupTime, load('hand-idle'));
    assert.deepEqual(statuses(r), Object.fromEntries(ids.map((id) => [id, 'failed'])));
  });

  test('hand-built: done right passes every step, citing namespaces, key and offset', () => {
    const r = gradeAll(ipcCgroupTime, handDone());
    for (const id of ids) assert.equal(r[id]?.status, 'passed', `${id}: ${r[id]?.message?.en}`);
    assert.match(r['ipc-queue']!.message!.en, /ipc:\[4026532300\].*0x6b8b4567/);
    assert.match(r['ipc-invisible']!.message!.en, /no queue 0x6b8b4567/);
    assert.match(r['cgroup-root']!.message!.en, /cgroup:\[4026532400\].*printed `0::\/`/);
    assert.match(r['time-offset']!.message!.en, /86400 s \(1 day\) ahead/);
  });

  test('a queue made in the sandbox\'s own IPC namespace does not count', () => {
    const obs = handDone();
    const [base, inner] = obs.snapshot.ipcns!;
    base!.msgQueues = inner!.msgQueues;
    inner!.msgQueues = [];
    const r = gradeAll(ipcCgroupTime, obs);
    assert.equal(r['ipc-queue']?.status, 'failed');
    assert.match(r['ipc-queue']!.hint!.en, /sandbox's own ipc:\[\d+\]/);
  });

  test('forgeries of ipc-invisible: an echoed table, ipcs inside the namespace, ipcs -m', () => {
    for (const fake of [
      cmd(1, 'echo "------ Message Queues --------"', '------ Message Queues --------\n'),
      cmd(0, 'ipcs -q', '------ Message Queues --------\n0x6b8b4567 0          root       644        0            0           \n'),
      cmd(1, 'ipcs -m', '------ Message Queues --------\n'),
    ]) {
      const obs = handDone();
      obs.transcript = [cmd(0, 'ipcmk -Q', ''), fake];
      assert.equal(gradeAll(ipcCgroupTime, obs)['ipc-invisible']?.status, 'failed', fake.command);
    }
  });

  test('the same key in the sandbox\'s own namespace fails ipc-invisible with a hint to remove it', () => {
    const obs = handDone();
    obs.snapshot.ipcns![0]!.msgQueues = [{ key: 0x6b8b4567, id: 3 }];
    const r = gradeAll(ipcCgroupTime, obs);
    assert.equal(r['ipc-invisible']?.status, 'failed');
    assert.match(r['ipc-invisible']!.hint!.en, /ipcrm -Q 0x6b8b4567/);
  });

  test('cgroup-root passes on the namespace alone; a printed 0::/ without one does not', () => {
    const obs = handDone();
    obs.snapshot.processes = obs.snapshot.processes.filter((p) => p.pid !== 30);
    assert.equal(gradeAll(ipcCgroupTime, obs)['cgroup-root']?.status, 'failed');
  });

  test('time-offset: zero offset, only time_for_children, or the offset without a member all fail', () => {
    const zero = handDone();
    zero.snapshot.timens![0]!.boottimeSec = 0;
    assert.match(gradeAll(ipcCgroupTime, zero)['time-offset']!.message!.en, /boot-time offset of 0/);
    const pending = handDone();
    pending.snapshot.processes.find((p) => p.pid === 40)!.ns.time = pending.snapshot.sandbox.baseNs.time!;
    const r = gradeAll(ipcCgroupTime, pending)['time-offset']!;
    assert.equal(r.status, 'failed');
    assert.match(r.message!.en, /for its children/);
    const gone = handDone();
    gone.snapshot.processes = gone.snapshot.processes.filter((p) => p.pid !== 40);
    assert.equal(gradeAll(ipcCgroupTime, gone)['time-offset']?.status, 'failed');
  });

  describe('recorded in real sandboxes', () => {
    const stages = ['recorded-stage-1-ipc-queue', 'recorded-stage-2-ipc-invisible', 'recorded-stage-3-cgroup-root', 'recorded-stage-4-time-offset'];

    test('the solution step by step: each stage passes its step and not the next', () => {
      let prev = resultsById(initialResults(ipcCgroupTime, 0));
      for (const [i, name] of stages.entries()) {
        const obs = load(name);
        const { results } = gradeLab(ipcCgroupTime, { ...obs, passed: passedEvidenceOf(Object.values(prev)) }, prev, { nowMs: i + 1, trigger: 'explicit' });
        prev = resultsById(results);
        assert.equal(prev[ids[i]!]?.status, 'passed', `${name}: ${prev[ids[i]!]?.message?.en}`);
        if (i + 1 < ids.length) assert.notEqual(prev[ids[i + 1]!]?.status, 'passed', `${ids[i + 1]} before its stage`);
      }
      assert.match(prev['time-offset']!.message!.en, /86400 s \(1 day\) ahead/);
      // The queue's namespace is gone by the end: the step stays passed on its kept evidence.
      assert.equal(load(stages[3]!).snapshot.ipcns, undefined);
    });

    test('recorded: a queue made before unshare -i is in the sandbox\'s own namespace and does not count', () => {
      const r = gradeAll(ipcCgroupTime, load('recorded-queue-in-base'));
      assert.equal(r['ipc-queue']?.status, 'failed');
      assert.match(r['ipc-queue']!.message!.en, /which has no message queue yet/);
      assert.match(r['ipc-queue']!.hint!.en, /Queue 0x[0-9a-f]{8} is in the sandbox's own ipc:\[\d+\]/);
    });

    test('recorded: unshare -T without --boottime makes a time namespace with offset 0, which does not count', () => {
      const r = gradeAll(ipcCgroupTime, load('recorded-time-no-offset'));
      assert.equal(r['time-offset']?.status, 'failed');
      assert.match(r['time-offset']!.message!.en, /boot-time offset of 0/);
    });
  });
});

