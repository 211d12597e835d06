// Drives a lab in a real sandbox behind a real agent the way a learner's browser does: opens the
// session (ready, a prompt in every terminal) and performs reference-solution actions. Shared by
// labs:verify (labs-verify.ts) and the fixture recorder (record-fixtures.ts).
import type { LabDef, Observation, SolutionAction } from '../../labs/core/model';
import type { Session } from './session';
import { TestClient, type Harness } from './test-support/agent-harness';

export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface LabSession {
  client: TestClient;
  session: Session;
  /** Closes the connection and deletes the sandbox. */
  close(): Promise<void>;
}

/** A session of `lab` with every terminal at its prompt; `purpose` names it in the agent's logs. */
export async function openLabSession(h: Harness, lab: LabDef, purpose: string): Promise<LabSession> {
  const { body } = await h.createSession(`${purpose}-${lab.id}-${Date.now()}`, lab.id);
  const client = TestClient.connect(h.wsUrl);
  const close = async () => {
    client.close();
    await h.api('DELETE', `/v1/sessions/${body.sessionId}`);
  };
  try {
    await client.opened;
    client.auth(body.token);
    await client.until(() => client.message('ready'), 'ready');
    for (let t = 0; t < lab.terminals; t++) await client.waitForOutput(t, /# $/m, 0, 10_000);
    const session = h.sessions.get(body.sessionId);
    if (!session) throw new Error('session vanished');
    return { client, session, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * A value computed from the state (a PID, a listing's text) may need a moment on a loaded machine
 * before the command it reads has ended: retry it for up to 10 s, as a learner waits.
 */
export function fromStateOf(session: Session): <T>(fn: (obs: Observation) => T) => Promise<T> {
  return async (fn) => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        return fn(await session.observe());
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await pause(250);
      }
    }
  };
}

/** Performs one action of a reference solution, as the learner would. */
export async function performAction(lab: LabSession, action: SolutionAction): Promise<void> {
  const fromState = fromStateOf(lab.session);
  if (action.type === 'wait') await pause(action.ms);
  else if (action.type === 'type') {
    lab.client.type(action.terminal, typeof action.text === 'function' ? await fromState(action.text) : action.text);
  } else {
    lab.client.send({ type: 'answer', stepId: action.stepId, value: typeof action.value === 'function' ? await fromState(action.value) : action.value });
  }
}
