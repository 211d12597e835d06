// Security battery H02-H04 (issue 12): a class behind one NAT address still gets sandboxes, the
// parent of all sandboxes has a memory and pids ceiling sized from the host, and the SQLite file is
// private. H01 (a session-start flood with the canary) is in admission.slo.test.ts.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { runCase } from './battery';
import { gateFor, startThroughGate } from './admission-support';
import { batteryAgent, cgroupParents, rand } from './support';
import { CgroupLayout, hostCeilingInput, sandboxesCeiling } from '../sandbox-agent/src/sandbox/cgroups';
import { openDatabase } from '../app/_lib/db/database';

const FILE = 'security/admission.integration.test.ts';
const agent = batteryAgent('admi', { AGENT_GRADE_POLL_MS: '5000', AGENT_MAX_SESSIONS: '150', AGENT_MAX_CONCURRENT_STARTS: '8' }, { canary: false });

describe('H. admission and app hardening', { timeout: 300_000 }, () => {
  test('H02 a class of 100 behind one school NAT address all get sandboxes (public mode)', async (t) => {
    await runCase(t, 'H02', FILE, async () => {
      const gate = gateFor(agent.h, { NSLAB_ADMISSION: 'public' });
      const nat = '192.0.2.10';
      const members = Array.from({ length: 100 }, (_, i) => `student-${i}-${rand()}`);
      const made: string[] = [];
      const refusals: string[] = [];
      let agentBusy = 0;
      // The whole class presses "start" within seconds; the page retries after the agent's Retry-After.
      await Promise.all(
        members.map(async (learnerId) => {
          for (let attempt = 0; attempt < 40; attempt++) {
            const r = await startThroughGate(gate, agent.h, { learnerId, client: nat, member: true });
            if (r.sessionId) return void made.push(r.sessionId);
            if (!/^\d+$/.test(r.outcome)) return void refusals.push(r.outcome);
            agentBusy++;
            await new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 300));
          }
        }),
      );
      assert.deepEqual(refusals, [], 'no member was refused by the per-address quotas');
      assert.equal(made.length, 100);
      // The same address without a workshop is held to public mode's per-address quota.
      const anonCodes: string[] = [];
      for (let i = 0; i < 6; i++) {
        const r = await startThroughGate(gate, agent.h, { learnerId: `anon-${rand()}`, client: nat, member: false });
        anonCodes.push(r.outcome);
        if (r.sessionId) made.push(r.sessionId);
      }
      const anonOk = anonCodes.filter((c) => c === '201').length;
      assert.equal(anonOk, gate.config.clientMaxSandboxes, anonCodes.join(','));
      assert.ok(anonCodes.slice(anonOk).every((c) => c === 'client_sandbox_limit'), anonCodes.join(','));
      await Promise.all(made.map((id) => agent.h.api('DELETE', `/v1/sessions/${id}`)));
      return `100 workshop members from ${nat}: 100 sandboxes, 0 refused by admission (${agentBusy} agent 429s retried, AGENT_MAX_CONCURRENT_STARTS 8); 6 learners outside a workshop from the same address, one after another: ${anonCodes.join(', ')} (NSLAB_ADMISSION=public, ${gate.config.clientMaxSandboxes} per address)`;
    });
  });

  test('H03 the parent of all sandboxes has a memory and pids ceiling sized from the host', async (t) => {
    await runCase(t, 'H03', FILE, async () => {
      const layout = CgroupLayout.detect();
      const expected = sandboxesCeiling(hostCeilingInput(layout.placements.memory.baseDir, { ...process.env, AGENT_MAX_SESSIONS: '150' }));
      const parents = cgroupParents(process.env.AGENT_CGROUP_NAME!);
      const read = (f: string) => fs.readFileSync(f, 'utf8').trim();
      const memDir = path.join(layout.placements.memory.baseDir, process.env.AGENT_CGROUP_NAME!);
      const pidsDir = path.join(layout.placements.pids.baseDir, process.env.AGENT_CGROUP_NAME!);
      const v1 = layout.placements.memory.version === 1;
      const mem = Number(read(path.join(memDir, v1 ? 'memory.limit_in_bytes' : 'memory.max')));
      const pids = Number(read(path.join(pidsDir, 'pids.max')));
      const memTotal = os.totalmem();
      assert.ok(Math.abs(mem - expected.memoryMaxBytes) < 4096 * 2, `memory ${mem} vs ${expected.memoryMaxBytes}`); // v1 rounds to pages
      assert.equal(pids, expected.pidsMax);
      assert.ok(mem < memTotal - 2 ** 30 + 4096, `ceiling ${mem} leaves < 1 GiB of ${memTotal}`);
      if (v1 && fs.existsSync(path.join(memDir, 'memory.memsw.limit_in_bytes'))) assert.equal(read(path.join(memDir, 'memory.memsw.limit_in_bytes')), String(mem));
      return `${parents[0]}: memory ${(mem / 2 ** 30).toFixed(2)} GiB of ${(memTotal / 2 ** 30).toFixed(2)} GiB host (${v1 ? 'v1 memory.limit_in_bytes = memsw' : 'v2 memory.max, swap 0'}), pids.max ${pids}; ${expected.reason}`;
    });
  });

  test('H04 the SQLite database and its -wal/-shm are private (0600), also when an older run left them 0644', async (t) => {
    await runCase(t, 'H04', FILE, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nslab-h04-'));
      try {
        const file = path.join(dir, 'var', 'nslab.sqlite');
        const first = await openDatabase({ sqlitePath: file });
        await first.close();
        const modes = () => ['', '-wal', '-shm'].filter((s) => fs.existsSync(file + s)).map((s) => `${path.basename(file + s)} ${(fs.statSync(file + s).mode & 0o777).toString(8)}`);
        const fresh = modes();
        for (const m of fresh) assert.match(m, / 600$/, fresh.join(', '));
        fs.chmodSync(file, 0o644);
        const again = await openDatabase({ sqlitePath: file });
        const reopened = modes();
        await again.close();
        for (const m of reopened) assert.match(m, / 600$/, reopened.join(', '));
        return `fresh: ${fresh.join(', ')}; after chmod 644 and reopening: ${reopened.join(', ')}`;
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
