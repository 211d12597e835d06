// A learner session: one sandbox, its terminals, the command transcript, answers and step results,
// and at most one attached browser connection. The SessionManager creates, finds and reaps them.
import { randomBytes } from 'node:crypto';
import type { Answer, CommandRecord, Evidence, LabDef, Localized, Observation, StepResult } from '../../labs/core/model';
import { gradeLab, initialResults, type GradeTrigger } from '../../labs/core/grade';
import { getLab } from '../../labs/index';
import { MAP_LIMITS, closeCodes, noticeCodes, encodeOutputFrame, mapSnapshotKey, toMapSnapshot, type MapSnapshot, type ServerMessage, type SessionStatus } from '../protocol/index';
import type { AgentConfig } from './config';
import { buildSnapshot, tooMuchState } from './grader/snapshot';
import { runProbes } from './grader/probes';
import { log } from './log';
import { metrics } from './metrics';
import { resultKey, type ResultOutbox } from './outbox';
import { defaultSandboxLimits, type Sandbox, type SandboxDriver } from './sandbox/driver';
import { Terminal } from './terminal/terminal';
import type { ParsedCommand } from './terminal/shell-marks';

/** The agent's view of an attached browser (implemented over a WebSocket in server.ts). */
export interface ClientConnection {
  sendJson(message: ServerMessage): void;
  sendBinary(frame: Uint8Array): void;
  /** Sends an `error` message, then closes with the code. */
  fail(code: number, errorCode: string, message: string): void;
}

const triggerRank: Record<GradeTrigger, number> = { auto: 0, answer: 1, explicit: 2 };

const MAX_TRANSCRIPT = 200;

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

/** At most one 'input-dropped' notice per terminal this often. */
export const INPUT_DROPPED_NOTICE_MS = 5_000;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfterS?: number,
  ) {
    super(message);
  }
}

export class Session {
  readonly createdAtMs = Date.now();
  state: 'running' | 'stopped' = 'running';
  readonly terminals: Terminal[];
  private readonly transcript: CommandRecord[] = [];
  private readonly answers: Record<string, Answer> = {};
  private client: ClientConnection | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private commandTimer: NodeJS.Timeout | null = null;
  private grading = false;
  private queued: { trigger: GradeTrigger; answeredStepId?: string } | null = null;
  lastGradeMs: number | null = null;
  /** Grading budget (GRADE_COST_FACTOR): when the last round ended (performance.now()), how long the next waits, and the timer that runs the queued one then. */
  private lastRoundEndMs = -Infinity;
  private gradeWaitMs = 0;
  private gradeTimer: { timer: NodeJS.Timeout; atMs: number } | null = null;
  /** Consecutive rounds over the grader's limits (TOO_MUCH_BACKOFF_MS doubles with each). */
  private tooMuchRounds = 0;
  /** Grading rounds run (tests and the battery read it). */
  gradingRounds = 0;
  /** How long the last observe() waited on its probes (a ping waits for replies, not for the agent). */
  private lastProbeWaitMs = 0;
  /** When the oldest keystroke not yet followed by output was typed, per terminal (echo metric). */
  private readonly keystrokeAt: (number | undefined)[] = [];
  /** Live namespace map: the latest trimmed snapshot, the key of the one last sent, when, and a pending send. */
  private mapLatest: { map: MapSnapshot; key: string } | null = null;
  private mapSentKey: string | null = null;
  private mapSentAtMs = 0;
  private mapTimer: NodeJS.Timeout | null = null;
  /** A map-only snapshot in flight (taken while a grading round is busy, e.g. waiting on a ping probe). */
  private mapRefreshing = false;
  /** Snapshots are numbered when started; the map never goes back to an older one than it showed. */
  private snapshotSeq = 0;
  private mapSeq = 0;
  /** Read-only browsers (an instructor's live view): output, replay and steps; never input. */
  private readonly viewers = new Set<ClientConnection>();
  /** Per step not passed yet: the latest failing check message (for the instructor, never pushed to the learner). */
  private latestFailures: Record<string, { message: Localized; atMs: number }> = {};
  /** When the learner's browser last attached or detached. */
  connectionChangedAtMs = Date.now();
  /** Input idle: when the attached learner last typed or acted, its timer, and whether the warning went out. */
  private lastInputAtMs = Date.now();
  private inputIdleTimer: NodeJS.Timeout | null = null;
  private idleWarned = false;
  /** Slow consumer: re-checks how long output has been held back for the attached client. */
  private stallTimer: NodeJS.Timeout | null = null;
  /** performance.now() of the last keystroke and of the last output (poll rounds wait for quiet). */
  private lastKeyAtMs = -Infinity;
  private lastOutputAtMs = -Infinity;
  /** performance.now() of the last 'input-dropped' notice, per terminal. */
  private readonly inputDroppedNoticeAt: number[] = [];

