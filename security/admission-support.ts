// The app's admission gate (app/_lib/admission.ts) wired to a test agent the way
// app/_lib/admission.server.ts wires it to the real one: running sessions from POST /v1/sessions/query.
import { AdmissionGate } from '../app/_lib/admission';
import { parseAdmissionConfig } from '../app/_lib/admission-config.mjs';
import type { Harness } from '../sandbox-agent/src/test-support/agent-harness';

export function gateFor(harness: Harness, env: Record<string, string> = {}): AdmissionGate {
  return new AdmissionGate(parseAdmissionConfig(env), {
    async runningSessions(learnerIds) {
      const res = await harness.api('POST', '/v1/sessions/query', { learnerIds: learnerIds.slice(0, 2000) });
      if (res.status !== 200) return null;
      return (JSON.parse(res.text) as { sessions: Array<{ learnerId: string; labId: string }> }).sessions.map((s) => ({ learnerId: s.learnerId, labId: s.labId }));
    },
  });
}

/**
 * One session start as POST /api/sessions does it: admission, then the agent, then settling the
 * ticket. `outcome` is the refusal code or the agent's HTTP status; `retryAfterS` on a refusal.
 */
export async function startThroughGate(
  gate: AdmissionGate,
  harness: Harness,
  request: { learnerId: string; client: string; member: boolean; labId?: string },
): Promise<{ outcome: string; sessionId?: string; retryAfterS?: number }> {
  const labId = request.labId ?? 'exercise-net-namespace';
  const a = await gate.admit({ ...request, labId });
  if (!a.ok) return { outcome: a.code, retryAfterS: a.retryAfterS };
  const res = await harness.api('POST', '/v1/sessions', { learnerId: request.learnerId, labId });
  gate.settle(a.ticket, res.status === 201);
  const ok = res.status === 201 || res.status === 200;
  return { outcome: String(res.status), ...(ok ? { sessionId: (JSON.parse(res.text) as { sessionId: string }).sessionId } : {}) };
}
