// The checks on Observations recorded from REAL sandboxes behind the agent
// (sandbox-agent/src/record-fixtures.ts): kernel state exactly as the grader sees it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { z } from 'zod';
import { answerSchema, commandRecordSchema, evidenceSchema, type Observation } from '../core/model';
import { gradeLab, initialResults } from '../core/grade';
import { snapshotSchema } from '../core/snapshot';
import { exerciseNetNamespace } from './index';

const observationSchema = z.object({
  snapshot: snapshotSchema,
  transcript: z.array(commandRecordSchema),
  answers: z.record(z.string(), answerSchema),
  passed: z.record(z.string(), evidenceSchema),
});

const load = (name: string): Observation =>
  observationSchema.parse(JSON.parse(readFileSync(new URL(`./fixtures/recorded-${name}.json`, import.meta.url), 'utf8')));

function gradeAll(observation: Observation) {
  const previous = Object.fromEntries(initialResults(exerciseNetNamespace, 0).map((r) => [r.stepId, r]));
  const { results } = gradeLab(exerciseNetNamespace, observation, previous, { nowMs: 1, trigger: 'explicit' });
  return Object.fromEntries(results.map((r) => [r.stepId, r]));
}

test('recorded: the exercise done right passes every step, citing real inodes', () => {
  const observation = load('exercise-done');
  const results = gradeAll(observation);
  for (const id of ['isolate-sleep', 'find-pid', 'inspect-ns', 'nsenter-ip']) {
    assert.equal(results[id]?.status, 'passed', `${id}: ${results[id]?.message?.en}`);
  }
  const sleep = observation.snapshot.processes.find((p) => p.comm === 'sleep')!;
  assert.match(results['isolate-sleep']!.message!.en, new RegExp(`net:\\[${sleep.ns.net}\\]`));
  assert.match(results['isolate-sleep']!.message!.en, new RegExp(`net:\\[${observation.snapshot.sandbox.baseNs.net}\\]`));
});

test('recorded: a sleep without -n fails every step with a hint about -n', () => {
  const results = gradeAll(load('forgot-n'));
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
  const results = gradeAll(observation);
  for (const id of ['isolate-sleep', 'find-pid', 'inspect-ns', 'nsenter-ip']) {
    assert.equal(results[id]?.status, 'failed', `${id} must not pass: ${results[id]?.message?.en}`);
  }
});
