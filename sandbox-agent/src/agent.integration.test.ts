// The agent end to end over loopback with real sandboxes: control API, WebSocket auth and origin
// checks, the exercise done by typing, live step results, replay on reconnect, Ctrl-C, takeover.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { closeCodes } from '../protocol/index';
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
  await client.waitForOutput(1, PROMPT);
  return { client, sessionId: body.sessionId };
}

/** Types a command and waits for the prompt that follows it; returns the text in between. */
async function run(client: TestClient, terminal: number, command: string, timeoutMs = 10_000): Promise<string> {
  const from = client.output[terminal]!.length;
  client.type(terminal, `${command}\r`);
  const match = await client.waitForOutput(terminal, new RegExp(`[\\s\\S]*?\\r?\\n([\\s\\S]*?)root@nslab:[^\\n]*# $`), from, timeoutMs);
  return match[1] ?? '';
}

describe('control API', { timeout: 60_000 }, () => {
  test('health, auth, validation and errors', async () => {
    const health = await fetch(`${h.baseUrl}/healthz`);
    assert.equal(health.status, 200);
    assert.equal((await h.api('POST', '/v1/sessions', { learnerId: 'a', labId: 'exercise-net-namespace' }, { authorization: 'Bearer wrong' })).status, 401);
    assert.equal((await h.api('POST', '/v1/sessions', '{oops')).status, 400);
    const invalid = await h.api('POST', '/v1/sessions', { learnerId: 'bad id with spaces', labId: 'exercise-net-namespace' });
    assert.equal(invalid.status, 400);
    assert.match(invalid.text, /learnerId/);
    assert.equal((await h.api('POST', '/v1/sessions', { learnerId: 'a', labId: 'no-such-lab' })).status, 404);
    assert.equal((await h.api('POST', '/v1/sessions', 'x'.repeat(20_000))).status, 413);
    assert.equal((await h.api('GET', '/v1/sessions/nope')).status, 404);
    assert.equal((await h.api('PUT', '/v1/sessions')).status, 405);
  });

  test('the same learner and lab get the same session back', async () => {
    const first = await h.createSession('learner-same');
    assert.equal(first.status, 201);
    assert.equal(first.body.steps.length, 4);
    assert.ok(first.body.steps.every((s) => s.status === 'pending'));
    const second = await h.createSession('learner-same');
    assert.equal(second.status, 200);
    assert.equal(second.body.sessionId, first.body.sessionId);
    assert.notEqual(second.body.token, first.body.token);
    assert.equal((await h.api('DELETE', `/v1/sessions/${first.body.sessionId}`)).status, 204);
    assert.equal((await h.api('GET', `/v1/sessions/${first.body.sessionId}`)).status, 404);
  });
});

