// The checks on Observations recorded from REAL sandboxes behind the agent
// (sandbox-agent/src/record-fixtures.ts, scenarios in ./scenarios.ts): kernel state exactly as the grader sees it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Observation } from '../core/model';
import { gradeAll, loadFixture } from '../core/test-support';
import { exerciseNetNamespace } from './index';

const load = (name: string): Observation => loadFixture(import.meta.url, `recorded-${name}`);
const grade = (observation: Observation) => gradeAll(exerciseNetNamespace, observation);

test('recorded: the exercise done right passes every step, citing real inodes', () => {
  const observation = load('exercise-done');
  const results = grade(observation);
  for (const id of ['isolate-sleep', 'find-pid', 'inspect-ns', 'nsenter-ip']) {
    assert.equal(results[id]?.status, 'passed', `${id}: ${results[id]?.message?.en}`);
  }
  const sleep = observation.snapshot.processes.find((p) => p.comm === 'sleep')!;
  assert.match(results['isolate-sleep']!.message!.en, new RegExp(`net:\\[${sleep.ns.net}\\]`));
  assert.match(results['isolate-sleep']!.message!.en, new RegExp(`net:\\[${observation.snapshot.sandbox.baseNs.net}\\]`));
});

test('recorded: a sleep without -n fails every step with a hint about -n', () => {
  const results = grade(load('forgot-n'));
  for (const id of ['isolate-sleep', 'find-pid', 'inspect-ns', 'nsenter-ip']) {
    assert.equal(results[id]?.status, 'failed', id);
  }
  assert.match(`${results['isolate-sleep']!.message!.en} ${results['isolate-sleep']!.hint?.en ?? ''}`, /-n/);
});

test('recorded: a bash renamed to sleep plus hand-printed shell marks fools no check', () => {
  const observation = load('forged');
  // The forgery is real: the fake's comm is "sleep", it is in its own netns with only lo, and the
  // transcript holds an nsenter record with "only lo" output that the learner printed by hand.
  const fake = observation.snapshot.processes.find((p) => p.comm === 'sleep')!;
  assert.notEqual(fake.ns.net, observation.snapshot.sandbox.baseNs.net);
  assert.ok(observation.transcript.some((c) => /^nsenter -t \d+ -n ip a$/.test(c.command)));
  const results = grade(observation);
  for (const id of ['isolate-sleep', 'find-pid', 'inspect-ns', 'nsenter-ip']) {
    assert.equal(results[id]?.status, 'failed', `${id} must not pass: ${results[id]?.message?.en}`);
  }
});