  constructor(
    readonly id: string,
    readonly learnerId: string,
    readonly lab: LabDef,
    readonly sandbox: Sandbox,
    private results: Record<string, StepResult>,
    private readonly config: AgentConfig,
    private readonly onEnd: (session: Session, reason: string) => void,
    /** Called once when a step newly passes (the manager queues it for the progress database). */
    private readonly onPassed: (session: Session, result: StepResult) => boolean = () => false,
  ) {
    this.terminals = Array.from(
      { length: lab.terminals },
      (_, index) =>
        new Terminal(index, (size) => sandbox.shellCommand(size), {
          onOutput: (terminal, _offset, _data, frame) => {
            const typedAt = this.keystrokeAt[terminal];
            if (typedAt !== undefined) {
              metrics.echo.observe((performance.now() - typedAt) / 1000);
              this.keystrokeAt[terminal] = undefined;
            }
            this.lastOutputAtMs = performance.now();
            this.client?.sendBinary(frame);
            for (const viewer of this.viewers) viewer.sendBinary(frame);
          },
          onCommand: (terminal, command) => this.recordCommand(terminal, command),
          onExit: (terminal, exitCode, signal) => {
            this.client?.sendJson({ type: 'exit', terminal, exitCode, signal });
            for (const viewer of this.viewers) viewer.sendJson({ type: 'exit', terminal, exitCode, signal });
          },
          onFlow: (_terminal, paused) => {
            if (paused && this.client && !this.stallTimer) this.scheduleStallCheck(this.config.AGENT_SLOW_CONSUMER_MS);
          },
          onInputDropped: (terminal, bytes) => this.inputDropped(terminal, bytes),
        }),
    );
    for (const terminal of this.terminals) terminal.start();
    void sandbox.exited.then(() => {
      if (this.state === 'stopped') return;
      this.client?.fail(
        closeCodes.sandboxLost,
        'sandbox-lost',
        'Your sandbox stopped (its first process ended or it ran out of memory). Reload the page to get a fresh one; your progress is kept.',
      );
      void this.end('sandbox-exited');
    });
    this.armIdleTimer();
  }

  get labId(): string {
    return this.lab.id;
  }

  get stepResults(): StepResult[] {
    return this.lab.steps.map((step) => this.results[step.id]!).filter(Boolean);
  }

  get progress(): Record<string, StepResult> {
    return this.results;
  }

  /** The progress database stored this step: tell the browser ("saved"). */
  markSaved(stepId: string): void {
    const result = this.results[stepId];
    if (!result || result.status !== 'passed' || result.saved === true) return;
    const saved = { ...result, saved: true };
    this.results[stepId] = saved;
    this.client?.sendJson({ type: 'step', result: saved });
  }

  get hasClient(): boolean {
    return this.client !== null;
  }

  /** Attaches a browser; a previous one is told it was replaced and closed. */
  attach(client: ClientConnection, resume: { terminal: number; offset: number }[], size?: { cols: number; rows: number }): void {
    if (this.client) this.client.fail(closeCodes.replaced, 'replaced', 'This lab was opened in another tab or window.');
    this.client = client;
    this.connectionChangedAtMs = Date.now();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (size) for (const terminal of this.terminals) terminal.resize(size.cols, size.rows);
    const replayedFrom = this.sendReadyAndReplay(client, resume);
    for (const terminal of this.terminals) terminal.attach(replayedFrom[terminal.index]!);
    this.mapSentKey = null; // a new browser gets the current map at once
    this.flushMap();
    this.schedulePoll();
    this.requestGrade('auto');
    // Opening the lab is the learner acting: the input-idle clock starts now.
    this.lastInputAtMs = Date.now();
    this.idleWarned = false;
    this.checkInputIdle();
    if (this.terminals.some((t) => t.pausedSinceMs !== null)) this.scheduleStallCheck(this.config.AGENT_SLOW_CONSUMER_MS);
  }

