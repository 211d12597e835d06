import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { gradeLab, initialResults, resultsById } from './grade';
import { stepResultSchema, t } from './model';
import type { CheckResult, LabDef, Observation, StepResult } from './model';
import type { Snapshot } from './snapshot';

// A tiny lab whose checks read a flag from the observation's answers, so each test controls them.
function flagCheck(stepId: string) {
  return (obs: Observation): CheckResult =>
    obs.answers[stepId]?.value === 'yes'
      ? { status: 'passed', message: t(`${stepId} ok`, `${stepId} 通过`), evidence: { seen: stepId } }
      : {
          status: 'failed',
          message: t(`${stepId} not yet (${obs.answers[stepId]?.value ?? 'none'})`, `${stepId} 尚未完成`),
          hint: t(`do ${stepId}`, `请完成 ${stepId}`),
          evidence: {},
        };
}

const lab: LabDef = {
  id: 'test-lab',
  title: t('Test', '测试'),
  terminals: 1,
  steps: [
    { id: 'a', title: t('A', '甲'), kinds: ['state'], check: flagCheck('a'), hints: [t('h', '提示')] },
    { id: 'b', title: t('B', '乙'), kinds: ['answer'], check: flagCheck('b'), hints: [t('h', '提示')] },
    {
      id: 'c',
      title: t('C', '丙'),
      kinds: ['state'],
      // Passes only when it can see a's evidence: proves later steps see steps passed in the same run.
      check: (obs): CheckResult =>
        obs.passed.a
          ? { status: 'passed', message: t('c ok', 'c 通过'), evidence: { fromA: String(obs.passed.a.seen) } }
          : { status: 'failed', message: t('c needs a', 'c 需要 a'), evidence: {} },
      hints: [t('hint c', '提示 c'), t('hint c2', '提示 c2')],
    },
  ],
  solution: [],
};

const snapshot: Snapshot = {
  takenAtMs: 0,
  durationMs: 1,
  sandbox: { id: 's', initHostPid: 100, baseNs: { net: 4026532000 }, uidBase: 100000 },
  processes: [],
  netns: [],
  uts: [],
  warnings: [],
};

function observation(flags: Record<string, string>): Observation {
  const answers = Object.fromEntries(Object.entries(flags).map(([k, v]) => [k, { value: v, atMs: 0 }]));
  return { snapshot, transcript: [], answers, passed: {} };
}

const fresh = () => resultsById(initialResults(lab, 0));
const statuses = (rs: StepResult[]) => rs.map((r) => `${r.stepId}:${r.status}`);

describe('initialResults', () => {
  test('one pending result per step, valid per the wire schema', () => {
    const rs = initialResults(lab, 5);
    assert.deepEqual(statuses(rs), ['a:pending', 'b:pending', 'c:pending']);
    for (const r of rs) {
      stepResultSchema.parse(r);
      assert.equal(r.atMs, 5);
    }
  });
});

