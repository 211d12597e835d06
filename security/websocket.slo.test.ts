// Security battery F (WebSocket and terminal): handshakes, tokens, frames and message abuse against a
// real in-process agent on loopback, with the canary measuring where the case asks for it.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { closeCodes } from '../sandbox-agent/protocol/index';
import { TokenIssuer } from '../sandbox-agent/src/tokens';
import { startHarness, TEST_ORIGIN, TestClient, type Harness } from '../sandbox-agent/src/test-support/agent-harness';
import { runCase } from './battery';
import { assertCanary, batteryCgroupName, Canary, Learner, rand, removeCgroupParents, sleep } from './support';

const FILE = 'security/websocket.slo.test.ts';
let h: Harness;
let canary: Canary;
let cgroupName: string;
const logged: string[] = [];
const realWrite = process.stdout.write.bind(process.stdout);

before(async () => {
  cgroupName = batteryCgroupName('ws');
  process.env.AGENT_CGROUP_NAME = cgroupName;
  // Every log line the agent writes is kept, to check that tokens never appear in it.
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    logged.push(String(chunk));
    return (realWrite as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
  // A short slow-consumer bound so F07's non-reading client is disconnected within seconds.
  h = await startHarness({ AGENT_SLOW_CONSUMER_MS: '2000' });
  canary = await Canary.open(h);
});
after(async () => {
  await canary?.close();
  await h?.close();
  process.stdout.write = realWrite;
  removeCgroupParents(cgroupName);
});

async function authed(token: string): Promise<TestClient> {
  const c = TestClient.connect(h.wsUrl);
  await c.opened;
  c.auth(token);
  return c;
}

describe('F. WebSocket and terminal', { timeout: 240_000 }, () => {
  test('F01 no token', async (t) => {
    await runCase(t, 'F01', FILE, async () => {
      const sessions0 = h.sessions.size;
      const failures0 = h.agent.counters.wsAuthFailures ?? 0;
      const silent = TestClient.connect(h.wsUrl);
      await silent.opened;
      const empty = await authed('');
      const garbage = await authed('garbage.garbage');
      const codes = [await empty.closed, await garbage.closed];
      const t0 = Date.now();
      const silentCode = await silent.closed;
      assert.deepEqual(codes, [closeCodes.badMessage, closeCodes.unauthorized]);
      assert.equal(silentCode, closeCodes.unauthorized);
      assert.equal(h.sessions.size, sessions0, 'a session appeared');
      assert.ok((h.agent.counters.wsAuthFailures ?? 0) >= failures0 + 2);
      assert.ok(logged.some((l) => /websocket auth refused/.test(l)), 'refusal not logged');
      return `no auth: closed ${silentCode} after ~5 s (${Date.now() - t0} ms after the others); empty token: ${codes[0]} (schema); garbage: ${codes[1]}; no session or PTY made (sessions ${sessions0}); refusals logged and counted`;
    });
  });

  test('F02 wrong token', async (t) => {
    await runCase(t, 'F02', FILE, async () => {
      const x = await h.createSession(`f02-x-${rand()}`);
      const forge = new TokenIssuer(h.secret, h.config.AGENT_TOKEN_TTL_MS);
      const expiredIssuer = new TokenIssuer(h.secret, 5_000, () => Date.now() - 60_000);
      const wrongKey = new TokenIssuer(`${h.secret}-not`, 60_000);
      const cases: Record<string, string> = {
        expired: expiredIssuer.issue(x.body.sessionId, x.body.learnerId).token,
        'other key': wrongKey.issue(x.body.sessionId, x.body.learnerId).token,
        'other learner for this session': forge.issue(x.body.sessionId, 'someone-else').token,
        'unknown session': forge.issue('s-nosuchsession', x.body.learnerId).token,
        tampered: x.body.token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')),
      };
      const got: string[] = [];
      for (const [name, token] of Object.entries(cases)) {
        const c = await authed(token);
        const code = await c.closed;
        assert.ok(code === closeCodes.unauthorized || code === closeCodes.sessionNotFound, `${name}: ${code}`);
        assert.equal(c.message('ready'), undefined, `${name} attached`);
        got.push(`${name} ${code}`);
      }
      const first = await authed(x.body.token);
      await first.until(() => first.message('ready'), 'ready');
      const replay = await authed(x.body.token);
      assert.equal(await replay.closed, closeCodes.unauthorized);
      got.push('replayed 4401');
      first.close();
      await h.api('DELETE', `/v1/sessions/${x.body.sessionId}`);
      const leaked = logged.filter((l) => l.includes(x.body.token.split('.')[1]!)).length;
      assert.equal(leaked, 0, 'a token appeared in the agent log');
      return `${got.join('; ')}; the token is signed over (session, learner, expiry, nonce), single use, TTL ${h.config.AGENT_TOKEN_TTL_MS} ms, sent in the first message (never the URL); not in ${logged.length} log lines`;
    });
  });

  test('F03 cross-site WebSocket hijacking', async (t) => {
    await runCase(t, 'F03', FILE, async () => {
      const tryOrigin = async (headers: Record<string, string>): Promise<number> => {
        const ws = new WebSocket(h.wsUrl, { headers });
        return new Promise((resolve) => {
          ws.once('open', () => {
            ws.close();
            resolve(101);
          });
          ws.once('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
          ws.once('error', () => resolve(-1));
        });
      };
      const refused = {
        evil: await tryOrigin({ origin: 'https://evil.example' }),
        missing: await tryOrigin({}),
        'null': await tryOrigin({ origin: 'null' }),
        'suffix trick': await tryOrigin({ origin: `${TEST_ORIGIN}.evil.example` }),
        'other port': await tryOrigin({ origin: 'http://localhost:3998' }),
        'https vs http': await tryOrigin({ origin: 'https://localhost:3999' }),
        'X-Forwarded-Host a,b': await tryOrigin({ origin: 'https://evil.example', 'x-forwarded-host': 'localhost:3999,evil.example' }),
      };
      for (const [k, v] of Object.entries(refused)) assert.equal(v, 403, `${k}: ${v}`);
      const accepted = {
        exact: await tryOrigin({ origin: TEST_ORIGIN }),
        'upper case': await tryOrigin({ origin: TEST_ORIGIN.toUpperCase() }),
        'trailing slash': await tryOrigin({ origin: `${TEST_ORIGIN}/` }),
      };
      for (const [k, v] of Object.entries(accepted)) assert.equal(v, 101, `${k}: ${v}`);
      return `403 for ${Object.keys(refused).join(', ')}; accepted after normalisation: ${Object.keys(accepted).join(', ')} (the default-port case https://x:443 == https://x is normalised by URL(), unit-tested in config)`;
    });
  });

  test('F04 oversized frames and header flood', async (t) => {
    await runCase(t, 'F04', FILE, async () => {
      const [major, minor, patch] = (JSON.parse(fs.readFileSync('node_modules/ws/package.json', 'utf8')) as { version: string }).version.split('.').map(Number);
      assert.ok(major! > 8 || (major === 8 && (minor! > 17 || (minor === 17 && patch! >= 1))), 'ws < 8.17.1');
      const rss0 = process.memoryUsage().rss;
      let codes: number[] = [];
      let headerStatus = '';
      const report = await canary.measure(60, 100, async () => {
        const big = TestClient.connect(h.wsUrl);
        await big.opened;
        big.ws.send(Buffer.alloc(1 << 20, 0x61));
        const streamed = TestClient.connect(h.wsUrl);
        await streamed.opened;
        for (let i = 0; i < 1600 && streamed.ws.readyState === WebSocket.OPEN; i++) {
          streamed.ws.send(Buffer.alloc(64 * 1024, 0x62), { fin: false, binary: true });
          if (i % 16 === 0) await sleep(1);
        }
        codes = [await big.closed, await streamed.closed];
        headerStatus = await new Promise<string>((resolve) => {
          const s = net.connect(Number(new URL(h.baseUrl).port), '127.0.0.1');
          let answer = '';
          s.on('data', (d) => (answer += d.toString()));
          s.on('close', () => resolve(answer.split('\r\n')[0] ?? '(closed)'));
          s.on('error', () => resolve(answer.split('\r\n')[0] || '(reset)'));
          s.write(`GET /agent/ws HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 2000 }, (_, i) => `X-H${i}: ${'v'.repeat(20)}`).join('\r\n')}\r\n\r\n`);
          setTimeout(() => s.destroy(), 5_000).unref();
        });
      });
      assert.deepEqual(codes, [1009, 1009]);
      assert.match(headerStatus, /^HTTP\/1\.1 431/);
      const growth = (process.memoryUsage().rss - rss0) / 2 ** 20;
      assert.ok(growth < 64, `RSS +${growth} MiB`);
      return `1 MiB frame: close ${codes[0]}; 100 MiB streamed as 64 KiB fragments: close ${codes[1]} at the 64 KiB maxPayload; 2000 headers: ${headerStatus}; ws ${major}.${minor}.${patch}; agent RSS +${growth.toFixed(1)} MiB; ${assertCanary(report)}`;
    });
  });

  test('F05 malformed messages', async (t) => {
    await runCase(t, 'F05', FILE, async () => {
      const l = await Learner.open(h);
      try {
        const bad0 = h.agent.counters.wsBadMessages ?? 0;
        const ws = l.client.ws;
        ws.send('{not json');
        ws.send('['.repeat(30_000) + ']'.repeat(30_000));
        ws.send(JSON.stringify({ type: 'nope' }));
        ws.send(JSON.stringify({ type: 'input', terminal: '0', data: 5 }));
        ws.send(JSON.stringify({ type: 'resize', terminal: 0, cols: 80 }));
        ws.send(Buffer.from([0x07, 1, 2, 3]));
        ws.send(JSON.stringify({ type: 'input', terminal: 7, data: 'x' }));
        ws.send(JSON.stringify({ type: 'answer', stepId: 'x'.repeat(5000), value: 'y' }));
        await l.client.until(() => (h.agent.counters.wsBadMessages ?? 0) >= bad0 + 7, 'seven bad-message errors');
        const out = await l.run(0, 'echo still-here');
        assert.match(out.output, /still-here/);
        // Invalid UTF-8 in a text frame: ws itself closes 1007.
        const u = await Learner.open(h);
        (u.client.ws as unknown as { _sender: { sendFrame(list: Buffer[], cb?: () => void): void } })._sender.sendFrame([Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0xc3, 0x28])]);
        const utfCode = await u.client.closed;
        await u.close();
        // 10k messages in a second: rate limited.
        const flood = await Learner.open(h);
        for (let i = 0; i < 10_000 && flood.client.ws.readyState === WebSocket.OPEN; i++) flood.client.send({ type: 'ping', id: i });
        const floodCode = await flood.client.closed;
        await flood.close();
        assert.equal(utfCode, 1007);
        assert.equal(floodCode, closeCodes.rateLimited);
        return `invalid JSON, 30k-deep nesting, unknown type, wrong field types, missing field, bad binary frame, bad terminal index, oversized stepId: ${(h.agent.counters.wsBadMessages ?? 0) - bad0} error replies, socket still usable; invalid UTF-8 text frame: close ${utfCode}; 10k messages/s: close ${floodCode}; agent alive`;
      } finally {
        await l.close();
      }
    });
  });

  test('F06 resize abuse', async (t) => {
    await runCase(t, 'F06', FILE, async () => {
      const l = await Learner.open(h);
      try {
        const bad0 = h.agent.counters.wsBadMessages ?? 0;
        const values: unknown[] = [0, -1, 'NaN', null, 1e9, '80', 80.5, undefined, 1001];
        for (const v of values) l.client.ws.send(`{"type":"resize","terminal":0,"cols":${v === 'NaN' ? 'NaN' : JSON.stringify(v) ?? ''},"rows":24}`);
        l.client.ws.send('{"type":"resize","terminal":0,"cols":Infinity,"rows":24}');
        await l.client.until(() => (h.agent.counters.wsBadMessages ?? 0) >= bad0 + values.length + 1, 'resize errors');
        for (let i = 0; i < 300; i++) l.client.send({ type: 'resize', terminal: 0, cols: 50 + (i % 100), rows: 20 + (i % 30) });
        await sleep(300);
        const size = await l.run(0, 'stty size');
        const [rows, cols] = size.output.trim().split(/\s+/).map(Number);
        assert.ok(rows! >= 1 && rows! <= 500 && cols! >= 2 && cols! <= 1000, size.output);
        assert.equal(l.client.closeCode, null);
        return `0, -1, NaN, Infinity, null, 1e9, "80", 80.5, missing, 1001: all rejected with an error (socket open); 300 resizes in a burst: ${30} applied per second, the rest dropped; stty size ${rows} ${cols}`;
      } finally {
        await l.close();
      }
    });
  });

  test('F07 input flood and slow reader', async (t) => {
    await runCase(t, 'F07', FILE, async () => {
      const l = await Learner.open(h);
      const rss0 = process.memoryUsage().rss;
      let sent = 0;
      let code: number | null = null;
      try {
        const report = await canary.measure(60, 100, async () => {
          // Up to 20 MiB of keystrokes as fast as the rate limit allows (399 x 16 KiB per second).
          const chunk = 'x'.repeat(16 * 1024);
          const deadline = Date.now() + 4_000;
          while (sent < 20 * 2 ** 20 && Date.now() < deadline && l.client.ws.readyState === WebSocket.OPEN) {
            for (let i = 0; i < 350 && sent < 20 * 2 ** 20; i++) {
              l.client.send({ type: 'input', terminal: 1, data: chunk });
              sent += chunk.length;
            }
            await sleep(1_000);
          }
          code = l.client.closeCode;
        });
        const growth = (process.memoryUsage().rss - rss0) / 2 ** 20;
        l.client.type(1, '\x03');
        const session = h.sessions.get(l.sessionId);
        assert.ok(session && session.terminals[1]!.running, 'the PTY did not survive');
        assert.ok(growth <= 64, `agent RSS +${growth.toFixed(1)} MiB`);
        const dropped = h.agent.counters.wsInputDropped ?? 0;
        assert.ok(dropped > 0 && l.client.message('error', (m) => m.code === 'input-rate'), 'input over the byte budget was not refused');
        // Slow reader: a client whose TCP socket stops reading while the sandbox prints.
        const slow = await Learner.open(h);
        const slowSession = h.sessions.get(slow.sessionId)!;
        const slowRss0 = process.memoryUsage().rss;
        const tcp = (slow.client.ws as unknown as { _socket: net.Socket })._socket;
        tcp.pause();
        slow.client.type(0, 'timeout 20 yes\r');
        await slow.client.until(() => slowSession.terminals[0]!.pausedSinceMs !== null, 'PTY paused', 10_000);
        const pausedAt = slowSession.terminals[0]!.pausedSinceMs!;
        const deadline = Date.now() + 8_000;
        while (slowSession.hasClient && Date.now() < deadline) await sleep(20);
        const cutMs = Date.now() - pausedAt;
        tcp.resume();
        const slowCode = await slow.client.closed;
        const slowGrowth = (process.memoryUsage().rss - slowRss0) / 2 ** 20;
        assert.equal(slowCode, closeCodes.slowConsumer);
        assert.ok(cutMs <= h.config.AGENT_SLOW_CONSUMER_MS + 1_000, `slow reader cut after ${cutMs} ms`);
        assert.ok(slowSession.state === 'running' && slowSession.terminals[0]!.running, 'the slow reader\'s PTY did not survive');
        assert.ok(slowGrowth <= 64, `agent RSS +${slowGrowth.toFixed(1)} MiB with a slow reader`);
        await h.api('DELETE', `/v1/sessions/${slow.sessionId}`);
        return `${(sent / 2 ** 20).toFixed(1)} MiB of keystrokes at the message rate limit in 4 s (socket ${code ?? 'open'}); all above 256 KiB/s dropped with an input-rate error (${dropped} windows); agent RSS +${growth.toFixed(1)} MiB; PTY alive for resume; slow reader (TCP paused, yes): PTY paused at the 1 MiB window, closed ${slowCode} ${cutMs} ms later (AGENT_SLOW_CONSUMER_MS ${h.config.AGENT_SLOW_CONSUMER_MS}), PTY alive for resume, RSS +${slowGrowth.toFixed(1)} MiB; ${assertCanary(report)}`;
      } finally {
        await l.close();
      }
    });
  });
  // F08 (liveness, idle and connection limits) does not depend on machine load: it runs in
  // security/websocket.integration.test.ts (npm test's integration stage).
});
