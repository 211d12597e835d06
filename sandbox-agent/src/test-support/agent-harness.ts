// Test support: a real agent (real UnshareDriver sandboxes) on a loopback port, and a WebSocket
// client that speaks the protocol the way the browser does. Used by integration tests and benches.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import {
  decodeFrame,
  encodeInputFrame,
  limits,
  serverMessageSchema,
  WS_PATH,
  type ServerMessage,
  type SessionInfo,
} from '../../protocol/index';
import { loadConfig, type AgentConfig } from '../config';
import { stripAnsi } from '../terminal/shell-marks';
import { httpDeliver, ResultOutbox } from '../outbox';
import { UnshareDriver } from '../sandbox/unshare-driver';
import { createAgentServer, type AgentServer } from '../server';
import { SessionManager } from '../session';

export const TEST_ORIGIN = 'http://localhost:3999';

export interface Harness {
  baseUrl: string;
  wsUrl: string;
  secret: string;
  config: AgentConfig;
  sessions: SessionManager;
  agent: AgentServer;
  createSession(learnerId: string, labId?: string): Promise<{ status: number; body: SessionInfo }>;
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; text: string }>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** A durable progress outbox (file) delivering to this URL, as main.ts sets up with AGENT_PROGRESS_URL. */
  outbox?: { file: string; url: string };
}

export async function startHarness(env: Record<string, string> = {}, options: HarnessOptions = {}): Promise<Harness> {
  const secret = randomBytes(24).toString('base64url') + 'x'.repeat(8);
  const config = loadConfig({ AGENT_SECRET: secret, AGENT_ALLOWED_ORIGINS: TEST_ORIGIN, AGENT_GRADE_POLL_MS: '300', ...env });
  const driver = new UnshareDriver();
  await driver.preflight();
  const outbox = options.outbox ? new ResultOutbox(options.outbox.file, httpDeliver(options.outbox.url, secret)) : null;
  outbox?.start();
  const sessions = new SessionManager(driver, config, outbox);
  const agent = createAgentServer(config, sessions);
  await new Promise<void>((resolve) => agent.server.listen(0, '127.0.0.1', resolve));
  const port = (agent.server.address() as AddressInfo).port;
  const baseUrl = `http://127.0.0.1:${port}`;
  const api: Harness['api'] = async (method, path, body, headers = {}) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, headers: res.headers, text: await res.text() };
  };
  return {
    baseUrl,
    wsUrl: `ws://127.0.0.1:${port}${WS_PATH}`,
    secret,
    config,
    sessions,
    agent,
    api,
    async createSession(learnerId, labId = 'exercise-net-namespace') {
      const res = await api('POST', '/v1/sessions', { learnerId, labId });
      return { status: res.status, body: JSON.parse(res.text) as SessionInfo };
    },
    async close() {
      await sessions.shutdown();
      await agent.close();
      outbox?.close();
    },
  };
}

/** A protocol client that renders nothing but keeps each terminal's text and every message. */
export class TestClient {
  readonly messages: ServerMessage[] = [];
  /** Raw bytes of each terminal as UTF-8 text, escapes included. */
  readonly raw: string[] = ['', '', ''];
  readonly offsets: number[] = [0, 0, 0];
  private readonly acked: number[] = [0, 0, 0];
  closeCode: number | null = null;
  closeReason: string | null = null;
  private waiters: (() => void)[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<number>;

  constructor(
    readonly ws: WebSocket,
    private readonly autoAck = true,
  ) {
    ws.binaryType = 'nodebuffer';
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString('utf8');
        this.notify();
        resolve(code);
      }),
    );
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) {
        const frame = decodeFrame(new Uint8Array(data));
        if ('error' in frame || frame.kind !== 'output') throw new Error('bad frame from server');
        const skip = Math.max(0, this.offsets[frame.terminal]! - frame.offset);
        const fresh = frame.data.subarray(skip);
        this.raw[frame.terminal] += Buffer.from(fresh).toString('utf8');
        this.offsets[frame.terminal] = frame.offset + frame.data.length;
        // Acknowledge like the browser does: at least every limits.ackEveryBytes, not every frame
        // (the agent closes a socket that sends more than 400 messages a second).
        const offset = this.offsets[frame.terminal]!;
        if (this.autoAck && offset - this.acked[frame.terminal]! >= limits.ackEveryBytes / 2) {
          this.acked[frame.terminal] = offset;
          this.send({ type: 'ack', terminal: frame.terminal, offset });
        }
      } else {
        this.messages.push(serverMessageSchema.parse(JSON.parse(data.toString('utf8'))));
      }
      this.notify();
    });
  }

  /** Each terminal's text as a reader sees it: escape sequences and carriage returns removed. */
  get output(): string[] {
    return this.raw.map((text) => stripAnsi(text));
  }

  static connect(url: string, origin = TEST_ORIGIN, autoAck = true): TestClient {
    return new TestClient(new WebSocket(url, { origin }), autoAck);
  }

  send(message: unknown): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  type(terminal: number, text: string): void {
    this.ws.send(encodeInputFrame(terminal, new TextEncoder().encode(text)));
  }

  auth(token: string, resume: { terminal: number; offset: number }[] = []): void {
    this.send({ type: 'auth', token, resume, size: { cols: 120, rows: 40 } });
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Waits until predicate() is truthy; fails with `what` after timeoutMs. */
  async until<T>(predicate: () => T | undefined | null | false, what: string, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = predicate();
      if (value) return value;
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}; terminal output:\n${this.output.map((o, i) => `--- ${i}\n${o.slice(-1500)}`).join('\n')}\nmessages: ${JSON.stringify(this.messages.slice(-5))}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(200, Math.max(1, deadline - Date.now())));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits for `pattern` in the terminal's output after `from` (a character index). */
  waitForOutput(terminal: number, pattern: RegExp, from = 0, timeoutMs = 10_000): Promise<RegExpExecArray> {
    return this.until(() => pattern.exec(this.output[terminal]!.slice(from)), `${pattern} in terminal ${terminal}`, timeoutMs);
  }

  message<T extends ServerMessage['type']>(type: T, filter: (m: Extract<ServerMessage, { type: T }>) => boolean = () => true) {
    return this.messages.find((m): m is Extract<ServerMessage, { type: T }> => m.type === type && filter(m as Extract<ServerMessage, { type: T }>));
  }

  close(): void {
    this.ws.close();
  }
}
