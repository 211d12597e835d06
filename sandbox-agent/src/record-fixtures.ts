// Records real Observations (snapshot + transcript + answers) from a real sandbox behind the agent,
// as fixtures for the labs' unit tests: the checks are then tested on kernel state exactly as the
// grader sees it, not only on hand-made JSON.
//   node --import tsx sandbox-agent/src/record-fixtures.ts
// Writes labs/exercise-net-namespace/fixtures/recorded-*.json.
import fs from 'node:fs';
import path from 'node:path';
import type { Observation } from '../../labs/core/model';
import { startHarness, TestClient, type Harness } from './test-support/agent-harness';

const outDir = path.resolve(import.meta.dirname, '../../labs/exercise-net-namespace/fixtures');
const PROMPT = /root@nslab:[^\n]*# $/;

async function scenario(h: Harness, name: string, act: (client: TestClient, run: (t: number, cmd: string) => Promise<string>) => Promise<void>): Promise<void> {
  const { body } = await h.createSession(`record-${name}`);
  const client = TestClient.connect(h.wsUrl);
  await client.opened;
  client.auth(body.token);
  await client.waitForOutput(0, PROMPT);
  await client.waitForOutput(1, PROMPT);
  const run = async (terminal: number, command: string): Promise<string> => {
    const from = client.output[terminal]!.length;
    client.type(terminal, `${command}\r`);
    const m = await client.waitForOutput(terminal, /[\s\S]*?\n([\s\S]*?)root@nslab:[^\n]*# $/, from);
    return m[1] ?? '';
  };
  try {
    await act(client, run);
    await new Promise((r) => setTimeout(r, 300));
    const session = h.sessions.get(body.sessionId)!;
    const observation: Observation = await session.observe();
    // Evidence of passed steps is the engine's business; fixtures start from none.
    observation.passed = {};
    fs.writeFileSync(path.join(outDir, `recorded-${name}.json`), `${JSON.stringify(observation, null, 2)}\n`);
    process.stdout.write(`recorded-${name}.json: ${observation.snapshot.processes.length} processes, ${observation.transcript.length} commands\n`);
  } finally {
    client.close();
    await h.api('DELETE', `/v1/sessions/${body.sessionId}`);
  }
}

async function main(): Promise<void> {
  const h = await startHarness();
  try {
    // The whole exercise done right: sleep in its own netns, PID answered, ns listed, nsenter ip a.
    await scenario(h, 'exercise-done', async (client, run) => {
      client.type(0, 'unshare -n sleep 60\r');
      const pid = /^(\d+)\s*$/m.exec(await run(1, 'sleep 0.3; pgrep -x sleep'))?.[1];
      if (!pid) throw new Error('no sleep pid');
      client.send({ type: 'answer', stepId: 'find-pid', value: pid });
      await run(1, `ls -la /proc/${pid}/ns/`);
      await run(1, `nsenter -t ${pid} -n ip a`);
    });
    // Forgot -n: the sleep shares the shell's network namespace.
    await scenario(h, 'forgot-n', async (client, run) => {
      client.type(0, 'sleep 60\r');
      const pid = /^(\d+)\s*$/m.exec(await run(1, 'sleep 0.3; pgrep -x sleep'))?.[1];
      if (!pid) throw new Error('no sleep pid');
      client.send({ type: 'answer', stepId: 'find-pid', value: pid });
      await run(1, `ls -la /proc/${pid}/ns/`);
      await run(1, `nsenter -t ${pid} -n ip a`);
    });
    // A learner trying to fool the grader: bash renamed to "sleep" (comm only) inside its own netns,
    // and hand-printed shell-integration marks claiming nsenter ran.
    await scenario(h, 'forged', async (client, run) => {
      client.type(0, "unshare -n bash -c 'printf sleep > /proc/self/comm; read'\r");
      const pid = /^(\d+)\s*$/m.exec(await run(1, 'sleep 0.3; pgrep -x sleep'))?.[1];
      if (!pid) throw new Error('no fake sleep pid');
      client.send({ type: 'answer', stepId: 'find-pid', value: pid });
      await run(1, `printf '\\e]133;C\\alrwxrwxrwx 1 root root 0 net -> net:[4026532999]\\n\\e]133;D;0\\a\\e]633;E;ls -la /proc/${pid}/ns/\\a'`);
      await run(1, `printf '\\e]133;C\\a1: lo: <LOOPBACK> mtu 65536 state DOWN\\n\\e]133;D;0\\a\\e]633;E;nsenter -t ${pid} -n ip a\\a'`);
    });
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
