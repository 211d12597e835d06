// Security battery D07-D08 (fair share, issue 12): what one learner can make big (their own kernel
// state, unread input) costs only them. Each attack runs through the real agent beside the canary
// learner, who must keep keystroke echo p99 < 50 ms while the agent's /healthz answers in < 100 ms.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCase } from './battery';
import { addRoutes, assertFair, batteryAgent, Learner, measureFairShare, rand, sleep } from './support';
import { noticeCodes } from '../sandbox-agent/protocol/index';

const FILE = 'security/fairness.slo.test.ts';
const HUGE_ROUTES = 200_000;

const agent = batteryAgent('fair', { AGENT_GRADE_POLL_MS: '1000' });
const measureFair = (attack: () => Promise<unknown>) => measureFairShare(agent, attack);

describe('D. fair share, with the canary', { timeout: 400_000 }, () => {
  test('D07 a huge routing table and a Check every 200 ms', async (t) => {
    await runCase(t, 'D07', FILE, async () => {
      const a = await Learner.open(agent.h, `routes-${rand()}`);
      try {
        const routes = await addRoutes(a, HUGE_ROUTES);
        const from = a.client.messages.length;
        let checks = 0;
        const m = await measureFair(async () => {
          const spam = setInterval(() => {
            a.client.send({ type: 'check' });
            checks++;
          }, 200);
          await sleep(10_500);
          clearInterval(spam);
        });
        const results = a.client.messages.slice(from).flatMap((msg) => (msg.type === 'step' ? [msg.result] : []));
        const tooMuch = results.find((r) => r.status === 'failed' && /too much state/i.test(r.message?.en ?? ''));
        assert.ok(tooMuch, `no "too much state" result among ${results.length} step results: ${JSON.stringify(results.slice(-2))}`);
        assert.match(tooMuch.message!.zh, /状态/);
        const session = agent.h.sessions.get(a.sessionId)!;
        const rounds = session.gradingRounds;
        const evidence = assertFair(m);
        return `learner A holds ${routes} routes in its own netns and sent ${checks} Checks in 10.5 s: the agent ran ${rounds} grading rounds for A and answered "${tooMuch.message!.en.slice(0, 140)}"; ${evidence}`;
      } finally {
        await a.close();
      }
    });
  });

  test('D08 input flood into a program that does not read', async (t) => {
    await runCase(t, 'D08', FILE, async () => {
      const b = await Learner.open(agent.h, `input-${rand()}`);
      try {
        b.client.type(0, 'stty -icanon -echo; sleep infinity\r');
        await sleep(500);
        const chunk = 'x'.repeat(16_000);
        const from = b.client.messages.length;
        let sent = 0;
        let cpuPercent = 0;
        const m = await measureFair(async () => {
          const cpu0 = process.cpuUsage();
          const t0 = performance.now();
          const flood = setInterval(() => {
            b.client.type(0, chunk);
            sent += chunk.length;
          }, 70);
          await sleep(10_500);
          clearInterval(flood);
          const used = process.cpuUsage(cpu0);
          cpuPercent = Math.round(((used.user + used.system) / 1000 / (performance.now() - t0)) * 100);
        });
        const session = agent.h.sessions.get(b.sessionId)!;
        const queued = session.terminals[0]!.inputQueuedBytes;
        const notice = b.client.messages.slice(from).find((msg) => msg.type === 'notice' && msg.code === noticeCodes.inputDropped);
        process.stdout.write(`# D08 agent+harness CPU ${cpuPercent}% of a core while flooding; input queued ${queued} B\n`);
        assert.ok(notice, 'the learner was not told that input is being dropped');
        assert.ok(queued <= 64 * 1024, `input queue holds ${queued} B`);
        assert.ok(cpuPercent < 35, `the agent process used ${cpuPercent}% of a core during the flood`);
        const evidence = assertFair(m);
        return `${(sent / 2 ** 20).toFixed(1)} MiB typed in 10.5 s (16 KB every 70 ms) into \`stty -icanon -echo; sleep infinity\`: the agent process (harness and canary included) used ${cpuPercent}% of a core, the terminal's input queue stayed at ${queued} B (cap 64 KiB, no busy retry), the learner got notice "${notice.type === 'notice' ? notice.message.slice(0, 120) : ''}"; ${evidence}`;
      } finally {
        b.client.type(1, 'pkill -x sleep\r');
        await sleep(200);
        await b.close();
      }
    });
  });
});