describe('gradeLab', () => {
  test('auto never shows a failure; passes are shown at once', () => {
    const none = gradeLab(lab, observation({}), fresh(), { nowMs: 1, trigger: 'auto' });
    assert.deepEqual(statuses(none.results), ['a:pending', 'b:pending', 'c:pending']);
    assert.deepEqual(none.changed, []);

    const some = gradeLab(lab, observation({ a: 'yes' }), fresh(), { nowMs: 2, trigger: 'auto' });
    assert.deepEqual(statuses(some.results), ['a:passed', 'b:pending', 'c:passed']);
    assert.deepEqual(
      some.changed.map((r) => r.stepId),
      ['a', 'c'],
    );
    assert.equal(some.results[2]?.evidence.fromA, 'a');
    assert.equal(some.results[0]?.atMs, 2);
    for (const r of some.results) stepResultSchema.parse(r);
  });

  test('explicit gives every unpassed step its status, with message and hint', () => {
    const { results, changed } = gradeLab(lab, observation({ b: 'no' }), fresh(), { nowMs: 3, trigger: 'explicit' });
    assert.deepEqual(statuses(results), ['a:failed', 'b:failed', 'c:failed']);
    assert.equal(changed.length, 3);
    assert.equal(results[1]?.message?.en, 'b not yet (no)');
    assert.equal(results[1]?.hint?.en, 'do b');
    // A check without a hint of its own falls back to the step's first hint.
    assert.equal(results[2]?.hint?.en, 'hint c');
  });

  test('auto after an explicit failure keeps the failure as it was (no unprompted changes)', () => {
    const failed = gradeLab(lab, observation({ b: 'no' }), fresh(), { nowMs: 3, trigger: 'explicit' });
    const again = gradeLab(lab, observation({ b: 'maybe' }), resultsById(failed.results), { nowMs: 4, trigger: 'auto' });
    assert.deepEqual(again.changed, []);
    assert.equal(again.results[1], failed.results[1]);
    // ... but a failed step may move to passed on auto.
    const passed = gradeLab(lab, observation({ b: 'yes' }), resultsById(failed.results), { nowMs: 5, trigger: 'auto' });
    assert.equal(passed.results[1]?.status, 'passed');
    assert.equal(passed.results[1]?.hint, null);
  });

  test('explicit again: same failure is not "changed"; a new message is, keeping atMs of the failure', () => {
    const first = gradeLab(lab, observation({ b: 'no' }), fresh(), { nowMs: 3, trigger: 'explicit' });
    const same = gradeLab(lab, observation({ b: 'no' }), resultsById(first.results), { nowMs: 9, trigger: 'explicit' });
    assert.deepEqual(same.changed, []);
    const other = gradeLab(lab, observation({ b: 'nope' }), resultsById(first.results), { nowMs: 9, trigger: 'explicit' });
    assert.deepEqual(
      other.changed.map((r) => r.stepId),
      ['b'],
    );
    assert.equal(other.results[1]?.atMs, 3);
  });

  test('answer shows pass/fail for the answered step only; others act as auto', () => {
    const { results, changed } = gradeLab(lab, observation({ b: 'no' }), fresh(), {
      nowMs: 6,
      trigger: 'answer',
      answeredStepId: 'b',
    });
    assert.deepEqual(statuses(results), ['a:pending', 'b:failed', 'c:pending']);
    assert.deepEqual(
      changed.map((r) => r.stepId),
      ['b'],
    );
    const ok = gradeLab(lab, observation({ b: 'yes' }), resultsById(results), {
      nowMs: 7,
      trigger: 'answer',
      answeredStepId: 'b',
    });
    assert.equal(ok.results[1]?.status, 'passed');
  });

  test('a passed step stays passed with its evidence and message, whatever the state later', () => {
    const passed = gradeLab(lab, observation({ a: 'yes', b: 'yes' }), fresh(), { nowMs: 1, trigger: 'auto' });
    const later = gradeLab(lab, observation({}), resultsById(passed.results), { nowMs: 100, trigger: 'explicit' });
    assert.deepEqual(statuses(later.results), ['a:passed', 'b:passed', 'c:passed']);
    assert.deepEqual(later.changed, []);
    for (let i = 0; i < 3; i++) assert.equal(later.results[i], passed.results[i]);
  });

  test('kept evidence of a passed step reaches later checks (the process may be gone)', () => {
    const prev = fresh();
    prev.a = { stepId: 'a', status: 'passed', message: t('a ok', 'a 通过'), hint: null, evidence: { seen: 'old' }, atMs: 1 };
    const { results } = gradeLab(lab, observation({}), prev, { nowMs: 2, trigger: 'auto' });
    assert.equal(results[2]?.status, 'passed');
    assert.equal(results[2]?.evidence.fromA, 'old');
  });

  test('a throwing check is caught: failed with an internal-problem message, never thrown', () => {
    const boom: LabDef = {
      ...lab,
      steps: [
        {
          id: 'x',
          title: t('X', '某'),
          kinds: ['state'],
          check: () => {
            throw new TypeError("Cannot read properties of undefined (reading 'ns')");
          },
          hints: [t('h', '提示')],
        },
        ...lab.steps,
      ],
    };
    const prev = resultsById(initialResults(boom, 0));
    const auto = gradeLab(boom, observation({ a: 'yes' }), prev, { nowMs: 1, trigger: 'auto' });
    assert.deepEqual(statuses(auto.results), ['x:pending', 'a:passed', 'b:pending', 'c:passed']);

    const explicit = gradeLab(boom, observation({}), prev, { nowMs: 1, trigger: 'explicit' });
    const x = explicit.results[0];
    assert.equal(x?.status, 'failed');
    assert.match(x?.message?.en ?? '', /grader had an internal problem/);
    assert.match(x?.message?.zh ?? '', /内部问题/);
    assert.match(String(x?.evidence.internalError), /reading 'ns'/);
    assert.equal(explicit.results[1]?.status, 'failed'); // the other steps still ran
  });

  test('a check returning a malformed result is treated like a throw', () => {
    const bad: LabDef = {
      ...lab,
      steps: [{ id: 'y', title: t('Y', '乙'), kinds: ['state'], check: () => ({}) as CheckResult, hints: [] }],
    };
    const { results } = gradeLab(bad, observation({}), {}, { nowMs: 1, trigger: 'explicit' });
    assert.equal(results[0]?.status, 'failed');
    assert.match(results[0]?.message?.en ?? '', /internal problem/);
  });

  test('steps missing from previous are treated as pending', () => {
    const { results } = gradeLab(lab, observation({ a: 'yes' }), {}, { nowMs: 1, trigger: 'auto' });
    assert.deepEqual(statuses(results), ['a:passed', 'b:pending', 'c:passed']);
  });
});

