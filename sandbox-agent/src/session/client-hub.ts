// The client hub of a session: its browsers (at most one learner, a few read-only viewers), the
// ONE broadcast every message to all of them goes through, ready + replay on attach, and the timers
// that watch the learner's connection (no browser attached, no input, a client that stopped
// reading output). It sends and closes; what the session does on attach/detach is its hooks.
import type { StepResult } from '../../../labs/core/model';
import { closeCodes, encodeOutputFrame, noticeCodes, type ServerMessage } from '../../protocol/index';
import type { AgentConfig } from '../config';
import { log } from '../log';
import { metrics } from '../metrics';
import type { Terminal } from '../terminal/terminal';

/** The agent's view of an attached browser (implemented over a WebSocket in server/terminal-socket.ts). */
export interface ClientConnection {
  sendJson(message: ServerMessage): void;
  sendBinary(frame: Uint8Array): void;
  /** Sends an `error` message, then closes with the code. */
  fail(code: number, errorCode: string, message: string): void;
}

/** Offsets of output a browser already rendered, per terminal (from its `auth` message). */
export type ResumeOffsets = { terminal: number; offset: number }[];

export type Notice = { level: 'info' | 'warning'; code: string; message: string; inMs?: number; terminal?: number };

/** What the hub reads of its session. */
export interface HubSession {
  readonly id: string;
  readonly labId: string;
  readonly terminals: readonly Terminal[];
  readonly stepResults: StepResult[];
  readonly state: 'running' | 'stopped';
  end(reason: string): Promise<void>;
}

export interface HubHooks {
  /** The learner attached (after ready and replay): live grading and the map resume. */
  learnerAttached(): void;
  /** The learner detached: live work stops until a browser comes back. */
  learnerDetached(): void;
  /** A viewer attached (after ready and replay): it gets the current map. */
  viewerAttached(viewer: ClientConnection): void;
}

/** At most one 'input-dropped' notice per terminal this often. */
export const INPUT_DROPPED_NOTICE_MS = 5_000;

/** Replay frames carry at most this much output each. */
const REPLAY_FRAME_BYTES = 32 * 1024;

export class ClientHub {
  private learner: ClientConnection | null = null;
  /** Read-only browsers (an instructor's live view): output, replay, steps, map; never input. */
  private readonly viewers = new Set<ClientConnection>();
  /** When the learner's browser last attached or detached. */
  connectionChangedAtMs = Date.now();
  /** No browser attached: the session ends after AGENT_IDLE_GRACE_MS. */
  private idleTimer: NodeJS.Timeout | null = null;
  /** Input idle: when the attached learner last typed or acted, its timer, and whether the warning went out. */
  private lastInputAtMs = Date.now();
  private inputIdleTimer: NodeJS.Timeout | null = null;
  private idleWarned = false;
  /** Slow consumer: re-checks how long output has been held back for the attached learner. */
  private stallTimer: NodeJS.Timeout | null = null;
  /** performance.now() of the last 'input-dropped' notice, per terminal. */
  private readonly inputDroppedNoticeAt: number[] = [];

  constructor(
    private readonly session: HubSession,
    private readonly config: AgentConfig,
    private readonly hooks: HubHooks,
  ) {
    this.armIdleTimer();
  }

  get hasLearner(): boolean {
    return this.learner !== null;
  }

