// A learner session: one sandbox, its terminals, the command transcript and answers, composed
// with the parts that follow the data flow:
//   terminals --output--> ClientHub (learner + viewers, one broadcast, idle/slow-consumer timers)
//   commands, Check, answers, poll --> GradingLoop (queue, debounce, budget, quiet poll)
//   a round: snapshot --> MapPublisher (the live map) and gradeLab --> StepLedger (results, saved, outbox)
// Creating and reaping sessions is lifecycle.ts (SessionManager).
import type { Answer, CommandRecord, LabDef, Localized, Observation, StepResult } from '../../../labs/core/model';
import { gradeLab, type GradeTrigger } from '../../../labs/core/grade';
import type { SessionStatus } from '../../protocol/index';
import type { AgentConfig } from '../config';
import { buildSnapshot, tooMuchState } from '../grader/snapshot';
import { runProbes } from '../grader/probes';
import { log } from '../log';
import { metrics } from '../metrics';
import type { Sandbox } from '../sandbox/driver';
import type { ParsedCommand } from '../terminal/shell-marks';
import { Terminal } from '../terminal/terminal';
import { ClientHub, type ClientConnection, type Notice, type ResumeOffsets } from './client-hub';
import { GradingLoop, type RoundReport } from './grading-loop';
import { MapPublisher } from './map-publisher';
import { StepLedger } from './step-ledger';

const MAX_TRANSCRIPT = 200;
/** Snapshots for grading give up after this long (the round then fails and is retried). */
const SNAPSHOT_TIMEOUT_MS = 3_000;

export interface SessionCallbacks {
  /** The session ended (once): the manager forgets it and keeps its results. */
  ended(session: Session, reason: string): void;
  /** A step newly passed: the manager queues it for the progress database; true when not stored yet. */
  passed(session: Session, result: StepResult): boolean;
}

export class Session {
  readonly createdAtMs = Date.now();
  state: 'running' | 'stopped' = 'running';
  readonly terminals: Terminal[];
  private readonly transcript: CommandRecord[] = [];
  private readonly answers: Record<string, Answer> = {};
  private readonly hub: ClientHub;
  /** When grading rounds run (public so tests can watch its requests). */
  readonly grading: GradingLoop;
  private readonly map: MapPublisher;
  private readonly ledger: StepLedger;
  /** How long the last observe() waited on its probes (a ping waits for replies, not for the agent). */
  private lastProbeWaitMs = 0;
  /** When the oldest keystroke not yet followed by output was typed, per terminal (echo metric). */
  private readonly keystrokeAt: (number | undefined)[] = [];

  constructor(
    readonly id: string,
    readonly learnerId: string,
    readonly lab: LabDef,
    readonly sandbox: Sandbox,
    results: Record<string, StepResult>,
    config: AgentConfig,
    private readonly callbacks: SessionCallbacks,
  ) {
    this.hub = new ClientHub(this, config, {
      learnerAttached: () => {
        this.map.resend();
        this.grading.startPolling();
        this.grading.request('auto');
      },
      learnerDetached: () => this.grading.stopPolling(),
      viewerAttached: (viewer) => this.map.sendCurrentTo(viewer),
    });
    this.ledger = new StepLedger(lab, results, (message) => this.hub.broadcast(message), (result) => this.callbacks.passed(this, result));
    const isRunning = (): boolean => this.state === 'running';
    this.map = new MapPublisher(
      { id, sandbox, isRunning, concealed: () => this.ledger.openSteps().flatMap((step) => step.conceals ?? []) },
      this.hub,
    );
    this.grading = new GradingLoop(
      {
        isRunning,
        hasLearner: () => this.hub.hasLearner,
        hasOpenSteps: () => this.ledger.hasOpenSteps,
        round: (trigger, answeredStepId) => this.gradeRound(trigger, answeredStepId),
        // The round in flight may be waiting on a probe (a ping that gets no reply waits its whole
        // timeout): the live map must not wait for it, so it gets a snapshot of its own now.
        roundBusy: () => this.map.refresh(),
      },
      config,
    );
    this.terminals = Array.from(
      { length: lab.terminals },
      (_, index) =>
        new Terminal(index, (size) => sandbox.shellCommand(size), {
          onOutput: (terminal, _offset, _data, frame) => {
            const now = performance.now();
            const typedAt = this.keystrokeAt[terminal];
            if (typedAt !== undefined) {
              metrics.echo.observe((now - typedAt) / 1000);
              this.keystrokeAt[terminal] = undefined;
            }
            this.grading.noteOutput(now);
            this.hub.broadcastOutput(frame);
          },
          onCommand: (terminal, command) => this.recordCommand(terminal, command),
          onExit: (terminal, exitCode, signal) => this.hub.broadcast({ type: 'exit', terminal, exitCode, signal }),
          onFlow: (_terminal, paused) => {
            if (paused) this.hub.outputPaused();
          },
          onInputDropped: (terminal, bytes) => this.hub.inputDropped(terminal, bytes),
        }),
    );
    for (const terminal of this.terminals) terminal.start();
    void sandbox.exited.then(() => {
      if (this.state === 'stopped') return;
      this.hub.sandboxLost();
      void this.end('sandbox-exited');
    });
  }

