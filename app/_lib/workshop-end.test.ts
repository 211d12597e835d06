import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openDatabase, type Database } from './db/database';
import { createInstructor, createWorkshop, endWorkshop, joinWorkshop } from './db/repository';
import { endWorkshopNow, endWorkshopSessions, type WorkshopEndAgent } from './workshop-end';
import { sweepExpiredWorkshops } from './workshop-sweep';

const HOUR = 3_600_000;
let database: Database;
let instructorId: string;

before(async () => {
  database = await openDatabase({ sqlitePath: ':memory:' });
  const created = await createInstructor(database.db, `end-${Date.now()}@example.org`, 'correct horse battery');
  assert.ok(created.ok);
  instructorId = created.instructor.id;
});
after(() => database?.close());

function fakeAgent(sessions: Array<{ sessionId: string; learnerId: string; labId: string }>) {
  const calls: string[] = [];
  const agent: WorkshopEndAgent = {
    query: async (learnerIds) => ({ ok: true, value: { sessions: sessions.filter((s) => learnerIds.includes(s.learnerId)) } }),
    endLearners: async (r) => {
      calls.push(`end-learners ${[...r.learnerIds].sort().join(',')} ${r.closeReason ?? ''}`);
      return { ok: true, value: { ended: sessions.filter((s) => r.learnerIds.includes(s.learnerId)).length } };
    },
    endSession: async (id) => {
      calls.push(`delete ${id}`);
      return { ok: true, value: null };
    },
  };
  return { agent, calls };
}

test("ending a workshop ends only its lessons' sessions, not a member's other labs or lessons another running workshop gives them", async () => {
  const now = Date.now();
  const mk = (lessons: string[]) =>
    createWorkshop(database.db, { title: 'W', lessons, capacity: 10, startsAtMs: now - HOUR, endsAtMs: now + HOUR, createdBy: instructorId }, { now });
  const ending = await mk(['exercise-net-namespace', 'pid-namespace']);
  const other = await mk(['pid-namespace']);
  const join = async (code: string, learnerId: string) => assert.equal((await joinWorkshop(database.db, { code, learnerId, displayName: learnerId }, now)).status, 'joined');
  await join(ending.code, 'only-ws');
  await join(ending.code, 'also-self');
  await join(ending.code, 'two-ws');
  await join(other.code, 'two-ws');
  await endWorkshop(database.db, ending.id, now);
  const { agent, calls } = fakeAgent([
    { sessionId: 's1', learnerId: 'only-ws', labId: 'exercise-net-namespace' },
    { sessionId: 's2', learnerId: 'also-self', labId: 'exercise-net-namespace' },
    { sessionId: 's3', learnerId: 'also-self', labId: 'uts-namespace' }, // self-paced, outside the workshop
    { sessionId: 's4', learnerId: 'two-ws', labId: 'pid-namespace' }, // still open through the other workshop
    { sessionId: 's5', learnerId: 'two-ws', labId: 'exercise-net-namespace' },
  ]);
  const result = await endWorkshopSessions(
    database.db,
    { learnerIds: ['only-ws', 'also-self', 'two-ws'], lessons: ending.lessons, reason: 'the workshop ended', closeReason: 'workshop-ended' },
    agent,
    now + 1,
  );
  assert.deepEqual(result, { ok: true, value: { ended: 3 } });
  assert.deepEqual(calls.sort(), ['delete s2', 'delete s5', 'end-learners only-ws workshop-ended']);
});

/** An agent that refuses its first `failures` calls (503), then ends what it is asked to. */
function flakyAgent(failures: number) {
  const { agent, calls } = fakeAgent([{ sessionId: 'f1', learnerId: 'flaky-member', labId: 'exercise-net-namespace' }]);
  let left = failures;
  const refuse = { ok: false as const, status: 503, message: 'agent busy' };
  const flaky: WorkshopEndAgent = {
    query: async (ids) => (left-- > 0 ? refuse : agent.query(ids)),
    endLearners: (r) => agent.endLearners(r),
    endSession: (id) => agent.endSession(id),
  };
  return { agent: flaky, calls };
}

async function runningWorkshopWithMember(learnerId: string) {
  const now = Date.now();
  const workshop = await createWorkshop(
    database.db,
    { title: 'W', lessons: ['exercise-net-namespace'], capacity: 5, startsAtMs: now - HOUR, endsAtMs: now + HOUR, createdBy: instructorId },
    { now },
  );
  assert.equal((await joinWorkshop(database.db, { code: workshop.code, learnerId, displayName: learnerId }, now)).status, 'joined');
  return workshop;
}

const noWait = { backoffMs: 1, sleep: async () => {} };

test("an instructor's End still ends the sandboxes when the agent refuses once (retried, as the sweeper does)", async () => {
  const workshop = await runningWorkshopWithMember('flaky-member');
  const { agent, calls } = flakyAgent(1);
  const outcome = await endWorkshopNow(database.db, workshop.id, agent, noWait);
  assert.equal(outcome.status, 'ended');
  assert.ok(outcome.status === 'ended' && outcome.workshop.endedAtMs !== null);
  assert.deepEqual(outcome.status === 'ended' && outcome.sandboxes, { ok: true, value: { ended: 1 } });
  assert.deepEqual(calls, ['end-learners flaky-member workshop-ended']);
});

test('an End the agent keeps refusing is finished by the sweeper once the agent is back', async () => {
  const workshop = await runningWorkshopWithMember('flaky-member');
  const { agent, calls } = flakyAgent(3);
  const outcome = await endWorkshopNow(database.db, workshop.id, agent, noWait);
  assert.ok(outcome.status === 'ended' && !outcome.sandboxes.ok, 'three refusals exhaust the retries');
  assert.deepEqual(calls, []);
  const pending = new Set([workshop.id]); // what retryWorkshopEndLater does
  const report = await sweepExpiredWorkshops(database.db, pending, agent, Date.now(), () => {}, noWait);
  assert.deepEqual(report.ended, [{ workshopId: workshop.id, endedSessions: 1 }]);
  assert.deepEqual(report.pending, []);
  assert.deepEqual(calls, ['end-learners flaky-member workshop-ended']);
});

test('End of an unknown workshop: not_found, the agent is not called', async () => {
  const { agent, calls } = flakyAgent(0);
  assert.deepEqual(await endWorkshopNow(database.db, 'no-such-workshop', agent, noWait), { status: 'not_found' });
  assert.deepEqual(calls, []);
});
