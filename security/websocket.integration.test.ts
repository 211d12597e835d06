// Security battery F08 (liveness, idle and connection limits) against real in-process agents on
// loopback with short configured timers. Independent of machine load (its bounds are the agent's
// own timers plus slack, no canary), so it runs in `npm test`'s integration stage.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { closeCodes, noticeCodes, progressDeliverySchema } from '../sandbox-agent/protocol/index';
import { startHarness, TEST_ORIGIN, TestClient, type Harness } from '../sandbox-agent/src/test-support/agent-harness';
import { runCase } from './battery';
import { rand, removeCgroupParents, sandboxCgroupDirs, sleep } from './support';

const FILE = 'security/websocket.integration.test.ts';
const PING_MS = 500;
const PROMPT_MARK = '\x1b]133;A\x07';
// Honours AGENT_CGROUP_NAME (as a prefix) so parallel runs on one host never share a parent cgroup.
const cgroupName = `${process.env.AGENT_CGROUP_NAME ?? 'nslab-sec'}-f08-${rand()}`.slice(0, 40);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nslab-f08-'));
let limitsAgent: Harness;
let idleAgent: Harness;
let progressServer: http.Server;
const delivered: string[] = [];

before(async () => {
  process.env.AGENT_CGROUP_NAME = cgroupName;
  // The app's progress endpoint, reduced to "stored": what the outbox delivered is recorded.
  progressServer = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const parsed = progressDeliverySchema.parse(JSON.parse(body));
      for (const item of parsed.items) delivered.push(item.result.stepId);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ results: parsed.items.map((item) => ({ key: item.key, stored: 'inserted' })) }));
    });
  });
  await new Promise<void>((r) => progressServer.listen(0, '127.0.0.1', r));
  const progressUrl = `http://127.0.0.1:${(progressServer.address() as AddressInfo).port}/api/internal/progress`;
  limitsAgent = await startHarness({
    AGENT_WS_PING_MS: String(PING_MS),
    AGENT_INPUT_IDLE_MS: '0',
    AGENT_MAX_VIEWERS_PER_SESSION: '2',
    AGENT_MAX_SOCKETS_PER_IP: '4',
    AGENT_MAX_SOCKETS: '6',
  });
  idleAgent = await startHarness(
    { AGENT_INPUT_IDLE_MS: '4000', AGENT_IDLE_WARNING_MS: '2000' },
    { outbox: { file: path.join(dir, 'outbox.sqlite'), url: progressUrl } },
  );
});
after(async () => {
  await limitsAgent?.close();
  await idleAgent?.close();
  progressServer?.close();
  fs.rmSync(dir, { recursive: true, force: true });
  removeCgroupParents(cgroupName);
});

async function attach(h: Harness, token: string, ws?: WebSocket): Promise<TestClient> {
  const c = ws ? new TestClient(ws) : TestClient.connect(h.wsUrl);
  await c.opened;
  c.auth(token);
  await c.until(() => c.message('ready'), 'ready');
  return c;
}

/** A socket from a given client address (the agent trusts the last X-Forwarded-For entry from loopback): 101, or the refusal status. */
function openFrom(h: Harness, forwardedFor: string): Promise<{ ws: WebSocket; status: number }> {
  const ws = new WebSocket(h.wsUrl, { origin: TEST_ORIGIN, headers: { 'x-forwarded-for': forwardedFor } });
  return new Promise((resolve) => {
    ws.once('open', () => resolve({ ws, status: 101 }));
    ws.once('unexpected-response', (_req, res) => resolve({ ws, status: res.statusCode ?? 0 }));
    ws.once('error', () => resolve({ ws, status: -1 }));
  });
}

/** The sandbox's cgroup directories that still exist. */
function cgroupDirs(sessionId: string): string[] {
  return sandboxCgroupDirs(cgroupName, sessionId);
}