  get labId(): string {
    return this.lab.id;
  }

  get stepResults(): StepResult[] {
    return this.ledger.inLabOrder;
  }

  get progress(): Record<string, StepResult> {
    return this.ledger.byStepId;
  }

  get hasClient(): boolean {
    return this.hub.hasLearner;
  }

  get connectionChangedAtMs(): number {
    return this.hub.connectionChangedAtMs;
  }

  /** Grading rounds run (tests and the battery read it). */
  get gradingRounds(): number {
    return this.grading.rounds;
  }

  get lastGradeMs(): number | null {
    return this.grading.lastGradeMs;
  }

  /** The progress database stored this step: tell the browsers ("saved"). */
  markSaved(stepId: string): void {
    this.ledger.markSaved(stepId);
  }

  /** Attaches the learner's browser; a previous one is told it was replaced and closed. */
  attach(client: ClientConnection, resume: ResumeOffsets, size?: { cols: number; rows: number }): void {
    this.hub.attach(client, resume, size);
  }

  /** Attaches a read-only viewer (see ClientHub.attachViewer). */
  attachViewer(client: ClientConnection, resume: ResumeOffsets): void {
    this.hub.attachViewer(client, resume);
  }

  detach(client: ClientConnection): void {
    this.hub.detach(client);
  }

  /** Sends a notice to the learner's browser (and viewers); false when no learner is attached. */
  notify(notice: Notice): boolean {
    return this.hub.notify(notice);
  }

