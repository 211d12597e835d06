// The browser runtime against a real WebSocket server on loopback that speaks the agent protocol
// (the `ws` client stands in for the browser's WebSocket, which Node 20 lacks).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { WebSocket as NodeWebSocket, WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import { closeCodes, encodeOutputFrame, type ClientMessage, type ServerMessage } from '../../sandbox-agent/protocol';
import { LabSession, type TerminalSink } from './lab-session';
import type { LabSessionResponse } from './session-api';

interface Agent {
  port: number;
  /** Every JSON message the client sent, per connection. */
  messages: ClientMessage[][];
  sockets: ServerSocket[];
  output: string[];
  tokensIssued: number;
  /** The session id the next `ready` carries (a restarted agent has a new one). */
  sessionId: string;
  close(): Promise<void>;
}

/** A tiny agent: keeps each terminal's output and replays it from the client's resume offset. */
async function startAgent(options: { refuseFirstToken?: boolean } = {}): Promise<Agent> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const agent: Agent = {
    port: (wss.address() as AddressInfo).port,
    messages: [],
    sockets: [],
    output: ['', ''],
    tokensIssued: 0,
    sessionId: 'session-1',
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
  wss.on('connection', (socket) => {
    const log: ClientMessage[] = [];
    agent.messages.push(log);
    agent.sockets.push(socket);
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      const message = JSON.parse(data.toString()) as ClientMessage;
      log.push(message);
      if (message.type !== 'auth') return;
      if (options.refuseFirstToken && message.token === 'token-1') {
        socket.send(JSON.stringify({ type: 'error', code: 'unauthorized', message: 'token expired', close: 4401 } satisfies ServerMessage));
        socket.close(closeCodes.unauthorized, 'token expired');
        return;
      }
      const ready: ServerMessage = {
        type: 'ready',
        protocol: 1,
        sessionId: agent.sessionId,
        labId: 'exercise-net-namespace',
        terminals: agent.output.map((text, terminal) => ({ terminal, replayFrom: 0, offset: text.length, running: true })),
        steps: [],
      };
      socket.send(JSON.stringify(ready));
      for (const resume of message.resume) {
        const text = agent.output[resume.terminal] ?? '';
        // Replay from a little before the resume offset: the client must skip the overlap.
        const from = Math.max(0, resume.offset - 3);
        if (from < text.length) socket.send(encodeOutputFrame(resume.terminal, from, new TextEncoder().encode(text.slice(from))));
      }
    });
  });
  return agent;
}

function emit(agent: Agent, terminal: number, text: string): void {
  const offset = agent.output[terminal]?.length ?? 0;
  agent.output[terminal] = (agent.output[terminal] ?? '') + text;
  agent.sockets.at(-1)?.send(encodeOutputFrame(terminal, offset, new TextEncoder().encode(text)));
}

function fakeBrowser(port: number): void {
  const g = globalThis as Record<string, unknown>;
  g.WebSocket = NodeWebSocket;
  g.window = {
    location: { protocol: 'http:', host: `127.0.0.1:${port}` },
    addEventListener: () => {},
    removeEventListener: () => {},
  };
}

function sessionFetch(agent: Agent): typeof fetch {
  return async () => {
    agent.tokensIssued++;
    const body: LabSessionResponse = {
      sessionId: 'session-1',
      token: `token-${agent.tokensIssued}`,
      tokenExpiresAtMs: Date.now() + 60_000,
      terminals: 2,
      steps: [],
    };
    return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
  };
}

function textSink(): TerminalSink & { text: () => string } {
  let text = '';
  const decoder = new TextDecoder();
  return {
    write: (data, rendered) => {
      text += decoder.decode(data);
      setTimeout(rendered, 0);
    },
    reset: () => {
      text = '';
    },
    note: () => {},
    text: () => text,
  };
}

