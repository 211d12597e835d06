// The sandbox on a cgroup2-only kernel: Debian's own kernel (user-mode-linux), booted by
// scripts/stock-kernel.mjs with cgroup2 alone at /sys/fs/cgroup and nothing enabled in the root's
// cgroup.subtree_control (the driver must do it). `npm run test:stock-kernel` runs this file there;
// on any other host it fails at once (it is not a test that skips itself into passing).
// The cgroup-v2 equivalents of the battery cases that read cgroup files: D01 fork bomb, D02 memory
// hog, D04 CPU fairness, D06-style limits read back, A03 cgroupfs from inside, G03 start storm,
// G04 churn; plus the delegated-subtree layouts (a container's cgroup namespace, a systemd unit).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { processRuns } from '../procfs';
import { SANDBOXES_CPU_WEIGHT, SUPERVISOR_LEAF } from './cgroups';
import { defaultSandboxLimits, type Sandbox } from './driver';
import { TestShell } from './test-shell';
import { UnshareDriver } from './unshare-driver';

const CG = '/sys/fs/cgroup';
const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');
const name = `nslab-sk-${randomBytes(3).toString('hex')}`;
const driver = new UnshareDriver({ cgroupName: name });
const newId = () => `k-${randomBytes(4).toString('hex')}`;
const read = (f: string) => fs.readFileSync(f, 'utf8').trim();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const mountCount = () => read('/proc/self/mountinfo').split('\n').length;
const slotCount = () => (fs.existsSync('/run/nslab/slots') ? fs.readdirSync('/run/nslab/slots').length : 0);
const childCgroups = () =>
  fs.existsSync(`${CG}/${name}`)
    ? fs.readdirSync(`${CG}/${name}`, { withFileTypes: true }).filter((e) => e.isDirectory()).length
    : 0;

async function open(hostname = 'sk'): Promise<{ sb: Sandbox; shell: TestShell }> {
  const sb = await driver.create({ id: newId(), hostname, limits: defaultSandboxLimits });
  try {
    return { sb, shell: await TestShell.open(sb, { timeoutMs: 30_000 }) };
  } catch (e) {
    await sb.destroy();
    throw e;
  }
}
async function close(b: { sb: Sandbox; shell: TestShell }): Promise<void> {
  await b.shell.close();
  await b.sb.destroy();
}

