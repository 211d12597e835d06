// Test support for labs: load recorded Observations (validated) and grade a whole lab at once.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { gradeLab, initialResults, resultsById } from '../grade';
import { answerSchema, commandRecordSchema, evidenceSchema, localizedSchema, type LabDef, type Observation, type StepResult } from '../model';
import { probeResultSchema, snapshotSchema } from '../snapshot';

export const observationSchema = z.object({
  snapshot: snapshotSchema,
  transcript: z.array(commandRecordSchema),
  answers: z.record(z.string(), answerSchema),
  passed: z.record(z.string(), evidenceSchema),
  probes: z.array(probeResultSchema).optional(),
});

/** Loads fixtures/<name>.json beside the test (pass import.meta.url). */
export function loadFixture(testUrl: string, name: string): Observation {
  return observationSchema.parse(JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, testUrl), 'utf8'))) as Observation;
}

/** Grades every step of the lab from scratch, as on an explicit Check. */
export function gradeAll(lab: LabDef, observation: Observation): Record<string, StepResult> {
  const { results } = gradeLab(lab, observation, resultsById(initialResults(lab, 0)), { nowMs: 1, trigger: 'explicit' });
  return resultsById(results);
}

export function statuses(results: Record<string, StepResult>): Record<string, string> {
  return Object.fromEntries(Object.values(results).map((r) => [r.stepId, r.status]));
}

/** A deep copy to mutate. */
export function clone<T>(value: T): T {
  return structuredClone(value);
}

/** The lab's own shape: ids, en+zh text, hints, solution order and terminals. */
export function assertLabShape(lab: LabDef): void {
  const ids = lab.steps.map((s) => s.id);
  assert.equal(new Set(ids).size, ids.length);
  localizedSchema.parse(lab.title);
  for (const s of lab.steps) {
    assert.match(s.id, /^[a-z0-9]+(-[a-z0-9]+)*$/);
    localizedSchema.parse(s.title);
    assert.ok(s.hints.length >= 1 && s.hints.length <= 3, `${s.id}: 1-3 hints`);
    for (const h of [s.title, ...s.hints]) assert.match(h.zh, /[\u4e00-\u9fff]/, `${s.id}: zh text is Chinese`);
    assert.ok(s.kinds.length > 0);
  }
  assert.deepEqual(lab.solution.map((s) => s.stepId), ids, 'the solution covers every step in order');
  for (const s of lab.solution) for (const a of s.actions) if (a.type === 'type') assert.ok(a.terminal < lab.terminals);
}

/** A command the learner typed, for forgery tests: what it printed and how it ended. */
export interface TypedCommand {
  terminal: number;
  command: string;
  output: string;
  exitCode: number | null;
}

/**
 * The observation with the genuine commands `drop` matches taken out of the transcript and these
 * typed ones appended after the rest (issue 13: each forgery must leave its check failed while
 * the kernel state stays what the real solution made).
 */
export function forged(observation: Observation, drop: (command: string) => boolean, typed: TypedCommand[]): Observation {
  const obs = clone(observation);
  const kept = obs.transcript.filter((r) => !drop(r.command));
  const last = kept.reduce((t, r) => Math.max(t, r.endedAtMs ?? r.startedAtMs), 0);
  obs.transcript = [
    ...kept,
    ...typed.map((c, i) => ({ ...c, startedAtMs: last + 10 * (i + 1), endedAtMs: c.exitCode === null ? null : last + 10 * (i + 1) + 5 })),
  ];
  obs.passed = {};
  return obs;
}

/** Each typed forgery, alone in place of the genuine commands `drop` matches, leaves the step failed. */
export function assertStaysFailed(lab: LabDef, observation: Observation, stepId: string, drop: (command: string) => boolean, typed: TypedCommand[]): void {
  for (const c of typed) assert.equal(gradeAll(lab, forged(observation, drop, [c]))[stepId]?.status, 'failed', `${stepId}: ${c.command}`);
}
