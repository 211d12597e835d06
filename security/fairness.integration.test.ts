// Security battery E04 (fair share, issue 12), functional: a learner whose sandbox holds more state
// than the grader reads (200 000 routes in their own network namespace) and who presses Check again
// and again gets a clear "too much state to check" result in English and Chinese, while another
// learner's step is graded and passes as usual; once the routes are gone, Check answers normally.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { StepResult } from '../labs/core/model';
import { runCase } from './battery';
import { addRoutes, batteryAgent, Learner, rand, sleep } from './support';

const FILE = 'security/fairness.integration.test.ts';
const agent = batteryAgent('fairf', { AGENT_GRADE_POLL_MS: '300' }, { canary: false });

const stepResults = (l: Learner, from = 0): StepResult[] => l.client.messages.slice(from).flatMap((m) => (m.type === 'step' ? [m.result] : []));
const isTooMuch = (r: StepResult) => r.status === 'failed' && /^Too much state to check/.test(r.message?.en ?? '');

describe('E. grading integrity: fair share', { timeout: 300_000 }, () => {
  test('E04 too much state to check: that learner alone is told why; others are graded', async (t) => {
    await runCase(t, 'E04', FILE, async () => {
      const huge = await Learner.open(agent.h, `huge-${rand()}`);
      const normal = await Learner.open(agent.h, `normal-${rand()}`);
      try {
        const routes = await addRoutes(huge, 200_000);
        const from = huge.client.messages.length;
        const spam = setInterval(() => huge.client.send({ type: 'check' }), 200);
        let passedMs = 0;
        try {
          // Meanwhile the other learner does the first step of the exercise; the poll grades it.
          const t0 = Date.now();
          normal.client.type(0, 'unshare -n sleep 60\r');
          await normal.client.until(
            () => stepResults(normal).some((r) => r.stepId === 'isolate-sleep' && r.status === 'passed'),
            'the other learner passes isolate-sleep',
            15_000,
          );
          passedMs = Date.now() - t0;
          await huge.client.until(() => stepResults(huge, from).some(isTooMuch), '"too much state" for the huge learner', 15_000);
        } finally {
          clearInterval(spam);
        }
        const tooMuch = stepResults(huge, from).find(isTooMuch)!;
        assert.match(tooMuch.message!.en, /more than 10000 routes/);
        assert.match(tooMuch.message!.zh, /要检查的状态太多.*路由超过 10000 条/);
        assert.match(tooMuch.hint?.en ?? '', /ip route flush/);
        assert.ok(tooMuch.hint?.zh, 'a Chinese hint');
        const session = agent.h.sessions.get(huge.sessionId)!;
        const rounds = session.gradingRounds;
        // Nothing is lost: with the routes gone, the next Check grades the lab again.
        const flushed = await huge.run(1, 'ip route flush table main; ip -4 route show table main | wc -l', 60_000);
        assert.equal(flushed.exitCode, 0, flushed.output);
        const after = huge.client.messages.length;
        const t1 = Date.now();
        huge.client.send({ type: 'check' });
        await huge.client.until(() => stepResults(huge, after).some((r) => r.status === 'failed' && !isTooMuch(r)), 'a normal result after the flush', 15_000);
        const backMs = Date.now() - t1;
        return `learner A added ${routes} routes to its own netns and pressed Check every 200 ms: it got "${tooMuch.message!.en.slice(0, 120)}…" (zh "${tooMuch.message!.zh.slice(0, 40)}…", hint "${tooMuch.hint!.en.slice(0, 60)}…") after ${rounds} grading rounds for A; meanwhile learner B's \`unshare -n sleep 60\` passed isolate-sleep in ${passedMs} ms; after \`ip route flush table main\` A's next Check was graded normally within ${backMs} ms`;
      } finally {
        await huge.close();
        await normal.close();
      }
    });
  });

  test('E05 the grader keeps working for others while one sandbox holds thousands of mounts', async (t) => {
    await runCase(t, 'E05', FILE, async () => {
      const many = await Learner.open(agent.h, `mounts-${rand()}`);
      const normal = await Learner.open(agent.h, `normal-${rand()}`);
      try {
        const made = await many.run(0, 'mkdir -p /tmp/m && for i in $(seq 3000); do mount -t tmpfs -o size=4k t /tmp/m 2>/dev/null || break; done; grep -c " /tmp/m " /proc/self/mountinfo', 60_000);
        const mounts = Number(made.output.trim().split('\n').pop());
        assert.ok(mounts > 1000, `only ${mounts} mounts: ${made.output.slice(-200)}`);
        const from = many.client.messages.length;
        many.client.send({ type: 'check' });
        await many.client.until(() => stepResults(many, from).some(isTooMuch), '"too much state" for the learner with many mounts', 15_000);
        const tooMuch = stepResults(many, from).find(isTooMuch)!;
        assert.match(tooMuch.message!.en, /mounts/);
        const t0 = Date.now();
        normal.client.type(0, 'unshare -n sleep 60\r');
        await normal.client.until(() => stepResults(normal).some((r) => r.stepId === 'isolate-sleep' && r.status === 'passed'), 'the other learner passes', 15_000);
        const passedMs = Date.now() - t0;
        await sleep(100);
        return `learner A stacked ${mounts} tmpfs mounts on one directory: Check answered "${tooMuch.message!.en.slice(0, 140)}…"; learner B's step passed ${passedMs} ms after its command`;
      } finally {
        await many.close();
        await normal.close();
      }
    });
  });
});
