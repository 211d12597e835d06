// The grading loop of a session: when a grading round runs. Requests (a command ended, Check, an
// answer, the poll) are queued and coalesced so rounds of one sandbox never overlap; a command's
// end is debounced; a sandbox's rounds stay within its grading budget; the periodic poll waits for
// quiet keys and output. What a round does is the session's (GradingLoopHost.round).
import type { GradeTrigger } from '../../../labs/core/grade';
import type { AgentConfig } from '../config';
import { metrics } from '../metrics';

/**
 * Poll rounds (the periodic 'auto' grading) wait while the learner is typing or output is
 * streaming: a round reads /proc and may spawn helpers, which holds the event loop for
 * milliseconds, and that would land on keystroke echoes and on bulk output. A due round starts once
 * keys and output have been quiet for POLL_QUIET_MS, or once it is POLL_MAX_DEFER_MS late,
 * whichever comes first. Grading on a command's end, `check` and answers never wait.
 */
export const POLL_QUIET_MS = 100;
export const POLL_MAX_DEFER_MS = 5_000;
/**
 * Grading budget per sandbox (issue 12): rounds of one sandbox never overlap, and after a round
 * that took d ms the next starts no sooner than GRADE_COST_FACTOR x d later, so a sandbox's grading
 * (however many Checks its learner sends: they coalesce) takes at most 1 / (1 + GRADE_COST_FACTOR)
 * of the time, and its cost stays proportional to what its own reads cost. A sandbox over the
 * grader's read limits ("too much state") waits TOO_MUCH_BACKOFF_MS, doubling per such round up to
 * TOO_MUCH_BACKOFF_MAX_MS, until it is back within them; a Check or an answer waits at most
 * ASKED_MAX_WAIT_MS of that, so a learner who just cleaned up is answered soon.
 */
export const GRADE_COST_FACTOR = 3;
export const TOO_MUCH_BACKOFF_MS = 1_000;
export const TOO_MUCH_BACKOFF_MAX_MS = 8_000;
/** A Check or an answer waits at most this long for the budget (a learner who just cleaned up is answered soon). */
export const ASKED_MAX_WAIT_MS = 2_000;
/** A command's end is graded this long after it (a burst of commands makes one round). */
const COMMAND_DEBOUNCE_MS = 20;

const triggerRank: Record<GradeTrigger, number> = { auto: 0, answer: 1, explicit: 2 };

/** What one round reports back, for the budget. */
export interface RoundReport {
  /** The sandbox was over the grader's read limits: no checks ran. */
  overLimits: boolean;
  /** How long the round waited on probes (a ping waits for replies, not for the agent: not charged). */
  probeWaitMs: number;
  /** The round graded (took a snapshot and ran the checks). */
  graded: boolean;
}

export interface GradingLoopHost {
  isRunning(): boolean;
  /** A learner is attached (the poll runs only then). */
  hasLearner(): boolean;
  /** Some step is not passed yet (the poll has something to find). */
  hasOpenSteps(): boolean;
  /** Runs one round: snapshot, probes, checks, results. Never rejects. */
  round(trigger: GradeTrigger, answeredStepId?: string): Promise<RoundReport>;
  /** A request came while a round is in flight (maybe waiting on a probe): the live map should not wait for it. */
  roundBusy(): void;
}

export class GradingLoop {
  /** Grading rounds run (tests and the battery read it). */
  rounds = 0;
  /** How long the last round that graded took (the poll slows down for sandboxes expensive to read). */
  lastGradeMs: number | null = null;
  private grading = false;
  private queued: { trigger: GradeTrigger; answeredStepId?: string } | null = null;
  /** Grading budget (GRADE_COST_FACTOR): when the last round ended (performance.now()), how long the next waits, and the timer that runs the queued one then. */
  private lastRoundEndMs = -Infinity;
  private gradeWaitMs = 0;
  private gradeTimer: { timer: NodeJS.Timeout; atMs: number } | null = null;
  /** Consecutive rounds over the grader's limits (TOO_MUCH_BACKOFF_MS doubles with each). */
  private tooMuchRounds = 0;
  private pollTimer: NodeJS.Timeout | null = null;
  private commandTimer: NodeJS.Timeout | null = null;
  /** performance.now() of the last keystroke and of the last output (poll rounds wait for quiet). */
  private lastKeyAtMs = -Infinity;
  private lastOutputAtMs = -Infinity;

  constructor(
    private readonly host: GradingLoopHost,
    private readonly config: AgentConfig,
  ) {}

  /** Consecutive rounds so far that found the sandbox over the grader's limits. */
  get overLimitRounds(): number {
    return this.tooMuchRounds;
  }

  noteKey(atMs: number): void {
    this.lastKeyAtMs = atMs;
  }

