// A browser that stops reading while the sandbox prints (`yes`): its TCP socket is paused, so it
// neither reads nor acknowledges. The agent pauses the PTY at the flow-control window, closes the
// socket 4408 once output has been held back for AGENT_SLOW_CONSUMER_MS, keeps the shells for a
// resume, and its memory stays bounded. (Security battery D05/F07, the slow-reader half.)
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { closeCodes, limits } from '../protocol/index';
import { startHarness, TestClient, type Harness } from './test-support/agent-harness';

const SLOW_MS = 1_500;
const PROMPT_MARK = '\x1b]133;A\x07';
let h: Harness;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  h = await startHarness({ AGENT_SLOW_CONSUMER_MS: String(SLOW_MS) });
});
after(async () => {
  await h?.close();
});

test('a client that stops reading is closed 4408 after the bound; the PTY waits paused, survives and resumes', { timeout: 60_000 }, async () => {
  const learnerId = `slow-${Date.now()}`;
  const { body } = await h.createSession(learnerId);
  const c = TestClient.connect(h.wsUrl);
  await c.opened;
  c.auth(body.token);
  await c.until(() => c.message('ready'), 'ready');
  await c.until(() => c.raw[0]!.includes(PROMPT_MARK), 'prompt');
  const session = h.sessions.get(body.sessionId)!;
  const terminal = session.terminals[0]!;
  const slow0 = h.agent.counters.wsSlowConsumers ?? 0;
  global.gc?.();
  const rss0 = process.memoryUsage().rss;

  // Stop reading at the TCP level (the kernel buffers fill, nothing is acknowledged), then flood.
  const socket = (c.ws as unknown as { _socket: Socket })._socket;
  socket.pause();
  c.type(0, 'timeout 30 yes\r');
  await c.until(() => terminal.pausedSinceMs !== null, 'the PTY paused by flow control', 10_000).catch(() => {
    throw new Error(`the PTY was never paused (offset ${terminal.offset})`);
  });
  const pausedAt = terminal.pausedSinceMs!;
  const heldOffset = terminal.offset;
  // While attached and held back: the PTY stays paused, output stops at about the window.
  await sleep(SLOW_MS / 2);
  assert.ok(terminal.isPaused && session.hasClient, 'not paused while the client is attached');
  const grewWhilePaused = terminal.offset - heldOffset;
  assert.ok(grewWhilePaused < 256 * 1024, `output kept flowing to a non-reading client: ${grewWhilePaused} bytes`);

  // Disconnected once output has been held back for AGENT_SLOW_CONSUMER_MS.
  const deadline = Date.now() + SLOW_MS + 5_000;
  while (session.hasClient && Date.now() < deadline) await sleep(20);
  const closedAfterMs = Date.now() - pausedAt;
  assert.ok(!session.hasClient, 'the non-reading client is still attached');
  assert.equal(h.agent.counters.wsSlowConsumers, slow0 + 1);
  assert.ok(closedAfterMs >= SLOW_MS - 50 && closedAfterMs <= SLOW_MS + 1_000, `closed ${closedAfterMs} ms after the PTY paused (bound ${SLOW_MS} ms)`);
  const rssGrowthMiB = (process.memoryUsage().rss - rss0) / 2 ** 20;

  // The socket sees the 4408 close once it reads again; the session and its shells are intact.
  socket.resume();
  const code = await c.closed;
  assert.equal(code, closeCodes.slowConsumer);
  assert.equal(c.message('error', (m) => m.close === closeCodes.slowConsumer)?.code, 'slow-consumer');
  assert.equal(session.state, 'running');
  assert.ok(terminal.running, 'the shell did not survive');

  // Resume from what was rendered: the same session, the missed output replayed, Ctrl-C works.
  const again = await h.createSession(learnerId);
  assert.equal(again.body.sessionId, body.sessionId);
  const r = TestClient.connect(h.wsUrl);
  await r.opened;
  r.auth(again.body.token, c.offsets.map((offset, t) => ({ terminal: t, offset })).slice(0, body.terminals));
  await r.until(() => r.message('ready'), 'ready after resume');
  await r.until(() => /y\r?\ny\r?\n/.test(r.raw[0]!), 'replayed output');
  const replayFrom = r.message('ready')!.terminals[0]!.replayFrom;
  r.type(0, '\x03');
  const from = r.raw[0]!.length;
  await r.until(() => r.raw[0]!.slice(from).includes(PROMPT_MARK), 'prompt after Ctrl-C', 5_000);
  r.close();
  await r.closed;
  process.stdout.write(
    `slow consumer: PTY paused at ${heldOffset} bytes (window ${limits.flowHighWaterBytes}), +${grewWhilePaused} bytes while held; closed ${code} ${closedAfterMs} ms after the pause (AGENT_SLOW_CONSUMER_MS ${SLOW_MS}); agent RSS +${rssGrowthMiB.toFixed(1)} MiB; resumed the same session (replay from ${replayFrom}), Ctrl-C answered\n`,
  );
  assert.ok(rssGrowthMiB <= 64, `agent RSS +${rssGrowthMiB.toFixed(1)} MiB`);
});
