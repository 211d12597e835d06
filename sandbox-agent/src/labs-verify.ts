// labs:verify — for every lab, in a real sandbox behind a real agent, run the reference solution
// step by step and prove that each step's check FAILS before its actions and PASSES after them
// (and that the agent pushes the passed result to the browser).
//   npm run labs:verify [-- <lab-id> ...]
import type { LabDef, Observation } from '../../labs/core/model';
import { labs } from '../../labs/index';
import type { Session } from './session';
import { startHarness, TestClient, type Harness } from './test-support/agent-harness';

export interface StepVerdict {
  labId: string;
  stepId: string;
  ok: boolean;
  detail: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function pollCheck(session: Session, lab: LabDef, stepId: string, want: 'passed', timeoutMs: number): Promise<{ ok: boolean; message: string }> {
  const step = lab.steps.find((s) => s.id === stepId)!;
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const result = step.check(await session.observe());
    last = result.message.en;
    if (result.status === want) return { ok: true, message: last };
    await sleep(150);
  }
  return { ok: false, message: last };
}

export async function verifyLab(h: Harness, lab: LabDef, log: (line: string) => void = () => {}): Promise<StepVerdict[]> {
  const verdicts: StepVerdict[] = [];
  const { body } = await h.createSession(`verify-${lab.id}-${Date.now()}`, lab.id);
  const client = TestClient.connect(h.wsUrl);
  try {
    await client.opened;
    client.auth(body.token);
    await client.until(() => client.message('ready'), 'ready');
    for (let t = 0; t < lab.terminals; t++) await client.waitForOutput(t, /# $/m, 0, 10_000);
    const session = h.sessions.get(body.sessionId);
    if (!session) throw new Error('session vanished');
    const stepIdsWithSolution = new Set(lab.solution.map((s) => s.stepId));
    for (const step of lab.steps) {
      if (!stepIdsWithSolution.has(step.id)) {
        verdicts.push({ labId: lab.id, stepId: step.id, ok: false, detail: 'no reference solution for this step' });
      }
    }
    for (const solution of lab.solution) {
      const step = lab.steps.find((s) => s.id === solution.stepId);
      if (!step) {
        verdicts.push({ labId: lab.id, stepId: solution.stepId, ok: false, detail: 'solution names a step the lab does not have' });
        continue;
      }
      const before = step.check(await session.observe());
      if (before.status !== 'failed') {
        verdicts.push({ labId: lab.id, stepId: step.id, ok: false, detail: `check passed BEFORE its step: ${before.message.en}` });
        continue;
      }
      // A value computed from the state (a PID, a listing's text) may need a moment on a loaded
      // machine before the command it reads has ended: retry it for up to 10 s, as a learner waits.
      const fromState = async <T>(fn: (obs: Awaited<ReturnType<Session['observe']>>) => T): Promise<T> => {
        const deadline = Date.now() + 10_000;
        for (;;) {
          try {
            return fn(await session.observe());
          } catch (error) {
            if (Date.now() > deadline) throw error;
            await sleep(250);
          }
        }
      };
      for (const action of solution.actions) {
        if (action.type === 'wait') await sleep(action.ms);
        else if (action.type === 'type') {
          const text = typeof action.text === 'function' ? await fromState(action.text) : action.text;
          client.type(action.terminal, text);
        } else {
          const value = typeof action.value === 'function' ? await fromState(action.value) : action.value;
          client.send({ type: 'answer', stepId: action.stepId, value });
        }
      }
      const after = await pollCheck(session, lab, step.id, 'passed', 15_000);
      let pushed = false;
      if (after.ok) {
        try {
          await client.until(() => client.message('step', (m) => m.result.stepId === step.id && m.result.status === 'passed'), `pushed result of ${step.id}`, 5_000);
          pushed = true;
        } catch {
          pushed = false;
        }
      }
      const ok = after.ok && pushed;
      const detail = ok
        ? `failed before ("${before.message.en}"), passed after ("${after.message}")`
        : after.ok
          ? 'check passed but the agent did not push the result to the browser'
          : `still failing after its solution: ${after.message}`;
      verdicts.push({ labId: lab.id, stepId: step.id, ok, detail });
      log(`${ok ? 'PASS' : 'FAIL'} ${lab.id}/${step.id}: ${detail}`);
    }
  } finally {
    client.close();
    await h.api('DELETE', `/v1/sessions/${body.sessionId}`);
  }
  return verdicts;
}

export async function observeOnce(h: Harness, sessionId: string): Promise<Observation | null> {
  const session = h.sessions.get(sessionId);
  return session ? session.observe() : null;
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  for (const id of wanted) {
    if (!labs[id]) {
      process.stderr.write(`labs:verify: no lab "${id}" (labs: ${Object.keys(labs).join(', ')})\n`);
      process.exit(2);
    }
  }
  const selected = Object.values(labs).filter((lab) => wanted.length === 0 || wanted.includes(lab.id));
  const h = await startHarness();
  let failed = 0;
  let passed = 0;
  try {
    for (const lab of selected) {
      const verdicts = await verifyLab(h, lab, (line) => process.stdout.write(`${line}\n`));
      for (const v of verdicts) {
        if (v.ok) passed++;
        else {
          failed++;
          if (!/^(PASS|FAIL)/.test(v.detail)) process.stdout.write(`FAIL ${v.labId}/${v.stepId}: ${v.detail}\n`);
        }
      }
    }
  } finally {
    await h.close();
  }
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  process.exit(failed > 0 ? 1 : 0);
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
