// Records real Observations for the five conceptual labs (containers-and-oci, what-is-a-namespace,
// clone-setns-unshare, namespace-types, namespace-tools) from real sandboxes behind the agent:
// each lab's reference solution done right, plus real mistakes and forgeries, as fixtures for the
// labs' unit tests. Same approach as record-fixtures.ts (which records the net-namespace exercise).
//   node --import tsx sandbox-agent/src/record-concept-fixtures.ts [lab-id ...]
// Writes labs/<lab-id>/fixtures/recorded-*.json.
import fs from 'node:fs';
import path from 'node:path';
import type { Observation } from '../../labs/core/model';
import { labs } from '../../labs/index';
import { startHarness, TestClient, type Harness } from './test-support/agent-harness';

const PROMPT = /root@[^\n]*# $/;
const labsDir = path.resolve(import.meta.dirname, '../../labs');
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Ctx {
  client: TestClient;
  /** Types a command and waits for the next prompt; returns what it printed. */
  run(terminal: number, command: string): Promise<string>;
  /** Types without waiting for a prompt (a command that keeps running). */
  type(terminal: number, text: string): Promise<void>;
  answer(stepId: string, value: string): void;
  observe(): Promise<Observation>;
}

async function scenario(h: Harness, labId: string, name: string, act: (ctx: Ctx) => Promise<void>): Promise<void> {
  const lab = labs[labId];
  if (!lab) throw new Error(`no lab ${labId}`);
  const { body } = await h.createSession(`record-${labId}-${name}`, labId);
  const client = TestClient.connect(h.wsUrl);
  await client.opened;
  client.auth(body.token);
  for (let t = 0; t < lab.terminals; t++) await client.waitForOutput(t, PROMPT);
  const session = h.sessions.get(body.sessionId)!;
  const ctx: Ctx = {
    client,
    async run(terminal, command) {
      const from = client.output[terminal]!.length;
      client.type(terminal, `${command}\r`);
      const m = await client.waitForOutput(terminal, /[\s\S]*?\n([\s\S]*?)root@[^\n]*# $/, from);
      await pause(50);
      return m[1] ?? '';
    },
    async type(terminal, text) {
      client.type(terminal, text);
      await pause(400);
    },
    answer(stepId, value) {
      client.send({ type: 'answer', stepId, value });
    },
    observe: () => session.observe(),
  };
  try {
    await act(ctx);
    await pause(400);
    const observation: Observation = await session.observe();
    // Evidence of passed steps is the engine's business; fixtures start from none.
    observation.passed = {};
    const file = path.join(labsDir, labId, 'fixtures', `recorded-${name}.json`);
    fs.writeFileSync(file, `${JSON.stringify(observation, null, 2)}\n`);
    process.stdout.write(`${path.relative(process.cwd(), file)}: ${observation.snapshot.processes.length} processes, ${observation.transcript.length} commands\n`);
  } finally {
    client.close();
    await h.api('DELETE', `/v1/sessions/${body.sessionId}`);
  }
}

/** Runs a lab's reference solution the way labs:verify does. */
async function runSolution(ctx: Ctx, labId: string): Promise<void> {
  const lab = labs[labId]!;
  for (const step of lab.solution) {
    for (const action of step.actions) {
      if (action.type === 'wait') await pause(action.ms);
      else if (action.type === 'type') {
        const text = typeof action.text === 'function' ? action.text(await ctx.observe()) : action.text;
        ctx.client.type(action.terminal, text);
      } else {
        ctx.answer(action.stepId, typeof action.value === 'function' ? action.value(await ctx.observe()) : action.value);
      }
    }
  }
}

const firstNumber = (text: string): string => {
  const m = /^\s*(\d+)\s*$/m.exec(text);
  if (!m?.[1]) throw new Error(`no number in ${JSON.stringify(text)}`);
  return m[1];
};

/** Forged shell-integration marks: a record claiming `command` printed `output` and exited 0. */
const forge = (command: string, output: string) => `printf '\\e]133;C\\a${output}\\n\\e]133;D;0\\a\\e]633;E;${command}\\a'`;

const scenarios: Record<string, [string, (ctx: Ctx) => Promise<void>][]> = {
  'containers-and-oci': [
    ['done', (ctx) => runSolution(ctx, 'containers-and-oci')],
    // The neighbour got a network namespace of its own; the answer is the uts inode.
    [
      'isolated-neighbour',
      async (ctx) => {
        const uts = /uts:\[(\d+)\]/.exec(await ctx.run(0, 'readlink /proc/$$/ns/uts'))?.[1] ?? '0';
        ctx.answer('shell-net-inode', uts);
        await ctx.run(0, 'unshare -n sleep 1000 &');
        await ctx.run(0, 'ls -l /proc/$!/ns/');
      },
    ],
  ],
  'what-is-a-namespace': [
    ['done', (ctx) => runSolution(ctx, 'what-is-a-namespace')],
    // ls without -l, the net inode typed as uts, only -u, and a wrong list of shared types.
    [
      'mistakes',
      async (ctx) => {
        await ctx.run(1, 'ls /proc/$$/ns/');
        const net = /net:\[(\d+)\]/.exec(await ctx.run(1, 'readlink /proc/$$/ns/net'))?.[1] ?? '0';
        ctx.answer('uts-inode', net);
        await ctx.type(0, 'unshare -u sleep 1000\r');
        await ctx.run(1, 'ls -la /proc/$(pgrep -xn sleep)/ns/');
        ctx.answer('shared-types', 'net, mnt, ipc');
      },
    ],
  ],
  'clone-setns-unshare': [
    ['done', (ctx) => runSolution(ctx, 'clone-setns-unshare')],
    // A nested bash WITHOUT -u: changing the hostname there renames the whole sandbox.
    [
      'forgot-u',
      async (ctx) => {
        await ctx.run(0, 'bash');
        await ctx.run(0, 'hostname container1');
        await ctx.run(0, 'hostname');
        const pid = firstNumber(await ctx.run(1, 'pgrep -n bash'));
        await ctx.run(1, `nsenter -t ${pid} -u hostname`);
        await ctx.run(1, 'hostname');
      },
    ],
    // No unshare at all; hand-printed shell marks claim every step's output.
    [
      'forged',
      async (ctx) => {
        await ctx.run(0, forge('hostname', 'container1'));
        await ctx.run(1, forge('nsenter -t 8 -u hostname', 'container1'));
        await ctx.run(1, forge('hostname', 'nslab'));
      },
    ],
  ],
  'namespace-types': [
    ['done', (ctx) => runSolution(ctx, 'namespace-types')],
    // -nu without -i, -p without -f, and lsns filtered to one type.
    [
      'no-fork',
      async (ctx) => {
        await ctx.run(0, 'unshare -nu sleep 1000 &');
        await ctx.run(0, 'unshare -p sleep 1000 &');
        await ctx.run(0, 'lsns -t pid');
      },
    ],
  ],
  'namespace-tools': [
    ['done', (ctx) => runSolution(ctx, 'namespace-tools')],
    // lo left DOWN, lsns unfiltered for the net step, nsenter without -n.
    [
      'lo-down',
      async (ctx) => {
        await ctx.run(1, 'lsns');
        await ctx.run(0, 'unshare -n bash');
        await ctx.run(0, 'ip addr');
        const pid = firstNumber(await ctx.run(1, 'pgrep -n bash'));
        await ctx.run(1, `nsenter -t ${pid} ip addr`);
      },
    ],
  ],
};

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const h = await startHarness();
  try {
    for (const [labId, list] of Object.entries(scenarios)) {
      if (wanted.length > 0 && !wanted.includes(labId)) continue;
      for (const [name, act] of list) await scenario(h, labId, name, act);
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
