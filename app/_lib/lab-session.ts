// The browser side of the agent protocol (sandbox-agent/protocol): one LabSession per lesson page.
// It fetches a short-lived token from the app (POST /api/sessions), opens the WebSocket, renders
// output into the terminals it is given, acknowledges what was rendered (flow control), resumes
// from rendered offsets after a reconnect (nothing duplicated, recent output replayed) and keeps
// the steps' results. Framework-free: React reads it through subscribe()/getSnapshot().
import {
  WS_PATH,
  closeCodes,
  decodeFrame,
  noticeCodes,
  encodeInputFrame,
  limits,
  serverMessageSchema,
  type ClientMessage,
  type MapSnapshot,
  type ServerMessage,
} from '../../sandbox-agent/protocol';
import type { StepResult } from '../../labs/core/model';
import { backoffMs, unseenPart, utf8Chunks } from './output-offsets';
import { labSessionResponseSchema, type LabSessionResponse } from './session-api';
import { uiStrings } from './ui-strings';

export type ConnectionStatus = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'ended' | 'replaced' | 'unavailable';

export type TerminalPhase = 'starting' | 'running' | 'exited' | 'restarting';

export interface TerminalView {
  phase: TerminalPhase;
  exitCode: number | null;
  signal: number | null;
}

export interface StepChange {
  seq: number;
  stepId: string;
  status: StepResult['status'];
  message: StepResult['message'];
}

export interface SessionNotice {
  id: number;
  level: 'info' | 'warning' | 'error';
  code: string;
  message: string;
  /** For a timed notice (code 'idle-warning'): when the announced end comes (ms since epoch, browser clock). */
  endsAtMs?: number;
  /** The same as a duration when the notice arrived (ms). */
  inMs?: number;
}

export interface SessionSnapshot {
  status: ConnectionStatus;
  /** Why the status is what it is (server error, unreachable service...). */
  detail: string | null;
  /** When the next reconnect attempt happens (ms since epoch), if one is scheduled. */
  retryAtMs: number | null;
  sessionId: string | null;
  steps: Record<string, StepResult>;
  /** Failed results seen per step on this page (unlocks hints early). */
  failures: Record<string, number>;
  /** Step results received per step (changed or not): an answer's reply is the next one. */
  updates: Record<string, number>;
  terminals: TerminalView[];
  /** Recent step status changes, newest last, for the live region. */
  changes: StepChange[];
  notices: SessionNotice[];
  /** The live namespace map (latest trimmed snapshot from the agent), null until the first one. */
  map: MapSnapshot | null;
  /** When the map last changed (ms since epoch, browser clock). */
  mapAtMs: number | null;
  /** A reset was asked for and the fresh sandbox is not connected yet. */
  resetting: boolean;
  /**
   * Why the session ended (status 'ended'): 'idle' when the agent ended it for lack of input,
   * 'workshop' when the learner's workshop ended (no new sandbox: the lesson is closed).
   */
  endedReason: 'idle' | 'workshop' | null;
}

/** What a terminal pane gives the session: somewhere to write bytes. */
export interface TerminalSink {
  write(data: Uint8Array, rendered: () => void): void;
  /** Clears the screen and scrollback (a new session's stream starts from zero). */
  reset(): void;
  /** Writes a dim informational line (not part of the shell's stream). */
  note(text: string): void;
}

interface TerminalRuntime {
  sink: TerminalSink | null;
  /** Bytes received while no sink was attached, in order. */
  pending: Uint8Array[];
  pendingBytes: number;
  /** End offset of the bytes handed to the sink (or pending). The resume offset. */
  received: number;
  /** End offset of the bytes the terminal has rendered (write callback fired). */
  rendered: number;
  acked: number;
  /** A sink was detached after it rendered bytes: the next sink needs a replay from 0. */
  needsReplay: boolean;
  size: { cols: number; rows: number } | null;
}

export interface LabSessionOptions {
  labId: string;
  terminals: number;
  /** Text for the "older output dropped" line written into a terminal. */
  outputDroppedText: string;
  /** The page's language: the app's API words its errors in it (app/_lib/api-errors.ts). */
  locale?: 'en' | 'zh';
  fetchImpl?: typeof fetch;
}

