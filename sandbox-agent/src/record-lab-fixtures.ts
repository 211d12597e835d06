// Records real Observations (snapshot + probes + transcript) from real sandboxes behind the agent,
// as fixtures for the unit tests of the labs build-a-bridge, pid-namespace, user-namespace,
// mount-namespace, uts-namespace, ipc-cgroup-time and namespace-lifetime: each lab's reference
// solution done right, and the mistakes learners make (recorded for real, not hand-made).
// 'stages' records the solution too, one fixture after each step (recorded-stage-<n>-<step>.json):
// for labs whose earlier state is gone by the end (a namespace left, a process killed).
//   node --import tsx sandbox-agent/src/record-lab-fixtures.ts [lab-id | lab-id:scenario ...]
// Writes labs/<lab-id>/fixtures/recorded-<scenario>.json.
import fs from 'node:fs';
import path from 'node:path';
import type { LabDef, Observation } from '../../labs/core/model';
import { labs } from '../../labs/index';
import { startHarness, TestClient, type Harness } from './test-support/agent-harness';

const labsDir = path.resolve(import.meta.dirname, '../../labs');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Act = { terminal: number; text: string; waitMs: number };
const type = (terminal: number, text: string, waitMs = 500): Act => ({ terminal, text: `${text}\r`, waitMs });

/** Scenario: 'solution' runs the lab's reference solution; otherwise these keystrokes. */
const scenarios: Record<string, Record<string, 'solution' | 'stages' | Act[]>> = {
  'build-a-bridge': {
    done: 'solution',
    'no-port': [
      type(0, 'ip netns add ns1 && ip link add veth0 type veth peer name veth1 && ip link add br0 type bridge'),
      type(0, 'ip addr add 172.17.0.1/16 dev br0 && ip link set br0 up && ip link set veth0 up'),
      type(0, 'ip link set veth1 netns ns1 && ip netns exec ns1 ip link set veth1 name eth0 && ip netns exec ns1 ip addr add 172.17.0.2/16 dev eth0 && ip netns exec ns1 ip link set eth0 up'),
      type(0, 'ping -c 1 -W 1 172.17.0.2', 1800),
    ],
    'eth0-no-address': [
      type(0, 'ip netns add ns1 && ip link add veth0 type veth peer name veth1 && ip link add br0 type bridge'),
      type(0, 'ip addr add 172.17.0.1/16 dev br0 && ip link set veth0 master br0 && ip link set br0 up && ip link set veth0 up'),
      type(0, 'ip link set veth1 netns ns1 && ip netns exec ns1 ip link set veth1 name eth0 && ip netns exec ns1 ip link set eth0 up'),
      type(0, 'ping -c 1 -W 1 172.17.0.2', 1800),
    ],
  },
  'pid-namespace': {
    done: 'solution',
    'no-fork': [type(0, 'unshare -p sleep 300', 600), type(1, 'ps -ef')],
    'no-fork-bash': [type(0, 'unshare -p bash', 800), type(0, 'ls'), type(0, 'ls')],
  },
  'user-namespace': {
    done: 'solution',
    'no-map': [type(0, 'unshare -U bash', 800), type(0, 'id'), type(0, 'cat /proc/self/uid_map')],
    // issue 13: a UTS namespace made and renamed by the sandbox's root, then a nested user
    // namespace entered from it: renamed, nested, but not owned by the nested namespace.
    'uts-outside-userns': [type(0, 'unshare -u bash', 800), type(0, 'hostname box'), type(0, 'unshare -Ur bash', 800), type(0, 'hostname')],
  },
  'mount-namespace': {
    done: 'solution',
    'base-mount': [type(0, 'mount -t tmpfs scratch /mnt && echo hello > /mnt/note'), type(1, 'findmnt /mnt')],
  },
  'uts-namespace': {
    done: 'solution',
    'base-hostname': [type(0, 'hostname container1'), type(1, 'hostname')],
    eperm: [type(0, 'unshare -Ur hostname container2'), type(0, 'unshare -U hostname container3')],
  },
  'ipc-cgroup-time': {
    stage: 'stages',
    'queue-in-base': [type(0, 'ipcmk -Q'), type(0, 'unshare -i bash', 800), type(1, 'ipcs -q')],
    'time-no-offset': [type(0, 'unshare -T bash', 800), type(0, 'cat /proc/uptime')],
  },
  'namespace-lifetime': {
    stage: 'stages',
  },
  'exercise-net-namespace': {
    // issue 13: comm and argv[0] say sleep, the program is bash (its exe, read from the host).
    'symlink-sleep': [type(1, 'ln -sf /bin/bash /tmp/sleep && mkfifo /tmp/f'), type(0, 'unshare -n /tmp/sleep -c "read < /tmp/f"', 800), type(1, 'pgrep -a sleep')],
  },
};

function save(lab: LabDef, name: string, observation: Observation): void {
  observation.passed = {};
  const out = path.join(labsDir, lab.id, 'fixtures', `recorded-${name}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(observation, null, 2)}\n`);
  process.stdout.write(`${path.relative(process.cwd(), out)}: ${observation.snapshot.processes.length} processes, ${observation.transcript.length} commands\n`);
}

async function record(h: Harness, lab: LabDef, name: string, plan: 'solution' | 'stages' | Act[]): Promise<void> {
  const { body } = await h.createSession(`record-${lab.id}-${name}-${Date.now()}`, lab.id);
  const client = TestClient.connect(h.wsUrl);
  try {
    await client.opened;
    client.auth(body.token);
    await client.until(() => client.message('ready'), 'ready');
    for (let t = 0; t < lab.terminals; t++) await client.waitForOutput(t, /# $/m, 0, 10_000);
    const session = h.sessions.get(body.sessionId)!;
    if (plan === 'solution' || plan === 'stages') {
      for (const [n, step] of lab.solution.entries()) {
        for (const action of step.actions) {
          if (action.type === 'wait') await sleep(action.ms);
          else if (action.type === 'type') client.type(action.terminal, typeof action.text === 'function' ? action.text(await session.observe()) : action.text);
          else client.send({ type: 'answer', stepId: action.stepId, value: typeof action.value === 'function' ? action.value(await session.observe()) : action.value });
        }
        await sleep(300);
        if (plan === 'stages') save(lab, `${name}-${n + 1}-${step.stepId}`, await session.observe());
      }
      if (plan === 'stages') return;
    } else {
      for (const act of plan) {
        client.type(act.terminal, act.text);
        await sleep(act.waitMs);
      }
    }
    await sleep(300);
    save(lab, name, await session.observe());
  } finally {
    client.close();
    await h.api('DELETE', `/v1/sessions/${body.sessionId}`);
  }
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const h = await startHarness();
  try {
    for (const [labId, plans] of Object.entries(scenarios)) {
      if (wanted.length > 0 && !wanted.some((w) => w === labId || w.startsWith(`${labId}:`))) continue;
      const lab = labs[labId];
      if (!lab) throw new Error(`no lab ${labId}`);
      // Optional scenario names after the lab id: record only those (`pid-namespace:no-fork-bash`).
      const only = wanted.filter((w) => w.startsWith(`${labId}:`)).map((w) => w.slice(labId.length + 1));
      for (const [name, plan] of Object.entries(plans)) if (only.length === 0 || only.includes(name)) await record(h, lab, name, plan);
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