  /** Attaches a read-only viewer (at most AGENT_MAX_VIEWERS_PER_SESSION): ready + replay + live output and steps; no flow control, no input. */
  attachViewer(client: ClientConnection, resume: { terminal: number; offset: number }[]): void {
    const max = this.config.AGENT_MAX_VIEWERS_PER_SESSION;
    if (this.viewers.size >= max) {
      client.fail(closeCodes.rateLimited, 'too-many-viewers', `This terminal already has ${max} viewer${max === 1 ? '' : 's'}.`);
      return;
    }
    this.viewers.add(client);
    this.sendReadyAndReplay(client, resume);
  }

  /**
   * Sends `ready`, then each terminal's kept output after the offset the client already rendered,
   * in frames of at most 32 KiB. Returns, per terminal, the offset the replay started from.
   */
  private sendReadyAndReplay(client: ClientConnection, resume: { terminal: number; offset: number }[]): number[] {
    client.sendJson({
      type: 'ready',
      protocol: 1,
      sessionId: this.id,
      labId: this.lab.id,
      terminals: this.terminals.map((t) => ({ terminal: t.index, replayFrom: t.replayFrom, offset: t.offset, running: t.running })),
      steps: this.stepResults,
    });
    return this.terminals.map((terminal) => {
      const rendered = resume.find((r) => r.terminal === terminal.index)?.offset ?? 0;
      const { offset, data } = terminal.readFrom(rendered);
      for (let i = 0; i < data.length; i += 32 * 1024) {
        client.sendBinary(encodeOutputFrame(terminal.index, offset + i, data.subarray(i, i + 32 * 1024)));
      }
      return offset;
    });
  }

  /**
   * The program on a terminal does not read its input and the terminal's queue is full: the input
   * is dropped (terminal.ts) and the learner is told, at most once every INPUT_DROPPED_NOTICE_MS.
   */
  private inputDropped(terminal: number, bytes: number): void {
    metrics.inputDropped.inc({}, bytes);
    const now = performance.now();
    if (now - (this.inputDroppedNoticeAt[terminal] ?? -Infinity) < INPUT_DROPPED_NOTICE_MS) return;
    this.inputDroppedNoticeAt[terminal] = now;
    this.notify({
      level: 'warning',
      code: noticeCodes.inputDropped,
      terminal,
      message: `Your typing in terminal ${terminal + 1} is being dropped: the program running there is not reading its input. Stop it (Ctrl-C, or kill it from another terminal) to type again.`,
    });
  }

  /** Sends a notice to the learner's browser (and viewers); false when no browser is attached. */
  notify(notice: { level: 'info' | 'warning'; code: string; message: string; inMs?: number; terminal?: number }): boolean {
    for (const viewer of this.viewers) viewer.sendJson({ type: 'notice', ...notice });
    if (!this.client) return false;
    this.client.sendJson({ type: 'notice', ...notice });
    return true;
  }

  /** The instructor dashboard's view: per step its status and the latest failing check message. */
  status(): SessionStatus {
    const steps = this.stepResults;
    const current = steps.find((r) => r.status !== 'passed') ?? null;
    const lastPassMs = Math.max(this.createdAtMs, ...steps.filter((r) => r.status === 'passed').map((r) => r.atMs));
    return {
      sessionId: this.id,
      learnerId: this.learnerId,
      labId: this.lab.id,
      createdAtMs: this.createdAtMs,
      state: this.state,
      connected: this.client !== null,
      connectionChangedAtMs: this.connectionChangedAtMs,
      viewers: this.viewers.size,
      currentStepId: current?.stepId ?? null,
      currentStepSinceMs: current ? lastPassMs : null,
      steps: steps.map((r) => ({
        stepId: r.stepId,
        status: r.status,
        atMs: r.atMs,
        ...(r.saved !== undefined ? { saved: r.saved } : {}),
        latestFailure: r.status === 'passed' ? null : (this.latestFailures[r.stepId] ?? (r.status === 'failed' && r.message ? { message: r.message, atMs: r.atMs } : null)),
      })),
    };
  }

  detach(client: ClientConnection): void {
    if (this.viewers.delete(client)) return;
    if (this.client !== client) return;
    this.client = null;
    this.connectionChangedAtMs = Date.now();
    for (const terminal of this.terminals) terminal.attach(null);
    for (const timer of [this.pollTimer, this.inputIdleTimer, this.stallTimer]) if (timer) clearTimeout(timer);
    this.pollTimer = null;
    this.inputIdleTimer = null;
    this.stallTimer = null;
    this.armIdleTimer();
  }

  input(terminal: number, data: string | Buffer): void {
    this.lastKeyAtMs = performance.now();
    this.keystrokeAt[terminal] ??= this.lastKeyAtMs;
    this.terminals[terminal]?.write(data);
    this.noteActivity();
  }

