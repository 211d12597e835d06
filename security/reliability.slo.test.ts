// Security battery G (reliability) under load: many concurrent session starts against one agent,
// and create/attach/destroy churn with resource counts. G01 (agent crash) and G02 (database write
// failures) are bounded and run in `npm test`: see reliability.integration.test.ts.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, describe, test } from 'node:test';
import { startHarness, TestClient, type Harness } from '../sandbox-agent/src/test-support/agent-harness';
import { runCase } from './battery';
import { batteryCgroupName, hostCounts, removeCgroupParents, sleep } from './support';

const FILE = 'security/reliability.slo.test.ts';
const cgroupName = batteryCgroupName('rel');
process.env.AGENT_CGROUP_NAME = cgroupName;

after(() => {
  removeCgroupParents(cgroupName);
});

/** uid slots claimed by this file's agents (the slot dir is shared by every agent on the host). */
const ownSlots = (): number =>
  fs.readdirSync('/run/nslab/slots').filter((s) => {
    try {
      return fs.readFileSync(`/run/nslab/slots/${s}/owner`, 'utf8').startsWith(`${cgroupName}/`);
    } catch {
      return false;
    }
  }).length;

describe('G. reliability', { timeout: 300_000 }, () => {
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
