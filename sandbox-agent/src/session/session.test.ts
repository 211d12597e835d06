// Unit tests of a Session's parts without a real sandbox: a lab with no terminals, a fake Sandbox,
// and observe() replaced by a fixed observation, so the client hub, the step ledger and the
// grading round run as in the agent while nothing touches namespaces.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { initialResults } from '../../../labs/core/grade';
import { t, type CheckResult, type LabDef, type Observation, type StepResult } from '../../../labs/core/model';
import { snapshotSchema, type Snapshot } from '../../../labs/core/snapshot';
import type { ServerMessage } from '../../protocol/index';
import { loadConfig } from '../config';
import type { Sandbox } from '../sandbox/driver';
import { ClientHub, type ClientConnection, type HubSession } from './client-hub';
import { MapPublisher } from './map-publisher';
import { Session } from './session';

const config = loadConfig({ AGENT_SECRET: 'x'.repeat(40), AGENT_ALLOWED_ORIGINS: 'http://localhost:3999', AGENT_GRADE_POLL_MS: '60000' });

/** A browser that records what it is sent. */
function fakeClient(): ClientConnection & { messages: ServerMessage[]; closedWith: number | null } {
  const client = {
    messages: [] as ServerMessage[],
    closedWith: null as number | null,
    sendJson: (message: ServerMessage) => void client.messages.push(message),
    sendBinary: () => undefined,
    fail: (code: number) => {
      client.closedWith = code;
    },
  };
  return client;
}

function fakeSandbox(): Sandbox {
  return {
    id: 's-test',
    initHostPid: 1,
    uidBase: 100_000,
    uidCount: 65_536,
    startMs: 1,
    listHostPids: () => [],
    shellCommand: () => {
      throw new Error('this lab has no terminals');
    },
    isAlive: () => true,
    exited: new Promise<void>(() => undefined),
    destroy: async () => undefined,
    stats: () => ({ memoryBytes: null, pids: null, oomKills: null, pidsLimitHits: null, cpuUsageUsec: null }),
    appliedLimits: () => ({ pidsMax: null, memoryMaxBytes: null, swapMaxBytes: null, cpuMaxPercent: null }),
  };
}

const recordedSnapshot: Snapshot = snapshotSchema.parse(
  (JSON.parse(readFileSync(new URL('../../../labs/build-a-bridge/fixtures/recorded-done.json', import.meta.url), 'utf8')) as { snapshot: unknown }).snapshot,
);

/** A lab of two steps that count their check runs: 'open' always fails, 'done' passes once the learner answered. */
function countingLab(calls: Record<string, number>): LabDef {
  const counted = (stepId: string, check: (obs: Observation) => CheckResult) => (obs: Observation) => {
    calls[stepId] = (calls[stepId] ?? 0) + 1;
    return check(obs);
  };
  return {
    id: 'unit-lab',
    title: t('Unit', '单元'),
    terminals: 0,
    steps: [
      {
        id: 'done',
        title: t('Done', '完成'),
        kinds: ['answer'],
        answer: { label: t('?', '？') },
        check: counted('done', (obs) =>
          obs.answers.done ? { status: 'passed', message: t('ok', '好'), evidence: {} } : { status: 'failed', message: t('answer me', '回答'), evidence: {} },
        ),
        hints: [],
      },
      { id: 'open', title: t('Open', '开放'), kinds: ['state'], check: counted('open', () => ({ status: 'failed', message: t('not yet', '还没有'), evidence: {} })), hints: [] },
    ],
    solution: [],
  };
}