  /** The attached learner typed or acted (input, check, answer, restart, `active`): the input-idle clock restarts. */
  noteActivity(): void {
    this.hub.noteActivity();
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
      connected: this.hub.hasLearner,
      connectionChangedAtMs: this.hub.connectionChangedAtMs,
      viewers: this.hub.viewerCount,
      currentStepId: current?.stepId ?? null,
      currentStepSinceMs: current ? lastPassMs : null,
      steps: this.ledger.stepStatuses(),
    };
  }

  input(terminal: number, data: string | Buffer): void {
    const now = performance.now();
    this.grading.noteKey(now);
    this.keystrokeAt[terminal] ??= now;
    this.terminals[terminal]?.write(data);
    this.hub.noteActivity();
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
      this.hub.replyToLearner({ type: 'error', code: 'unknown-step', message: `No step "${stepId}" takes an answer in this lab.` });
      return;
    }
    this.answers[stepId] = { value, atMs: Date.now() };
    this.grading.request('answer', stepId);
  }

  private recordCommand(terminal: number, command: ParsedCommand): void {
    this.transcript.push({ terminal, ...command });
    if (this.transcript.length > MAX_TRANSCRIPT) this.transcript.splice(0, this.transcript.length - MAX_TRANSCRIPT);
    this.grading.commandEnded();
  }

  /** Runs the lab's checks against a fresh host-side snapshot; coalesces concurrent requests. */
  requestGrade(trigger: GradeTrigger, answeredStepId?: string): void {
    this.grading.request(trigger, answeredStepId);
  }

  /**
   * What the checks see right now: a fresh host-side snapshot plus transcript, answers and kept
   * evidence. `probes: 'open'` (the grading loop) runs only the probes of steps not passed yet.
   */
  async observe(options: { probes: 'all' | 'open' } = { probes: 'all' }): Promise<Observation> {
    const snapshotStarted = performance.now();
    const seq = this.map.nextSeq();
    const snapshot = await buildSnapshot(this.sandbox, { timeoutMs: SNAPSHOT_TIMEOUT_MS });
    metrics.snapshot.observe((performance.now() - snapshotStarted) / 1000);
    // The live map gets the snapshot now, not after the probes (a ping may take a second).
    this.map.publish(snapshot, seq);
    const passed = this.ledger.passedEvidence();
    // Probes run only for steps still open: a passed step stays passed, and a ping that gets no
    // reply costs its whole timeout on every round.
    const probeSpecs = this.lab.steps.flatMap((step) => (options.probes === 'open' && this.ledger.isPassed(step.id) ? [] : (step.probes ?? [])));
    // Over the grader's limits the checks do not run (gradeRound()), so neither do their probes.
    const probesStarted = performance.now();
    const probes = probeSpecs.length > 0 && tooMuchState(snapshot).length === 0 ? await runProbes(probeSpecs, snapshot) : undefined;
    this.lastProbeWaitMs = performance.now() - probesStarted;
    return { snapshot, transcript: [...this.transcript], answers: { ...this.answers }, passed, ...(probes ? { probes } : {}) };
  }

  /** One grading round (the GradingLoop decides when): observe, then the checks, once, into the ledger. */
  private async gradeRound(trigger: GradeTrigger, answeredStepId?: string): Promise<RoundReport> {
    this.lastProbeWaitMs = 0;
    const report = (overLimits: boolean, graded: boolean): RoundReport => ({ overLimits, graded, probeWaitMs: this.lastProbeWaitMs });
    try {
      const observation = await this.observe({ probes: 'open' });
      if (this.state !== 'running') return report(false, false);
      const reasons = tooMuchState(observation.snapshot);
      if (reasons.length > 0) {
        this.tooMuchState(reasons, trigger, answeredStepId);
        return report(true, false);
      }
      const nowMs = Date.now();
      this.ledger.applyRound(gradeLab(this.lab, observation, this.ledger.byStepId, { nowMs, trigger, answeredStepId }), nowMs);
      return report(false, true);
    } catch (error) {
      log('warn', 'grading failed', { session: this.id, error });
      if (trigger !== 'auto') {
        this.hub.replyToLearner({ type: 'notice', level: 'warning', code: 'grading-failed', message: 'The grader could not read your sandbox just now; it will try again.' });
      }
      return report(false, false);
    }
  }

  /** The sandbox holds more than the grader reads: counted, logged once per spell, answered by the ledger. */
  private tooMuchState(reasons: Localized[], trigger: GradeTrigger, answeredStepId?: string): void {
    metrics.tooMuchState.inc();
    if (this.grading.overLimitRounds === 0) log('info', 'grading: too much state to check', { session: this.id, reasons: reasons.map((r) => r.en) });
    this.ledger.answerTooMuchState(reasons, trigger, answeredStepId);
  }

  /** Ends the session: closes the browsers, kills shells, destroys the sandbox. Idempotent. */
  async end(reason: string, closeReason?: 'session-ended' | 'workshop-ended'): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.grading.stop();
    this.map.stop();
    this.hub.close(reason, closeReason);
    for (const terminal of this.terminals) terminal.kill();
    this.callbacks.ended(this, reason);
    try {
      await this.sandbox.destroy();
    } catch (error) {
      log('error', 'sandbox teardown failed', { session: this.id, error });
    }
  }
}