describe('F. WebSocket and terminal (integration)', { timeout: 120_000 }, () => {
  test('F08 liveness, idle and connection limits', async (t) => {
    await runCase(t, 'F08', FILE, async () => {
      const h = limitsAgent;
      const evidence: string[] = [];

      // 1. Dead peer: answers pings for 3 intervals, then stops (autoPong off, pongs by hand).
      const x = await h.createSession(`f08-peer-${rand()}`);
      let answering = true;
      const raw = new WebSocket(h.wsUrl, { origin: TEST_ORIGIN, autoPong: false });
      raw.on('ping', (data: Buffer) => {
        if (answering) raw.pong(data);
      });
      const peer = await attach(h, x.body.token, raw);
      await sleep(3 * PING_MS + 100);
      assert.equal(peer.closeCode, null, 'a peer answering pings was terminated');
      const dead0 = h.agent.counters.wsDeadPeers ?? 0;
      const stoppedAt = Date.now();
      answering = false;
      const deadCode = await peer.closed;
      const detectMs = Date.now() - stoppedAt;
      assert.equal(deadCode, 1006, `dead peer closed with ${deadCode}`);
      assert.ok(detectMs <= 2 * PING_MS + 250, `dead peer detected after ${detectMs} ms (ping interval ${PING_MS} ms)`);
      assert.equal(h.agent.counters.wsDeadPeers, dead0 + 1);
      const kept = h.sessions.get(x.body.sessionId);
      for (let n = 0; n < 20 && kept?.hasClient; n++) await sleep(50); // the agent's side of the close may land a moment later
      assert.ok(kept && kept.state === 'running' && !kept.hasClient, 'the session did not stay for resume');
      const resumed = await attach(h, (await h.createSession(x.body.learnerId)).body.token);
      assert.equal(resumed.message('ready')?.sessionId, x.body.sessionId);
      evidence.push(`dead peer (stops answering pings, AGENT_WS_PING_MS ${PING_MS}): terminated after ${detectMs} ms (<= 2 intervals), session kept and resumed`);

      // 2. Second tab: the newest learner connection wins, the old one gets 4001.
      const second = await attach(h, (await h.createSession(x.body.learnerId)).body.token);
      assert.equal(await resumed.closed, closeCodes.replaced);
      assert.equal(resumed.message('error', (m) => m.close === closeCodes.replaced)?.code, 'replaced');
      evidence.push('second tab: takeover, the old tab closed 4001');

      // 3. Viewers: AGENT_MAX_VIEWERS_PER_SESSION (2) attach, the next one is refused 4429.
      const viewerToken = async () => JSON.parse((await h.api('POST', `/v1/sessions/${x.body.sessionId}/viewer-token`)).text) as { token: string };
      const viewers = [await attach(h, (await viewerToken()).token), await attach(h, (await viewerToken()).token)];
      const extra = TestClient.connect(h.wsUrl);
      await extra.opened;
      extra.auth((await viewerToken()).token);
      assert.equal(await extra.closed, closeCodes.rateLimited);
      assert.ok(extra.message('error', (m) => m.code === 'too-many-viewers'));
      assert.equal(second.closeCode, null, 'the learner lost its socket to a viewer');
      for (const v of viewers) v.close();
      second.close();
      await Promise.all([...viewers.map((v) => v.closed), second.closed]);
      evidence.push('viewers: 2 attached, the 3rd closed 4429 too-many-viewers');

      // 4. Sockets per client address (4) and in total (6), counted from the upgrade (unauthenticated too).
      await sleep(100);
      const a = await Promise.all([1, 2, 3, 4].map(() => openFrom(h, '10.8.0.1')));
      assert.deepEqual(a.map((s) => s.status), [101, 101, 101, 101]);
      const fifth = await openFrom(h, '10.8.0.1');
      const spoofed = await openFrom(h, '10.8.0.9, 10.8.0.1'); // the proxy's own (last) entry counts
      const b = await Promise.all([1, 2].map(() => openFrom(h, '10.8.0.2')));
      const overTotal = await openFrom(h, '10.8.0.3');
      assert.equal(fifth.status, 429, 'the 5th socket from one address');
      assert.equal(spoofed.status, 429, 'a client-supplied X-Forwarded-For entry escaped the limit');
      assert.deepEqual(b.map((s) => s.status), [101, 101]);
      assert.equal(overTotal.status, 503, 'the 7th socket in total');
      a[0]!.ws.close();
      await new Promise((r) => a[0]!.ws.once('close', r));
      await sleep(50);
      const again = await openFrom(h, '10.8.0.1');
      assert.equal(again.status, 101, 'a closed socket did not free its slot');
      for (const s of [...a, ...b, again]) s.ws.terminate();
      evidence.push(`sockets: 4 per address then HTTP ${fifth.status} (also with a forged X-Forwarded-For), 6 in total then HTTP ${overTotal.status}; a slot frees on close`);
      await h.api('DELETE', `/v1/sessions/${x.body.sessionId}`);

      // 5. Input idle (AGENT_INPUT_IDLE_MS 4 s, warning 2 s before): warning, reset by a keystroke
      //    and by `active`, then the cull: sandbox gone, progress kept.
      const i = idleAgent;
      const learnerId = `f08-idle-${rand()}`;
      const s = await i.createSession(learnerId);
      const c = await attach(i, s.body.token);
      await c.until(() => c.raw[0]!.includes(PROMPT_MARK) && c.raw[1]!.includes(PROMPT_MARK), 'prompts');
      c.type(0, 'unshare -n sleep 60\r');
      await c.until(() => c.message('step', (m) => m.result.stepId === 'isolate-sleep' && m.result.saved === true), 'isolate-sleep passed and saved');
      const warnings = () => c.messages.filter((m) => m.type === 'notice' && m.code === noticeCodes.idleWarning);
      c.type(1, '\r');
      const tA = Date.now();
      await c.until(() => warnings().length === 1 && warnings()[0], 'the first idle warning', 6_000);
      const firstAfterMs = Date.now() - tA;
      const first = warnings()[0]!;
      assert.ok(first.type === 'notice' && first.level === 'warning' && first.inMs !== undefined && first.inMs > 1_000 && first.inMs <= 2_000, JSON.stringify(first));
      assert.ok(firstAfterMs >= 1_900, `warned after ${firstAfterMs} ms of no input`);
      await sleep(1_000);
      c.type(1, '\r'); // a keystroke: the end announced for ~1 s from now is called off
      const tB = Date.now();
      await c.until(() => warnings().length === 2, 'the second idle warning', 6_000);
      assert.ok(Date.now() - tB >= 1_900 && c.closeCode === null, 'a keystroke did not reset the idle clock');
      await sleep(1_000);
      c.send({ type: 'active' }); // the "I'm still here" button
      const tC = Date.now();
      await c.until(() => warnings().length === 3, 'the third idle warning', 6_000);
      assert.ok(Date.now() - tC >= 1_900 && c.closeCode === null, '`active` did not reset the idle clock');
      const code = await c.closed;
      const culledAfterMs = Date.now() - tC;
      assert.equal(code, closeCodes.sessionEnded);
      assert.equal((c.ws as unknown as { _closeMessage?: Buffer })._closeMessage?.toString(), 'session-idle');
      assert.ok(culledAfterMs >= 3_800 && culledAfterMs <= 6_000, `culled ${culledAfterMs} ms after the last action`);
      assert.equal(i.sessions.get(s.body.sessionId), undefined, 'the idle session is still listed');
      const deadline = Date.now() + 5_000;
      while (cgroupDirs(s.body.sessionId).length > 0 && Date.now() < deadline) await sleep(100);
      assert.deepEqual(cgroupDirs(s.body.sessionId), [], 'the sandbox cgroups are still there');
      const next = await i.createSession(learnerId);
      assert.notEqual(next.body.sessionId, s.body.sessionId);
      assert.equal(next.body.steps.find((r) => r.stepId === 'isolate-sleep')?.status, 'passed', 'progress lost');
      assert.ok(delivered.includes('isolate-sleep'), 'the passed step never reached the progress store');
      await i.api('DELETE', `/v1/sessions/${next.body.sessionId}`);
      evidence.push(
        `input idle (AGENT_INPUT_IDLE_MS 4000, AGENT_IDLE_WARNING_MS 2000): notice idle-warning after ${firstAfterMs} ms (inMs ${first.type === 'notice' ? first.inMs : '?'}), reset by a keystroke and by {type:'active'}, then closed ${code} 'session-idle' ${culledAfterMs} ms after the last action; cgroups removed; a new session starts with the passed step (delivered by the outbox)`,
      );
      return evidence.join('; ');
    });
  });
});
