// One terminal: a root shell inside a sandbox on a PTY owned by node-pty, its replay buffer,
// its shell-integration parser and its flow control (the PTY is paused while the attached client
// has too much un-acknowledged output).
//
// Output is coalesced: the PTY chunks read in one event-loop turn (a PTY read gives at most a few
// KiB) become one output frame, built once (one copy) and handed to the replay buffer, the mark
// parser and the client alike. A keystroke's echo waits for nothing but the end of the turn it was
// read in (setImmediate). While output streams (the last frame was big and recent), the next frame
// waits up to STREAM_HOLD_MS for more, so bulk output goes out in frames of up to
// OUTPUT_FRAME_BYTES: one WebSocket frame and one syscall per 32 KiB instead of per PTY read.
import * as fs from 'node:fs';
import * as pty from 'node-pty';
import type { ShellCommand } from '../sandbox/driver';
import { encodeOutputFrameFromChunks, limits, OUTPUT_HEADER_BYTES } from '../../protocol/index';
import { ReplayBuffer } from './replay-buffer';
import { ShellMarkParser, type ParsedCommand } from './shell-marks';

/** Pending output is framed at once when it reaches this size (frames stay well below 128 KiB). */
export const OUTPUT_FRAME_BYTES = 32 * 1024;
/** While output streams, how long a frame may wait for more output. */
export const STREAM_HOLD_MS = 2;
/** "Streaming": the last frame had at least this many bytes and went out under STREAM_RECENT_MS ago. */
const STREAM_FRAME_BYTES = 2 * 1024;
const STREAM_RECENT_MS = 10;

/**
 * Input not yet taken by the PTY, per terminal. The kernel holds a few KiB for a program that does
 * not read (`stty -icanon; sleep infinity`); beyond that a write fails with EAGAIN. node-pty's own
 * writer then retries through setImmediate, a busy loop that cost the agent 69% of a core under a
 * 16 KB / 70 ms flood (issue 12), and queues without bound. So the agent writes to the PTY itself:
 * what the kernel does not take waits here (at most INPUT_QUEUE_BYTES; more is dropped and the
 * learner is told), and is retried on a timer that backs off from INPUT_RETRY_MIN_MS to
 * INPUT_RETRY_MAX_MS, never spinning.
 */
export const INPUT_QUEUE_BYTES = 64 * 1024;
export const INPUT_RETRY_MIN_MS = 4;
export const INPUT_RETRY_MAX_MS = 100;

/** Keys a learner presses to get out of a stuck program: they replace a full backlog instead of being dropped. */
function isControlKey(data: Buffer): boolean {
  return data.length <= 4 && data.every((b) => b === 0x03 || b === 0x04 || b === 0x1a || b === 0x1c);
}

/** The PTY master's fd (node-pty's UnixTerminal has it; not in its typings). */
function ptyFd(proc: pty.IPty): number | null {
  const fd = (proc as unknown as { fd?: unknown }).fd;
  return typeof fd === 'number' && Number.isInteger(fd) && fd >= 0 ? fd : null;
}

export interface TerminalEvents {
  /** New output at `offset`; `frame` is its encoded output frame (protocol), ready to send. */
  onOutput(terminal: number, offset: number, data: Buffer, frame: Uint8Array): void;
  onCommand(terminal: number, command: ParsedCommand): void;
  onExit(terminal: number, exitCode: number | null, signal: number | null): void;
  /** Flow control paused (true) or resumed (false) the PTY because of the attached client. */
  onFlow?(terminal: number, paused: boolean): void;
  /** Input was dropped: the program on this terminal does not read it and the queue is full. */
  onInputDropped?(terminal: number, droppedBytes: number): void;
}

