// Security battery D07-D08 (fair share, issue 12): what one learner can make big (their own kernel
// state, unread input) costs only them. Each attack runs through the real agent beside the canary
// learner, who must keep keystroke echo p99 < 50 ms while the agent's /healthz answers in < 100 ms.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { describe, test } from 'node:test';
import { runCase } from './battery';
import { addRoutes, assertCanary, batteryAgent, Learner, rand, sleep, type CanaryReport } from './support';
import { noticeCodes } from '../sandbox-agent/protocol/index';

const FILE = 'security/fairness.slo.test.ts';
/** The fair-share SLOs of issue 12 (tighter than the battery's general canary SLO). */
const fairSlo = { echoP99Ms: 50, healthzMaxMs: 100 };
const HUGE_ROUTES = 200_000;

const agent = batteryAgent('fair', { AGENT_GRADE_POLL_MS: '1000' });

/** Samples GET /healthz every 200 ms until stopped; returns the slowest and the count. */
function watchHealthz(baseUrl: string): { stop(): Promise<{ maxMs: number; n: number; failures: number }> } {
  let running = true;
  let maxMs = 0;
  let n = 0;
  let failures = 0;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      try {
        const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(5_000) });
        await res.text();
        if (!res.ok) failures++;
      } catch {
        failures++;
      }
      maxMs = Math.max(maxMs, performance.now() - t0);
      n++;
      await sleep(200);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { maxMs: Math.round(maxMs * 10) / 10, n, failures };
    },
  };
}

/** The canary's figures and /healthz's, measured while `attack` runs; throws when an SLO breaks. */
async function measureFair(attack: () => Promise<unknown>): Promise<{ report: CanaryReport; healthz: { maxMs: number; n: number; failures: number }; text: string; load: string }> {
  const watch = watchHealthz(agent.h.baseUrl);
  let healthz = { maxMs: 0, n: 0, failures: 0 };
  let report: CanaryReport;
  try {
    report = await agent.canary.measure(100, 100, attack);
  } finally {
    await watch.stop().then((r) => (healthz = r));
  }
  const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const text = `canary echo p99 ${report.p99Ms} ms (p95 ${report.p95Ms}, max ${report.maxMs}), /healthz max ${healthz.maxMs} ms over ${healthz.n} requests; load average ${load}`;
  process.stdout.write(`# ${text}\n`);
  return { report, healthz, text, load };
}

function assertFair(m: { report: CanaryReport; healthz: { maxMs: number; failures: number }; text: string }): string {
  const bad: string[] = [];
  if (m.report.p99Ms >= fairSlo.echoP99Ms) bad.push(`canary echo p99 >= ${fairSlo.echoP99Ms} ms`);
  if (m.healthz.maxMs >= fairSlo.healthzMaxMs) bad.push(`/healthz >= ${fairSlo.healthzMaxMs} ms`);
  if (m.healthz.failures > 0) bad.push('/healthz failed');
  if (bad.length) throw new Error(`fair-share SLO broken (${bad.join('; ')}): ${m.text}`);
  return `${m.text}; ${assertCanary(m.report)}`;
}

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
