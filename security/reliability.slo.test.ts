// Security battery G (reliability): a real agent process killed with SIGKILL and restarted, many
// concurrent session starts against one agent, and create/attach/destroy churn with resource counts.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { after, describe, test } from 'node:test';
import { startHarness, TestClient, type Harness } from '../sandbox-agent/src/test-support/agent-harness';
import { repoRoot, runCase, Skip } from './battery';
import { hostCounts, rand, sleep } from './support';

const FILE = 'security/reliability.slo.test.ts';
const cgroupName = `nslab-sec-rel-${rand()}`;
process.env.AGENT_CGROUP_NAME = cgroupName;

after(() => {
  for (const c of ['pids', 'memory', 'cpu', 'cpuacct', 'freezer', 'unified']) {
    try {
      fs.rmdirSync(`/sys/fs/cgroup/${c}/${cgroupName}`);
    } catch {
      /* in use or absent */
    }
  }
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function startAgentProcess(env: Record<string, string>): { child: ChildProcess; ready: Promise<void>; out: () => string } {
  let out = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'sandbox-agent/src/main.ts'], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent did not start: ${out}`)), 20_000);
    const check = () => {
      if (out.includes('agent listening')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`agent exited ${code}: ${out}`)));
  });
  return { child, ready, out: () => out };
}

/** uid slots claimed by this file's agents (the slot dir is shared by every agent on the host). */
const ownSlots = (): number =>
  fs.readdirSync('/run/nslab/slots').filter((s) => {
    try {
      return fs.readFileSync(`/run/nslab/slots/${s}/owner`, 'utf8').startsWith(`${cgroupName}/`);
    } catch {
      return false;
    }
  }).length;

const procsIn = (): number => {
  let n = 0;
  try {
    for (const id of fs.readdirSync(`/sys/fs/cgroup/unified/${cgroupName}`)) {
      try {
        n += fs.readFileSync(`/sys/fs/cgroup/unified/${cgroupName}/${id}/cgroup.procs`, 'utf8').split('\n').filter(Boolean).length;
      } catch {
        /* not a dir */
      }
    }
  } catch {
    /* none */
  }
  return n;
};

describe('G. reliability', { timeout: 300_000 }, () => {
  test('G01 agent crash mid-session', async (t) => {
    await runCase(t, 'G01', FILE, async () => {
      const secret = randomBytes(24).toString('base64url') + 'x'.repeat(8);
      const port = await freePort();
      const env = { AGENT_SECRET: secret, AGENT_ALLOWED_ORIGINS: 'http://localhost:3999', AGENT_PORT: String(port), AGENT_CGROUP_NAME: cgroupName };
      const base = `http://127.0.0.1:${port}`;
      const api = (method: string, path: string, body?: unknown) =>
        fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
      const first = startAgentProcess(env);
      await first.ready;
      const clients: TestClient[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await api('POST', '/v1/sessions', { learnerId: `g01-${i}`, labId: 'exercise-net-namespace' });
        const info = (await res.json()) as { token: string };
        const c = TestClient.connect(`ws://127.0.0.1:${port}/agent/ws`);
        await c.opened;
        c.auth(info.token);
        await c.until(() => c.raw[0]!.includes('\x1b]133;A\x07'), 'prompt');
        c.type(0, 'while :; do echo typing; sleep 0.2; done\r');
        clients.push(c);
      }
      await sleep(500);
      const before = procsIn();
      assert.ok(before >= 10, `only ${before} sandbox processes`);
      process.kill(first.child.pid!, 'SIGKILL');
      const codes = await Promise.all(clients.map((c) => Promise.race([c.closed, sleep(5_000).then(() => -1)])));
      assert.ok(codes.every((c) => c === 1006), `clients saw ${codes.join(',')}`);
      const orphaned = procsIn();
      const second = startAgentProcess(env);
      await second.ready;
      const afterRestart = procsIn();
      assert.equal(afterRestart, 0, `${afterRestart} sandbox processes survived the restart`);
      assert.match(second.out(), /reaped sandboxes left by a previous run/);
      const leftDirs = fs.readdirSync(`/sys/fs/cgroup/unified/${cgroupName}`, { withFileTypes: true }).filter((e) => e.isDirectory()).length;
      assert.equal(leftDirs, 0, 'cgroups left after the reap');
      const again = await api('POST', '/v1/sessions', { learnerId: 'g01-0', labId: 'exercise-net-namespace' });
      assert.equal(again.status, 201);
      const c = TestClient.connect(`ws://127.0.0.1:${port}/agent/ws`);
      await c.opened;
      c.auth(((await again.json()) as { token: string }).token);
      await c.until(() => c.raw[0]!.includes('\x1b]133;A\x07'), 'prompt after restart');
      c.type(0, 'ls /proc/self/fd | tr "\\n" " "\r');
      await c.until(() => /0 1 2 255 (\d+ )?\r?\n/.test(c.output[0]!) || /0 1 2 3 /.test(c.output[0]!), 'fd list');
      c.close();
      second.child.kill('SIGTERM');
      await new Promise((r) => second.child.once('exit', r));
      assert.equal(procsIn(), 0);
      throw new Skip(
        `what holds today PASSES: kill -9 of the agent (5 learners typing): clients closed 1006; ${orphaned} sandbox processes left (sandboxes are not reattached: no per-sandbox shim), all reaped at the next start (0 processes, 0 cgroups); a new session starts and its shell has only fds 0-2 (+255) (A10 after restart). SKIPPED sub-check: step completions survive restarts exactly once - progress persistence in the database is issue 4 (not wired to the agent yet; progress is in agent memory)`,
      );
    });
  });

  test('G02 DB write failures', async (t) => {
    await runCase(t, 'G02', FILE, async () => {
      throw new Skip('the agent does not write to the database yet (issue 4 wires progress persistence and its outbox); nothing to fail');
    });
  });

  test('G03 many concurrent session starts', async (t) => {
    await runCase(t, 'G03', FILE, async () => {
      const h: Harness = await startHarness();
      try {
        const base = hostCounts(cgroupName);
        const statuses: Record<string, number> = {};
        let missingRetry = 0;
        const started: string[] = [];
        const t0 = Date.now();
        const requests: Promise<void>[] = [];
        for (let i = 0; i < 200; i++) {
          requests.push(
            (async () => {
              const res = await h.api('POST', '/v1/sessions', { learnerId: `g03-${i}`, labId: 'exercise-net-namespace' });
              statuses[res.status] = (statuses[res.status] ?? 0) + 1;
              if ((res.status === 429 || res.status === 503) && !res.headers.get('retry-after')) missingRetry++;
              if (res.status === 201) started.push((JSON.parse(res.text) as { sessionId: string }).sessionId);
            })(),
          );
          await sleep(45); // 200 requests spread over ~9 s
        }
        await Promise.all(requests);
        const seconds = (Date.now() - t0) / 1000;
        assert.equal(missingRetry, 0);
        assert.deepEqual(Object.keys(statuses).filter((s) => !['201', '429', '503'].includes(s)), [], JSON.stringify(statuses));
        for (const id of started) {
          const s = h.sessions.get(id);
          assert.ok(s && s.sandbox.isAlive() && s.sandbox.listHostPids().length >= 2, `half-built sandbox ${id}`);
        }
        const during = hostCounts(cgroupName);
        await Promise.all(started.map((id) => h.api('DELETE', `/v1/sessions/${id}`)));
        await sleep(500);
        const end = hostCounts(cgroupName);
        assert.equal(end.cgroups, base.cgroups);
        assert.ok(end.netns <= base.netns + 2, `netns ${base.netns} -> ${end.netns}`);
        return `200 POSTs in ${seconds.toFixed(1)} s: ${Object.entries(statuses).map(([k, v]) => `${v}x${k}`).join(', ')}; every 429/503 had Retry-After; every 201 had a live sandbox (no half-built ones); after deleting all: cgroups ${base.cgroups}->${during.cgroups}->${end.cgroups}, netns ${base.netns}->${during.netns}->${end.netns}, mounts ${base.mounts}->${end.mounts}`;
      } finally {
        await h.close();
      }
    });
  });

  test('G04 create/destroy churn', async (t) => {
    await runCase(t, 'G04', FILE, async () => {
      const h: Harness = await startHarness();
      const cycles = Number(process.env.NSLAB_G04_CYCLES ?? 60);
      try {
        const one = async (i: number) => {
          const s = await h.createSession(`g04-${i % 3}`);
          const c = TestClient.connect(h.wsUrl);
          await c.opened;
          c.auth(s.body.token);
          await c.until(() => c.raw[0]!.includes('\x1b]133;A\x07'), 'prompt');
          c.close();
          await h.api('DELETE', `/v1/sessions/${s.body.sessionId}`);
        };
        for (let i = 0; i < 10; i++) await one(i); // warm-up
        global.gc?.();
        const base = { ...hostCounts(cgroupName), rss: process.memoryUsage().rss, disk: fs.statfsSync('/run').bavail, slots: ownSlots() };
        const t0 = Date.now();
        for (let i = 0; i < cycles; i++) await one(i);
        const seconds = (Date.now() - t0) / 1000;
        await sleep(500);
        global.gc?.();
        const end = { ...hostCounts(cgroupName), rss: process.memoryUsage().rss, disk: fs.statfsSync('/run').bavail, slots: ownSlots() };
        const rssMiB = (end.rss - base.rss) / 2 ** 20;
        assert.equal(end.cgroups, base.cgroups);
        assert.ok(end.fds <= base.fds + 5, `fds ${base.fds} -> ${end.fds}`);
        assert.ok(end.mounts <= base.mounts, `mounts ${base.mounts} -> ${end.mounts}`);
        assert.ok(end.netns <= base.netns + 2, `netns ${base.netns} -> ${end.netns}`);
        assert.ok(rssMiB < 32, `RSS +${rssMiB} MiB`);
        assert.ok(end.slots <= base.slots, `uid slots ${base.slots} -> ${end.slots}`);
        return `${cycles} create+attach+destroy cycles in ${seconds.toFixed(0)} s (${((seconds * 1000) / cycles).toFixed(0)} ms each; reduced from 500 to fit the CI budget: 500 would take ~${((seconds / cycles) * 500).toFixed(0)} s; set NSLAB_G04_CYCLES=500 for the full run): fds ${base.fds}->${end.fds}, RSS ${rssMiB >= 0 ? '+' : ''}${rssMiB.toFixed(1)} MiB, cgroups ${base.cgroups}->${end.cgroups}, netns ${base.netns}->${end.netns}, mounts ${base.mounts}->${end.mounts}, uid slots ${base.slots}->${end.slots}, /run free blocks ${base.disk}->${end.disk}`;
      } finally {
        await h.close();
      }
    });
  });
});
