// The step ledger of a session: each step's result, whether the progress database holds a passed
// step ("saved"), each open step's latest failing check message (the instructor's view), and the
// hand-off of a newly passed step to the outbox. Every change a browser should see goes out through
// the client hub's one broadcast, so the learner and viewers see the same steps.
import type { GradeOutcome, GradeTrigger, StepOutcome } from '../../../labs/core/grade';
import type { Evidence, LabDef, Localized, StepDef, StepResult } from '../../../labs/core/model';
import type { ServerMessage, SessionStatus } from '../../protocol/index';
import { metrics } from '../metrics';

/** The result every open step gets when the learner asks while the sandbox is over the grader's limits. */
export function tooMuchStateMessage(reasons: Localized[]): { message: Localized; hint: Localized } {
  return {
    message: {
      en: `Too much state to check: ${reasons.map((r) => r.en).join('; ')}. The grader reads a bounded amount of each sandbox so that the lab stays fast for everyone; your sandbox itself still works.`,
      zh: `要检查的状态太多：${reasons.map((r) => r.zh).join('；')}。评分程序对每个沙箱只读取有限的内容，以便实验对所有人都保持流畅；你的沙箱本身仍然正常。`,
    },
    hint: {
      en: 'Remove what this lab does not need (for example `ip route flush table main` in that namespace, or delete extra namespaces, interfaces or mounts), then press Check again.',
      zh: '请删除本实验不需要的东西（例如在那个命名空间中执行 `ip route flush table main`，或删除多余的命名空间、网络接口或挂载点），然后再次点击“检查”。',
    },
  };
}

type LatestFailure = { message: Localized; atMs: number };

export class StepLedger {
  /** Per step not passed yet: the latest failing check message (for the instructor, never pushed to the learner). */
  private latestFailures: Record<string, LatestFailure> = {};

  constructor(
    private readonly lab: LabDef,
    private results: Record<string, StepResult>,
    /** The client hub's broadcast. */
    private readonly broadcast: (message: ServerMessage) => void,
    /** Queues a newly passed step for the progress database; true when the database does not hold it yet. */
    private readonly handOff: (result: StepResult) => boolean,
  ) {}

  /** Results keyed by step id (the manager keeps them when the sandbox goes). */
  get byStepId(): Record<string, StepResult> {
    return this.results;
  }

  /** Results in the lab's step order. */
  get inLabOrder(): StepResult[] {
    return this.lab.steps.map((step) => this.results[step.id]!).filter(Boolean);
  }

  isPassed(stepId: string): boolean {
    return this.results[stepId]?.status === 'passed';
  }

  get hasOpenSteps(): boolean {
    return this.inLabOrder.some((r) => r.status !== 'passed');
  }

  /** Steps not passed yet, in lab order. */
  openSteps(): StepDef[] {
    return this.lab.steps.filter((step) => !this.isPassed(step.id));
  }

  /** The evidence of the passed steps (what later steps' checks see as Observation.passed). */
  passedEvidence(): Record<string, Evidence> {
    const passed: Record<string, Evidence> = {};
    for (const result of Object.values(this.results)) if (result.status === 'passed') passed[result.stepId] = result.evidence;
    return passed;
  }

  /**
   * Takes one grading round's outcome: new results, a newly passed step queued durably before the
   * learner sees it ("not saved yet" until the database has it), every change broadcast, and the
   * instructor's latest failures from the same round's check outcomes (nothing grades twice).
   */
  applyRound(outcome: GradeOutcome, nowMs: number): void {
    const before = this.results;
    this.results = Object.fromEntries(outcome.results.map((r) => [r.stepId, r]));
    for (const result of outcome.changed) {
      if (result.status === 'passed' && before[result.stepId]?.status !== 'passed') {
        metrics.stepsPassed.inc({ lab: this.lab.id });
        if (this.handOff(result)) {
          result.saved = false;
          this.results[result.stepId] = result;
        }
      }
      this.broadcast({ type: 'step', result });
    }
    this.recordLatestFailures(outcome.outcomes, nowMs);
  }

  /** The progress database stored this step: tell every browser ("saved"). */
  markSaved(stepId: string): void {
    const result = this.results[stepId];
    if (!result || result.status !== 'passed' || result.saved === true) return;
    const saved = { ...result, saved: true };
    this.results[stepId] = saved;
    this.broadcast({ type: 'step', result: saved });
  }

  /**
   * The sandbox holds more than the grader reads (snapshot.ts tooMuchState): no check runs on a
   * partial picture. When the learner asked (Check, an answer), every open step says so and why,
   * in the learner's language; poll rounds stay silent. A passed step stays passed.
   */
  answerTooMuchState(reasons: Localized[], trigger: GradeTrigger, answeredStepId?: string): void {
    if (trigger === 'auto') return;
    const { message, hint } = tooMuchStateMessage(reasons);
    const nowMs = Date.now();
    for (const step of this.lab.steps) {
      const prev = this.results[step.id];
      if (prev?.status === 'passed') continue;
      if (trigger === 'answer' && answeredStepId !== undefined && step.id !== answeredStepId) continue;
      const result: StepResult = { stepId: step.id, status: 'failed', message, hint, evidence: {}, atMs: prev?.status === 'failed' ? prev.atMs : nowMs };
      this.results[step.id] = result;
      this.broadcast({ type: 'step', result });
    }
  }

  /** Keeps each open step's current failing message; its time changes only when the message does. */
  private recordLatestFailures(outcomes: StepOutcome[], nowMs: number): void {
    const next: Record<string, LatestFailure> = {};
    for (const outcome of outcomes) {
      if (outcome.status !== 'failed') continue;
      const previous = this.latestFailures[outcome.stepId];
      const same = previous && previous.message.en === outcome.message.en && previous.message.zh === outcome.message.zh;
      next[outcome.stepId] = same ? previous : { message: outcome.message, atMs: nowMs };
    }
    this.latestFailures = next;
  }

  /** The instructor dashboard's view of the steps: status, saved, and the latest failing check message. */
  stepStatuses(): SessionStatus['steps'] {
    return this.inLabOrder.map((r) => ({
      stepId: r.stepId,
      status: r.status,
      atMs: r.atMs,
      ...(r.saved !== undefined ? { saved: r.saved } : {}),
      latestFailure: r.status === 'passed' ? null : (this.latestFailures[r.stepId] ?? (r.status === 'failed' && r.message ? { message: r.message, atMs: r.atMs } : null)),
    }));
  }
}