const ACK_CHUNK_BYTES = Math.min(32 * 1024, limits.ackEveryBytes);
const ACK_DELAY_MS = 100;
const PING_EVERY_MS = 25_000;
const MAX_PENDING_BYTES = limits.replayBytes * 2;
const MAX_CHANGES = 5;
const MAX_NOTICES = 4;

export class LabSession {
  private readonly labId: string;
  private readonly locale: 'en' | 'zh' | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly outputDroppedText: string;
  private readonly terms: TerminalRuntime[];
  private snapshot: SessionSnapshot;
  private listeners = new Set<() => void>();
  private socket: WebSocket | null = null;
  /** Bumped on every connect/stop: events from older sockets and fetches are ignored. */
  private generation = 0;
  private attempt = 0;
  private unauthorizedInARow = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private ackTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private ready = false;
  private running = false;
  private seq = 0;
  /** Steps whose answer awaits a reply: the reply is announced even when nothing changed. */
  private awaiting = new Set<string>();
  private noticeId = 0;
  private readonly onOnline = () => {
    if (this.running && this.retryTimer !== null) this.connectNow();
  };

  constructor(options: LabSessionOptions) {
    this.labId = options.labId;
    this.locale = options.locale;
    this.outputDroppedText = options.outputDroppedText;
    this.fetchImpl = options.fetchImpl ?? ((input, init) => fetch(input, init));
    const count = Math.max(1, Math.min(limits.maxTerminals, options.terminals));
    this.terms = Array.from({ length: count }, () => ({
      sink: null,
      pending: [],
      pendingBytes: 0,
      received: 0,
      rendered: 0,
      acked: 0,
      needsReplay: false,
      size: null,
    }));
    this.snapshot = {
      status: 'idle',
      detail: null,
      retryAtMs: null,
      sessionId: null,
      steps: {},
      failures: {},
      updates: {},
      terminals: this.terms.map(() => ({ phase: 'starting', exitCode: null, signal: null })),
      changes: [],
      notices: [],
      map: null,
      mapAtMs: null,
      resetting: false,
      endedReason: null,
    };
  }