/** Runs a command (argv) to its end; stdout, stderr, exit code. */
function run(
  argv: string[],
  env: Record<string, string> = {},
  timeoutMs = 120_000,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: repo,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

before(() => {
  // Refuse to pass anywhere but a cgroup2-only host.
  assert.ok(
    fs.existsSync(`${CG}/cgroup.controllers`),
    `${CG} is not a cgroup2 mount: run this file through npm run test:stock-kernel`,
  );
  assert.ok(!fs.existsSync(`${CG}/cgroup.type`), `${CG} is not the root of the cgroup tree`);
  const v1 = read('/proc/self/mountinfo')
    .split('\n')
    .filter((l) => / - cgroup /.test(l));
  assert.deepEqual(v1, [], 'a cgroup v1 hierarchy is mounted: this is not a cgroup2-only host');
});

after(async () => {
  await driver.reapLeftovers(new Set());
  driver.removeCgroupParents();
});

describe('cgroup v2 only (Debian kernel under user-mode-linux)', { timeout: 600_000 }, () => {
  test('the driver enables the controllers itself and weighs all sandboxes a quarter', async () => {
    const rootBefore = read(`${CG}/cgroup.subtree_control`);
    await driver.preflight();
    assert.ok(driver.cgroupLayout.describe().startsWith(`cgroup v2, at the root ${CG} (pids: v2, memory: v2, cpu: v2); all sandboxes: memory.max `), driver.cgroupLayout.describe());
    const enabled = read(`${CG}/cgroup.subtree_control`).split(' ');
    for (const c of ['pids', 'memory', 'cpu'])
      assert.ok(enabled.includes(c), `root subtree_control "${enabled.join(' ')}" (was "${rootBefore}")`);
    for (const c of ['pids', 'memory', 'cpu']) assert.ok(read(`${CG}/${name}/cgroup.subtree_control`).split(' ').includes(c));
    assert.equal(read(`${CG}/${name}/cpu.weight`), String(SANDBOXES_CPU_WEIGHT));
    // The ceiling on all sandboxes together (memory without swap, pids), sized from this kernel's memory.
    const ceiling = driver.cgroupLayout.ceiling!;
    assert.equal(read(`${CG}/${name}/memory.max`), String(ceiling.memoryMaxBytes));
    assert.equal(read(`${CG}/${name}/pids.max`), String(ceiling.pidsMax));
    if (fs.existsSync(`${CG}/${name}/memory.swap.max`)) assert.equal(read(`${CG}/${name}/memory.swap.max`), '0');
    const memTotal = Number(/^MemTotal:\s+(\d+)/m.exec(read('/proc/meminfo'))![1]) * 1024;
    assert.ok(ceiling.memoryMaxBytes < memTotal && ceiling.memoryMaxBytes >= 256 * 2 ** 20, `${ceiling.reason}; MemTotal ${memTotal}`);
  });

  test('every limit is written to the v2 files and read back; the learner sees its own cgroup root', async () => {
    const b = await open();
    try {
      const dir = driver.cgroupDirs(b.sb.id).v2;
      assert.deepEqual(driver.cgroupDirs(b.sb.id).all, [dir]);
      assert.equal(read(`${dir}/pids.max`), String(defaultSandboxLimits.pidsMax));
      assert.equal(read(`${dir}/memory.max`), String(defaultSandboxLimits.memoryMaxBytes));
      if (fs.existsSync(`${dir}/memory.swap.max`)) assert.equal(read(`${dir}/memory.swap.max`), '0');
      assert.equal(read(`${dir}/cpu.max`), '100000 100000');
      assert.deepEqual(b.sb.appliedLimits(), {
        pidsMax: defaultSandboxLimits.pidsMax,
        memoryMaxBytes: defaultSandboxLimits.memoryMaxBytes,
        swapMaxBytes: fs.existsSync(`${dir}/memory.swap.max`) ? 0 : null,
        cpuMaxPercent: defaultSandboxLimits.cpuMaxPercent,
      });
      const st = b.sb.stats();
      assert.ok(
        (st.memoryBytes ?? 0) > 0 && (st.pids ?? 0) >= 2 && st.oomKills === 0 && st.pidsLimitHits === 0,
        JSON.stringify(st),
      );
      const r = await b.shell.run('cat /proc/self/cgroup; cat /proc/self/uid_map; ip -o link | cut -d: -f2');
      const out = r.output.replace(/\r/g, '');
      assert.match(out, /^0::\/$/m, out);
      assert.doesNotMatch(out, /^\s*0\s+0\s/m, 'identity uid map');
      assert.deepEqual(
        out
          .trim()
          .split('\n')
          .slice(-1)
          .map((s) => s.trim()),
        ['lo'],
      );
    } finally {
      await close(b);
    }
  });

  test('D01 (v2) fork bomb: bounded by pids.max, the learner is told, pids.events counts it', async () => {
    const b = await open();
    try {
      const bomb = await b.shell.run(
        `timeout 20 bash -c 'trap "kill -9 0" EXIT; for i in $(seq 1000); do sleep 60 & done' 2>&1 | grep -m1 -o 'fork: .*'`,
        60_000,
      );
      assert.match(bomb.output, /fork: (retry: )?Resource temporarily unavailable/, bomb.output);
      const st = b.sb.stats();
      assert.ok((st.pidsLimitHits ?? 0) > 0, `pids.events max ${st.pidsLimitHits}`);
      assert.ok((st.pids ?? 0) <= defaultSandboxLimits.pidsMax);
      const rec = await b.shell.run(
        "timeout 5 bash -c ':(){ :|:& };:' 2>/dev/null; kill -9 -1 2>/dev/null; echo rec-done",
        60_000,
      );
      assert.match(rec.output, /rec-done/);
      assert.ok(b.sb.isAlive());
    } finally {
      await close(b);
    }
  });

  test('D02 (v2) memory hog: killed at memory.max, the learner sees "Killed", memory.events counts it', async () => {
    const b = await open();
    try {
      const hog = await b.shell.run(
        `timeout 60 python3 -c 'a=[]\nfor i in range(8): a.append(b"\\x01" * (64<<20)); print("allocated", (i+1)*64, "MiB", flush=True)'`,
        90_000,
      );
      assert.ok(hog.exitCode === 137 || /Killed/.test(hog.output), `exit ${hog.exitCode}: ${hog.output}`);
      assert.ok((b.sb.stats().oomKills ?? 0) >= 1, `memory.events oom_kill ${b.sb.stats().oomKills}`);
      assert.match(read(`${driver.cgroupDirs(b.sb.id).v2}/memory.events`), /^oom_kill [1-9]/m);
      assert.ok(b.sb.isAlive(), 'the sandbox itself died');
      const after = await b.shell.run('echo still-here');
      assert.match(after.output, /still-here/);
    } finally {
      await close(b);
    }
  });

  test('D04 (v2) CPU: two busy sandboxes get equal shares (cpu.stat usage_usec)', async () => {
    const [x, y] = [await open('cpu-a'), await open('cpu-b')];
    try {
      for (const b of [x, y]) b.shell.proc.write('timeout 12 sh -c "yes >/dev/null"\r');
      await sleep(2_000);
      const u0 = [x, y].map((b) => b.sb.stats().cpuUsageUsec ?? NaN);
      await sleep(5_000);
      const used = [x, y].map((b, i) => (b.sb.stats().cpuUsageUsec ?? NaN) - u0[i]!);
      assert.ok(
        used.every((u) => Number.isFinite(u) && u > 0),
        String(used),
      );
      const ratio = Math.min(...used) / Math.max(...used);
      assert.ok(ratio >= 0.75, `CPU used ${used.map((u) => (u / 1e6).toFixed(2)).join(' s, ')} s: ratio ${ratio.toFixed(2)}`);
    } finally {
      for (const b of [x, y]) b.shell.proc.write('\x03');
      await close(x);
      await close(y);
    }
  });

  test('A03 (v2) a learner cannot write any cgroup file, even through its own cgroup2 or v1 mount', async () => {
    const b = await open();
    try {
      const r = await b.shell.run(
        [
          'mkdir -p /tmp/cg2 /tmp/cg1',
          'if mount -t cgroup2 none /tmp/cg2 2>/dev/null; then echo CG2-MOUNTED; for f in /tmp/cg2/*; do [ -f "$f" ] && [ -w "$f" ] && echo "CG-WRITABLE $f"; done; ' +
            'echo 999 >/tmp/cg2/pids.max 2>/dev/null && echo CG-WROTE-PIDS; echo +memory >/tmp/cg2/cgroup.subtree_control 2>/dev/null && echo CG-WROTE-SUBTREE; echo 1 >/tmp/cg2/cgroup.procs 2>/dev/null && echo CG-WROTE-PROCS; ' +
            'mkdir /tmp/cg2/child 2>/dev/null && echo CG-MKDIR; cat /tmp/cg2/pids.max; umount /tmp/cg2; fi',
          'mount -t cgroup -o none,name=x cg /tmp/cg1 2>/dev/null && { ls /tmp/cg1/release_agent 2>/dev/null && echo CG1-RELEASE-AGENT; mkdir /tmp/cg1/c 2>/dev/null && echo CG1-MKDIR; umount /tmp/cg1; }',
          'test -w /sys/fs/cgroup && echo SYSFSCG-WRITABLE; echo done',
        ].join('; '),
      );
      const out = r.output.replace(/\r/g, '');
      assert.match(out, /done/);
      assert.doesNotMatch(out, /CG-WRITABLE|CG-WROTE|CG-MKDIR|CG1-RELEASE-AGENT|CG1-MKDIR|SYSFSCG-WRITABLE/, out);
      assert.equal(read(`${driver.cgroupDirs(b.sb.id).v2}/pids.max`), String(defaultSandboxLimits.pidsMax));
    } finally {
      await close(b);
    }
  });

  test('G03 + teardown (v2): 6 concurrent starts, then nothing left: process, cgroup, mount or uid slot', async () => {
    const mounts0 = mountCount();
    const slots0 = slotCount();
    const boxes = await Promise.all(
      [1, 2, 3, 4, 5, 6].map(() => driver.create({ id: newId(), hostname: 'storm', limits: defaultSandboxLimits })),
    );
    assert.equal(childCgroups(), 6);
    const shell = await TestShell.open(boxes[0]!, { timeoutMs: 30_000 });
    await shell.run('unshare -n sleep 600 & ip netns add y; unshare -m sleep 600 & sleep 0.3');
    const pids = boxes.flatMap((b) => b.listHostPids());
    const dirs = boxes.map((b) => driver.cgroupDirs(b.id).v2);
    await shell.close();
    await Promise.all(boxes.map((b) => b.destroy()));
    for (const p of pids) assert.equal(processRuns(p), false, `pid ${p} survived`);
    for (const d of dirs) assert.equal(fs.existsSync(d), false, `${d} left`);
    assert.equal(childCgroups(), 0);
    assert.equal(mountCount(), mounts0);
    assert.equal(slotCount(), slots0);
  });

  test('G04 (v2) create/destroy churn: 15 cycles leave the counts where they were', async () => {
    const base = {
      mounts: mountCount(),
      slots: slotCount(),
      cgroups: childCgroups(),
      fds: fs.readdirSync('/proc/self/fd').length,
    };
    for (let i = 0; i < 15; i++) {
      const sb = await driver.create({ id: newId(), hostname: 'churn', limits: defaultSandboxLimits });
      await sb.destroy();
    }
    await sleep(200);
    assert.deepEqual(
      { mounts: mountCount(), slots: slotCount(), cgroups: childCgroups(), fds: fs.readdirSync('/proc/self/fd').length },
      base,
    );
  });
});

describe('delegated subtrees on cgroup v2', { timeout: 600_000 }, () => {
  const child = path.join(here, 'fixtures/delegated-driver.ts');
  const node = [process.execPath, '--import', 'tsx', child];
  const enableAtRoot = () => fs.writeFileSync(`${CG}/cgroup.subtree_control`, '+pids +memory +cpu');

  test("a container's own cgroup namespace: found without configuration, processes moved to a leaf first", async () => {
    enableAtRoot();
    const ctr = `${CG}/ctr-${randomBytes(3).toString('hex')}`;
    fs.mkdirSync(ctr);
    try {
      // As a runtime starts a container: the process joins the container's cgroup, then gets its own
      // cgroup and mount namespaces with cgroup2 mounted afresh (it sees its cgroup as "/").
      const script = `echo $$ >${ctr}/cgroup.procs && exec unshare -C -m --propagation private sh -c 'umount -l /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup && exec "$@"' sh ${node.join(' ')} nslab-ctr`;
      const r = await run(['/bin/sh', '-c', script]);
      assert.equal(r.code, 0, `${r.err}\n${r.out}`);
      const report = JSON.parse(r.out.trim().split('\n').pop()!);
      assert.equal(report.summary.mode, 'subtree');
      assert.equal(report.summary.v2Base, CG, 'inside the namespace the container cgroup is /sys/fs/cgroup');
      assert.match(report.describe, /^cgroup v2, in the delegated subtree/);
      assert.equal(report.selfCgroup, `0::/${SUPERVISOR_LEAF}`, 'the agent moved itself into the supervisor leaf');
      assert.deepEqual(report.applied.pidsMax, defaultSandboxLimits.pidsMax);
      assert.match(report.learner, /fork: (retry: )?Resource temporarily unavailable/);
      assert.match(report.learner, /^0::\/$/m);
      assert.ok(report.stats.pidsLimitHits > 0);
      assert.equal(report.left, false);
      // Seen from the host: everything stayed inside the container's cgroup.
      assert.ok(read(`${ctr}/cgroup.subtree_control`).includes('memory'));
      assert.equal(read(`${ctr}/cgroup.procs`), '');
    } finally {
      for (const d of fs.existsSync(ctr) ? fs.readdirSync(ctr, { withFileTypes: true }).filter((e) => e.isDirectory()) : [])
        fs.rmdirSync(path.join(ctr, d.name));
      fs.rmdirSync(ctr);
    }
  });

  test('a systemd-style unit with Delegate=yes (AGENT_CGROUP_PARENT=self): its other processes move too', async () => {
    enableAtRoot();
    const slice = `${CG}/sk-${randomBytes(3).toString('hex')}.slice`;
    const unit = `${slice}/nslab.service`;
    fs.mkdirSync(slice);
    fs.writeFileSync(`${slice}/cgroup.subtree_control`, '+pids +memory +cpu');
    fs.mkdirSync(unit);
    const app = spawn('/bin/sh', ['-c', `echo $$ >${unit}/cgroup.procs && exec sleep 120`], { stdio: 'ignore' });
    try {
      await sleep(300);
      const r = await run(['/bin/sh', '-c', `echo $$ >${unit}/cgroup.procs && exec ${node.join(' ')} nslab-unit`], {
        AGENT_CGROUP_PARENT: 'self',
      });
      assert.equal(r.code, 0, `${r.err}\n${r.out}`);
      const report = JSON.parse(r.out.trim().split('\n').pop()!);
      assert.equal(report.summary.v2Base, unit);
      assert.equal(report.applied.memoryMaxBytes, defaultSandboxLimits.memoryMaxBytes);
      assert.equal(report.left, false);
      const leafProcs = read(`${unit}/${SUPERVISOR_LEAF}/cgroup.procs`).split('\n');
      assert.ok(
        leafProcs.includes(String(app.pid)),
        `the unit's other process ${app.pid} was moved into the leaf: ${leafProcs.join(',')}`,
      );
      assert.equal(read(`${unit}/cgroup.procs`), '');
    } finally {
      app.kill('SIGKILL');
      await sleep(200);
      for (const d of [`${unit}/${SUPERVISOR_LEAF}`, unit, slice]) if (fs.existsSync(d)) fs.rmdirSync(d);
    }
  });

  test('a unit that was not given the memory controller: the agent stops at start with the file and the fix', async () => {
    enableAtRoot();
    const slice = `${CG}/nomem-${randomBytes(3).toString('hex')}.slice`;
    const unit = `${slice}/nslab.service`;
    fs.mkdirSync(slice);
    fs.writeFileSync(`${slice}/cgroup.subtree_control`, '+pids +cpu');
    fs.mkdirSync(unit);
    try {
      const main = path.join(repo, 'sandbox-agent/src/main.ts');
      const r = await run(['/bin/sh', '-c', `echo $$ >${unit}/cgroup.procs && exec ${process.execPath} --import tsx ${main}`], {
        AGENT_CGROUP_PARENT: 'self',
        AGENT_SECRET: 'x'.repeat(40),
        AGENT_ALLOWED_ORIGINS: 'http://127.0.0.1:9',
        AGENT_PORT: '7999',
        AGENT_HOST: '127.0.0.1',
        AGENT_STATE_DIR: '/tmp/sk-agent-state',
      });
      assert.equal(r.code, 78, `${r.err}\n${r.out}`);
      assert.match(
        r.err,
        new RegExp(
          `nslab agent: sandbox preflight: the memory controller is not available: ${unit}/cgroup.controllers lists (cpu pids|pids cpu)`,
        ),
      );
      assert.match(r.err, /Delegate=yes/);
      assert.doesNotMatch(r.err, /\n\s+at /, 'a stack trace instead of a message');
    } finally {
      for (const d of [unit, slice]) if (fs.existsSync(d)) fs.rmdirSync(d);
    }
  });
});

test('the kernel is the stock one this stage promises', () => {
  const v = execFileSync('/usr/bin/uname', ['-r'], { encoding: 'utf8' }).trim();
  assert.match(v, /^\d+\.\d+\.\d+/);
  assert.match(read('/proc/cmdline'), /rootfstype=hostfs/);
});