  /** The attached learner typed or acted (input, check, answer, restart, `active`): the input-idle clock restarts. */
  noteActivity(): void {
    this.lastInputAtMs = Date.now();
    if (this.idleWarned) {
      this.idleWarned = false;
      this.checkInputIdle();
    }
  }

  /**
   * Input idle (AGENT_INPUT_IDLE_MS, 0 = off), while a learner is attached: AGENT_IDLE_WARNING_MS
   * before the end the browser gets the notice 'idle-warning' (with `inMs`); with still no input
   * the session ends as 'idle' (sandbox torn down, passed steps kept). Called by its own timer.
   */
  private checkInputIdle(): void {
    if (this.inputIdleTimer) clearTimeout(this.inputIdleTimer);
    this.inputIdleTimer = null;
    const idleMs = this.config.AGENT_INPUT_IDLE_MS;
    const client = this.client;
    if (idleMs === 0 || !client || this.state !== 'running') return;
    const now = Date.now();
    const endAt = this.lastInputAtMs + idleMs;
    if (now >= endAt) {
      log('info', 'session ended: no input', { session: this.id, idleMs });
      void this.end('idle');
      return;
    }
    const warnAt = endAt - this.config.AGENT_IDLE_WARNING_MS;
    if (!this.idleWarned && this.config.AGENT_IDLE_WARNING_MS > 0 && now >= warnAt) {
      this.idleWarned = true;
      const inMs = endAt - now;
      this.notify({
        level: 'warning',
        code: noticeCodes.idleWarning,
        message: `No input for a while: this session ends in ${Math.ceil(inMs / 1000)} s unless you type something or press "I'm still here". Your progress is kept.`,
        inMs,
      });
    }
    const next = this.idleWarned || this.config.AGENT_IDLE_WARNING_MS === 0 ? endAt : warnAt;
    this.inputIdleTimer = setTimeout(() => this.checkInputIdle(), Math.max(0, next - now) + 5);
    this.inputIdleTimer.unref();
  }

