// Parses shell-integration marks out of a terminal's output stream and turns them into command
// records (soft evidence: the learner controls the shell and could print marks by hand).
//   ESC ] 133 ; A BEL            prompt starts
//   ESC ] 133 ; C BEL            an entered command starts running (output capture begins)
//   ESC ] 133 ; D ; <exit> BEL   it ended with that status
//   ESC ] 633 ; E ; <cmd> BEL    the command line that just ended (`\\` = \, `\x3b` = ;)
// ST (ESC \) is accepted as a terminator too. Marks may be split across chunks.

export interface ParsedCommand {
  command: string;
  exitCode: number | null;
  output: string;
  startedAtMs: number;
  endedAtMs: number;
}

const ESC = 0x1b;
const BEL = 0x07;
const MAX_OSC_BYTES = 8 * 1024;
export const MAX_CAPTURED_OUTPUT_BYTES = 16 * 1024;

type State = 'text' | 'esc' | 'osc' | 'osc-esc';

export function stripAnsi(text: string): string {
  return text
    .replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?/g, '')
    .replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, '')
    .replace(/\x1b[@-Z\\-_]/g, '')
    .replace(/\r+\n/g, '\n')
    .replace(/[^\n\t\x20-\x7e\u00a0-\uffff]/g, '');
}

export function unescapeCommand(raw: string): string {
  return raw.replace(/\\x3b/gi, ';').replace(/\\\\/g, '\\');
}

export class ShellMarkParser {
  private state: State = 'text';
  private osc: number[] = [];
  private capturing = false;
  private captured: Buffer[] = [];
  private capturedBytes = 0;
  private startedAtMs = 0;
  private ended: { exitCode: number | null; atMs: number } | null = null;

  constructor(
    private readonly onCommand: (command: ParsedCommand) => void,
    private readonly now: () => number = Date.now,
  ) {}

  push(chunk: Buffer): void {
    let textStart = 0;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      switch (this.state) {
        case 'text': {
          // Plain text is most of the stream and marks are rare: jump to the next ESC (native
          // search) instead of looking at every byte.
          const esc = byte === ESC ? i : chunk.indexOf(ESC, i + 1);
          if (esc === -1) {
            i = chunk.length;
            break;
          }
          i = esc;
          this.capture(chunk.subarray(textStart, i));
          this.state = 'esc';
          break;
        }
        case 'esc':
          if (byte === 0x5d /* ] */) {
            this.state = 'osc';
            this.osc = [];
          } else {
            // Not an OSC: keep the escape sequence in the captured output (it is stripped later).
            this.capture(Buffer.from([ESC, byte]));
            this.state = byte === ESC ? 'esc' : 'text';
          }
          textStart = i + 1;
          break;
        case 'osc':
          if (byte === BEL) {
            this.finishOsc();
            textStart = i + 1;
          } else if (byte === ESC) {
            this.state = 'osc-esc';
          } else if (this.osc.length < MAX_OSC_BYTES) {
            this.osc.push(byte);
          }
          break;
        case 'osc-esc':
          if (byte === 0x5c /* \ */) {
            this.finishOsc();
            textStart = i + 1;
          } else {
            this.state = 'osc';
            if (this.osc.length < MAX_OSC_BYTES) this.osc.push(ESC, byte);
          }
          break;
      }
    }
    if (this.state === 'text') this.capture(chunk.subarray(textStart));
  }

  private capture(bytes: Buffer): void {
    if (!this.capturing || bytes.length === 0) return;
    const room = MAX_CAPTURED_OUTPUT_BYTES - this.capturedBytes;
    if (room <= 0) return;
    const kept = bytes.length > room ? bytes.subarray(0, room) : bytes;
    this.captured.push(Buffer.from(kept));
    this.capturedBytes += kept.length;
  }

  private finishOsc(): void {
    this.state = 'text';
    const body = Buffer.from(this.osc).toString('utf8');
    this.osc = [];
    if (body === '133;C') {
      this.capturing = true;
      this.captured = [];
      this.capturedBytes = 0;
      this.startedAtMs = this.now();
      this.ended = null;
    } else if (body.startsWith('133;D')) {
      const code = body.slice('133;D;'.length);
      this.ended = { exitCode: /^\d{1,3}$/.test(code) ? Number(code) : null, atMs: this.now() };
      this.capturing = false;
    } else if (body.startsWith('633;E;')) {
      if (!this.ended) return; // a command line with no command that ran (e.g. forged): ignore
      const command = unescapeCommand(body.slice('633;E;'.length)).trim();
      const output = stripAnsi(Buffer.concat(this.captured).toString('utf8'));
      const record: ParsedCommand = {
        command,
        exitCode: this.ended.exitCode,
        output,
        startedAtMs: this.startedAtMs || this.ended.atMs,
        endedAtMs: this.ended.atMs,
      };
      this.ended = null;
      this.captured = [];
      this.capturedBytes = 0;
      if (command.length > 0) this.onCommand(record);
    } else if (body === '133;A') {
      this.capturing = false;
    }
  }
}