describe('gradeLab outcomes (what each open step checked, for callers that must not grade twice)', () => {
  test('every open step has its check outcome, even a failure an auto round does not show', () => {
    const passedA = gradeLab(lab, observation({ a: 'yes', b: 'no' }), fresh(), { nowMs: 1, trigger: 'auto' });
    assert.deepEqual(statuses(passedA.results), ['a:passed', 'b:pending', 'c:passed']);
    assert.deepEqual(
      passedA.outcomes.map((o) => `${o.stepId}:${o.status}`),
      ['a:passed', 'b:failed', 'c:passed'],
    );
    const b = passedA.outcomes.find((o) => o.stepId === 'b');
    assert.equal(b?.message.en, 'b not yet (no)');
    assert.equal(b?.hint?.en, 'do b');
    // A step passed before the run is not checked again, so it has no outcome.
    const next = gradeLab(lab, observation({ b: 'maybe' }), resultsById(passedA.results), { nowMs: 2, trigger: 'auto' });
    assert.deepEqual(
      next.outcomes.map((o) => `${o.stepId}:${o.status}`),
      ['b:failed'],
    );
  });

  test('a failure without its own hint carries the step first hint, as an explicit result would', () => {
    const { outcomes, results } = gradeLab(lab, observation({}), fresh(), { nowMs: 1, trigger: 'explicit' });
    const c = outcomes.find((o) => o.stepId === 'c');
    assert.equal(c?.hint?.en, 'hint c');
    assert.deepEqual(c?.hint, results.find((r) => r.stepId === 'c')?.hint);
  });

  test('each open step check runs exactly once per run', () => {
    const calls: Record<string, number> = {};
    const counted: LabDef = {
      ...lab,
      steps: lab.steps.map((step) => ({
        ...step,
        check: (obs: Observation) => {
          calls[step.id] = (calls[step.id] ?? 0) + 1;
          return step.check(obs);
        },
      })),
    };
    gradeLab(counted, observation({ a: 'yes' }), fresh(), { nowMs: 1, trigger: 'auto' });
    assert.deepEqual(calls, { a: 1, b: 1, c: 1 });
  });
});
