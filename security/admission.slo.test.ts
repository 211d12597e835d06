// Security battery H01 (issue 12, admission control): a third client floods session creation the way
// it was measured on main (215 cookie-less starts, each a new learner: 199 sandboxes, then 503 for
// everyone). Through the app's admission gate (app/_lib/admission.ts, default settings) against a
// real agent: the flooding address gets 429 + Retry-After after its quota, a canary learner's echo
// p99 stays < 50 ms and the agent's /healthz < 100 ms meanwhile, and a real learner from another
// address still gets a sandbox.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { runCase, percentile } from './battery';
import { assertCanary, batteryCgroupName, Canary, Learner, rand, removeCgroupParents, sleep } from './support';
import { startHarness, type Harness } from '../sandbox-agent/src/test-support/agent-harness';
import { gateFor } from './admission-support';
import type { SessionInfo } from '../sandbox-agent/protocol';

const FILE = 'security/admission.slo.test.ts';
let h: Harness;
let canary: Canary;
let cgroupName: string;

before(async () => {
  cgroupName = batteryCgroupName('adm');
  process.env.AGENT_CGROUP_NAME = cgroupName;
  h = await startHarness({ AGENT_GRADE_POLL_MS: '1000', AGENT_MAX_SESSIONS: '250' });
  canary = await Canary.open(h);
});
after(async () => {
  await canary?.close();
  await h?.close();
  removeCgroupParents(cgroupName);
});

describe('H. admission control (through the gate and a real agent)', { timeout: 300_000 }, () => {
  test('H01 a flood of session starts from one client: 429 + Retry-After for it, others unaffected', async (t) => {
    await runCase(t, 'H01', FILE, async () => {
      const gate = gateFor(h);
      const flooder = '198.51.100.66';
      const statuses = new Map<string, number>();
      const retryAfters: number[] = [];
      const made: string[] = [];
      const health: number[] = [];
      let flooding = true;
      let floodStart = 0;
      let floodS = 0;
      const report = await canary.measure(100, 100, async () => {
        const probe = (async () => {
          while (flooding) {
            const t0 = performance.now();
            const res = await fetch(`${h.baseUrl}/healthz`);
            await res.text();
            health.push(performance.now() - t0);
            await sleep(50);
          }
        })();
        floodStart = performance.now();
        let next = 0;
        const worker = async () => {
          while (next < 215) {
            next++;
            const learnerId = `flood-${rand()}${rand()}`; // no cookie: a new learner each time
            const a = await gate.admit({ learnerId, labId: 'exercise-net-namespace', client: flooder, member: false });
            if (!a.ok) {
              statuses.set(String(a.status), (statuses.get(String(a.status)) ?? 0) + 1);
              retryAfters.push(a.retryAfterS);
              continue;
            }
            const res = await h.api('POST', '/v1/sessions', { learnerId, labId: 'exercise-net-namespace' });
            gate.settle(a.ticket, res.status === 201);
            statuses.set(String(res.status), (statuses.get(String(res.status)) ?? 0) + 1);
            if (res.status === 201) made.push((JSON.parse(res.text) as SessionInfo).sessionId);
          }
        };
        await Promise.all(Array.from({ length: 16 }, worker));
        floodS = (performance.now() - floodStart) / 1000;
        flooding = false;
        await probe;
      });
      const refused = statuses.get('429') ?? 0;
      // The burst, plus what the bucket refilled while the flood ran; never above the running cap.
      const allowed = Math.min(gate.config.clientMaxSandboxes, gate.config.clientStartsPerMin + Math.ceil((floodS * gate.config.clientStartsPerMin) / 60));
      assert.ok(made.length <= allowed, `the flooder got ${made.length} sandboxes in ${floodS.toFixed(1)} s (allowed ${allowed})`);
      assert.ok(refused >= 215 - allowed - (statuses.get('503') ?? 0), JSON.stringify([...statuses]));
      assert.ok(retryAfters.length > 0 && retryAfters.every((s) => s >= 1 && s <= 60), `Retry-After ${retryAfters.slice(0, 5).join(',')}`);
      // A real learner from another address still gets a sandbox (and a prompt).
      const realId = `real-${rand()}`;
      const admitted = await gate.admit({ learnerId: realId, labId: 'exercise-net-namespace', client: '203.0.113.5', member: false });
      assert.ok(admitted.ok, JSON.stringify(admitted));
      const real = await Learner.open(h, realId);
      gate.settle(admitted.ticket, true);
      const echo = await real.run(0, 'echo real-learner-ok');
      assert.match(echo.output, /real-learner-ok/);
      await real.close();
      await Promise.all(made.map((id) => h.api('DELETE', `/v1/sessions/${id}`)));
      const healthP99 = Math.round(percentile(health, 99) * 10) / 10;
      const healthMax = Math.round(Math.max(...health));
      assert.ok(report.p99Ms < 50, `canary echo p99 ${report.p99Ms} ms >= 50`);
      assert.ok(healthMax < 100, `/healthz max ${healthMax} ms >= 100`);
      return `215 cookie-less starts from one address (16 in parallel, ${floodS.toFixed(1)} s): ${made.length} sandboxes, then 429 (${JSON.stringify(Object.fromEntries(statuses))}, Retry-After ${Math.min(...retryAfters)}-${Math.max(...retryAfters)} s); a learner from another address got a sandbox and a prompt; canary echo p99 ${report.p99Ms} ms (< 50), /healthz p99 ${healthP99} ms, max ${healthMax} ms (< 100, ${health.length} samples); ${assertCanary(report)}`;
    });
  });
});
