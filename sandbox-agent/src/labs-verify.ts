// labs:verify — for every lab, in a real sandbox behind a real agent, run the reference solution
// step by step and prove that each step's check FAILS before its actions and PASSES after them
// (and that the agent pushes the passed result to the browser).
//   npm run labs:verify [-- <lab-id> ...]
import type { LabDef, Observation } from '../../labs/core/model';
import { labs } from '../../labs/index';
import type { Session } from './session';
import { openLabSession, pause, performAction } from './lab-driver';
import { startHarness, type Harness } from './test-support/agent-harness';

export interface StepVerdict {
  labId: string;
  stepId: string;
  ok: boolean;
  detail: string;
}

async function pollCheck(session: Session, lab: LabDef, stepId: string, want: 'passed', timeoutMs: number): Promise<{ ok: boolean; message: string }> {
  const step = lab.steps.find((s) => s.id === stepId)!;
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const result = step.check(await session.observe());
    last = result.message.en;
    if (result.status === want) return { ok: true, message: last };
    await pause(150);
  }
  return { ok: false, message: last };
}

export async function verifyLab(h: Harness, lab: LabDef, log: (line: string) => void = () => {}): Promise<StepVerdict[]> {
  const verdicts: StepVerdict[] = [];
  const driven = await openLabSession(h, lab, 'verify');
  const { client, session } = driven;
  try {
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
      for (const action of solution.actions) await performAction(driven, action);
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
    await driven.close();
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