function startSession(lab: LabDef, results: Record<string, StepResult>): Session {
  const session = new Session('s-unit', 'learner', lab, fakeSandbox(), results, config, { ended: () => undefined, passed: () => true });
  const observation: Observation = { snapshot: recordedSnapshot, transcript: [], answers: {}, passed: {} };
  session.observe = async () => ({ ...observation, answers: session['answers'] as Observation['answers'] });
  return session;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('client hub: the learner and the viewers get the same messages', () => {
  test('a viewer is told when the progress database saved a step, like the learner', async () => {
    const lab = countingLab({});
    const results = Object.fromEntries(initialResults(lab, 0).map((r) => [r.stepId, r]));
    results.done = { ...results.done!, status: 'passed', message: t('ok', '好'), saved: false };
    const session = startSession(lab, results);
    const learner = fakeClient();
    const viewer = fakeClient();
    session.attach(learner, []);
    session.attachViewer(viewer, []);
    session.markSaved('done');
    const saved = (c: ReturnType<typeof fakeClient>) => c.messages.some((m) => m.type === 'step' && m.result.stepId === 'done' && m.result.saved === true);
    assert.ok(saved(learner), 'the learner sees "saved"');
    assert.ok(saved(viewer), 'the viewer sees "saved" too');
    await session.end('deleted');
    assert.equal(viewer.closedWith, 4000);
  });

  test('a viewer gets the live map: the current one on attach, then every change', () => {
    const session: HubSession = { id: 's-map', labId: 'unit-lab', terminals: [], stepResults: [], state: 'running', end: async () => undefined };
    const hub = new ClientHub(session, config, { learnerAttached: () => undefined, learnerDetached: () => undefined, viewerAttached: (v) => map.sendCurrentTo(v) });
    const map = new MapPublisher({ id: 's-map', sandbox: fakeSandbox(), isRunning: () => true, concealed: () => [] }, hub);
    const learner = fakeClient();
    const early = fakeClient();
    hub.attach(learner, []);
    hub.attachViewer(early, []);
    map.publish(recordedSnapshot, map.nextSeq());
    const maps = (c: ReturnType<typeof fakeClient>) => c.messages.filter((m) => m.type === 'snapshot').length;
    assert.equal(maps(learner), 1);
    assert.equal(maps(early), 1, 'the viewer got the map the learner got');
    const late = fakeClient();
    hub.attachViewer(late, []);
    assert.equal(maps(late), 1, 'a viewer attaching later gets the current map at once');
    hub.close('deleted');
  });

  test('notices reach viewers; a reply to the learner does not', () => {
    const session: HubSession = { id: 's-n', labId: 'unit-lab', terminals: [], stepResults: [], state: 'running', end: async () => undefined };
    const hub = new ClientHub(session, config, { learnerAttached: () => undefined, learnerDetached: () => undefined, viewerAttached: () => undefined });
    const learner = fakeClient();
    const viewer = fakeClient();
    hub.attachViewer(viewer, []);
    assert.equal(hub.notify({ level: 'info', code: 'workshop-message', message: 'hi' }), false, 'no learner attached: not delivered');
    hub.attach(learner, []);
    assert.equal(hub.notify({ level: 'info', code: 'workshop-message', message: 'hi' }), true);
    hub.replyToLearner({ type: 'error', code: 'unknown-step', message: 'no' });
    assert.equal(viewer.messages.filter((m) => m.type === 'notice').length, 2);
    assert.equal(viewer.messages.filter((m) => m.type === 'error').length, 0);
    assert.equal(learner.messages.filter((m) => m.type === 'error').length, 1);
    hub.close('deleted');
  });
});

describe('grading round: every open check runs once per round', () => {
  test('the instructor latest failure comes from the same round (no second grading)', async () => {
    const calls: Record<string, number> = {};
    const lab = countingLab(calls);
    const session = startSession(lab, Object.fromEntries(initialResults(lab, 0).map((r) => [r.stepId, r])));
    const learner = fakeClient();
    session.attach(learner, []); // grades once ('auto')
    await until(() => session.gradingRounds === 1 && session.lastGradeMs !== null, 'the first round');
    assert.deepEqual(calls, { done: 1, open: 1 });
    // Auto rounds show the learner nothing, yet the instructor sees each step's failing message.
    const steps = session.status().steps;
    assert.deepEqual(
      steps.map((s) => [s.stepId, s.status, s.latestFailure?.message.en ?? null]),
      [
        ['done', 'pending', 'answer me'],
        ['open', 'pending', 'not yet'],
      ],
    );
    assert.equal(learner.messages.filter((m) => m.type === 'step').length, 0);

    session.answer('done', 'yes');
    await until(() => session.gradingRounds === 2 && (calls.done ?? 0) === 2, 'the answer round');
    await until(() => session.status().steps[0]!.status === 'passed', 'the answer graded');
    assert.deepEqual(calls, { done: 2, open: 2 }, 'one check run per open step per round');
    assert.equal(session.status().steps[0]!.latestFailure, null);
    assert.equal(session.status().steps[1]!.latestFailure?.message.en, 'not yet');

    session.requestGrade('explicit');
    await until(() => session.gradingRounds === 3 && (calls.open ?? 0) === 3, 'the Check round');
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(calls, { done: 2, open: 3 }, 'a passed step is not checked again');
    await session.end('deleted');
  });
});
