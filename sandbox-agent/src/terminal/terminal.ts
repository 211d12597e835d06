// One terminal: a root shell inside a sandbox on a PTY owned by node-pty, its replay buffer,
// its shell-integration parser and its flow control (the PTY is paused while the attached client
// has too much un-acknowledged output).
import * as pty from 'node-pty';
import type { ShellCommand } from '../sandbox/driver';
import { limits } from '../../protocol/index';
import { ReplayBuffer } from './replay-buffer';
import { ShellMarkParser, type ParsedCommand } from './shell-marks';

export interface TerminalEvents {
  onOutput(terminal: number, offset: number, data: Buffer): void;
  onCommand(terminal: number, command: ParsedCommand): void;
  onExit(terminal: number, exitCode: number | null, signal: number | null): void;
  /** Flow control paused (true) or resumed (false) the PTY because of the attached client. */
  onFlow?(terminal: number, paused: boolean): void;
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
  running = false;

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
    this.running = true;
    this.paused = false;
    this.pausedSinceMs = null;
    let lastDataAt = Date.now();
    proc.onData((chunk: string | Buffer) => {
      lastDataAt = Date.now();
      const data = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      const offset = this.replay.end;
      this.replay.append(data);
      this.parser.push(data);
      this.events.onOutput(this.index, offset, data);
      this.applyFlowControl();
    });
    proc.onExit(({ exitCode, signal }) => {
      // node-pty can deliver the last output after the exit event: wait until output is quiet.
      const finish = () => {
        if (this.proc !== proc) return;
        this.proc = null;
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

  write(data: string | Buffer): void {
    if (!this.proc) return;
    this.proc.write(typeof data === 'string' ? data : data.toString('utf8'));
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
    if (!proc) return;
    try {
      proc.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}
