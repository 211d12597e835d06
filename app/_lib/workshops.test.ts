import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SessionStatus } from '../../sandbox-agent/protocol';
import { buildGrid, formatDuration, gridFingerprint, isStuck, reasonKey, type GridInput, type GridLab } from './workshops';

const labs: GridLab[] = [
  {
    labId: 'lab-a',
    title: { en: 'Lab A', zh: '实验 A' },
    steps: [
      { stepId: 's1', title: { en: 'One', zh: '一' } },
      { stepId: 's2', title: { en: 'Two', zh: '二' } },
    ],
  },
];
const workshop = { id: 'w', code: 'K7P-3QX', title: 'W', lessons: ['lab-a'], capacity: 30, memberCount: 3, startsAt: 0, endsAt: 10_000_000, endedAt: null };
const msg = (en: string) => ({ en, zh: en });

function session(learnerId: string, over: Partial<SessionStatus> = {}, failure: string | null = null): SessionStatus {
  return {
    sessionId: `s-${learnerId}`,
    learnerId,
    labId: 'lab-a',
    createdAtMs: 1_000,
    state: 'running',
    connected: true,
    connectionChangedAtMs: 1_000,
    viewers: 0,
    currentStepId: 's1',
    currentStepSinceMs: 1_000,
    steps: [
      { stepId: 's1', status: 'pending', atMs: 1_000, latestFailure: failure ? { message: msg(failure), atMs: 2_000 } : null },
      { stepId: 's2', status: 'pending', atMs: 1_000, latestFailure: null },
    ],
    ...over,
  };
}

const base: GridInput = {
  workshop,
  labs,
  members: [
    { learnerId: 'a', displayName: 'Ada', joinedAt: 1, passed: {} },
    { learnerId: 'b', displayName: 'Bo', joinedAt: 2, passed: {} },
    { learnerId: 'c', displayName: 'Cy', joinedAt: 3, passed: { 'lab-a': { s1: 5_000 } } },
  ],
  sessions: [],
  messages: [],
  nowMs: 10_000,
};

test('cells merge stored progress (saved), live passes (not saved yet) and the failing current step', () => {
  const grid = buildGrid({
    ...base,
    sessions: [
      session('a', {}, 'sleep (PID 41) is in net:[4026531992], the sandbox’s own'),
      session('b', {
        currentStepId: 's2',
        currentStepSinceMs: 4_000,
        steps: [
          { stepId: 's1', status: 'passed', atMs: 4_000, saved: false, latestFailure: null },
          { stepId: 's2', status: 'pending', atMs: 1_000, latestFailure: null },
        ],
      }),
    ],
  });
  const [a, b, c] = grid.learners;
  assert.deepEqual(a?.cells['lab-a/s1'], { status: 'failing', saved: false, atMs: null });
  assert.equal(a?.cells['lab-a/s2']?.status, 'pending', 'only the current step shows failing');
  assert.deepEqual(b?.cells['lab-a/s1'], { status: 'passed', saved: false, atMs: 4_000 });
  assert.deepEqual(c?.cells['lab-a/s1'], { status: 'passed', saved: true, atMs: 5_000 });
  assert.equal(c?.online, false);
  assert.equal(c?.current, null);
  assert.equal(b?.current?.stepId, 's2');
  assert.deepEqual([a?.passedCount, b?.passedCount, c?.passedCount], [0, 1, 1]);
  assert.equal(grid.agentOk, true);
});

test('failure reasons group across learners when only numbers differ, most common first', () => {
  const grid = buildGrid({
    ...base,
    sessions: [
      session('a', {}, 'sleep (PID 41) is in net:[4026531992], the sandbox’s own'),
      session('b', {}, 'sleep (PID 97) is in net:[4026532001], the sandbox’s own'),
      session('c', { currentStepId: 's2', currentStepSinceMs: 5_000 }, null),
    ],
  });
  assert.equal(grid.reasons.length, 1);
  assert.equal(grid.reasons[0]?.count, 2);
  assert.deepEqual(grid.reasons[0]?.learners, ['Ada', 'Bo']);
  assert.equal(reasonKey('PID 41 in net:[4026531992]'), reasonKey('PID 7 in net:[1]'));

  const two = buildGrid({
    ...base,
    sessions: [session('a', {}, 'No sleep process is running.'), session('b', {}, 'sleep (PID 97) is in net:[1]'), session('c', {}, 'sleep (PID 3) is in net:[2]')],
  });
  assert.deepEqual(
    two.reasons.map((r) => [r.count, r.message.en]),
    [
      [2, 'sleep (PID 97) is in net:[1]'],
      [1, 'No sleep process is running.'],
    ],
  );
});

test('agent down: stored progress still shows, agentOk false; the fingerprint ignores the clock', () => {
  const grid = buildGrid({ ...base, sessions: null });
  assert.equal(grid.agentOk, false);
  assert.equal(grid.learners[2]?.cells['lab-a/s1']?.status, 'passed');
  assert.equal(gridFingerprint(grid), gridFingerprint({ ...grid, atMs: grid.atMs + 5 }));
  assert.notEqual(gridFingerprint(grid), gridFingerprint(buildGrid({ ...base, sessions: [session('a')] })));
});

test('stuck: online, failing and on the step longer than the threshold', () => {
  const grid = buildGrid({ ...base, sessions: [session('a', {}, 'nope'), session('b', { connected: false }, 'nope')] });
  const [a, b, c] = grid.learners;
  assert.equal(isStuck(a!, 1_000 + 59_000, 60_000), false);
  assert.equal(isStuck(a!, 1_000 + 60_000, 60_000), true);
  assert.equal(isStuck(b!, 1_000 + 600_000, 60_000), false, 'offline is not stuck');
  assert.equal(isStuck(c!, 1_000 + 600_000, 60_000), false, 'no session');
});

test('durations read well', () => {
  assert.equal(formatDuration(42_500), '42 s');
  assert.equal(formatDuration(185_000), '3 min 05 s');
  assert.equal(formatDuration(3_720_000), '1 h 02 min');
  assert.equal(formatDuration(-5), '0 s');
});
