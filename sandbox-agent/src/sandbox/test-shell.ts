// Test helper (used by integration tests only): a real root shell in a sandbox on a node-pty PTY,
// driven the way a learner drives it, reading the shell-integration marks the sandbox's bashrc
// emits (ESC]133;A / C / D;<status>, ESC]633;E;<line>).
import * as pty from 'node-pty';
import type { Sandbox } from './driver';

const MARK_RE = /\x1b\](133;[A-D](?:;[^\x07]*)?|633;E;[^\x07]*)\x07/g;

export interface ShellResult {
  exitCode: number;
  /** What the command printed (between the C and D marks), \r\n -> \n, escape sequences kept. */
  output: string;
  /** The command line as reported by the 633;E mark (unescaped). */
  commandLine: string;
}

export class TestShell {
  /** Everything the PTY produced so far. */
  raw = '';
  exited = false;
  private waiters: Array<() => void> = [];

  private constructor(readonly proc: pty.IPty) {
    proc.onData((d) => {
      this.raw += d;
      for (const w of this.waiters.splice(0)) w();
    });
    proc.onExit(() => {
      this.exited = true;
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(sandbox: Sandbox, opts: { cols?: number; rows?: number; timeoutMs?: number } = {}): Promise<TestShell> {
    const cols = opts.cols ?? 120;
    const rows = opts.rows ?? 40;
    const cmd = sandbox.shellCommand({ cols, rows, terminal: 0 });
    const proc = pty.spawn(cmd.file, cmd.args, { name: 'xterm-256color', cols, rows, cwd: cmd.cwd, env: cmd.env });
    const shell = new TestShell(proc);
    await shell.waitFor((raw) => raw.includes('\x1b]133;A\x07'), opts.timeoutMs ?? 10_000, 'first prompt');
    return shell;
  }

  /** Wait until `pred(raw)` holds (checked on every output chunk). */
  waitFor(pred: (raw: string) => boolean, timeoutMs: number, what = 'output'): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (pred(this.raw)) {
          clearTimeout(timer);
          resolve();
        } else if (this.exited) {
          clearTimeout(timer);
          reject(new Error(`shell exited while waiting for ${what}; output: ${JSON.stringify(this.raw.slice(-2000))}`));
        } else {
          this.waiters.push(check);
        }
      };
      const timer = setTimeout(() => {
        reject(new Error(`timeout waiting for ${what}; output: ${JSON.stringify(this.raw.slice(-2000))}`));
      }, timeoutMs);
      check();
    });
  }

  write(data: string): void {
    this.proc.write(data);
  }

  /** Type a command line + Enter and wait for its D mark. */
  async run(command: string, timeoutMs = 15_000): Promise<ShellResult> {
    const from = this.raw.length;
    this.write(`${command}\r`);
    return this.waitForCommandEnd(from, timeoutMs, command);
  }

  /** Wait for the next D+E marks after offset `from` and return that command's result. */
  async waitForCommandEnd(from: number, timeoutMs: number, what = 'command'): Promise<ShellResult> {
    const endRe = /\x1b\]133;D;(-?\d*)\x07\x1b\]633;E;([^\x07]*)\x07/;
    await this.waitFor((raw) => endRe.test(raw.slice(from)), timeoutMs, `end of ${what}`);
    const tail = this.raw.slice(from);
    const m = endRe.exec(tail)!;
    const cIdx = tail.lastIndexOf('\x1b]133;C\x07', m.index);
    const body = cIdx >= 0 ? tail.slice(cIdx + '\x1b]133;C\x07'.length, m.index) : '';
    return {
      exitCode: Number(m[1]),
      output: body.replace(MARK_RE, '').replace(/\r\n/g, '\n'),
      commandLine: m[2]!.replace(/\\x3b/gi, ';').replace(/\\\\/g, '\\'),
    };
  }

  resize(cols: number, rows: number): void {
    this.proc.resize(cols, rows);
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((r) => this.proc.onExit(() => r()));
    try {
      this.proc.kill('SIGHUP');
    } catch {
      /* gone */
    }
    await Promise.race([done, new Promise((r) => setTimeout(r, 2_000))]);
    if (!this.exited) {
      try {
        this.proc.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

/** Open a shell, run one command, close the shell. */
export async function runInShell(sandbox: Sandbox, command: string, timeoutMs = 15_000): Promise<ShellResult> {
  const shell = await TestShell.open(sandbox);
  try {
    return await shell.run(command, timeoutMs);
  } finally {
    await shell.close();
  }
}