async function until(predicate: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// The server path is /agent/ws; the ws server above accepts any path.
test('renders output once across a dropped connection and resumes from the rendered offset', async () => {
  const agent = await startAgent();
  fakeBrowser(agent.port);
  const session = new LabSession({ labId: 'exercise-net-namespace', terminals: 2, outputDroppedText: '', fetchImpl: sessionFetch(agent) });
  const sink = textSink();
  session.attachTerminal(0, sink);
  session.start();
  try {
    await until(() => session.getSnapshot().status === 'connected', 'connected');
    emit(agent, 0, 'root# ');
    emit(agent, 0, 'echo one\r\none\r\n');
    await until(() => sink.text() === 'root# echo one\r\none\r\n', 'first output');
    assert.equal(session.getSnapshot().terminals[0]?.phase, 'running');

    // The agent drops the socket; output produced meanwhile must arrive exactly once.
    agent.sockets.at(-1)?.terminate();
    await until(() => session.getSnapshot().status === 'reconnecting', 'reconnecting');
    agent.output[0] += 'while away\r\n';
    await until(() => session.getSnapshot().status === 'connected' && agent.sockets.length === 2, 'reconnected');
    await until(() => sink.text().endsWith('while away\r\n'), 'replayed output');
    assert.equal(sink.text(), 'root# echo one\r\none\r\nwhile away\r\n');

    const auth = agent.messages[1]?.find((m) => m.type === 'auth');
    assert.ok(auth && auth.type === 'auth');
    assert.deepEqual(auth.resume, [
      { terminal: 0, offset: 'root# echo one\r\none\r\n'.length },
      { terminal: 1, offset: 0 },
    ]);
    assert.equal(auth.token, 'token-2', 'a fresh token for every connection');

    // Rendered bytes are acknowledged.
    await until(() => (agent.messages[1] ?? []).some((m) => m.type === 'ack' && m.terminal === 0), 'ack');
    const ack = (agent.messages[1] ?? []).filter((m) => m.type === 'ack').at(-1);
    assert.deepEqual(ack, { type: 'ack', terminal: 0, offset: agent.output[0]?.length });
  } finally {
    session.stop();
    await agent.close();
  }
});

test('an expired token (4401) fetches a new one and reconnects at once', async () => {
  const agent = await startAgent({ refuseFirstToken: true });
  fakeBrowser(agent.port);
  const session = new LabSession({ labId: 'exercise-net-namespace', terminals: 2, outputDroppedText: '', fetchImpl: sessionFetch(agent) });
  session.start();
  try {
    await until(() => session.getSnapshot().status === 'connected', 'connected');
    assert.equal(agent.tokensIssued, 2);
    assert.equal(session.getSnapshot().retryAtMs, null);
  } finally {
    session.stop();
    await agent.close();
  }
});

test('a session that ended (4000) waits for the learner; "start again" reconnects', async () => {
  const agent = await startAgent();
  fakeBrowser(agent.port);
  const session = new LabSession({ labId: 'exercise-net-namespace', terminals: 2, outputDroppedText: '', fetchImpl: sessionFetch(agent) });
  session.start();
  try {
    await until(() => session.getSnapshot().status === 'connected', 'connected');
    agent.sockets.at(-1)?.close(closeCodes.sessionEnded, 'ended');
    await until(() => session.getSnapshot().status === 'ended', 'ended');
    await new Promise((resolve) => setTimeout(resolve, 700));
    assert.equal(agent.sockets.length, 1, 'no automatic reconnect after the session ended');
    session.connectNow();
    await until(() => session.getSnapshot().status === 'connected' && agent.sockets.length === 2, 'connected again');
  } finally {
    session.stop();
    await agent.close();
  }
});

test('input goes out as binary frames; an exited shell restarts on Enter', async () => {
  const agent = await startAgent();
  fakeBrowser(agent.port);
  const session = new LabSession({ labId: 'exercise-net-namespace', terminals: 2, outputDroppedText: '', fetchImpl: sessionFetch(agent) });
  const frames: Buffer[] = [];
  session.start();
  try {
    await until(() => session.getSnapshot().status === 'connected', 'connected');
    agent.sockets.at(-1)?.on('message', (data, isBinary) => {
      if (isBinary) frames.push(data as Buffer);
    });
    assert.equal(session.sendInput(1, 'ls\r'), true);
    await until(() => frames.length === 1, 'input frame');
    assert.deepEqual([...(frames[0] ?? [])], [0x02, 1, ...Buffer.from('ls\r')]);

    agent.sockets.at(-1)?.send(JSON.stringify({ type: 'exit', terminal: 1, exitCode: 0, signal: null } satisfies ServerMessage));
    await until(() => session.getSnapshot().terminals[1]?.phase === 'exited', 'exited');
    session.sendInput(1, '\r');
    await until(() => (agent.messages[0] ?? []).some((m) => m.type === 'restart' && m.terminal === 1), 'restart');
    assert.equal(frames.length, 1, 'Enter on an exited shell is a restart, not input');
  } finally {
    session.stop();
    await agent.close();
  }
});

test('idle warning: shown with its deadline, cleared by a keystroke, "I\'m still here" sends active; an idle end is told apart', async () => {
  const agent = await startAgent();
  fakeBrowser(agent.port);
  const session = new LabSession({ labId: 'exercise-net-namespace', terminals: 2, outputDroppedText: '', fetchImpl: sessionFetch(agent) });
  session.start();
  try {
    await until(() => session.getSnapshot().status === 'connected', 'connected');
    const warn = (inMs: number) =>
      agent.sockets.at(-1)!.send(JSON.stringify({ type: 'notice', level: 'warning', code: 'idle-warning', message: 'idle', inMs } satisfies ServerMessage));
    const warnings = () => session.getSnapshot().notices.filter((n) => n.code === 'idle-warning');
    const before = Date.now();
    warn(120_000);
    await until(() => warnings().length === 1, 'the warning');
    const endsAtMs = warnings()[0]!.endsAtMs!;
    assert.ok(endsAtMs >= before + 120_000 && endsAtMs <= Date.now() + 120_000, String(endsAtMs));
    warn(60_000); // a newer warning replaces the older one
    await until(() => warnings()[0]?.inMs === 60_000, 'the newer warning');
    assert.equal(warnings().length, 1);
    assert.ok(session.sendInput(0, 'l'));
    assert.equal(warnings().length, 0, 'a keystroke did not clear the warning');
    warn(30_000);
    await until(() => warnings().length === 1, 'the warning again');
    assert.ok(session.stayActive());
    assert.equal(warnings().length, 0);
    await until(() => agent.messages.at(-1)!.some((m) => m.type === 'active'), 'active sent');
    // The agent ends the session for lack of input: 4000 with reason 'session-idle'.
    agent.sockets.at(-1)!.close(closeCodes.sessionEnded, 'session-idle');
    await until(() => session.getSnapshot().status === 'ended', 'ended');
    assert.equal(session.getSnapshot().endedReason, 'idle');
  } finally {
    session.stop();
    await agent.close();
  }
});

test('a session ended because its workshop ended says so (no restart offered by the page)', async () => {
  const agent = await startAgent();
  fakeBrowser(agent.port);
  const session = new LabSession({ labId: 'exercise-net-namespace', terminals: 2, outputDroppedText: '', fetchImpl: sessionFetch(agent) });
  session.start();
  try {
    await until(() => session.getSnapshot().status === 'connected', 'connected');
    agent.sockets.at(-1)!.close(closeCodes.sessionEnded, 'workshop-ended');
    await until(() => session.getSnapshot().status === 'ended', 'ended');
    assert.equal(session.getSnapshot().endedReason, 'workshop');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(session.getSnapshot().status, 'ended', 'it does not reconnect by itself');
  } finally {
    session.stop();
    await agent.close();
  }
});

test('a sandbox lost under the learner (agent restart: new session id) is said plainly, in the page language', async () => {
  const agent = await startAgent();
  fakeBrowser(agent.port);
  const session = new LabSession({ labId: 'exercise-net-namespace', terminals: 2, outputDroppedText: '', locale: 'zh', fetchImpl: sessionFetch(agent) });
  session.start();
  try {
    await until(() => session.getSnapshot().status === 'connected', 'connected');
    assert.deepEqual(session.getSnapshot().notices, []);
    // The agent dies (no close frame) and comes back with a fresh sandbox for this learner.
    agent.sessionId = 'session-2';
    agent.output = ['', ''];
    agent.sockets.at(-1)!.terminate();
    await until(() => session.getSnapshot().sessionId === 'session-2', 'the new session');
    const notice = session.getSnapshot().notices.find((n) => n.code === 'sandbox-replaced');
    assert.ok(notice, JSON.stringify(session.getSnapshot().notices));
    assert.match(notice.message, /之前的沙箱已丢失/);
  } finally {
    session.stop();
    await agent.close();
  }
});

test('a closed lesson (410 workshop_ended) shows the app\'s message in the page language and does not retry', async () => {
  const requests: unknown[] = [];
  const fetchImpl: typeof fetch = async (_input, init) => {
    requests.push(JSON.parse(String(init?.body)));
    const body = { code: 'workshop_ended', error: '你的工作坊已经结束，它的课程已关闭。', locale: 'zh' };
    return new Response(JSON.stringify(body), { status: 410, headers: { 'content-type': 'application/json' } });
  };
  const session = new LabSession({ labId: 'exercise-net-namespace', terminals: 2, outputDroppedText: '', locale: 'zh', fetchImpl });
  session.start();
  try {
    await until(() => session.getSnapshot().status === 'unavailable', 'the unavailable state');
    assert.equal(session.getSnapshot().detail, '你的工作坊已经结束，它的课程已关闭。');
    assert.equal(session.getSnapshot().retryAtMs, null);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(requests, [{ labId: 'exercise-net-namespace', locale: 'zh' }]);
  } finally {
    session.stop();
  }
});

test('input-dropped notice: shown in the learner\'s language for the right terminal; a repeat replaces it', async () => {
  const agent = await startAgent();
  fakeBrowser(agent.port);
  const session = new LabSession({ labId: 'exercise-net-namespace', terminals: 2, outputDroppedText: '', locale: 'zh', fetchImpl: sessionFetch(agent) });
  session.start();
  try {
    await until(() => session.getSnapshot().status === 'connected', 'connected');
    const drop = () =>
      agent.sockets.at(-1)!.send(JSON.stringify({ type: 'notice', level: 'warning', code: 'input-dropped', terminal: 1, message: 'Your typing in terminal 2 is being dropped' } satisfies ServerMessage));
    const notices = () => session.getSnapshot().notices.filter((n) => n.code === 'input-dropped');
    drop();
    await until(() => notices().length === 1, 'the notice');
    assert.match(notices()[0]!.message, /终端 2 中的输入正在被丢弃/);
    drop();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(notices().length, 1, 'a repeated notice replaces the older one');
  } finally {
    session.stop();
    await agent.close();
  }
});
