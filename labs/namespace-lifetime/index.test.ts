import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertLabShape, clone, gradeAll, loadFixture, statuses } from '../core/test-support';
import type { Observation } from '../core/model';
import type { ProcessInfo } from '../core/snapshot';
import { gradeLab, initialResults, passedEvidenceOf, resultsById } from '../core/grade';
import { namespaceLifetime } from './index';

const load = (name: string) => loadFixture(import.meta.url, name);
const ids = ['netns-add', 'enter-named', 'delete-survives', 'fd-keeps', 'owner'];
const NET = 4026532600;
const USER = 4026532700;

function addProc(obs: Observation, pid: number, ns: Record<string, number>, comm = 'sleep'): ProcessInfo {
  const shell = obs.snapshot.processes.find((p) => p.pid === 8)!;
  const p: ProcessInfo = { ...clone(shell), pid, nsPids: [pid], hostPid: shell.hostPid + pid, ppid: 8, comm, cmdline: [comm, '1000'], ns: { ...shell.ns, ...ns } };
  obs.snapshot.processes.push(p);
  return p;
}
const named = (obs: Observation) => (obs.snapshot.namedNetns = [{ name: 'lab', inode: NET, mntInode: obs.snapshot.sandbox.baseNs.mnt! }]);

/** Grades one observation after another as the agent does: a passed step keeps its first evidence. */
function walk(stages: Observation[]): Array<Record<string, { status: string; message: string }>> {
  let prev = resultsById(initialResults(namespaceLifetime, 0));
  return stages.map((obs, i) => {
    const { results } = gradeLab(namespaceLifetime, { ...obs, passed: passedEvidenceOf(Object.values(prev)) }, prev, { nowMs: i + 1, trigger: 'explicit' });
    prev = resultsById(results);
    return Object.fromEntries(results.map((res) => [res.stepId, { status: res.status, message: res.message?.en ?? '' }]));
  });
}

/** The lab done right, as five successive observations (hand-built; recorded ones below). */
function stages(): Observation[] {
  const idle = load('hand-idle');
  const s1 = clone(idle);
  named(s1);
  const s2 = clone(s1);
  addProc(s2, 30, { net: NET });
  const s3 = clone(idle);
  addProc(s3, 30, { net: NET });
  const s4 = clone(idle);
  addProc(s4, 35, { net: NET });
  const s5 = clone(s4);
  addProc(s5, 40, { net: 4026532801, user: USER });
  s5.answers = { owner: { value: String(USER), atMs: 1 } };
  return [s1, s2, s3, s4, s5];
}

describe('namespace-lifetime', () => {
  test('lab shape', () => {
    assertLabShape(namespaceLifetime);
    assert.deepEqual(namespaceLifetime.steps.map((s) => s.id), ids);
  });

  test('an idle sandbox passes nothing', () => {
    assert.deepEqual(statuses(gradeAll(namespaceLifetime, load('hand-idle'))), Object.fromEntries(ids.map((id) => [id, 'failed'])));
  });

  test('hand-built: each stage passes its step and not the next one', () => {
    const results = walk(stages());
    for (let i = 0; i < ids.length; i++) {
      assert.equal(results[i]![ids[i]!]!.status, 'passed', `${ids[i]}: ${results[i]![ids[i]!]!.message}`);
      if (i + 1 < ids.length) assert.equal(results[i]![ids[i + 1]!]!.status, 'failed', `${ids[i + 1]} before its stage`);
    }
    assert.match(results[0]!['netns-add']!.message, /\/run\/netns\/lab is a bind mount of net:\[4026532600\].*no process/);
    assert.match(results[2]!['delete-survives']!.message, /lives on: sleep \(PID 30\)/);
    assert.match(results[3]!['fd-keeps']!.message, /PID 30 is gone.*sleep \(PID 35\).*open fd/);
    assert.match(results[4]!['owner']!.message, /user:\[4026532700\] owns net:\[4026532801\]/);
  });

  test('delete-survives fails while the name is mounted, and when nothing holds the namespace', () => {
    const [s1, s2] = stages();
    const r = walk([s1!, s2!, s2!]);
    assert.equal(r[2]!['delete-survives']!.status, 'failed');
    const gone = clone(load('hand-idle'));
    assert.equal(walk([s1!, s2!, gone])[2]!['delete-survives']!.status, 'failed');
  });

  test('fd-keeps: the old sleep still there, or a new bind mount, do not count', () => {
    const [s1, s2, s3] = stages();
    const both = clone(s3!);
    addProc(both, 35, { net: NET });
    assert.equal(walk([s1!, s2!, s3!, both])[3]!['fd-keeps']!.status, 'failed');
    const remounted = clone(stages()[3]!);
    named(remounted);
    assert.match(walk([s1!, s2!, s3!, remounted])[3]!['fd-keeps']!.message, /bind-mounted again/);
  });

  test('owner: the sandbox\'s own user namespace, a net inode, or nothing typed all fail', () => {
    const base = stages();
    for (const value of [String(base[0]!.snapshot.sandbox.baseNs.user), '4026532801', '', 'user:[12]']) {
      const s5 = clone(base[4]!);
      s5.answers = { owner: { value, atMs: 1 } };
      assert.equal(walk([...base.slice(0, 4), s5])[4]!['owner']!.status, 'failed', value);
    }
    const s5 = clone(base[4]!);
    s5.answers = { owner: { value: `user:[${USER}]`, atMs: 1 } };
    assert.equal(walk([...base.slice(0, 4), s5])[4]!['owner']!.status, 'passed');
  });

  test('recorded in real sandboxes: the solution step by step, each stage passes its step and not the next', () => {
    const recorded = ids.map((id, i) => load(`recorded-stage-${i + 1}-${id}`));
    const results = walk(recorded);
    for (let i = 0; i < ids.length; i++) {
      assert.equal(results[i]![ids[i]!]!.status, 'passed', `${ids[i]}: ${results[i]![ids[i]!]!.message}`);
      if (i + 1 < ids.length) assert.equal(results[i]![ids[i + 1]!]!.status, 'failed', `${ids[i + 1]} before its stage`);
    }
    // ip netns add leaves the namespace held by the bind mount alone.
    assert.match(results[0]!['netns-add']!.message, /no process is in that namespace/);
    assert.match(results[3]!['fd-keeps']!.message, /an open fd kept it alive/);
    // Forgery: the answer is the sandbox's own user namespace (it owns /run/netns/lab's namespace).
    const forged = clone(recorded[4]!);
    forged.answers = { owner: { value: String(forged.snapshot.sandbox.baseNs.user), atMs: 1 } };
    assert.equal(walk([...recorded.slice(0, 4), forged])[4]!['owner']!.status, 'failed');
  });
});