  /** Anyone watching (the learner or a viewer). */
  get hasAudience(): boolean {
    return this.learner !== null || this.viewers.size > 0;
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  /** The one way a message reaches every attached browser: the learner and the viewers alike. */
  broadcast(message: ServerMessage): void {
    this.learner?.sendJson(message);
    for (const viewer of this.viewers) viewer.sendJson(message);
  }

  /** Live terminal output, to every attached browser. */
  broadcastOutput(frame: Uint8Array): void {
    this.learner?.sendBinary(frame);
    for (const viewer of this.viewers) viewer.sendBinary(frame);
  }

  /** A reply to something the learner did (an error, a notice about their Check): the learner only. */
  replyToLearner(message: ServerMessage): void {
    this.learner?.sendJson(message);
  }

  /** Sends a notice to every attached browser; false when no learner is attached (they missed it). */
  notify(notice: Notice): boolean {
    this.broadcast({ type: 'notice', ...notice });
    return this.learner !== null;
  }

  /** Attaches the learner's browser; a previous one is told it was replaced and closed. */
  attach(client: ClientConnection, resume: ResumeOffsets, size?: { cols: number; rows: number }): void {
    if (this.learner) this.learner.fail(closeCodes.replaced, 'replaced', 'This lab was opened in another tab or window.');
    this.learner = client;
    this.connectionChangedAtMs = Date.now();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const { terminals } = this.session;
    if (size) for (const terminal of terminals) terminal.resize(size.cols, size.rows);
    const replayedFrom = this.sendReadyAndReplay(client, resume);
    for (const terminal of terminals) terminal.attach(replayedFrom[terminal.index]!);
    this.hooks.learnerAttached();
    // Opening the lab is the learner acting: the input-idle clock starts now.
    this.lastInputAtMs = Date.now();
    this.idleWarned = false;
    this.checkInputIdle();
    if (terminals.some((t) => t.pausedSinceMs !== null)) this.scheduleStallCheck(this.config.AGENT_SLOW_CONSUMER_MS);
  }

  /** Attaches a read-only viewer (at most AGENT_MAX_VIEWERS_PER_SESSION): ready + replay + live output and steps; no flow control, no input. */
  attachViewer(client: ClientConnection, resume: ResumeOffsets): void {
    const max = this.config.AGENT_MAX_VIEWERS_PER_SESSION;
    if (this.viewers.size >= max) {
      client.fail(closeCodes.rateLimited, 'too-many-viewers', `This terminal already has ${max} viewer${max === 1 ? '' : 's'}.`);
      return;
    }
    this.viewers.add(client);
    this.sendReadyAndReplay(client, resume);
    this.hooks.viewerAttached(client);
  }

  detach(client: ClientConnection): void {
    if (this.viewers.delete(client)) return;
    if (this.learner !== client) return;
    this.learner = null;
    this.connectionChangedAtMs = Date.now();
    for (const terminal of this.session.terminals) terminal.attach(null);
    for (const timer of [this.inputIdleTimer, this.stallTimer]) if (timer) clearTimeout(timer);
    this.inputIdleTimer = null;
    this.stallTimer = null;
    this.hooks.learnerDetached();
    this.armIdleTimer();
  }

  /**
   * Sends `ready`, then each terminal's kept output after the offset the client already rendered,
   * in frames of at most REPLAY_FRAME_BYTES. Returns, per terminal, the offset the replay started from.
   */
  private sendReadyAndReplay(client: ClientConnection, resume: ResumeOffsets): number[] {
    const { terminals } = this.session;
    client.sendJson({
      type: 'ready',
      protocol: 1,
      sessionId: this.session.id,
      labId: this.session.labId,
      terminals: terminals.map((t) => ({ terminal: t.index, replayFrom: t.replayFrom, offset: t.offset, running: t.running })),
      steps: this.session.stepResults,
    });
    return terminals.map((terminal) => {
      const rendered = resume.find((r) => r.terminal === terminal.index)?.offset ?? 0;
      const { offset, data } = terminal.readFrom(rendered);
      for (let i = 0; i < data.length; i += REPLAY_FRAME_BYTES) {
        client.sendBinary(encodeOutputFrame(terminal.index, offset + i, data.subarray(i, i + REPLAY_FRAME_BYTES)));
      }
      return offset;
    });
  }

  /** The attached learner typed or acted (input, check, answer, restart, `active`): the input-idle clock restarts. */
  noteActivity(): void {
    this.lastInputAtMs = Date.now();
    if (this.idleWarned) {
      this.idleWarned = false;
      this.checkInputIdle();
    }
  }

  /** A terminal's PTY was paused by flow control: watch how long the learner leaves it unread. */
  outputPaused(): void {
    if (this.learner && !this.stallTimer) this.scheduleStallCheck(this.config.AGENT_SLOW_CONSUMER_MS);
  }

  /**
   * The program on a terminal does not read its input and the terminal's queue is full: the input
   * is dropped (terminal.ts) and the learner is told, at most once every INPUT_DROPPED_NOTICE_MS.
   */
  inputDropped(terminal: number, bytes: number): void {
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

  /** The sandbox is gone on its own: the learner is told why before the session ends. */
  sandboxLost(): void {
    this.learner?.fail(
      closeCodes.sandboxLost,
      'sandbox-lost',
      'Your sandbox stopped (its first process ended or it ran out of memory). Reload the page to get a fresh one; your progress is kept.',
    );
  }

  /** The session ended: every browser is told why and closed, and the hub's timers stop. */
  close(reason: string, closeReason?: 'session-ended' | 'workshop-ended'): void {
    for (const timer of [this.idleTimer, this.inputIdleTimer, this.stallTimer]) if (timer) clearTimeout(timer);
    const shutdown = reason === 'shutdown';
    this.learner?.fail(
      shutdown ? closeCodes.goingAway : closeCodes.sessionEnded,
      shutdown ? 'going-away' : reason === 'idle' ? 'session-idle' : (closeReason ?? 'session-ended'),
      shutdown ? 'The lab service is restarting; reconnecting…' : `This session ended (${reason}).`,
    );
    this.learner = null;
    for (const viewer of this.viewers) viewer.fail(closeCodes.sessionEnded, 'session-ended', `This session ended (${reason}).`);
    this.viewers.clear();
  }

  private armIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => void this.session.end('idle'), this.config.AGENT_IDLE_GRACE_MS);
    this.idleTimer.unref();
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
    if (idleMs === 0 || !this.learner || this.session.state !== 'running') return;
    const now = Date.now();
    const endAt = this.lastInputAtMs + idleMs;
    if (now >= endAt) {
      log('info', 'session ended: no input', { session: this.session.id, idleMs });
      void this.session.end('idle');
      return;
    }
    const warningMs = this.config.AGENT_IDLE_WARNING_MS;
    const warnAt = endAt - warningMs;
    if (!this.idleWarned && warningMs > 0 && now >= warnAt) {
      this.idleWarned = true;
      const inMs = endAt - now;
      this.notify({
        level: 'warning',
        code: noticeCodes.idleWarning,
        message: `No input for a while: this session ends in ${Math.ceil(inMs / 1000)} s unless you type something or press "I'm still here". Your progress is kept.`,
        inMs,
      });
    }
    const next = this.idleWarned || warningMs === 0 ? endAt : warnAt;
    this.inputIdleTimer = setTimeout(() => this.checkInputIdle(), Math.max(0, next - now) + 5);
    this.inputIdleTimer.unref();
  }

