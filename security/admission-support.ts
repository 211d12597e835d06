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