export class Terminal {
  private proc: pty.IPty | null = null;
  private readonly replay = new ReplayBuffer(limits.replayBytes);
  private parser: ShellMarkParser;
  private paused = false;
  /** Since when the PTY is paused by flow control (ms since epoch); null while it runs freely. */
  pausedSinceMs: number | null = null;
  /** Offset the attached client acknowledged; null when no client is attached. */
  private ackedOffset: number | null = null;
  private cols = 100;
  private rows = 30;
  private exitTimer: NodeJS.Timeout | null = null;
  /** Output read this turn, not yet framed (see flushOutput). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private flushScheduled = false;
  private lastFrameBytes = 0;
  private lastFrameAtMs = -Infinity;
  private readonly flushOutputSoon = (): void => {
    this.flushScheduled = false;
    this.flushOutput();
  };
  running = false;
  /** Input the PTY has not taken yet (see INPUT_QUEUE_BYTES). */
  private inputQueue: Buffer[] = [];
  inputQueuedBytes = 0;
  /** Input dropped since this terminal started (the queue was full). */
  inputDroppedBytes = 0;
  private inputTimer: NodeJS.Timeout | null = null;
  private inputRetryMs = INPUT_RETRY_MIN_MS;

  constructor(
    readonly index: number,
    private readonly shell: (size: { cols: number; rows: number; terminal: number }) => ShellCommand,
    private readonly events: TerminalEvents,
  ) {
    this.parser = new ShellMarkParser((c) => this.events.onCommand(this.index, c));
  }

  get offset(): number {
    return this.replay.end;
  }

  get replayFrom(): number {
    return this.replay.start;
  }

