// The one fixture recorder: runs the scenarios each lab declares (labs/<id>/scenarios.ts, see
// labs/core/scenario.ts) in real sandboxes behind a real agent and saves the Observation the grader
// sees (snapshot, probes, transcript, answers), so the labs' unit tests check kernel state exactly
// as it is, not only hand-made JSON.
//   node --import tsx sandbox-agent/src/record-fixtures.ts [lab-id | lab-id:scenario ...] [--out DIR]
// Writes labs/<lab-id>/fixtures/recorded-<scenario>.json (with --out: DIR/<lab-id>/...). Fixtures
// are data the tests rely on: re-record only what a change of the lab or the agent needs.
import fs from 'node:fs';
import path from 'node:path';
import type { LabDef, Observation } from '../../labs/core/model';
import type { RecordingContext, Scenario } from '../../labs/core/scenario';
import { labs } from '../../labs/index';
import { labScenarios } from '../../labs/scenarios';
import { openLabSession, pause, performAction, type LabSession } from './lab-driver';
import { startHarness, type Harness } from './test-support/agent-harness';

/** The learner's keyboard and answer box in a recording session. */
function contextOf({ client, session }: LabSession): RecordingContext {
  return {
    async run(terminal, command) {
      const from = client.output[terminal]!.length;
      client.type(terminal, `${command}\r`);
      const m = await client.waitForOutput(terminal, /[\s\S]*?\n([\s\S]*?)root@[^\n]*# $/, from);
      await pause(50);
      return m[1] ?? '';
    },
    async type(terminal, keys, waitMs = 400) {
      client.type(terminal, keys);
      await pause(waitMs);
    },
    answer(stepId, value) {
      client.send({ type: 'answer', stepId, value });
    },
    observe: () => session.observe(),
  };
}

function save(outDir: string, name: string, observation: Observation): void {
  // Evidence of passed steps is the engine's business; fixtures start from none.
  observation.passed = {};
  const file = path.join(outDir, `recorded-${name}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(observation, null, 2)}\n`);
  process.stdout.write(`${path.relative(process.cwd(), file)}: ${observation.snapshot.processes.length} processes, ${observation.transcript.length} commands\n`);
}

async function record(h: Harness, lab: LabDef, name: string, scenario: Scenario, outDir: string): Promise<void> {
  const s = await openLabSession(h, lab, 'record');
  try {
    if (scenario === 'solution' || scenario === 'stages') {
      for (const [n, step] of lab.solution.entries()) {
        for (const action of step.actions) await performAction(s, action);
        await pause(300);
        if (scenario === 'stages') save(outDir, `${name}-${n + 1}-${step.stepId}`, await s.session.observe());
      }
      if (scenario === 'stages') return;
    } else {
      await scenario(contextOf(s));
    }
    await pause(400);
    save(outDir, name, await s.session.observe());
  } finally {
    await s.close();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const outAt = args.indexOf('--out');
  const outRoot = outAt >= 0 ? path.resolve(args.splice(outAt, 2)[1] ?? '.') : null;
  for (const w of args) {
    const labId = w.split(':')[0]!;
    if (!labScenarios[labId]) throw new Error(`no scenarios for lab "${labId}" (labs with scenarios: ${Object.keys(labScenarios).join(', ')})`);
  }
  const h = await startHarness();
  try {
    for (const [labId, scenarios] of Object.entries(labScenarios)) {
      if (args.length > 0 && !args.some((w) => w === labId || w.startsWith(`${labId}:`))) continue;
      const lab = labs[labId];
      if (!lab) throw new Error(`no lab ${labId}`);
      // Optional scenario names after the lab id: record only those (`pid-namespace:no-fork-bash`).
      const only = args.filter((w) => w.startsWith(`${labId}:`)).map((w) => w.slice(labId.length + 1));
      const outDir = outRoot ? path.join(outRoot, labId) : path.resolve(import.meta.dirname, '../../labs', labId, 'fixtures');
      for (const [name, scenario] of Object.entries(scenarios)) {
        if (only.length === 0 || only.includes(name)) await record(h, lab, name, scenario, outDir);
      }
    }
  } finally {
    await h.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
