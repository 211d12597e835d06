import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ResultOutbox, resultKey, type OutboxItem } from './outbox';

const item = (stepId: string): OutboxItem => ({
  key: resultKey('learner-1', 'lab-a', stepId),
  learnerId: 'learner-1',
  labId: 'lab-a',
  result: { stepId, status: 'passed', message: { en: 'ok', zh: '好' }, hint: null, evidence: { pid: 7 }, atMs: 1 },
});

const tmpFile = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nslab-outbox-')), 'outbox.sqlite');
const until = async (predicate: () => boolean, ms = 5_000) => {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

test('delivers each passed step once, even when enqueued twice', async () => {
  const seen: string[] = [];
  const outbox = new ResultOutbox(tmpFile(), async (items) => {
    for (const i of items) seen.push(i.key);
    return new Set(items.map((i) => i.key));
  });
  outbox.enqueue(item('a'));
  outbox.enqueue(item('a'));
  outbox.enqueue(item('b'));
  await until(() => outbox.pendingCount() === 0);
  assert.deepEqual(seen.sort(), [item('a').key, item('b').key].sort());
  assert.ok(outbox.isDelivered(item('a').key));
  outbox.close();
});

test('keeps results while the app is down, retries, and survives a restart', async () => {
  const file = tmpFile();
  let up = false;
  let attempts = 0;
  const deliver = async (items: OutboxItem[]) => {
    attempts++;
    if (!up) throw new Error('connection refused');
    return new Set(items.map((i) => i.key));
  };
  const first = new ResultOutbox(file, deliver);
  first.enqueue(item('a'));
  await until(() => attempts >= 2);
  assert.equal(first.pendingCount(), 1);
  first.close(); // the agent dies with the result undelivered

  up = true;
  const delivered: string[] = [];
  const second = new ResultOutbox(file, deliver);
  second.onDelivered((i) => delivered.push(i.result.stepId));
  assert.equal(second.pendingCount(), 1);
  second.start();
  await until(() => second.pendingCount() === 0);
  assert.deepEqual(delivered, ['a']);
  second.close();
});

test('only the keys the app confirms are marked delivered', async () => {
  const outbox = new ResultOutbox(tmpFile(), async (items) => new Set(items.filter((i) => i.result.stepId === 'a').map((i) => i.key)));
  outbox.enqueue(item('a'));
  outbox.enqueue(item('b'));
  await until(() => outbox.isDelivered(item('a').key));
  assert.equal(outbox.isDelivered(item('b').key), false);
  outbox.close();
});