  /**
   * Slow consumer: while a terminal's PTY is paused because the attached client does not
   * acknowledge output (it stopped reading), the client is closed 4408 once that has lasted
   * AGENT_SLOW_CONSUMER_MS. The shells keep running (output goes to the replay buffer) for resume.
   */
  private scheduleStallCheck(inMs: number): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = setTimeout(() => {
      this.stallTimer = null;
      const client = this.client;
      if (!client || this.state !== 'running') return;
      const held = this.terminals.filter((t) => t.running && t.pausedSinceMs !== null).map((t) => t.pausedSinceMs!);
      if (held.length === 0) return;
      const heldMs = Date.now() - Math.min(...held);
      const boundMs = this.config.AGENT_SLOW_CONSUMER_MS;
      if (heldMs < boundMs) return this.scheduleStallCheck(boundMs - heldMs);
      log('info', 'slow consumer: output held back too long', { session: this.id, heldMs });
      client.fail(closeCodes.slowConsumer, 'slow-consumer', `Your browser did not read terminal output for ${Math.round(heldMs / 1000)} s; reconnecting.`);
      // Detached now (not when the close handshake ends): the shells run on into the replay buffer.
      this.detach(client);
    }, inMs);
    this.stallTimer.unref();
  }

  resize(terminal: number, cols: number, rows: number): void {
    this.terminals[terminal]?.resize(cols, rows);
  }

  ack(terminal: number, offset: number): void {
    this.terminals[terminal]?.ack(offset);
  }

  restart(terminal: number): void {
    const t = this.terminals[terminal];
    if (t && !t.running) t.start();
  }

  answer(stepId: string, value: string): void {
    if (!this.lab.steps.some((s) => s.id === stepId && s.answer)) {
      this.client?.sendJson({ type: 'error', code: 'unknown-step', message: `No step "${stepId}" takes an answer in this lab.` });
      return;
    }
    this.answers[stepId] = { value, atMs: Date.now() };
    this.requestGrade('answer', stepId);
  }

  private recordCommand(terminal: number, command: ParsedCommand): void {
    this.transcript.push({ terminal, ...command });
    if (this.transcript.length > MAX_TRANSCRIPT) this.transcript.splice(0, this.transcript.length - MAX_TRANSCRIPT);
    if (this.commandTimer) clearTimeout(this.commandTimer);
    this.commandTimer = setTimeout(() => this.requestGrade('auto'), 20);
  }

  /** Runs the lab's checks against a fresh host-side snapshot; coalesces concurrent requests. */
  requestGrade(trigger: GradeTrigger, answeredStepId?: string): void {
    if (this.state !== 'running') return;
    const now = performance.now();
    const dueAtMs = this.lastRoundEndMs + (trigger === 'auto' ? this.gradeWaitMs : Math.min(this.gradeWaitMs, ASKED_MAX_WAIT_MS));
    if (this.grading || dueAtMs > now) {
      if (!this.queued || triggerRank[trigger] >= triggerRank[this.queued.trigger]) this.queued = { trigger, answeredStepId };
      if (this.grading) {
        // The round in flight may be waiting on a probe (a ping that gets no reply waits its whole
        // timeout): the live map must not wait for it, so it gets a snapshot of its own now.
        this.refreshMap();
        return;
      }
      // Within this sandbox's grading budget: the request waits (coalesced with any others).
      metrics.gradingDeferred.inc();
      if (this.gradeTimer && this.gradeTimer.atMs <= dueAtMs) return;
      if (this.gradeTimer) clearTimeout(this.gradeTimer.timer);
      const timer = setTimeout(() => {
        this.gradeTimer = null;
        const next = this.queued;
        this.queued = null;
        if (next) this.requestGrade(next.trigger, next.answeredStepId);
      }, Math.ceil(dueAtMs - now));
      this.gradeTimer = { timer, atMs: dueAtMs };
      return;
    }
    this.grading = true;
    void this.grade(trigger, answeredStepId).finally(() => {
      this.grading = false;
      const next = this.queued;
      this.queued = null;
      if (next) this.requestGrade(next.trigger, next.answeredStepId);
    });
  }

  /**
   * What the checks see right now: a fresh host-side snapshot plus transcript, answers and kept
   * evidence. `probes: 'open'` (the grading loop) runs only the probes of steps not passed yet.
   */
  async observe(options: { probes: 'all' | 'open' } = { probes: 'all' }): Promise<Observation> {
    const snapshotStarted = performance.now();
    const seq = ++this.snapshotSeq;
    const snapshot = await buildSnapshot(this.sandbox, { timeoutMs: 3_000 });
    metrics.snapshot.observe((performance.now() - snapshotStarted) / 1000);
    // The live map gets the snapshot now, not after the probes (a ping may take a second).
    if (this.state === 'running') this.publishMap(snapshot, seq);
    const passed: Record<string, Evidence> = {};
    for (const result of Object.values(this.results)) if (result.status === 'passed') passed[result.stepId] = result.evidence;
    // Probes run only for steps still open: a passed step stays passed, and a ping that gets no
    // reply costs its whole timeout on every round.
    const probeSpecs = this.lab.steps.flatMap((step) =>
      options.probes === 'open' && this.results[step.id]?.status === 'passed' ? [] : (step.probes ?? []),
    );
    // Over the grader's limits the checks do not run (grade()), so neither do their probes.
    const probesStarted = performance.now();
    const probes = probeSpecs.length > 0 && tooMuchState(snapshot).length === 0 ? await runProbes(probeSpecs, snapshot) : undefined;
    this.lastProbeWaitMs = performance.now() - probesStarted;
    return { snapshot, transcript: [...this.transcript], answers: { ...this.answers }, passed, ...(probes ? { probes } : {}) };
  }

  private async grade(trigger: GradeTrigger, answeredStepId?: string): Promise<void> {
    const started = performance.now();
    this.gradingRounds++;
    this.lastProbeWaitMs = 0;
    let overLimits = false;
    try {
      const observation = await this.observe({ probes: 'open' });
      if (this.state !== 'running') return;
      const reasons = tooMuchState(observation.snapshot);
      if (reasons.length > 0) {
        overLimits = true;
        this.answerTooMuchState(reasons, trigger, answeredStepId);
        return;
      }
      const { results, changed } = gradeLab(this.lab, observation, this.results, { nowMs: Date.now(), trigger, answeredStepId });
      const before = this.results;
      this.results = Object.fromEntries(results.map((r) => [r.stepId, r]));
      for (const result of changed) {
        if (result.status === 'passed' && before[result.stepId]?.status !== 'passed') {
          // Queued durably before the learner sees it; "not saved yet" until the database has it.
          metrics.stepsPassed.inc({ lab: this.lab.id });
          if (this.onPassed(this, result)) {
            result.saved = false;
            this.results[result.stepId] = result;
          }
        }
        this.client?.sendJson({ type: 'step', result });
        for (const viewer of this.viewers) viewer.sendJson({ type: 'step', result });
      }
      this.recordLatestFailures(observation);
      this.lastGradeMs = performance.now() - started;
      metrics.grade.observe(this.lastGradeMs / 1000);
    } catch (error) {
      log('warn', 'grading failed', { session: this.id, error });
      if (trigger !== 'auto') {
        this.client?.sendJson({ type: 'notice', level: 'warning', code: 'grading-failed', message: 'The grader could not read your sandbox just now; it will try again.' });
      }
    } finally {
      // Charge the round to this sandbox's grading budget (see GRADE_COST_FACTOR): its reads and
      // checks, not the time a probe waited for replies (that costs the agent nothing).
      const now = performance.now();
      this.tooMuchRounds = overLimits ? this.tooMuchRounds + 1 : 0;
      this.gradeWaitMs = overLimits
        ? Math.min(TOO_MUCH_BACKOFF_MAX_MS, TOO_MUCH_BACKOFF_MS * 2 ** (this.tooMuchRounds - 1))
        : GRADE_COST_FACTOR * Math.max(0, now - started - this.lastProbeWaitMs);
      this.lastRoundEndMs = now;
    }
  }

  /**
   * The sandbox holds more than the grader reads (snapshot.ts tooMuchState): no check runs on a
   * partial picture. When the learner asked (Check, an answer), every open step says so and why,
   * in the learner's language; poll rounds stay silent. A passed step stays passed.
   */
  private answerTooMuchState(reasons: Localized[], trigger: GradeTrigger, answeredStepId?: string): void {
    metrics.tooMuchState.inc();
    if (this.tooMuchRounds === 0) log('info', 'grading: too much state to check', { session: this.id, reasons: reasons.map((r) => r.en) });
    if (trigger === 'auto') return;
    const { message, hint } = tooMuchStateMessage(reasons);
    const nowMs = Date.now();
    for (const step of this.lab.steps) {
      const prev = this.results[step.id];
      if (prev?.status === 'passed') continue;
      if (trigger === 'answer' && answeredStepId !== undefined && step.id !== answeredStepId) continue;
      const result: StepResult = { stepId: step.id, status: 'failed', message, hint, evidence: {}, atMs: prev?.status === 'failed' ? prev.atMs : nowMs };
      this.results[step.id] = result;
      this.client?.sendJson({ type: 'step', result });
      for (const viewer of this.viewers) viewer.sendJson({ type: 'step', result });
    }
  }

  /** Keeps each open step's current failing message for the instructor (checks are pure: a second run is cheap). */
  private recordLatestFailures(observation: Observation): void {
    try {
      const nowMs = Date.now();
      const probe = gradeLab(this.lab, observation, this.results, { nowMs, trigger: 'explicit' });
      const next: Record<string, { message: Localized; atMs: number }> = {};
      for (const r of probe.results) {
        if (r.status !== 'failed' || !r.message) continue;
        const previous = this.latestFailures[r.stepId];
        const same = previous && previous.message.en === r.message.en && previous.message.zh === r.message.zh;
        next[r.stepId] = same ? previous : { message: r.message, atMs: nowMs };
      }
      this.latestFailures = next;
    } catch (error) {
      log('warn', 'latest failure probe failed', { session: this.id, error });
    }
  }

  /** Takes a snapshot for the live map only (no checks, no probes); at most one in flight. */
  private refreshMap(): void {
    if (this.mapRefreshing || this.state !== 'running' || !this.client) return;
    this.mapRefreshing = true;
    const started = performance.now();
    const seq = ++this.snapshotSeq;
    buildSnapshot(this.sandbox, { timeoutMs: 3_000 })
      .then((snapshot) => {
        metrics.snapshot.observe((performance.now() - started) / 1000);
        if (this.state === 'running') this.publishMap(snapshot, seq);
      })
      .catch((error: unknown) => log('warn', 'map snapshot failed', { session: this.id, error }))
      .finally(() => {
        this.mapRefreshing = false;
      });
  }

  /** Sends the map's view of a snapshot when it changed, at most MAP_LIMITS.perSecond times a second. */
  private publishMap(snapshot: Observation['snapshot'], seq: number): void {
    if (seq < this.mapSeq) return;
    this.mapSeq = seq;
    try {
      // An open step's answer stays off the map until the step passed (StepDef.conceals).
      const conceal = this.lab.steps.filter((step) => this.results[step.id]?.status !== 'passed').flatMap((step) => step.conceals ?? []);
      const map = toMapSnapshot(snapshot, { conceal });
      this.mapLatest = { map, key: mapSnapshotKey(map) };
      this.flushMap();
    } catch (error) {
      log('warn', 'map snapshot failed', { session: this.id, error });
    }
  }

  private flushMap(): void {
    const latest = this.mapLatest;
    if (!this.client || !latest || latest.key === this.mapSentKey || this.mapTimer) return;
    const waitMs = this.mapSentAtMs + 1000 / MAP_LIMITS.perSecond - Date.now();
    if (waitMs > 0) {
      this.mapTimer = setTimeout(() => {
        this.mapTimer = null;
        this.flushMap();
      }, waitMs);
      return;
    }
    this.mapSentKey = latest.key;
    this.mapSentAtMs = Date.now();
    this.client.sendJson({ type: 'snapshot', snapshot: latest.map });
  }

  private schedulePoll(): void {
    if (this.pollTimer) clearTimeout(this.pollTimer);
    // A sandbox that is expensive to read (hundreds of namespaces) is polled less often.
    const intervalMs = Math.max(this.config.AGENT_GRADE_POLL_MS, 3 * (this.lastGradeMs ?? 0));
    this.pollTimer = setTimeout(() => this.pollWhenQuiet(performance.now()), intervalMs);
  }

  /** A poll round is due (since `dueAtMs`): runs it once keys and output are quiet (see POLL_QUIET_MS). */
  private pollWhenQuiet(dueAtMs: number): void {
    this.pollTimer = null;
    if (!this.client || this.state !== 'running') return;
    const now = performance.now();
    const quietForMs = now - Math.max(this.lastKeyAtMs, this.lastOutputAtMs);
    if (quietForMs < POLL_QUIET_MS && now - dueAtMs < POLL_MAX_DEFER_MS) {
      const waitMs = Math.min(POLL_QUIET_MS - quietForMs, POLL_MAX_DEFER_MS - (now - dueAtMs));
      this.pollTimer = setTimeout(() => this.pollWhenQuiet(dueAtMs), Math.max(1, Math.ceil(waitMs)));
      return;
    }
    if (this.stepResults.some((r) => r.status !== 'passed')) this.requestGrade('auto');
    this.schedulePoll();
  }

  private armIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => void this.end('idle'), this.config.AGENT_IDLE_GRACE_MS);
    this.idleTimer.unref();
  }

  /** Ends the session: closes the client, kills shells, destroys the sandbox. Idempotent. */
  async end(reason: string, closeReason?: 'session-ended' | 'workshop-ended'): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    for (const timer of [this.idleTimer, this.pollTimer, this.commandTimer, this.mapTimer, this.inputIdleTimer, this.stallTimer, this.gradeTimer?.timer]) if (timer) clearTimeout(timer);
    this.client?.fail(
      reason === 'shutdown' ? closeCodes.goingAway : closeCodes.sessionEnded,
      reason === 'shutdown' ? 'going-away' : reason === 'idle' ? 'session-idle' : (closeReason ?? 'session-ended'),
      reason === 'shutdown' ? 'The lab service is restarting; reconnecting…' : `This session ended (${reason}).`,
    );
    this.client = null;
    for (const viewer of this.viewers) viewer.fail(closeCodes.sessionEnded, 'session-ended', `This session ended (${reason}).`);
    this.viewers.clear();
    for (const terminal of this.terminals) terminal.kill();
    this.onEnd(this, reason);
    try {
      await this.sandbox.destroy();
    } catch (error) {
      log('error', 'sandbox teardown failed', { session: this.id, error });
    }
  }
}

