// Test support for the conceptual labs' unit tests: load recorded Observations, grade a whole lab,
// and derive variants (answers, extra transcript records, edited processes). Tests only.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { gradeLab, initialResults } from './grade';
import { answerSchema, commandRecordSchema, evidenceSchema, localizedSchema } from './model';
import type { CommandRecord, LabDef, Observation, StepResult } from './model';
import { snapshotSchema, type ProcessInfo } from './snapshot';

export const observationSchema = z.object({
  snapshot: snapshotSchema,
  transcript: z.array(commandRecordSchema),
  answers: z.record(z.string(), answerSchema),
  passed: z.record(z.string(), evidenceSchema),
});

export function loadObservation(url: URL): Observation {
  return observationSchema.parse(JSON.parse(readFileSync(url, 'utf8')));
}

/** Grades every step with trigger 'explicit' from scratch (or from `passed` results). */
export function gradeAll(lab: LabDef, observation: Observation, previous: StepResult[] = []): Record<string, StepResult> {
  const prev = Object.fromEntries([...initialResults(lab, 0), ...previous].map((r) => [r.stepId, r]));
  const { results } = gradeLab(lab, observation, prev, { nowMs: 1, trigger: 'explicit' });
  return Object.fromEntries(results.map((r) => [r.stepId, r]));
}

export function withAnswer(obs: Observation, stepId: string, value: string): Observation {
  return { ...obs, answers: { ...obs.answers, [stepId]: { value, atMs: obs.snapshot.takenAtMs } } };
}

export function withoutAnswers(obs: Observation): Observation {
  return { ...obs, answers: {} };
}

let clock = 9_000_000_000_000;
/** A transcript record that ended now (later than every recorded one). */
export function cmd(command: string, output: string, exitCode: number | null = 0, terminal = 0): CommandRecord {
  clock += 10;
  return { terminal, command, exitCode, output, startedAtMs: clock, endedAtMs: exitCode === null ? null : clock + 5 };
}

export function withRecords(obs: Observation, ...records: CommandRecord[]): Observation {
  return { ...obs, transcript: [...obs.transcript, ...records] };
}

export function withTranscript(obs: Observation, transcript: CommandRecord[]): Observation {
  return { ...obs, transcript };
}

/** Replaces the processes matching `pred` with `edit(process)` (null removes them). */
export function editProcesses(obs: Observation, pred: (p: ProcessInfo) => boolean, edit: (p: ProcessInfo) => ProcessInfo | null): Observation {
  const processes = obs.snapshot.processes.flatMap((p) => {
    if (!pred(p)) return [p];
    const e = edit(p);
    return e ? [e] : [];
  });
  return { ...obs, snapshot: { ...obs.snapshot, processes } };
}

/** The lab-definition rules every lab obeys (en+zh text, hints, solution covering every step). */
export function assertWellFormedLab(lab: LabDef, stepIds: string[], terminals: number): void {
  assert.equal(lab.terminals, terminals);
  assert.deepEqual(
    lab.steps.map((s) => s.id),
    stepIds,
  );
  localizedSchema.parse(lab.title);
  assert.match(lab.title.zh, /[\u4e00-\u9fff]/);
  for (const s of lab.steps) {
    assert.match(s.id, /^[a-z0-9]+(-[a-z0-9]+)*$/);
    localizedSchema.parse(s.title);
    assert.ok(s.hints.length >= 2 && s.hints.length <= 3, `${s.id} has 2-3 hints`);
    for (const h of [s.title, ...s.hints]) assert.match(h.zh, /[\u4e00-\u9fff]/, `${s.id}: zh text is Chinese`);
    assert.ok(s.kinds.length > 0);
    if (s.answer) {
      localizedSchema.parse(s.answer.label);
      assert.match(s.answer.label.zh, /[\u4e00-\u9fff]/);
    }
  }
  assert.deepEqual(
    lab.solution.map((s) => s.stepId),
    stepIds,
  );
  for (const s of lab.solution) for (const a of s.actions) if (a.type === 'type') assert.ok(a.terminal < lab.terminals);
}

/** Every message and hint of failed results is in both languages, zh in Chinese. */
export function assertBilingual(results: Record<string, StepResult>): void {
  for (const r of Object.values(results)) {
    for (const text of [r.message, r.hint]) {
      if (!text) continue;
      assert.ok(text.en.length > 0 && text.zh.length > 0);
      assert.match(text.zh, /[\u4e00-\u9fff]/, `${r.stepId}: zh text is Chinese: ${text.zh}`);
    }
  }
}
