// The pure grading engine: runs a lab's checks against an observation and merges the outcome
// with the previous results under the rules the learner relies on:
// - a passed step stays passed and keeps its evidence and message (a 60 s sleep never takes credit
//   away);
// - 'auto' (a command ended, the short poll) only ever moves a step to passed: it never shows a
//   failure the learner did not ask for;
// - 'explicit' (the learner pressed Check) gives every unpassed step its current status, failures
//   with the check's message and hint;
// - 'answer' gives the answered step passed or failed; the others behave as on 'auto'.
// A check that throws never crashes the caller: it becomes a failure saying the grader had an
// internal problem (shown only when a failure may be shown).
import type { CheckResult, Evidence, LabDef, Localized, Observation, StepDef, StepResult } from './model';
import { t } from './model';

export type GradeTrigger = 'auto' | 'explicit' | 'answer';

export interface GradeOptions {
  nowMs: number;
  trigger: GradeTrigger;
  /** With trigger 'answer': the step whose answer the learner just submitted. */
  answeredStepId?: string;
}

/** What a step's check said in this run, whatever the trigger lets the learner see. */
export interface StepOutcome {
  stepId: string;
  status: 'passed' | 'failed';
  message: Localized;
  /** The check's hint, or the step's first hint (what an 'explicit' failure would show). */
  hint: Localized | null;
  evidence: Evidence;
}

export interface GradeOutcome {
  /** One result per step, in the lab's step order. */
  results: StepResult[];
  /** Only the results whose status or message changed (what to push to the browser). */
  changed: StepResult[];
  /**
   * The check outcome of every step that was open (not passed) before this run, in step order.
   * Callers that want the current failure of a step the learner still sees as pending (the
   * instructor's "latest failure") read it here instead of grading a second time.
   */
  outcomes: StepOutcome[];
}

export function initialResult(stepId: string, nowMs: number): StepResult {
  return { stepId, status: 'pending', message: null, hint: null, evidence: {}, atMs: nowMs };
}

export function initialResults(lab: LabDef, nowMs: number): StepResult[] {
  return lab.steps.map((s) => initialResult(s.id, nowMs));
}

export function internalErrorMessage(): Localized {
  return t(
    'The grader had an internal problem checking this step; this is not your fault. Press Check again, and tell your instructor if it persists.',
    '评分程序在检查这一步时出现了内部问题，这不是你的错。请再点一次“检查”；如果问题仍然存在，请告诉讲师。',
  );
}

/** Runs one check; anything it throws (or a malformed result) becomes an internal-error failure. */
export function runCheck(step: StepDef, observation: Observation): CheckResult & { internalError?: string } {
  try {
    const result = step.check(observation);
    if (!result || (result.status !== 'passed' && result.status !== 'failed') || !result.message) {
      throw new Error(`check of step ${step.id} returned a malformed result`);
    }
    return result;
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    return {
      status: 'failed',
      message: internalErrorMessage(),
      evidence: { internalError: detail.slice(0, 200) },
      internalError: detail,
    };
  }
}

function sameLocalized(a: Localized | null, b: Localized | null): boolean {
  if (a === null || b === null) return a === b;
  return a.en === b.en && a.zh === b.zh;
}

export function gradeLab(
  lab: LabDef,
  observation: Observation,
  previous: Record<string, StepResult>,
  opts: GradeOptions,
): GradeOutcome {
  // Later steps see the evidence of earlier ones, including steps passing in this very run.
  const passed: Record<string, Evidence> = { ...observation.passed };
  for (const r of Object.values(previous)) {
    if (r.status === 'passed' && passed[r.stepId] === undefined) passed[r.stepId] = r.evidence;
  }

  const results: StepResult[] = [];
  const changed: StepResult[] = [];
  const outcomes: StepOutcome[] = [];
  for (const step of lab.steps) {
    const prev = previous[step.id] ?? initialResult(step.id, opts.nowMs);
    if (prev.status === 'passed') {
      results.push(prev);
      passed[step.id] ??= prev.evidence;
      continue;
    }

    const outcome = runCheck(step, { ...observation, passed: { ...passed } });
    const mayShowFailure = opts.trigger === 'explicit' || (opts.trigger === 'answer' && opts.answeredStepId === step.id);
    const hint = outcome.status === 'passed' ? null : (outcome.hint ?? step.hints[0] ?? null);
    outcomes.push({ stepId: step.id, status: outcome.status, message: outcome.message, hint, evidence: outcome.evidence });

    let next: StepResult;
    if (outcome.status === 'passed') {
      next = {
        stepId: step.id,
        status: 'passed',
        message: outcome.message,
        hint: null,
        evidence: outcome.evidence,
        atMs: opts.nowMs,
      };
      passed[step.id] = outcome.evidence;
    } else if (mayShowFailure) {
      next = {
        stepId: step.id,
        status: 'failed',
        message: outcome.message,
        hint,
        evidence: outcome.evidence,
        atMs: prev.status === 'failed' ? prev.atMs : opts.nowMs,
      };
    } else {
      next = prev;
    }

    results.push(next);
    if (next.status !== prev.status || !sameLocalized(next.message, prev.message)) changed.push(next);
  }
  return { results, changed, outcomes };
}

/** Results keyed by step id (the shape gradeLab takes as `previous`). */
export function resultsById(results: StepResult[]): Record<string, StepResult> {
  return Object.fromEntries(results.map((r) => [r.stepId, r]));
}

/** The evidence of passed results, keyed by step id (the shape Observation.passed takes). */
export function passedEvidenceOf(results: StepResult[]): Record<string, Evidence> {
  return Object.fromEntries(results.filter((r) => r.status === 'passed').map((r) => [r.stepId, r.evidence]));
}
