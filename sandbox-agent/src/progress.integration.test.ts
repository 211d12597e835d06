// Durable progress end to end: a step passed in a real sandbox goes through the agent's outbox to
// the app's progress store (a real SQLite database), exactly once; while the store is down the
// browser is told "not saved yet" and the result waits; an agent restart delivers what was queued;
// a new session starts with what the database holds.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { openDatabase, type Database } from '../../app/_lib/db/database';
import { progressFor } from '../../app/_lib/db/repository';
import { storeProgress, type PassedResult } from '../../app/_lib/progress.server';
import { progressDeliverySchema, PROGRESS_PATH } from '../protocol/index';
import { startHarness, TestClient, type Harness } from './test-support/agent-harness';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nslab-progress-'));
let database: Database;
let app: http.Server;
let appUp = true;
let deliveries = 0;
let progressUrl = '';

before(async () => {
  database = await openDatabase({ sqlitePath: path.join(dir, 'nslab.sqlite') });
  // The app's progress endpoint, as app/api/internal/progress/route.ts serves it.
  app = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      deliveries++;
      if (!appUp || req.url !== PROGRESS_PATH) {
        res.writeHead(503, { 'retry-after': '1' }).end('{"error":"down"}');
        return;
      }
      const parsed = progressDeliverySchema.safeParse(JSON.parse(body));
      if (!parsed.success) return void res.writeHead(400).end('{"error":"bad"}');
      storeProgress(parsed.data.items, database.db).then(
        (reply) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply)),
        () => res.writeHead(503).end('{"error":"db"}'),
      );
    });
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  progressUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}${PROGRESS_PATH}`;
});
after(async () => {
  app.close();
  await database.close();
});

const PROMPT = /root@nslab:[^\n]*# $/m;

async function attach(h: Harness, learner: string, progress?: PassedResult[]) {
  const res = await h.api('POST', '/v1/sessions', { learnerId: learner, labId: 'exercise-net-namespace', ...(progress ? { progress } : {}) });
  const body = JSON.parse(res.text) as { token: string; sessionId: string; steps: { stepId: string; status: string }[] };
  const client = TestClient.connect(h.wsUrl);
  await client.opened;
  client.auth(body.token);
  await client.until(() => client.message('ready'), 'ready');
  await client.waitForOutput(0, PROMPT);
  await client.waitForOutput(1, PROMPT);
  return { client, body };
}

test('a passed step is stored once; "not saved yet" while the store is down; delivered after an agent restart', { timeout: 120_000 }, async () => {
  const outboxFile = path.join(dir, 'outbox.sqlite');
  const learner = 'learner-progress';
  let h = await startHarness({}, { outbox: { file: outboxFile, url: progressUrl } });
  const { client, body } = await attach(h, learner);
  client.type(0, 'unshare -n sleep 60\r');
  await client.until(() => client.message('step', (m) => m.result.stepId === 'isolate-sleep' && m.result.saved === true), 'isolate-sleep saved');
  assert.ok(client.message('step', (m) => m.result.stepId === 'isolate-sleep' && m.result.saved === false), 'shown as not saved first');
  let rows = await progressFor(database.db, learner, 'exercise-net-namespace');
  assert.deepEqual(rows.map((r) => r.stepId), ['isolate-sleep']);
  assert.match(rows[0]!.message?.en ?? '', /net:\[\d+\]/);

  // The store goes down: the next pass is kept and shown as not saved yet.
  appUp = false;
  const pgrep = await client.waitForOutput(1, /(\d+)\s*\n[^\n]*# $/, client.output[1]!.length, 10_000).catch(() => null);
  void pgrep;
  const from = client.output[1]!.length;
  client.type(1, 'pgrep -x sleep\r');
  const pid = (await client.waitForOutput(1, /^(\d+)\s*$/m, from))[1]!;
  client.send({ type: 'answer', stepId: 'find-pid', value: pid });
  await client.until(() => client.message('step', (m) => m.result.stepId === 'find-pid' && m.result.status === 'passed' && m.result.saved === false), 'find-pid passed, not saved');
  const failedDeliveries = deliveries;
  await client.until(() => deliveries > failedDeliveries, 'a retried delivery');
  rows = await progressFor(database.db, learner, 'exercise-net-namespace');
  assert.deepEqual(rows.map((r) => r.stepId), ['isolate-sleep']);

  // The agent dies with the result undelivered; a new agent with the same outbox delivers it.
  client.close();
  await h.close();
  appUp = true;
  h = await startHarness({}, { outbox: { file: outboxFile, url: progressUrl } });
  const deadline = Date.now() + 10_000;
  while ((await progressFor(database.db, learner, 'exercise-net-namespace')).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  rows = await progressFor(database.db, learner, 'exercise-net-namespace');
  assert.deepEqual(rows.map((r) => r.stepId).sort(), ['find-pid', 'isolate-sleep']);

  // A new session (new agent, new sandbox) starts with what the database holds.
  const stored: PassedResult[] = rows.map((r) => ({ stepId: r.stepId, status: 'passed', message: r.message, hint: null, evidence: r.evidence, atMs: r.passedAt, saved: true }));
  const again = await attach(h, learner, stored);
  assert.notEqual(again.body.sessionId, body.sessionId);
  const ready = again.client.message('ready')!;
  assert.deepEqual(
    ready.steps.map((s) => [s.stepId, s.status]),
    [['isolate-sleep', 'passed'], ['find-pid', 'passed'], ['inspect-ns', 'pending'], ['nsenter-ip', 'pending']],
  );
  again.client.close();
  await h.close();
  // Exactly once: every delivery and retry left one row per step.
  assert.equal((await progressFor(database.db, learner)).length, 2);
});
