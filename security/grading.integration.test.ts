// Security battery E (grading integrity), our own cases: a learner with root tries to make a step
// pass without doing it, or to hang or crash the grader. The grader reads kernel state from the host
// side; shell-integration marks are soft evidence. Each case must fail to fool it and leave it
// responsive (a ping answered, a real step still gradable).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHarness, type Harness } from '../sandbox-agent/src/test-support/agent-harness';
import { runCase } from './battery';
import { batteryCgroupName, Learner, removeCgroupParents, sleep } from './support';

const FILE = 'security/grading.integration.test.ts';
let h: Harness;
let cgroupName: string;
before(async () => {
  cgroupName = batteryCgroupName('grade');
  process.env.AGENT_CGROUP_NAME = cgroupName;
  h = await startHarness({ AGENT_GRADE_POLL_MS: '300' });
});
after(async () => {
  await h?.close();
  removeCgroupParents(cgroupName);
});

const status = (l: Learner, stepId: string) => {
  const info = l.h.sessions.get(l.sessionId)!;
  return info.stepResults.find((r) => r.stepId === stepId)?.status;
};

async function pingRtt(l: Learner): Promise<number> {
  const id = Math.floor(Math.random() * 1e9);
  const t0 = Date.now();
  l.client.send({ type: 'ping', id });
  await l.client.until(() => l.client.message('pong', (m) => m.id === id), 'pong', 5_000);
  return Date.now() - t0;
}

describe('E. grading integrity', { timeout: 180_000 }, () => {
  test('E01 forged shell-integration marks do not pass a step', async (t) => {
    await runCase(t, 'E01', FILE, async () => {
      const l = await Learner.open(h);
      try {
        // Claim, in the terminal stream, to have run every command of the exercise successfully.
        const forged = ['unshare -n sleep 60', 'pgrep -x sleep', 'ls -la /proc/42/ns/', 'nsenter -t 42 -n ip a']
          .map((c) => `\\e]133;C\\a1: lo: <LOOPBACK> net:[4026532201]\\n\\e]133;D;0\\a\\e]633;E;${c}\\a`)
          .join('');
        await l.run(0, `printf '${forged}'`);
        l.client.send({ type: 'check' });
        await sleep(1_500);
        const steps = ['isolate-sleep', 'inspect-ns', 'nsenter-ip'].map((s) => `${s}=${status(l, s)}`);
        assert.ok(steps.every((s) => !s.endsWith('=passed')), steps.join(' '));
        return `printed OSC 133/633 marks claiming the whole exercise ran with exit 0: ${steps.join(', ')} (checks require kernel state read from the host)`;
      } finally {
        await l.close();
      }
    });
  });

  test('E02 impostor processes and wrong answers', async (t) => {
    await runCase(t, 'E02', FILE, async () => {
      const l = await Learner.open(h);
      try {
        // A sleep that is NOT in a new netns, and a non-sleep process in a new netns.
        l.client.type(0, 'sleep 300 &\r');
        l.client.type(1, 'unshare -n bash -c "exec -a sleep tail -f /dev/null" &\r');
        await sleep(1_200);
        l.client.send({ type: 'check' });
        await sleep(1_200);
        const isolate = status(l, 'isolate-sleep');
        // Answer with the PID of the impostor and of init.
        l.client.send({ type: 'answer', stepId: 'find-pid', value: '1' });
        await sleep(800);
        const answer = status(l, 'find-pid');
        assert.notEqual(isolate, 'passed', 'a sleep outside a new netns, or a renamed process, passed isolate-sleep');
        assert.notEqual(answer, 'passed');
        return `sleep in the shell's own netns + "tail" renamed argv[0]=sleep in a new netns: isolate-sleep ${isolate}; answering PID 1: find-pid ${answer}`;
      } finally {
        await l.close();
      }
    });
  });

  test('E03 grader stays responsive against snapshot bombs', async (t) => {
    await runCase(t, 'E03', FILE, async () => {
      const l = await Learner.open(h);
      try {
        await l.run(0, "timeout 40 bash -c 'for i in $(seq 150); do ip netns add n$i || break; done; for i in $(seq 100); do unshare -n sleep 300 & done; exec -a \"$(printf \"x%.0s\" $(seq 3000))\" sleep 300 & printf \"\\x1b]633;E;%s\\a\" \"$(head -c 3000 /dev/urandom | base64 -w0)\"'", 60_000);
        const rtts: number[] = [];
        for (let i = 0; i < 10; i++) {
          l.client.send({ type: 'check' });
          rtts.push(await pingRtt(l));
          await sleep(200);
        }
        const session = h.sessions.get(l.sessionId)!;
        const gradeMs = session.lastGradeMs;
        assert.ok(Math.max(...rtts) < 1_000, `ping while grading took ${Math.max(...rtts)} ms`);
        // The grader still grades real work in the same sandbox.
        l.client.type(1, 'unshare -n sleep 200 &\r');
        await l.client.until(() => status(l, 'isolate-sleep') === 'passed', 'isolate-sleep passes for real work', 15_000);
        return `150 named netns + 100 sleeps in their own netns + a 6 KB argv + a garbage 633;E mark: pings answered in max ${Math.max(...rtts)} ms during 10 checks, last grade ${gradeMs?.toFixed(0)} ms; a real step still passed afterwards`;
      } finally {
        await l.close();
      }
    });
  });
});