export class SessionManager {
  private readonly sessions = new Map<string, Session>();
  private readonly byLearnerLab = new Map<string, string>();
  /** Step results per learner and lab, kept when a sandbox is lost or reaped (in memory for now). */
  private readonly progress = new Map<string, Record<string, StepResult>>();
  private readonly starting = new Map<string, Promise<Session>>();

  constructor(
    private readonly driver: SandboxDriver,
    private readonly config: AgentConfig,
    /** Durable queue of passed steps for the app's progress database (null: progress stays in memory). */
    private readonly outbox: ResultOutbox | null = null,
  ) {
    outbox?.onDelivered((item) => {
      const id = this.byLearnerLab.get(`${item.learnerId}\u0000${item.labId}`);
      if (id) this.sessions.get(id)?.markSaved(item.result.stepId);
      const kept = this.progress.get(`${item.learnerId}\u0000${item.labId}`)?.[item.result.stepId];
      if (kept?.status === 'passed') kept.saved = true;
    });
  }

  get size(): number {
    return this.sessions.size;
  }

  get(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  ids(): Set<string> {
    return new Set(this.sessions.keys());
  }

  /** Returns the learner's running session for the lab, or starts one. */
  async getOrCreate(
    learnerId: string,
    labId: string,
    stored: StepResult[] = [],
  ): Promise<{ session: Session; created: boolean }> {
    const lab = getLab(labId);
    if (!lab) throw new HttpError(404, `unknown lab "${labId}"`);
    const key = `${learnerId}\u0000${labId}`;
    const existingId = this.byLearnerLab.get(key);
    const existing = existingId ? this.sessions.get(existingId) : undefined;
    if (existing && existing.state === 'running' && existing.sandbox.isAlive()) return { session: existing, created: false };
    const pending = this.starting.get(key);
    if (pending) return { session: await pending, created: false };
    if (this.sessions.size + this.starting.size >= this.config.AGENT_MAX_SESSIONS) {
      metrics.startsRefused.inc({ status: '503' });
      throw new HttpError(503, 'This lab machine is full right now. Please try again in a minute.', 30);
    }
    if (this.starting.size >= this.config.AGENT_MAX_CONCURRENT_STARTS) {
      metrics.startsRefused.inc({ status: '429' });
      throw new HttpError(429, 'Many labs are starting at once. Retrying shortly.', 1);
    }
    const start = this.start(learnerId, lab, key, stored);
    this.starting.set(key, start);
    try {
      return { session: await start, created: true };
    } finally {
      this.starting.delete(key);
    }
  }

  private async start(learnerId: string, lab: LabDef, key: string, stored: StepResult[]): Promise<Session> {
    const id = `s-${randomBytes(9).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, 'x')}`;
    const sandbox = await this.driver.create({
      id,
      hostname: 'nslab',
      limits: { ...defaultSandboxLimits, ...lab.limits },
    });
    const results = this.progress.get(key) ?? Object.fromEntries(initialResults(lab, Date.now()).map((r) => [r.stepId, r]));
    // What the progress database already holds starts passed (and saved), whatever this agent knows.
    for (const result of stored) {
      if (lab.steps.some((s) => s.id === result.stepId) && results[result.stepId]?.status !== 'passed') {
        results[result.stepId] = { ...result, status: 'passed', saved: true };
      }
    }
    const outbox = this.outbox;
    const session = new Session(
      id,
      learnerId,
      lab,
      sandbox,
      results,
      this.config,
      (s, reason) => {
        this.progress.set(key, s.progress);
        this.sessions.delete(s.id);
        if (this.byLearnerLab.get(key) === s.id) this.byLearnerLab.delete(key);
        metrics.sessionsEnded.inc({ reason });
        log('info', 'session ended', { session: s.id, reason });
      },
      (s, result) => {
        if (!outbox) return false;
        outbox.enqueue({ key: resultKey(s.learnerId, s.labId, result.stepId), learnerId: s.learnerId, labId: s.labId, result: { ...result, status: 'passed' } });
        return !outbox.isDelivered(resultKey(s.learnerId, s.labId, result.stepId));
      },
    );
    this.sessions.set(id, session);
    this.byLearnerLab.set(key, id);
    metrics.sessionStart.observe(sandbox.startMs / 1000);
    metrics.sessionsStarted.inc();
    log('info', 'session started', { session: id, lab: lab.id, startMs: Math.round(sandbox.startMs) });
    return session;
  }

  /** Running sessions of these learners (of these labs, when given). */
  forLearners(learnerIds: readonly string[], labIds?: readonly string[]): Session[] {
    const learners = new Set(learnerIds);
    const labs = labIds ? new Set(labIds) : null;
    return [...this.sessions.values()].filter((s) => learners.has(s.learnerId) && (!labs || labs.has(s.labId)));
  }

  /** Ends every session of these learners; returns how many ended. */
  async endForLearners(learnerIds: readonly string[], reason: string, closeReason?: 'session-ended' | 'workshop-ended'): Promise<number> {
    const ending = this.forLearners(learnerIds);
    await Promise.allSettled(ending.map((s) => s.end(reason, closeReason)));
    return ending.length;
  }

  async delete(id: string): Promise<boolean> {
    const session = this.sessions.get(id);
    if (!session) return false;
    await session.end('deleted');
    return true;
  }

  async shutdown(): Promise<void> {
    await Promise.allSettled([...this.sessions.values()].map((s) => s.end('shutdown')));
  }
}