  // ---------- store interface (useSyncExternalStore) ----------

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): SessionSnapshot => this.snapshot;

  private update(patch: Partial<SessionSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...patch };
    for (const listener of this.listeners) listener();
  }

  private setTerminal(index: number, view: Partial<TerminalView>): void {
    const current = this.snapshot.terminals[index];
    if (!current) return;
    const next = { ...current, ...view };
    if (next.phase === current.phase && next.exitCode === current.exitCode && next.signal === current.signal) return;
    const terminals = this.snapshot.terminals.slice();
    terminals[index] = next;
    this.update({ terminals });
  }

  // ---------- lifecycle ----------

  start(): void {
    if (this.running) return;
    this.running = true;
    if (typeof window !== 'undefined') window.addEventListener('online', this.onOnline);
    this.connectNow();
  }

  stop(): void {
    this.running = false;
    this.generation++;
    if (typeof window !== 'undefined') window.removeEventListener('online', this.onOnline);
    this.clearTimers();
    this.closeSocket(1000, 'page closed');
    this.ready = false;
  }

  /** Reconnect at once (after "session ended", "opened in another tab", or a retry button). */
  connectNow(): void {
    if (!this.running) return;
    this.attempt = 0;
    this.unauthorizedInARow = 0;
    void this.connect();
  }

  private clearTimers(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    if (this.ackTimer !== null) clearTimeout(this.ackTimer);
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    this.retryTimer = null;
    this.ackTimer = null;
    this.pingTimer = null;
  }

  private closeSocket(code: number, reason: string): void {
    const socket = this.socket;
    this.socket = null;
    if (socket && (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING)) {
      try {
        socket.close(code, reason);
      } catch {
        // already closing
      }
    }
  }

  private scheduleRetry(detail: string | null, status: ConnectionStatus = 'reconnecting', delayMs?: number): void {
    if (!this.running) return;
    const wait = delayMs ?? backoffMs(this.attempt);
    this.attempt++;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, wait);
    this.update({ status, detail, retryAtMs: Date.now() + wait });
  }

  private async connect(): Promise<void> {
    if (!this.running) return;
    const generation = ++this.generation;
    this.clearTimers();
    this.closeSocket(1000, 'reconnecting');
    this.ready = false;
    this.update({
      status: this.snapshot.sessionId === null ? 'connecting' : 'reconnecting',
      retryAtMs: null,
    });

    // 1. A fresh short-lived token (and the session, created if needed) from the app server.
    let session: LabSessionResponse;
    try {
      const response = await this.fetchImpl('/api/sessions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(this.locale ? { labId: this.labId, locale: this.locale } : { labId: this.labId }),
        credentials: 'same-origin',
      });
      if (generation !== this.generation) return;
      const body: unknown = await response.json().catch(() => null);
      if (generation !== this.generation) return;
      if (!response.ok) {
        const message =
          body && typeof body === 'object' && 'error' in body && typeof body.error === 'string'
            ? body.error
            : `The app answered ${response.status}`;
        const retryAfterS = Number(response.headers.get('retry-after'));
        if (response.status === 400 || response.status === 403 || response.status === 404 || response.status === 410) {
          // Not something a retry fixes (unknown lab, bad request, the learner's workshop ended):
          // say so and stop.
          this.update({ status: 'unavailable', detail: message, retryAtMs: null });
          return;
        }
        const delay = Number.isFinite(retryAfterS) && retryAfterS > 0 ? Math.min(60, retryAfterS) * 1000 : undefined;
        this.scheduleRetry(message, 'unavailable', delay);
        return;
      }
      const parsed = labSessionResponseSchema.safeParse(body);
      if (!parsed.success) {
        this.scheduleRetry('The app sent an unexpected session reply', 'unavailable');
        return;
      }
      session = parsed.data;
    } catch {
      if (generation !== this.generation) return;
      this.scheduleRetry('The app server is not reachable', 'reconnecting');
      return;
    }

    // 2. A different session than before (the old one ended): its streams start from zero.
    if (this.snapshot.sessionId !== null && this.snapshot.sessionId !== session.sessionId) {
      this.resetTerminals();
    }
    const steps: Record<string, StepResult> = { ...this.snapshot.steps };
    for (const step of session.steps) steps[step.stepId] = step;
    this.update({ sessionId: session.sessionId, steps });

    // 3. The WebSocket, on the same origin.
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
    let socket: WebSocket;
    try {
      socket = new WebSocket(`${scheme}://${window.location.host}${WS_PATH}`);
    } catch {
      this.scheduleRetry('Could not open the terminal connection');
      return;
    }
    socket.binaryType = 'arraybuffer';
    this.socket = socket;

    socket.onopen = () => {
      if (generation !== this.generation) return;
      const size = this.terms[0]?.size ?? undefined;
      for (const term of this.terms) term.acked = term.received;
      this.send({
        type: 'auth',
        token: session.token,
        resume: this.terms.map((term, terminal) => ({ terminal, offset: term.received })),
        ...(size ? { size } : {}),
      });
    };
    socket.onmessage = (event: MessageEvent) => {
      if (generation !== this.generation) return;
      if (typeof event.data === 'string') this.onText(event.data);
      else if (event.data instanceof ArrayBuffer) this.onBinary(new Uint8Array(event.data));
    };
    socket.onclose = (event: CloseEvent) => {
      if (generation !== this.generation) return;
      this.socket = null;
      this.ready = false;
      if (this.pingTimer !== null) clearInterval(this.pingTimer);
      this.pingTimer = null;
      this.onClose(event.code, event.reason);
    };
  }

  private onClose(code: number, reason: string): void {
    if (!this.running) return;
    switch (code) {
      case closeCodes.sessionEnded:
        if (this.snapshot.resetting) {
          // The reset we asked for: get the fresh sandbox at once.
          this.update({ map: null, mapAtMs: null });
          this.connectNow();
          return;
        }
        this.clearIdleWarning();
        this.update({ status: 'ended', detail: reason || null, retryAtMs: null, endedReason: reason === 'session-idle' ? 'idle' : reason === 'workshop-ended' ? 'workshop' : null });
        return;
      case closeCodes.replaced:
        this.update({ status: 'replaced', detail: reason || null, retryAtMs: null });
        return;
      case closeCodes.unauthorized:
        // The token expired or was refused: fetch a new one now; back off if it keeps happening.
        this.unauthorizedInARow++;
        if (this.unauthorizedInARow <= 2) {
          void this.connect();
          return;
        }
        this.scheduleRetry(reason || 'The sandbox refused the connection token');
        return;
      default:
        this.scheduleRetry(this.snapshot.detail && this.snapshot.status !== 'connected' ? this.snapshot.detail : reason || null);
    }
  }

  // ---------- incoming ----------

  private onText(text: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return;
    }
    const parsed = serverMessageSchema.safeParse(raw);
    if (!parsed.success) return;
    this.onMessage(parsed.data);
  }

  private onMessage(message: ServerMessage): void {
    switch (message.type) {
      case 'ready': {
        this.ready = true;
        this.attempt = 0;
        this.unauthorizedInARow = 0;
        if (this.snapshot.sessionId !== null && this.snapshot.sessionId !== message.sessionId) {
          this.resetTerminals();
          // Not a reset the learner asked for: the sandbox was lost (the agent restarted or the
          // sandbox was reaped). Say so plainly instead of silently showing fresh shells.
          if (!this.snapshot.resetting) this.pushNotice('warning', 'sandbox-replaced', uiStrings(this.locale ?? 'en').sandboxReplaced);
        }
        for (const info of message.terminals) {
          const term = this.terms[info.terminal];
          if (!term) continue;
          if (info.offset < term.received) {
            // The stream restarted under us: start the screen over.
            this.resetTerminal(info.terminal);
          } else if (term.received > 0 && info.replayFrom > term.received) {
            term.sink?.note(this.outputDroppedText);
          }
          if (!info.running) this.setTerminal(info.terminal, { phase: 'exited' });
          else if (info.offset > 0 && info.offset === term.received) this.setTerminal(info.terminal, { phase: 'running' });
          else if (this.snapshot.terminals[info.terminal]?.phase === 'exited') this.setTerminal(info.terminal, { phase: 'starting' });
        }
        this.applySteps(message.steps, this.snapshot.sessionId !== null && Object.keys(this.snapshot.steps).length > 0);
        this.update({ status: 'connected', detail: null, retryAtMs: null, sessionId: message.sessionId, resetting: false, endedReason: null });
        this.terms.forEach((term, terminal) => {
          if (term.size) this.send({ type: 'resize', terminal, ...term.size });
        });
        this.pingTimer = setInterval(() => this.send({ type: 'ping', id: Date.now() % 2_000_000_000 }), PING_EVERY_MS);
        return;
      }
      case 'step':
        this.applySteps([message.result], true);
        return;
      case 'exit':
        this.setTerminal(message.terminal, { phase: 'exited', exitCode: message.exitCode, signal: message.signal });
        return;
      case 'notice':
        if (message.code === noticeCodes.inputDropped && message.terminal !== undefined) {
          // Shown in the learner's language; a newer one replaces the older (it repeats while input is dropped).
          this.pushNotice(message.level, message.code, uiStrings(this.locale ?? 'en').inputDropped(message.terminal + 1));
          return;
        }
        this.pushNotice(message.level, message.code, message.message, message.inMs);
        return;
      case 'error':
        // An error precedes a close; keep its text as the reason shown with the status.
        this.update({ detail: message.message });
        if (message.close === undefined) this.pushNotice('error', message.code, message.message);
        return;
      case 'pong':
        return;
      case 'snapshot':
        this.update({ map: message.snapshot, mapAtMs: Date.now() });
        return;
    }
  }

  private applySteps(results: StepResult[], announce: boolean): void {
    const steps = { ...this.snapshot.steps };
    const failures = { ...this.snapshot.failures };
    const updates = { ...this.snapshot.updates };
    const changes = this.snapshot.changes.slice();
    for (const result of results) {
      const before = steps[result.stepId];
      steps[result.stepId] = result;
      updates[result.stepId] = (updates[result.stepId] ?? 0) + 1;
      const answered = this.awaiting.delete(result.stepId);
      const changed =
        !before || before.status !== result.status || before.message?.en !== result.message?.en || before.atMs !== result.atMs;
      if (result.status === 'failed' && (changed || answered)) failures[result.stepId] = (failures[result.stepId] ?? 0) + 1;
      if (announce && (changed || answered)) {
        changes.push({ seq: ++this.seq, stepId: result.stepId, status: result.status, message: result.message });
      }
    }
    this.update({ steps, failures, updates, changes: changes.slice(-MAX_CHANGES) });
  }

  private pushNotice(level: SessionNotice['level'], code: string, message: string, inMs?: number): void {
    const notice: SessionNotice = { id: ++this.noticeId, level, code, message, ...(inMs !== undefined ? { endsAtMs: Date.now() + inMs, inMs } : {}) };
    // A newer idle warning (or input-dropped notice) replaces an older one.
    const kept = this.snapshot.notices.filter((n) => (code !== noticeCodes.idleWarning && code !== noticeCodes.inputDropped) || n.code !== code);
    this.update({ notices: [...kept, notice].slice(-MAX_NOTICES) });
  }

  /** The learner acted (typed, checked, answered): an idle warning on screen no longer applies. */
  private clearIdleWarning(): void {
    if (this.snapshot.notices.some((n) => n.code === noticeCodes.idleWarning)) {
      this.update({ notices: this.snapshot.notices.filter((n) => n.code !== noticeCodes.idleWarning) });
    }
  }

  /** "I'm still here" on the idle warning: tells the agent the learner is active (like a keystroke). */
  stayActive(): boolean {
    const sent = this.send({ type: 'active' });
    if (sent) this.clearIdleWarning();
    return sent;
  }

  dismissNotice(id: number): void {
    this.update({ notices: this.snapshot.notices.filter((notice) => notice.id !== id) });
  }

  private onBinary(frame: Uint8Array): void {
    const decoded = decodeFrame(frame);
    if ('error' in decoded || decoded.kind !== 'output') return;
    const index = decoded.terminal;
    const term = this.terms[index];
    if (!term) return;
    const part = unseenPart(decoded.offset, decoded.data, term.received);
    if (!part) return;
    if (part.gapBytes > 0 && term.received > 0) term.sink?.note(this.outputDroppedText);
    term.received = part.end;
    if (part.bytes.length > 0) {
      const phase = this.snapshot.terminals[index]?.phase;
      if (phase === 'starting' || phase === 'restarting') this.setTerminal(index, { phase: 'running', exitCode: null, signal: null });
    }
    if (term.sink) {
      this.writeTo(index, part.bytes, part.end);
    } else {
      // Kept until a pane attaches (the terminal library loads after the socket may open).
      term.pending.push(part.bytes.slice());
      term.pendingBytes += part.bytes.length;
      while (term.pendingBytes > MAX_PENDING_BYTES && term.pending.length > 1) {
        term.pendingBytes -= term.pending.shift()?.length ?? 0;
      }
      term.rendered = part.end;
      this.maybeAck(index);
    }
  }

  private writeTo(index: number, bytes: Uint8Array, end: number): void {
    const term = this.terms[index];
    if (!term?.sink) return;
    const sink = term.sink;
    sink.write(bytes, () => {
      if (term.sink !== sink) return;
      term.rendered = Math.max(term.rendered, end);
      this.maybeAck(index);
    });
  }

  private maybeAck(index: number): void {
    const term = this.terms[index];
    if (!term || !this.ready) return;
    if (term.rendered - term.acked >= ACK_CHUNK_BYTES) {
      this.flushAcks();
    } else if (term.rendered > term.acked && this.ackTimer === null) {
      this.ackTimer = setTimeout(() => {
        this.ackTimer = null;
        this.flushAcks();
      }, ACK_DELAY_MS);
    }
  }

  private flushAcks(): void {
    if (!this.ready) return;
    this.terms.forEach((term, terminal) => {
      if (term.rendered > term.acked) {
        term.acked = term.rendered;
        this.send({ type: 'ack', terminal, offset: term.rendered });
      }
    });
  }

  // ---------- terminals ----------

  attachTerminal(index: number, sink: TerminalSink): void {
    const term = this.terms[index];
    if (!term) return;
    term.sink = sink;
    const replay = term.needsReplay && term.received > 0;
    term.needsReplay = false;
    if (replay) {
      // A new, empty screen for a stream we already rendered elsewhere: replay from the start.
      term.received = 0;
      term.rendered = 0;
      term.acked = 0;
      term.pending = [];
      term.pendingBytes = 0;
      if (this.running) this.connectNow();
      return;
    }
    const pending = term.pending;
    term.pending = [];
    term.pendingBytes = 0;
    for (const chunk of pending) sink.write(chunk, () => {});
  }

  detachTerminal(index: number, sink: TerminalSink): void {
    const term = this.terms[index];
    if (!term || term.sink !== sink) return;
    term.sink = null;
    term.needsReplay = true;
  }

  private resetTerminal(index: number): void {
    const term = this.terms[index];
    if (!term) return;
    term.received = 0;
    term.rendered = 0;
    term.acked = 0;
    term.pending = [];
    term.pendingBytes = 0;
    term.sink?.reset();
    this.setTerminal(index, { phase: 'starting', exitCode: null, signal: null });
  }

  private resetTerminals(): void {
    this.terms.forEach((_, index) => this.resetTerminal(index));
    this.update({ map: null, mapAtMs: null });
  }

  /** Asks for a fresh sandbox (progress kept): the agent ends this one, then we reconnect. */
  reset(): boolean {
    if (this.snapshot.resetting) return true;
    const sent = this.send({ type: 'reset' });
    if (sent) {
      this.update({ resetting: true });
      // Should the close never come (agent gone), reconnect anyway.
      setTimeout(() => {
        if (this.snapshot.resetting && this.ready) this.connectNow();
      }, 8_000);
    }
    return sent;
  }

  /** Keystrokes or pasted text for a terminal (0-based). Returns false when not connected. */
  sendInput(terminal: number, data: string): boolean {
    if (!this.ready || !this.socket || data.length === 0) return false;
    if (this.snapshot.terminals[terminal]?.phase === 'exited') {
      // "Press Enter to restart": any Enter restarts an exited shell, other keys are ignored.
      if (data.includes('\r')) this.restart(terminal);
      return true;
    }
    for (const chunk of utf8Chunks(data, limits.maxInputBytes)) {
      this.socket.send(encodeInputFrame(terminal, chunk));
    }
    this.clearIdleWarning();
    return true;
  }

  /** Raw bytes (xterm's onBinary: legacy mouse reports) for a terminal. */
  sendBinary(terminal: number, data: string): void {
    if (!this.ready || !this.socket || data.length === 0) return;
    const bytes = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) bytes[i] = data.charCodeAt(i) & 0xff;
    for (let start = 0; start < bytes.length; start += limits.maxInputBytes) {
      this.socket.send(encodeInputFrame(terminal, bytes.subarray(start, start + limits.maxInputBytes)));
    }
  }

  resize(terminal: number, cols: number, rows: number): void {
    const term = this.terms[terminal];
    if (!term) return;
    const size = {
      cols: Math.max(limits.cols.min, Math.min(limits.cols.max, cols)),
      rows: Math.max(limits.rows.min, Math.min(limits.rows.max, rows)),
    };
    if (term.size && term.size.cols === size.cols && term.size.rows === size.rows) return;
    term.size = size;
    this.send({ type: 'resize', terminal, ...size });
  }

  restart(terminal: number): void {
    if (this.send({ type: 'restart', terminal })) this.setTerminal(terminal, { phase: 'restarting' });
  }

  check(): boolean {
    const sent = this.send({ type: 'check' });
    if (sent) this.clearIdleWarning();
    return sent;
  }

  answer(stepId: string, value: string): boolean {
    const sent = this.send({ type: 'answer', stepId, value: value.slice(0, limits.maxAnswerChars) });
    if (sent) {
      this.awaiting.add(stepId);
      this.clearIdleWarning();
    }
    return sent;
  }

  isReady(): boolean {
    return this.ready;
  }

  private send(message: ClientMessage): boolean {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    if (message.type !== 'auth' && !this.ready) return false;
    socket.send(JSON.stringify(message));
    return true;
  }
}