describe('terminal WebSocket', { timeout: 120_000 }, () => {
  test('foreign or missing Origin is refused at the handshake', async () => {
    for (const origin of ['https://evil.example', 'http://localhost:3999.evil.example', 'null']) {
      const client = TestClient.connect(h.wsUrl, origin);
      await assert.rejects(client.opened, /HTTP 403/, origin);
    }
  });

  test('no, garbage, replayed and foreign tokens are refused before anything is attached', async () => {
    const garbage = TestClient.connect(h.wsUrl);
    await garbage.opened;
    garbage.auth('not-a-token');
    assert.equal(await garbage.closed, closeCodes.unauthorized);
    assert.equal(garbage.message('error')?.code, 'unauthorized');

    const early = TestClient.connect(h.wsUrl);
    await early.opened;
    early.type(0, 'id\r');
    assert.equal(await early.closed, closeCodes.unauthorized);

    const { body } = await h.createSession('learner-replay');
    const first = TestClient.connect(h.wsUrl);
    await first.opened;
    first.auth(body.token);
    await first.until(() => first.message('ready'), 'ready');
    const replay = TestClient.connect(h.wsUrl);
    await replay.opened;
    replay.auth(body.token);
    assert.equal(await replay.closed, closeCodes.unauthorized);
    assert.match(replay.message('error')?.message ?? '', /replayed/);
    first.close();
    await h.api('DELETE', `/v1/sessions/${body.sessionId}`);
  });

  test('bad messages after auth get an error and the socket stays usable', async () => {
    const { client, sessionId } = await attached('learner-bad-input');
    client.send({ type: 'resize', terminal: 0, cols: 0, rows: 24 });
    client.ws.send('{not json');
    client.ws.send(Buffer.from([9, 9, 9]));
    await client.until(() => client.messages.filter((m) => m.type === 'error').length >= 3, 'three errors');
    assert.ok(client.messages.filter((m) => m.type === 'error').every((m) => m.type === 'error' && m.close === undefined));
    const out = await run(client, 0, 'stty size');
    assert.match(out, /40 120/);
    client.close();
    await h.api('DELETE', `/v1/sessions/${sessionId}`);
  });

  test('a learner does the exercise by typing and every step passes live', async () => {
    const { client, sessionId } = await attached('learner-exercise');
    client.type(0, 'unshare -n sleep 60\r');
    const pidText = await client.until(() => {
      const out = client.output[1]!;
      return out.length > 0 ? true : null;
    }, 'terminal 1 output');
    assert.ok(pidText);
    const pgrep = await run(client, 1, 'sleep 0.3; pgrep -x sleep');
    const pid = /^(\d+)\s*$/m.exec(pgrep)?.[1];
    assert.ok(pid, `a pid in: ${pgrep}`);
    await client.until(() => client.message('step', (m) => m.result.stepId === 'isolate-sleep' && m.result.status === 'passed'), 'isolate-sleep passed');

    client.send({ type: 'answer', stepId: 'find-pid', value: '999999' });
    const wrong = await client.until(() => client.message('step', (m) => m.result.stepId === 'find-pid' && m.result.status === 'failed'), 'find-pid failed');
    assert.doesNotMatch(wrong.result.message?.en ?? '', new RegExp(`\\b${pid}\\b`));
    client.send({ type: 'answer', stepId: 'find-pid', value: pid });
    await client.until(() => client.message('step', (m) => m.result.stepId === 'find-pid' && m.result.status === 'passed'), 'find-pid passed');

    const ns = await run(client, 1, `ls -la /proc/${pid}/ns/`);
    assert.match(ns, /net -> 'net:\[\d+\]'/);
    await client.until(() => client.message('step', (m) => m.result.stepId === 'inspect-ns' && m.result.status === 'passed'), 'inspect-ns passed');

    const ipa = await run(client, 1, `nsenter -t ${pid} -n ip a`);
    assert.match(ipa, /1: lo: <LOOPBACK>/);
    assert.doesNotMatch(ipa, /2: /);
    const done = await client.until(() => client.message('step', (m) => m.result.stepId === 'nsenter-ip' && m.result.status === 'passed'), 'nsenter-ip passed');
    assert.match(done.result.message?.en ?? '', /lo/);

    // Ctrl-C ends the sleep; a passed step stays passed.
    const from = client.output[0]!.length;
    client.type(0, '\x03');
    await client.waitForOutput(0, PROMPT, from, 3_000);
    client.send({ type: 'check' });
    await new Promise((r) => setTimeout(r, 800));
    const info = JSON.parse((await h.api('GET', `/v1/sessions/${sessionId}`)).text) as { steps: { status: string }[] };
    assert.deepEqual(info.steps.map((s) => s.status), ['passed', 'passed', 'passed', 'passed']);

    // Reconnect (as a page reload does): earlier output is replayed, statuses are kept.
    client.close();
    await client.closed;
    const again = await h.createSession('learner-exercise');
    assert.equal(again.body.sessionId, sessionId);
    const reload = TestClient.connect(h.wsUrl);
    await reload.opened;
    reload.auth(again.body.token);
    const ready = await reload.until(() => reload.message('ready'), 'ready');
    assert.ok(ready.steps.every((s) => s.status === 'passed'));
    await reload.waitForOutput(1, new RegExp(`nsenter -t ${pid} -n ip a`));
    await reload.waitForOutput(0, /unshare -n sleep 60/);

    // Resuming from the rendered offsets replays nothing twice.
    const resume = TestClient.connect(h.wsUrl);
    await resume.opened;
    resume.auth((await h.createSession('learner-exercise')).body.token, [
      { terminal: 0, offset: reload.offsets[0]! },
      { terminal: 1, offset: reload.offsets[1]! },
    ]);
    assert.equal(await reload.closed, closeCodes.replaced);
    await resume.until(() => resume.message('ready'), 'ready');
    await run(resume, 0, 'echo after-resume');
    assert.doesNotMatch(resume.output[0]!, /unshare -n sleep 60/);
    resume.close();
    await h.api('DELETE', `/v1/sessions/${sessionId}`);

    // The Prometheus metrics saw what just happened.
    const metricsText = await (await fetch(`${h.baseUrl}/metrics`)).text();
    for (const name of ['nslab_session_start_seconds_count', 'nslab_echo_seconds_count', 'nslab_grade_seconds_count', 'nslab_snapshot_seconds_count', 'nslab_snapshot_processes_total']) {
      const value = Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(metricsText)?.[1] ?? 0);
      assert.ok(value > 0, `${name} = ${value}`);
    }
    assert.match(metricsText, /^nslab_steps_passed_total\{lab="exercise-net-namespace"\} [1-9]/m);
    assert.match(metricsText, /^nslab_snapshot_ns_reused_total \d+$/m);
  });

  test("the live map leaves out the sleep's PID until find-pid passed (issue 13: it gave the answer away)", async () => {
    const { body } = await h.createSession('learner-conceal', 'exercise-net-namespace');
    const client = TestClient.connect(h.wsUrl);
    await client.opened;
    client.auth(body.token);
    await client.until(() => client.message('ready'), 'ready');
    await client.waitForOutput(0, PROMPT);
    type MapMsg = { type: 'snapshot'; snapshot: { concealed?: string[]; processes: { pid: number; comm: string }[] } };
    client.type(0, 'unshare -n sleep 600\r');
    const hidden = await client.until(() => client.message('snapshot', (m: MapMsg) => m.snapshot.processes.some((p) => p.comm === 'sleep')), 'the map shows the sleep', 5_000);
    const pid = (await run(client, 1, 'pgrep -x sleep')).trim();
    assert.match(pid, /^\d+$/);
    assert.deepEqual((hidden as MapMsg).snapshot.concealed, ['pids']);
    // stand-ins 1, 2, 3... in PID order: the sleep's real PID is not what is sent for it
    assert.deepEqual((hidden as MapMsg).snapshot.processes.map((p) => p.pid), (hidden as MapMsg).snapshot.processes.map((_, i) => i + 1));
    client.send({ type: 'answer', stepId: 'find-pid', value: pid });
    await client.until(
      () => client.message('snapshot', (m: MapMsg) => m.snapshot.concealed === undefined && m.snapshot.processes.some((p) => p.comm === 'sleep' && String(p.pid) === pid)),
      'after find-pid passed, the map shows the PID',
      8_000,
    );
    client.close();
    await h.api('DELETE', `/v1/sessions/${body.sessionId}`);
  });

  test('the live map follows each command within a second, even while a probe waits on a ping nobody answers', async () => {
    const { body } = await h.createSession('learner-map', 'build-a-bridge');
    const client = TestClient.connect(h.wsUrl);
    await client.opened;
    client.auth(body.token);
    await client.until(() => client.message('ready'), 'ready');
    await client.waitForOutput(0, PROMPT);
    // 172.17.0.2 is held (eth0 in netns red, down) and the base namespace routes 172.17/16 to a
    // veth whose peer answers nothing: the grader's probe "ping 172.17.0.2" from the base
    // namespace waits its whole 1.5 s timeout on every grading round. (Veths and bridges only:
    // a user namespace cannot load the dummy module.)
    await run(
      client,
      0,
      'ip netns add red && ip link add veth0 type veth peer name eth0 netns red && ip -n red addr add 172.17.0.2/16 dev eth0 && ip link add d0 type veth peer name d1 && ip addr add 172.17.0.9/16 dev d0 && ip link set d1 up && ip link set d0 up',
    );
    const hasLink = (name: string) => (m: { type: 'snapshot'; snapshot: { netns: { interfaces: { name: string }[] }[] } }) =>
      m.snapshot.netns.some((n) => n.interfaces.some((i) => i.name === name));
    await client.until(() => client.message('snapshot', hasLink('d0')), 'the map shows d0', 5_000);
    const latenciesMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      await run(client, 0, `ip link add map${i} type bridge`);
      const ended = Date.now();
      await client.until(() => client.message('snapshot', hasLink(`map${i}`)), `the map shows map${i}`, 5_000);
      latenciesMs.push(Date.now() - ended);
      await new Promise((r) => setTimeout(r, 300)); // lands the next command inside a probe's wait
    }
    latenciesMs.sort((a, b) => a - b);
    console.log(`map latency after a command with a 1.5 s probe in flight (ms): ${latenciesMs.join(', ')}`);
    assert.ok(latenciesMs[2]! < 1_000, `median ${latenciesMs[2]} ms`);
    const info = JSON.parse((await h.api('GET', `/v1/sessions/${body.sessionId}`)).text) as { steps: { id: string; status: string }[] };
    assert.notEqual(info.steps.at(-1)?.status, 'passed');
    client.close();
    await h.api('DELETE', `/v1/sessions/${body.sessionId}`);
  });

  test('poll rounds wait while the learner types and run once keys are quiet; a command end still grades at once', async () => {
    // The harness polls every 300 ms. A poll round holds the event loop for milliseconds (host-side
    // /proc reads, helper spawns): it must not land on keystrokes.
    const { client, sessionId } = await attached('poll-typing');
    const session = h.sessions.get(sessionId)!;
    const rounds: { trigger: string; atMs: number }[] = [];
    // Every request goes through the session's grading loop (poll, command end, Check, answers).
    const original = session.grading.request.bind(session.grading);
    session.grading.request = (trigger, answeredStepId) => {
      rounds.push({ trigger, atMs: performance.now() });
      original(trigger, answeredStepId);
    };
    await new Promise((r) => setTimeout(r, 500));
    const typingFrom = performance.now();
    while (performance.now() - typingFrom < 1_500) {
      client.type(0, 'x');
      await new Promise((r) => setTimeout(r, 20));
    }
    const typingTo = performance.now();
    client.type(0, '\x15'); // Ctrl-U: nothing runs
    await new Promise((r) => setTimeout(r, 800));
    const during = rounds.filter((r) => r.trigger === 'auto' && r.atMs > typingFrom + 30 && r.atMs < typingTo);
    assert.deepEqual(during, [], 'no poll round started while keys were typed every 20 ms');
    assert.ok(rounds.some((r) => r.trigger === 'auto' && r.atMs > typingTo), 'a poll round ran once typing stopped');
    const before = rounds.length;
    const ran = performance.now();
    await run(client, 0, 'true');
    await client.until(() => rounds.slice(before).some((r) => r.trigger === 'auto' && r.atMs - ran < 1_000), 'grading on the command end');
    client.close();
  });

  test('deleting a session closes its socket with 4000 and tears the sandbox down', async () => {
    const { client, sessionId } = await attached('learner-delete');
    const sandbox = h.sessions.get(sessionId)!.sandbox;
    assert.ok(sandbox.isAlive());
    await h.api('DELETE', `/v1/sessions/${sessionId}`);
    assert.equal(await client.closed, closeCodes.sessionEnded);
    assert.equal(sandbox.isAlive(), false);
    assert.deepEqual(sandbox.listHostPids(), []);
  });
});