  start(size?: { cols: number; rows: number }): void {
    if (this.running) return;
    if (size) {
      this.cols = size.cols;
      this.rows = size.rows;
    }
    const cmd = this.shell({ cols: this.cols, rows: this.rows, terminal: this.index });
    this.flushOutput(); // the previous shell's last bytes belong to its parser
    this.parser = new ShellMarkParser((c) => this.events.onCommand(this.index, c));
    const proc = pty.spawn(cmd.file, cmd.args, {
      name: 'xterm-256color',
      cols: this.cols,
      rows: this.rows,
      cwd: cmd.cwd,
      env: cmd.env,
      encoding: null,
    });
    this.proc = proc;
    this.clearInput();
    this.running = true;
    this.paused = false;
    this.pausedSinceMs = null;
    let lastDataAt = Date.now();
    proc.onData((chunk: string | Buffer) => {
      lastDataAt = Date.now();
      const data = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      if (data.length === 0) return;
      this.pending.push(data);
      this.pendingBytes += data.length;
      if (this.pendingBytes >= OUTPUT_FRAME_BYTES) this.flushOutput();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        const streaming = this.lastFrameBytes >= STREAM_FRAME_BYTES && performance.now() - this.lastFrameAtMs < STREAM_RECENT_MS;
        if (streaming) setTimeout(this.flushOutputSoon, STREAM_HOLD_MS);
        else setImmediate(this.flushOutputSoon);
      }
    });
    proc.onExit(({ exitCode, signal }) => {
      // node-pty can deliver the last output after the exit event: wait until output is quiet.
      const finish = () => {
        if (this.proc !== proc) return;
        this.proc = null;
        this.clearInput();
        this.running = false;
        this.events.onExit(this.index, exitCode ?? null, signal ? signal : null);
      };
      const started = Date.now();
      const poll = () => {
        if (Date.now() - lastDataAt >= 60 || Date.now() - started > 500) finish();
        else this.exitTimer = setTimeout(poll, 20);
      };
      this.exitTimer = setTimeout(poll, 20);
    });
  }

  /** Frames the output read so far: replay buffer, mark parser, client, then flow control. */
  private flushOutput(): void {
    if (this.pendingBytes === 0) return;
    const offset = this.replay.end;
    const frame = encodeOutputFrameFromChunks(this.index, offset, this.pending);
    this.lastFrameBytes = this.pendingBytes;
    this.lastFrameAtMs = performance.now();
    this.pending = [];
    this.pendingBytes = 0;
    // The payload is a view into the frame: one copy of the bytes serves all three.
    const data = Buffer.from(frame.buffer, frame.byteOffset + OUTPUT_HEADER_BYTES, frame.byteLength - OUTPUT_HEADER_BYTES);
    this.replay.append(data);
    this.parser.push(data);
    this.events.onOutput(this.index, offset, data, frame);
    this.applyFlowControl();
  }

  /** Queues input for the PTY (see INPUT_QUEUE_BYTES); false when it was dropped because the queue is full. */
  write(data: string | Buffer): boolean {
    const proc = this.proc;
    if (!proc) return true;
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (buf.length === 0) return true;
    if (ptyFd(proc) === null) {
      proc.write(buf.toString('utf8')); // not a Unix PTY: node-pty's own writer
      return true;
    }
    if (this.inputQueuedBytes + buf.length > INPUT_QUEUE_BYTES) {
      if (!isControlKey(buf)) {
        this.inputDroppedBytes += buf.length;
        this.events.onInputDropped?.(this.index, buf.length);
        return false;
      }
      // Ctrl-C and friends go first: what waits behind them is stale anyway.
      this.inputDroppedBytes += this.inputQueuedBytes;
      this.events.onInputDropped?.(this.index, this.inputQueuedBytes);
      this.inputQueue = [];
      this.inputQueuedBytes = 0;
    }
    this.inputQueue.push(buf);
    this.inputQueuedBytes += buf.length;
    if (!this.inputTimer) this.flushInput();
    return true;
  }

  /** Writes queued input until the PTY takes no more; then retries on a backing-off timer. */
  private flushInput(): void {
    this.inputTimer = null;
    const proc = this.proc;
    const fd = proc ? ptyFd(proc) : null;
    if (fd === null) return this.clearInput();
    while (this.inputQueue.length > 0) {
      const head = this.inputQueue[0]!;
      let written: number;
      try {
        written = fs.writeSync(fd, head);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') break;
        return this.clearInput(); // the PTY is closing
      }
      this.inputQueuedBytes -= written;
      if (written < head.length) {
        this.inputQueue[0] = head.subarray(written);
        break;
      }
      this.inputQueue.shift();
    }
    if (this.inputQueue.length === 0) {
      this.inputRetryMs = INPUT_RETRY_MIN_MS;
      return;
    }
    this.inputTimer = setTimeout(() => this.flushInput(), this.inputRetryMs);
    this.inputRetryMs = Math.min(INPUT_RETRY_MAX_MS, this.inputRetryMs * 2);
  }

  private clearInput(): void {
    if (this.inputTimer) clearTimeout(this.inputTimer);
    this.inputTimer = null;
    this.inputQueue = [];
    this.inputQueuedBytes = 0;
    this.inputRetryMs = INPUT_RETRY_MIN_MS;
  }

  resize(cols: number, rows: number): void {
    this.cols = cols;
    this.rows = rows;
    if (!this.proc) return;
    try {
      this.proc.resize(cols, rows);
    } catch {
      // The PTY may be closing; the size applies to the next shell.
    }
  }

  /** A client attached (or detached: null). Resets flow control to its point of view. */
  attach(ackedOffset: number | null): void {
    this.ackedOffset = ackedOffset;
    this.applyFlowControl();
  }

  ack(offset: number): void {
    if (this.ackedOffset === null) return;
    this.ackedOffset = Math.min(Math.max(this.ackedOffset, offset), this.replay.end);
    this.applyFlowControl();
  }

  readFrom(offset: number): { offset: number; data: Buffer } {
    return this.replay.readFrom(offset);
  }

  private applyFlowControl(): void {
    if (!this.proc) return;
    const unacked = this.ackedOffset === null ? 0 : this.replay.end - this.ackedOffset;
    if (!this.paused && unacked > limits.flowHighWaterBytes) {
      this.paused = true;
      this.pausedSinceMs = Date.now();
      this.proc.pause();
      this.events.onFlow?.(this.index, true);
    } else if (this.paused && unacked < limits.flowLowWaterBytes) {
      this.paused = false;
      this.pausedSinceMs = null;
      this.proc.resume();
      this.events.onFlow?.(this.index, false);
    }
  }

  get isPaused(): boolean {
    return this.paused;
  }

  kill(): void {
    if (this.exitTimer) clearTimeout(this.exitTimer);
    const proc = this.proc;
    this.proc = null;
    this.running = false;
    this.pausedSinceMs = null;
    this.clearInput();
    if (!proc) return;
    try {
      proc.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}