  noteOutput(atMs: number): void {
    this.lastOutputAtMs = atMs;
  }

  /** A command ended in a terminal: grade shortly (debounced). */
  commandEnded(): void {
    if (this.commandTimer) clearTimeout(this.commandTimer);
    this.commandTimer = setTimeout(() => this.request('auto'), COMMAND_DEBOUNCE_MS);
  }

  /** Runs a round now or as soon as the budget allows; concurrent requests coalesce (the strongest trigger wins). */
  request(trigger: GradeTrigger, answeredStepId?: string): void {
    if (!this.host.isRunning()) return;
    const now = performance.now();
    const dueAtMs = this.lastRoundEndMs + (trigger === 'auto' ? this.gradeWaitMs : Math.min(this.gradeWaitMs, ASKED_MAX_WAIT_MS));
    if (this.grading || dueAtMs > now) {
      if (!this.queued || triggerRank[trigger] >= triggerRank[this.queued.trigger]) this.queued = { trigger, answeredStepId };
      if (this.grading) {
        this.host.roundBusy();
        return;
      }
      // Within this sandbox's grading budget: the request waits (coalesced with any others).
      metrics.gradingDeferred.inc();
      if (this.gradeTimer && this.gradeTimer.atMs <= dueAtMs) return;
      if (this.gradeTimer) clearTimeout(this.gradeTimer.timer);
      const timer = setTimeout(() => {
        this.gradeTimer = null;
        this.runQueued();
      }, Math.ceil(dueAtMs - now));
      this.gradeTimer = { timer, atMs: dueAtMs };
      return;
    }
    this.grading = true;
    void this.run(trigger, answeredStepId).finally(() => {
      this.grading = false;
      this.runQueued();
    });
  }

  private runQueued(): void {
    const next = this.queued;
    this.queued = null;
    if (next) this.request(next.trigger, next.answeredStepId);
  }

  private async run(trigger: GradeTrigger, answeredStepId?: string): Promise<void> {
    const started = performance.now();
    this.rounds++;
    let report: RoundReport = { overLimits: false, probeWaitMs: 0, graded: false };
    try {
      report = await this.host.round(trigger, answeredStepId);
      if (report.graded) {
        this.lastGradeMs = performance.now() - started;
        metrics.grade.observe(this.lastGradeMs / 1000);
      }
    } finally {
      // Charge the round to this sandbox's grading budget (see GRADE_COST_FACTOR): its reads and
      // checks, not the time a probe waited for replies (that costs the agent nothing).
      const now = performance.now();
      this.tooMuchRounds = report.overLimits ? this.tooMuchRounds + 1 : 0;
      this.gradeWaitMs = report.overLimits
        ? Math.min(TOO_MUCH_BACKOFF_MAX_MS, TOO_MUCH_BACKOFF_MS * 2 ** (this.tooMuchRounds - 1))
        : GRADE_COST_FACTOR * Math.max(0, now - started - report.probeWaitMs);
      this.lastRoundEndMs = now;
    }
  }

  /** Starts (or restarts) the periodic poll; a sandbox that is expensive to read is polled less often. */
  startPolling(): void {
    if (this.pollTimer) clearTimeout(this.pollTimer);
    const intervalMs = Math.max(this.config.AGENT_GRADE_POLL_MS, 3 * (this.lastGradeMs ?? 0));
    this.pollTimer = setTimeout(() => this.pollWhenQuiet(performance.now()), intervalMs);
  }

  stopPolling(): void {
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = null;
  }

  /** A poll round is due (since `dueAtMs`): runs it once keys and output are quiet (see POLL_QUIET_MS). */
  private pollWhenQuiet(dueAtMs: number): void {
    this.pollTimer = null;
    if (!this.host.hasLearner() || !this.host.isRunning()) return;
    const now = performance.now();
    const quietForMs = now - Math.max(this.lastKeyAtMs, this.lastOutputAtMs);
    if (quietForMs < POLL_QUIET_MS && now - dueAtMs < POLL_MAX_DEFER_MS) {
      const waitMs = Math.min(POLL_QUIET_MS - quietForMs, POLL_MAX_DEFER_MS - (now - dueAtMs));
      this.pollTimer = setTimeout(() => this.pollWhenQuiet(dueAtMs), Math.max(1, Math.ceil(waitMs)));
      return;
    }
    if (this.host.hasOpenSteps()) this.request('auto');
    this.startPolling();
  }

  /** The session ended: no more rounds start. */
  stop(): void {
    for (const timer of [this.pollTimer, this.commandTimer, this.gradeTimer?.timer]) if (timer) clearTimeout(timer);
    this.pollTimer = null;
    this.commandTimer = null;
    this.gradeTimer = null;
  }
}
