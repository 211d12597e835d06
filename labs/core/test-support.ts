// The one test support for labs' unit tests (tests only): load recorded Observations (validated
// against the model's schema), grade a whole lab at once, derive variants (answers, transcript
// records, edited processes, exe identities) and forge what a learner could type (issue 13), and
// the shape every lab definition obeys.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { gradeLab, initialResults, resultsById } from './grade';
import { localizedSchema, observationSchema, type CommandRecord, type LabDef, type Observation, type StepResult } from './model';
import type { ProcessInfo } from './snapshot';

// ---------------------------------------------------------------- loading and grading

export function loadObservation(url: URL): Observation {
  return observationSchema.parse(JSON.parse(readFileSync(url, 'utf8')));
}

/** Loads fixtures/<name>.json beside the test (pass import.meta.url). */
export function loadFixture(testUrl: string, name: string): Observation {
  return loadObservation(new URL(`./fixtures/${name}.json`, testUrl));
}

/** Grades every step with trigger 'explicit' from scratch (or from these earlier results). */
export function gradeAll(lab: LabDef, observation: Observation, previous: StepResult[] = []): Record<string, StepResult> {
  const { results } = gradeLab(lab, observation, resultsById([...initialResults(lab, 0), ...previous]), { nowMs: 1, trigger: 'explicit' });
  return resultsById(results);
}

export function statuses(results: Record<string, StepResult>): Record<string, string> {
  return Object.fromEntries(Object.values(results).map((r) => [r.stepId, r.status]));
}

/** A deep copy to mutate. */
export function clone<T>(value: T): T {
  return structuredClone(value);
}

// ---------------------------------------------------------------- variants

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

// ---------------------------------------------------------------- forgeries (issue 13)

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

/** Stand-in identities of the sandbox's /usr/bin/sleep and /usr/bin/bash (device, inode). */
export const programIds = { sleep: { dev: 65024, ino: 11 }, bash: { dev: 65024, ino: 12 } } as const;

/**
 * The observation as an agent that reads /proc/PID/exe would have recorded it (fixtures recorded
 * before it did): each process runs the file its comm names, unless `edit` says otherwise.
 */
export function withExe(obs: Observation, edit: (p: ProcessInfo) => ProcessInfo['exe'] = (p) => exeOf(p.comm)): Observation {
  const out = structuredClone(obs);
  out.snapshot.sandbox.programs = { ...programIds };
  out.snapshot.processes = out.snapshot.processes.map((p) => ({ ...p, exe: edit(p) }));
  return out;
}

/** The exe a process named `comm` has when it really runs that program. */
export function exeOf(comm: string): ProcessInfo['exe'] {
  const id = programIds[comm as keyof typeof programIds];
  return id ? { path: `/usr/bin/${comm}`, ...id } : { path: `/usr/bin/${comm}`, dev: 65024, ino: 99 };
}

/** `ln -s /bin/bash /tmp/sleep; /tmp/sleep`: comm and argv[0] say sleep, the exe is bash's file. */
export function bashPosingAsSleep(p: ProcessInfo): ProcessInfo['exe'] {
  return p.comm === 'sleep' ? { path: '/usr/bin/bash', ...programIds.bash } : exeOf(p.comm);
}

/** The steps pass on the recorded state with real exes, and fail when its sleeps are bash posing as sleep. */
export function assertRefusesBashAsSleep(lab: LabDef, obs: Observation, stepIds: string[]): void {
  const real = gradeAll(lab, withExe(obs));
  const fake = gradeAll(lab, withExe(obs, bashPosingAsSleep));
  for (const id of stepIds) {
    assert.equal(real[id]?.status, 'passed', `${id} with the real sleep`);
    assert.equal(fake[id]?.status, 'failed', `${id} with bash posing as sleep`);
  }
}

// ---------------------------------------------------------------- the shape of a lab

/** The lab's own shape: unique ids, en+zh text, 1-3 hints, solution order and terminals. */
export function assertLabShape(lab: LabDef): void {
  const ids = lab.steps.map((s) => s.id);
  assert.equal(new Set(ids).size, ids.length);
  localizedSchema.parse(lab.title);
  assert.match(lab.title.zh, /[\u4e00-\u9fff]/);
  for (const s of lab.steps) {
    assert.match(s.id, /^[a-z0-9]+(-[a-z0-9]+)*$/);
    localizedSchema.parse(s.title);
    assert.ok(s.hints.length >= 1 && s.hints.length <= 3, `${s.id}: 1-3 hints`);
    for (const h of [s.title, ...s.hints]) assert.match(h.zh, /[\u4e00-\u9fff]/, `${s.id}: zh text is Chinese`);
    assert.ok(s.kinds.length > 0);
    if (s.answer) {
      localizedSchema.parse(s.answer.label);
      assert.match(s.answer.label.zh, /[\u4e00-\u9fff]/);
    }
  }
  assert.deepEqual(
    lab.solution.map((s) => s.stepId),
    ids,
    'the solution covers every step in order',
  );
  for (const s of lab.solution) for (const a of s.actions) if (a.type === 'type') assert.ok(a.terminal < lab.terminals);
}

/** assertLabShape, and these step ids, this many terminals, and 2-3 hints a step. */
export function assertWellFormedLab(lab: LabDef, stepIds: string[], terminals: number): void {
  assertLabShape(lab);
  assert.equal(lab.terminals, terminals);
  assert.deepEqual(
    lab.steps.map((s) => s.id),
    stepIds,
  );
  for (const s of lab.steps) assert.ok(s.hints.length >= 2 && s.hints.length <= 3, `${s.id} has 2-3 hints`);
}

/** Every message and hint of the results is in both languages, zh in Chinese. */
export function assertBilingual(results: Record<string, StepResult>): void {
  for (const r of Object.values(results)) {
    for (const text of [r.message, r.hint]) {
      if (!text) continue;
      assert.ok(text.en.length > 0 && text.zh.length > 0);
      assert.match(text.zh, /[\u4e00-\u9fff]/, `${r.stepId}: zh text is Chinese: ${text.zh}`);
    }
  }
}

/**
 * The definition test every lab's suite starts with: its shape and these step ids in order (a
 * contract with the lesson); with `terminals`, also that count and 2-3 hints a step.
 */
export function testDefinition(lab: LabDef, stepIds: string[], terminals?: number): void {
  test(`${lab.id}: definition (contracted step ids, bilingual text, hints, a solution for every step)`, () => {
    if (terminals === undefined) {
      assertLabShape(lab);
      assert.deepEqual(
        lab.steps.map((s) => s.id),
        stepIds,
      );
    } else assertWellFormedLab(lab, stepIds, terminals);
  });
}

/** Grades the whole lab on `observation` and asserts these steps passed; returns every result. */
export function assertPasses(lab: LabDef, observation: Observation, stepIds: string[]): Record<string, StepResult> {
  const results = gradeAll(lab, observation);
  for (const id of stepIds) assert.equal(results[id]?.status, 'passed', `${id}: ${results[id]?.message?.en}`);
  return results;
}