  /**
   * Slow consumer: while a terminal's PTY is paused because the attached learner does not
   * acknowledge output (it stopped reading), the learner is closed 4408 once that has lasted
   * AGENT_SLOW_CONSUMER_MS. The shells keep running (output goes to the replay buffer) for resume.
   */
  private scheduleStallCheck(inMs: number): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = setTimeout(() => {
      this.stallTimer = null;
      const client = this.learner;
      if (!client || this.session.state !== 'running') return;
      const held = this.session.terminals.filter((t) => t.running && t.pausedSinceMs !== null).map((t) => t.pausedSinceMs!);
      if (held.length === 0) return;
      const heldMs = Date.now() - Math.min(...held);
      const boundMs = this.config.AGENT_SLOW_CONSUMER_MS;
      if (heldMs < boundMs) return this.scheduleStallCheck(boundMs - heldMs);
      log('info', 'slow consumer: output held back too long', { session: this.session.id, heldMs });
      client.fail(closeCodes.slowConsumer, 'slow-consumer', `Your browser did not read terminal output for ${Math.round(heldMs / 1000)} s; reconnecting.`);
      // Detached now (not when the close handshake ends): the shells run on into the replay buffer.
      this.detach(client);
    }, inMs);
    this.stallTimer.unref();
  }
}
