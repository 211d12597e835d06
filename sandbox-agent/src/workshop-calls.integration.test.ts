// The agent's workshop calls with real sandboxes: session status with the latest failing check
// message (while the learner still sees `pending`), read-only viewer attach, notices, and ending
// all sessions of a set of learners.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { closeCodes, sessionQueryReplySchema, viewerTokenReplySchema } from '../protocol/index';
import { startHarness, TestClient, type Harness } from './test-support/agent-harness';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.close();
});

const PROMPT = /root@nslab:[^\n]*# $/m;

async function attached(learner: string): Promise<{ client: TestClient; sessionId: string }> {
  const { body } = await h.createSession(learner);
  const client = TestClient.connect(h.wsUrl);
  await client.opened;
  client.auth(body.token);
  await client.until(() => client.message('ready'), 'ready');
  await client.waitForOutput(0, PROMPT);
  return { client, sessionId: body.sessionId };
}

async function query(learnerIds: string[]) {
  const res = await h.api('POST', '/v1/sessions/query', { learnerIds });
  assert.equal(res.status, 200, res.text);
  return sessionQueryReplySchema.parse(JSON.parse(res.text));
}

describe('workshop calls', { timeout: 90_000 }, () => {
  test('validation and auth', async () => {
    assert.equal((await h.api('POST', '/v1/sessions/query', { learnerIds: [] }, { authorization: 'Bearer nope' })).status, 401);
    assert.equal((await h.api('POST', '/v1/sessions/query', { learnerIds: ['bad id'] })).status, 400);
    assert.equal((await h.api('GET', '/v1/sessions/query')).status, 405);
    assert.equal((await h.api('POST', '/v1/notices', { learnerIds: [], level: 'info', code: 'x', message: 'hi' })).status, 400);
    assert.equal((await h.api('POST', '/v1/sessions/s-nope/viewer-token')).status, 404);
    assert.deepEqual((await query(['nobody'])).sessions, []);
  });

  test('status shows the latest failing message while the learner sees pending', async () => {
    const { client } = await attached('wl-status');
    const before = (await query(['wl-status'])).sessions[0];
    assert.ok(before);
    assert.equal(before.connected, true);
    assert.equal(before.currentStepId, 'isolate-sleep');
    assert.ok(before.currentStepSinceMs !== null && before.currentStepSinceMs >= before.createdAtMs);
    // A sleep in the sandbox's own net namespace: the check fails, the learner is not told.
    client.type(0, 'sleep 30 &\r');
    let status = before;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      status = (await query(['wl-status'])).sessions[0]!;
      if (status.steps[0]?.latestFailure?.message.en.includes('sleep')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const first = status.steps[0]!;
    assert.equal(first.status, 'pending');
    assert.match(first.latestFailure?.message.en ?? '', /sleep/);
    assert.ok(!client.message('step', (m) => m.result.status === 'failed'), 'no failure pushed to the learner');
    client.close();
  });

  test('a viewer gets output and replay, cannot type, and does not replace the learner', async () => {
    const { client, sessionId } = await attached('wl-viewer');
    client.type(0, 'echo before-$((40+2))\r');
    await client.waitForOutput(0, /before-42/);
    const tokenRes = await h.api('POST', `/v1/sessions/${sessionId}/viewer-token`);
    assert.equal(tokenRes.status, 200);
    const { token } = viewerTokenReplySchema.parse(JSON.parse(tokenRes.text));
    const viewer = TestClient.connect(h.wsUrl);
    await viewer.opened;
    viewer.auth(token);
    await viewer.until(() => viewer.message('ready'), 'viewer ready');
    await viewer.waitForOutput(0, /before-42/); // replay
    client.type(0, 'echo live-$((6*7))\r');
    await viewer.waitForOutput(0, /live-42/); // live
    viewer.type(0, 'echo viewer-typed\r');
    viewer.send({ type: 'input', terminal: 0, data: 'echo viewer-typed-json\r' });
    await viewer.until(() => viewer.messages.filter((m) => m.type === 'error' && m.code === 'read-only').length >= 2, 'read-only errors');
    await new Promise((r) => setTimeout(r, 300));
    assert.doesNotMatch(client.output[0]!, /viewer-typed/);
    assert.equal(client.closeCode, null, 'the learner stays attached');
    const status = (await query(['wl-viewer'])).sessions[0]!;
    assert.equal(status.connected, true);
    assert.equal(status.viewers, 1);

    // Notices reach the learner (and the viewer).
    const notice = await h.api('POST', '/v1/notices', { learnerIds: ['wl-viewer', 'nobody'], level: 'info', code: 'workshop-message', message: 'Break in 5 minutes' });
    assert.deepEqual(JSON.parse(notice.text), { delivered: 1 });
    await client.until(() => client.message('notice', (m) => m.message === 'Break in 5 minutes'), 'notice');

    // Ending the learner's sessions closes both sockets with 4000.
    const ended = await h.api('POST', '/v1/sessions/end', { learnerIds: ['wl-viewer'], reason: 'the workshop ended', closeReason: 'workshop-ended' });
    assert.deepEqual(JSON.parse(ended.text), { ended: 1 });
    assert.equal(await client.closed, closeCodes.sessionEnded);
    assert.equal(client.closeReason, 'workshop-ended');
    assert.equal(await viewer.closed, closeCodes.sessionEnded);
    assert.match(client.message('error')?.message ?? '', /the workshop ended/);
    assert.deepEqual((await query(['wl-viewer'])).sessions, []);
  });
});
