// Security battery H01 (issue 12, admission control): a third client floods session creation the way
// it was measured on main (215 cookie-less starts, each a new learner: 199 sandboxes, then 503 for
// everyone). Through the app's admission gate (app/_lib/admission.ts, default settings) against a
// real agent: the flooding address gets 429 + Retry-After after its quota, a canary learner's echo
// p99 stays < 50 ms and the agent's /healthz < 100 ms meanwhile (the fair-share SLO of
// fairness.slo.test.ts), and a real learner from another address still gets a sandbox.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, test } from 'node:test';
import { runCase } from './battery';
import { gateFor, startThroughGate } from './admission-support';
import { assertFair, batteryAgent, Learner, measureFairShare, rand, sleep } from './support';

const FILE = 'security/admission.slo.test.ts';
const agent = batteryAgent('adm', { AGENT_GRADE_POLL_MS: '1000', AGENT_MAX_SESSIONS: '250' });

describe('H. admission control (through the gate and a real agent)', { timeout: 300_000 }, () => {
  test('H01 a flood of session starts from one client: 429 + Retry-After for it, others unaffected', async (t) => {
    await runCase(t, 'H01', FILE, async () => {
      const h = agent.h;
      const gate = gateFor(h);
      const flooder = '198.51.100.66';
      const statuses = new Map<string, number>();
      const retryAfters: number[] = [];
      const made: string[] = [];
      let floodS = 0;
      let next = 0;
      const m = await measureFairShare(agent, async () => {
        const floodStart = performance.now();
        // 16 workers that ignore Retry-After: at least the 215 requests measured on main, and on
        // for 8 s of the canary's 10 s window (a sustained flood, not one burst).
        const worker = async () => {
          while (next < 215 || performance.now() - floodStart < 8_000) {
            next++;
            if (next > 215) await sleep(20);
            // No cookie: a new learner each time.
            const r = await startThroughGate(gate, h, { learnerId: `flood-${rand()}${rand()}`, client: flooder, member: false });
            const status = /^\d+$/.test(r.outcome) ? r.outcome : '429'; // a refusal is the route's 429
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
            if (r.retryAfterS !== undefined) retryAfters.push(r.retryAfterS);
            if (r.outcome === '201' && r.sessionId) made.push(r.sessionId);
          }
        };
        await Promise.all(Array.from({ length: 16 }, worker));
        floodS = (performance.now() - floodStart) / 1000;
      });
      const refused = statuses.get('429') ?? 0;
      // The burst, plus what the bucket refilled while the flood ran; never above the running cap.
      const allowed = Math.min(gate.config.clientMaxSandboxes, gate.config.clientStartsPerMin + Math.ceil((floodS * gate.config.clientStartsPerMin) / 60));
      assert.ok(made.length <= allowed, `the flooder got ${made.length} sandboxes in ${floodS.toFixed(1)} s (allowed ${allowed})`);
      assert.ok(refused >= next - allowed - (statuses.get('503') ?? 0), JSON.stringify([...statuses]));
      assert.ok(retryAfters.length > 0 && retryAfters.every((s) => s >= 1 && s <= 60), `Retry-After ${retryAfters.slice(0, 5).join(',')}`);
      // A real learner from another address still gets a sandbox (and a prompt).
      const realId = `real-${rand()}`;
      const admitted = await gate.admit({ learnerId: realId, labId: 'exercise-net-namespace', client: '203.0.113.5', member: false });
      assert.ok(admitted.ok, JSON.stringify(admitted));
      const real = await Learner.open(h, realId);
      gate.settle(admitted.ticket, true);
      assert.match((await real.run(0, 'echo real-learner-ok')).output, /real-learner-ok/);
      await real.close();
      await Promise.all(made.map((id) => h.api('DELETE', `/v1/sessions/${id}`)));
      const fair = assertFair(m);
      return `${next} cookie-less starts from one address (16 in parallel, ignoring Retry-After, ${floodS.toFixed(1)} s): ${made.length} sandboxes, then 429 (${JSON.stringify(Object.fromEntries(statuses))}, Retry-After ${Math.min(...retryAfters)}-${Math.max(...retryAfters)} s); a learner from another address got a sandbox and a prompt; ${fair}`;
    });
  });
});
