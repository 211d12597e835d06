// nslab benchmarks: each metric is measured side by side with its physical baseline in the same run.
//   npm run bench                 all metrics
//   npm run bench -- --quick      fewer samples (a smoke run)
//   npm run bench -- --only a,b   only the named metric groups: ready, sandbox, echo, echo50, bulk,
//                                 snapshot, capacity, browser
// Prints a table, writes bench/results.json and the table in docs/benchmarks.md.
// results.json schema: { machine, command, startedAt, metrics: [{ name, unit, p50, p99, samples,
//   baseline: { name, p50, p99 } | null, ratio (p50 / baseline p50) | null, target, pass }] }
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import * as pty from 'node-pty';
import { WebSocketServer } from 'ws';
import { randomBytes } from 'node:crypto';
import { buildSnapshot } from '../sandbox-agent/src/grader/snapshot';
import { defaultSandboxLimits } from '../sandbox-agent/src/sandbox/driver';
import { TestShell } from '../sandbox-agent/src/sandbox/test-shell';
import { UnshareDriver } from '../sandbox-agent/src/sandbox/unshare-driver';
import { startHarness, TEST_ORIGIN, TestClient } from '../sandbox-agent/src/test-support/agent-harness';
import type { ClientJob } from './ws-client';

const quick = process.argv.includes('--quick');
const root = path.resolve(import.meta.dirname, '..');

interface Metric {
  name: string;
  unit: string;
  p50: number;
  p99: number;
  samples: number;
  baseline: { name: string; p50: number; p99: number } | null;
  ratio: number | null;
  target: string;
  pass: boolean;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? NaN;
}

const round = (n: number) => Math.round(n * 100) / 100;

/** A cgroup name of its own under the runner's AGENT_CGROUP_NAME (the harness's agents use that name
 * itself), so that parallel runs on one host can tell theirs apart. */
const benchCgroupName = () => `${process.env.AGENT_CGROUP_NAME ?? 'nslab-bench'}-${randomBytes(3).toString('hex')}`;

/** Bare util-linux unshare with every namespace, start -> /bin/true exits. */
function bareUnshare(runs: number): number[] {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync('/usr/bin/unshare', ['--user', '--map-root-user', '--pid', '--fork', '--mount', '--uts', '--ipc', '--net', '--cgroup', '/bin/true']);
    times.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`bare unshare failed: ${r.stderr.toString()}`);
  }
  return times;
}

/** The sandbox alone: driver.create() until the sandbox's init runs (its first exec). */
async function sandboxAlone(runs: number): Promise<number[]> {
  const driver = new UnshareDriver({ cgroupName: benchCgroupName() });
  await driver.preflight();
  const times: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const sb = await driver.create({ id: `b-${i}-${randomBytes(3).toString('hex')}`, hostname: 'bench', limits: defaultSandboxLimits });
      times.push(performance.now() - t0);
      await sb.destroy();
    }
  } finally {
    await driver.reapLeftovers(new Set());
    driver.removeCgroupParents();
  }
  return times;
}

/** Session ready: control API create request -> first prompt byte on the WebSocket. */
async function sessionReady(runs: number): Promise<number[]> {
  const h = await startHarness();
  const times: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const { body } = await h.createSession(`bench-${i}`);
      const client = TestClient.connect(h.wsUrl);
      await client.opened;
      client.auth(body.token);
      await client.waitForOutput(0, /# $/m, 0, 10_000);
      times.push(performance.now() - t0);
      client.close();
      await h.api('DELETE', `/v1/sessions/${body.sessionId}`);
    }
  } finally {
    await h.close();
  }
  return times;
}

/** Runs the bench's WebSocket client (bench/ws-client.ts) in its own process; returns its JSON result. */
function runClient<T>(job: ClientJob): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'bench/ws-client.ts'), JSON.stringify(job)], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`bench client exited ${code ?? signal}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '') as T);
      } catch {
        reject(new Error(`bench client printed no result: ${out.slice(0, 300)}`));
      }
    });
  });
}

/** Event-loop delay of this process (which hosts the agent) while `run` runs: p50/p99/max in ms. */
async function withLoopDelay<T>(run: () => Promise<T>): Promise<{ result: T; loop: { p50: number; p99: number; max: number } }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  try {
    const result = await run();
    return { result, loop: { p50: round(h.percentile(50) / 1e6), p99: round(h.percentile(99) / 1e6), max: round(h.max / 1e6) } };
  } finally {
    h.disable();
  }
}

/** Keystroke echo of one learner's terminal 0 through the agent's WebSocket (auth, replay, grading on);
 * the client (one keystroke at a time, 100 keys/s) runs in its own process. */
async function measureEcho(h: Awaited<ReturnType<typeof startHarness>>, learnerId: string, count: number): Promise<number[]> {
  const { body } = await h.createSession(learnerId);
  const { result, loop } = await withLoopDelay(() => runClient<{ samples: number[] }>({ mode: 'echo', protocol: 'nslab', url: h.wsUrl, origin: TEST_ORIGIN, token: body.token, count }));
  process.stdout.write(`  (agent event-loop delay during echo: p50 ${loop.p50} ms, p99 ${loop.p99} ms, max ${loop.max} ms)\n`);
  return result.samples;
}

/** Full path: agent WebSocket (auth, replay, grading on) -> PTY -> bash in a sandbox -> back. */
async function echoFullPath(count: number): Promise<number[]> {
  const h = await startHarness();
  try {
    return await measureEcho(h, 'bench-echo', count);
  } finally {
    await h.close();
  }
}

/** The same echo while N-1 other learners are active: each prints a line every 200 ms in one
 * terminal (a builtin loop, no process per line) and types a key every 200 ms in the other. */
async function echoWithLearners(learners: number, count: number): Promise<number[]> {
  const h = await startHarness({ AGENT_MAX_SESSIONS: String(learners + 10) });
  const others: { client: TestClient; timer: NodeJS.Timeout }[] = [];
  try {
    for (let i = 0; i < learners - 1; i++) {
      const { body } = await h.createSession(`bench-busy-${i}`);
      const client = TestClient.connect(h.wsUrl);
      await client.opened;
      client.auth(body.token);
      await client.waitForOutput(0, /# $/m);
      // Prints a line every 200 ms with shell builtins only (read -t on a FIFO nobody writes).
      client.type(0, 'mkfifo /tmp/tick; exec 9<>/tmp/tick; while :; do echo "line $RANDOM $SECONDS"; read -t 0.2 -u 9; done\r');
      const timer = setInterval(() => client.type(1, 'x'), 200);
      others.push({ client, timer });
    }
    await new Promise((r) => setTimeout(r, 1000));
    return await measureEcho(h, 'bench-echo-canary', count);
  } finally {
    for (const o of others) {
      clearInterval(o.timer);
      o.client.close();
    }
    await h.close();
  }
}

const bulkCommand = (lines: number) => `seq 1 ${lines}; echo BULK-$((40+2))`;

/** Bulk output through the full path: bytes per second at the client (its own process) and the
 * growth of this process's RSS (the agent: the client is elsewhere). */
async function bulkFullPath(lines: number): Promise<{ mbPerS: number; rssGrowthMiB: number }> {
  const h = await startHarness();
  try {
    const { body } = await h.createSession('bench-bulk');
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    try {
      const r = await runClient<{ mbPerS: number }>({ mode: 'bulk', protocol: 'nslab', url: h.wsUrl, origin: TEST_ORIGIN, token: body.token, command: bulkCommand(lines), endMarker: 'BULK-42' });
      return { mbPerS: r.mbPerS, rssGrowthMiB: (peak - rss0) / 2 ** 20 };
    } finally {
      clearInterval(sampler);
    }
  } finally {
    await h.close();
  }
}

/** Baselines for bulk output: a bare node-pty + ws forwarder (client in its own process, as for
 * nslab), and a bare PTY read in-process. */
async function bulkBare(lines: number, viaWs: boolean): Promise<number> {
  // The bare shells stay a moment after the marker: node-pty can drop the last output of a process
  // that exits at once (the measurement ends at the marker; the PTY is killed then).
  const command = `${bulkCommand(lines)}; sleep 10`;
  if (!viaWs) {
    return new Promise((resolve) => {
      const t0 = performance.now();
      let bytes = 0;
      let tail = '';
      const term = pty.spawn('/bin/bash', ['-c', command], { name: 'xterm-256color', cols: 120, rows: 40, env: { PATH: '/usr/bin:/bin' } });
      term.onData((d) => {
        bytes += Buffer.byteLength(d);
        // The marker may be split across two chunks.
        const text = tail + d;
        tail = text.slice(-'BULK-42'.length);
        if (text.includes('BULK-42')) {
          resolve(bytes / ((performance.now() - t0) / 1000) / 1e6);
          term.kill();
        }
      });
    });
  }
  const server = http.createServer();
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => {
    // The first message is the command (so that the client's clock starts when it is sent).
    ws.once('message', (m: Buffer) => {
      const term = pty.spawn('/bin/bash', ['-c', m.toString('utf8')], { name: 'xterm-256color', cols: 120, rows: 40, env: { PATH: '/usr/bin:/bin' } });
      term.onData((d) => ws.send(Buffer.from(d)));
      ws.on('close', () => term.kill());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const r = await runClient<{ mbPerS: number }>({ mode: 'bulk', protocol: 'bare', url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, command, endMarker: 'BULK-42' });
    return r.mbPerS;
  } finally {
    wss.close();
    server.close();
  }
}

/** Grading snapshot of one sandbox with ~100 processes while 1000 other processes run on the host,
 * against a full scan of the host's /proc (what a grader without the cgroup would have to do). */
async function snapshotBench(samples: number): Promise<{ snap: number[]; scan: number[] }> {
  const driver = new UnshareDriver({ cgroupName: benchCgroupName() });
  await driver.preflight();
  const sb = await driver.create({ id: `b-${randomBytes(4).toString('hex')}`, hostname: 'bench', limits: defaultSandboxLimits });
  const shell = await TestShell.open(sb);
  const hostSleepers: ReturnType<typeof spawn>[] = [];
  try {
    await shell.run('for i in $(seq 95); do sleep 600 & done; sleep 0.5');
    for (let i = 0; i < 1000; i++) hostSleepers.push(spawn('/usr/bin/sleep', ['600'], { stdio: 'ignore' }));
    await new Promise((r) => setTimeout(r, 500));
    const snap: number[] = [];
    const scan: number[] = [];
    await buildSnapshot(sb); // warm
    for (let i = 0; i < samples; i++) {
      const t0 = performance.now();
      const s = await buildSnapshot(sb);
      snap.push(performance.now() - t0);
      if (s.processes.length < 95) throw new Error(`snapshot saw only ${s.processes.length} processes`);
      const t1 = performance.now();
      let n = 0;
      for (const name of fs.readdirSync('/proc')) {
        if (!/^\d+$/.test(name)) continue;
        try {
          fs.readFileSync(`/proc/${name}/status`, 'utf8');
          for (const ns of ['net', 'pid', 'mnt', 'uts', 'ipc', 'user', 'cgroup']) fs.readlinkSync(`/proc/${name}/ns/${ns}`);
          n++;
        } catch {
          // vanished
        }
      }
      scan.push(performance.now() - t1);
      if (n < 1000) throw new Error(`host scan saw only ${n} processes`);
    }
    return { snap, scan };
  } finally {
    for (const child of hostSleepers) child.kill('SIGKILL');
    await shell.close();
    await sb.destroy();
    await driver.reapLeftovers(new Set());
    driver.removeCgroupParents();
  }
}

function memAvailableBytes(): number {
  const m = /MemAvailable:\s+(\d+) kB/.exec(fs.readFileSync('/proc/meminfo', 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

/** Idle learners on one machine: sessions with two terminals each, nobody typing. */
async function capacity(learners: number): Promise<{ created: number; agentRssMiB: number; hostMiBPerLearner: number; failures: string[] }> {
  const h = await startHarness({ AGENT_MAX_SESSIONS: String(learners + 5) });
  const failures: string[] = [];
  try {
    global.gc?.();
    const avail0 = memAvailableBytes();
    let created = 0;
    for (let i = 0; i < learners; i++) {
      const res = await h.createSession(`bench-idle-${i}`);
      if (res.status === 201) created++;
      else failures.push(`#${i}: HTTP ${res.status}`);
    }
    await new Promise((r) => setTimeout(r, 2000));
    global.gc?.();
    const rss = process.memoryUsage().rss;
    const used = avail0 - memAvailableBytes();
    return { created, agentRssMiB: rss / 2 ** 20, hostMiBPerLearner: used / Math.max(1, created) / 2 ** 20, failures };
  } finally {
    await h.close();
  }
}

/** Baseline: the smallest thing that does the same job, a bare node-pty + ws echo server (the
 * client in its own process, as for nslab). */
async function echoBare(count: number): Promise<number[]> {
  const server = http.createServer();
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => {
    const term = pty.spawn('/bin/bash', ['--norc', '--noprofile'], { name: 'xterm-256color', cols: 120, rows: 40, env: { PATH: '/usr/bin:/bin', TERM: 'xterm-256color', PS1: '$ ' } });
    term.onData((d) => ws.send(Buffer.from(d)));
    ws.on('message', (m: Buffer) => term.write(m.toString('utf8')));
    ws.on('close', () => term.kill());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const r = await runClient<{ samples: number[] }>({ mode: 'echo', protocol: 'bare', url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, count });
    return r.samples;
  } finally {
    wss.close();
    server.close();
  }
}

/** In Chromium against the product started by its own script: lesson LCP, JS shipped, and the time
 * from pressing Enter on a graded command to the step turning green. */
async function browserMetrics(samples: number): Promise<{ lcp: number[]; jsKiB: number; stepVisible: number[] }> {
  // The runner's ports when given (parallel runs on one host), else 3600/7600.
  const port = Number(process.env.PORT ?? 3600);
  const server = spawn(process.execPath, [path.join(root, 'scripts/start.mjs')], {
    cwd: root,
    env: { ...process.env, PORT: String(port), AGENT_PORT: process.env.AGENT_PORT ?? '7600', AGENT_CGROUP_NAME: benchCgroupName() },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    const deadline = Date.now() + 600_000;
    for (;;) {
      try {
        if ((await fetch(`${base}/en`)).ok) break;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error('product did not start');
      await new Promise((r) => setTimeout(r, 500));
    }
    const { chromium } = await import('@playwright/test');
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
    });
    const lcp: number[] = [];
    const stepVisible: number[] = [];
    let jsKiB = 0;
    try {
      for (let i = 0; i < samples; i++) {
        const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
        const page = await context.newPage();
        await page.goto(`${base}/en/lessons/exercise-net-namespace`, { waitUntil: 'load' });
        const value = await page.evaluate(
          () =>
            new Promise<number>((resolve) => {
              new PerformanceObserver((list) => {
                const entries = list.getEntries();
                resolve(entries[entries.length - 1]?.startTime ?? NaN);
              }).observe({ type: 'largest-contentful-paint', buffered: true });
              setTimeout(() => resolve(NaN), 5000);
            }),
        );
        if (Number.isFinite(value)) lcp.push(value);
        jsKiB = await page.evaluate(
          () =>
            performance
              .getEntriesByType('resource')
              .filter((e) => (e as PerformanceResourceTiming).initiatorType === 'script' || e.name.endsWith('.js'))
              .reduce((sum, e) => sum + ((e as PerformanceResourceTiming).encodedBodySize || 0), 0) / 1024,
        );
        // Step result visible: Enter on `ls -la /proc/PID/ns/` (graded when the command ends).
        await page.locator('[data-connection="connected"]').waitFor({ timeout: 60_000 });
        const term = (n: number) => page.locator(`[data-terminal="${n}"] .xterm-screen`);
        await page.waitForFunction(() => document.querySelectorAll('.xterm-rows').length >= 2 && [...document.querySelectorAll('.xterm-rows')].every((r) => /# *$/m.test((r as HTMLElement).innerText)), null, { timeout: 30_000 });
        await term(1).click();
        await page.keyboard.type('unshare -n sleep 60');
        await page.keyboard.press('Enter');
        await page.locator('[data-step-id="isolate-sleep"][data-status="passed"]').waitFor({ timeout: 20_000 });
        const pid = await page.evaluate(() => {
          const step = document.querySelector('[data-step-id="isolate-sleep"] [data-step-message]')?.textContent ?? '';
          return /PID (\d+)/.exec(step)?.[1] ?? '';
        });
        if (!pid) throw new Error('no PID in the isolate-sleep message');
        await term(2).click();
        await page.keyboard.type(`ls -la /proc/${pid}/ns/`);
        await page.evaluate(() => {
          const el = document.querySelector('[data-step-id="inspect-ns"]') as HTMLElement;
          (window as unknown as { __visible: Promise<number> }).__visible = new Promise((resolve) => {
            const t0 = performance.now();
            new MutationObserver(() => {
              if (el.dataset.status === 'passed') resolve(performance.now() - t0);
            }).observe(el, { attributes: true });
          });
        });
        await page.keyboard.press('Enter');
        stepVisible.push(await page.evaluate(() => (window as unknown as { __visible: Promise<number> }).__visible));
        await context.close();
      }
    } finally {
      await browser.close();
    }
    return { lcp, jsKiB, stepVisible };
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
}

function metric(name: string, unit: string, values: number[], baseline: { name: string; values: number[] } | null, target: string, pass: (m: Metric) => boolean): Metric {
  const m: Metric = {
    name,
    unit,
    p50: round(percentile(values, 50)),
    p99: round(percentile(values, 99)),
    samples: values.length,
    baseline: baseline ? { name: baseline.name, p50: round(percentile(baseline.values, 50)), p99: round(percentile(baseline.values, 99)) } : null,
    ratio: null,
    target,
    pass: false,
  };
  if (m.baseline) m.ratio = round(m.p50 / m.baseline.p50);
  m.pass = pass(m);
  return m;
}

async function main(): Promise<void> {
  const starts = quick ? 10 : 50;
  const keys = quick ? 50 : 300;
  const onlyArg = process.argv.indexOf('--only');
  const only = onlyArg > 0 ? new Set((process.argv[onlyArg + 1] ?? '').split(',')) : null;
  const want = (group: string) => !only || only.has(group);
  const startedAt = new Date().toISOString();
  process.stdout.write(`nslab bench (${quick ? 'quick' : 'full'}): ${starts} starts, ${keys} keystrokes\n`);
  const metrics: Metric[] = [];
  const add = (m: Metric) => {
    metrics.push(m);
    process.stdout.write(`${m.pass ? 'PASS' : 'MISS'} ${m.name}: p50 ${m.p50} ${m.unit}, p99 ${m.p99}${m.baseline ? `; ${m.baseline.name} p50 ${m.baseline.p50}` : ''}${m.ratio !== null ? `; ratio ${m.ratio}` : ''}\n`);
  };
  const one = (v: number) => [v];

  const bare = want('ready') || want('sandbox') ? bareUnshare(starts) : [];
  if (want('ready')) {
    add(metric('session ready: create request -> first prompt byte', 'ms', await sessionReady(starts), { name: 'bare unshare (all namespaces) /bin/true', values: bare }, 'p50 < 300 ms, p99 < 1000 ms', (m) => m.p50 < 300 && m.p99 < 1000));
  }
  if (want('sandbox')) {
    add(metric('the sandbox alone: create -> its init runs (first exec)', 'ms', await sandboxAlone(starts), { name: 'bare unshare (all namespaces) /bin/true', values: bare }, '<= 3x bare', (m) => (m.ratio ?? Infinity) <= 3));
  }
  let fullEcho: number[] = [];
  if (want('echo') || want('echo50')) fullEcho = await echoFullPath(keys);
  if (want('echo')) {
    add(metric('keystroke echo, full path (agent WS, sandbox shell, grading on)', 'ms', fullEcho, { name: 'bare node-pty + ws echo', values: await echoBare(keys) }, 'p50 <= 1.5x bare, p99 < 5 ms', (m) => (m.ratio ?? Infinity) <= 1.5 && m.p99 < 5));
  }
  if (want('echo50')) {
    const learners = quick ? 10 : 50;
    add(metric(`keystroke echo with ${learners} learners active (each typing and printing)`, 'ms', await echoWithLearners(learners, keys), { name: 'same path, 1 learner', values: fullEcho }, 'p99 < 20 ms', (m) => m.p99 < 20));
  }
  if (want('bulk')) {
    // Alternating rounds (nslab, bare ws, bare PTY), so that a load spike on a shared machine hits
    // both sides; each side's figure is its median round.
    const lines = 2_000_000;
    const rounds = quick ? 1 : 3;
    const full: number[] = [];
    const rss: number[] = [];
    const bareWs: number[] = [];
    const barePty: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const r = await bulkFullPath(lines);
      full.push(r.mbPerS);
      rss.push(r.rssGrowthMiB);
      bareWs.push(await bulkBare(lines, true));
      barePty.push(await bulkBare(lines, false));
      process.stdout.write(`  (bulk round ${i + 1}: nslab ${round(r.mbPerS)} MB/s, bare ws ${round(bareWs.at(-1)!)} MB/s, bare PTY ${round(barePty.at(-1)!)} MB/s, agent RSS +${round(r.rssGrowthMiB)} MiB; load ${os.loadavg().map(round).join(' ')})\n`);
    }
    add(metric(`bulk output seq 1 ${lines}, full path (bare PTY alone: ${round(percentile(barePty, 50))} MB/s)`, 'MB/s', full, { name: 'bare node-pty + ws', values: bareWs }, '>= 0.9x bare ws', (m) => (m.ratio ?? 0) >= 0.9));
    add(metric('agent RSS growth during bulk output', 'MiB', rss, null, '< 64 MiB (bounded)', (m) => m.p99 < 64));
  }
  if (want('snapshot')) {
    const { snap, scan } = await snapshotBench(quick ? 10 : 50);
    add(metric('grading snapshot: 1 sandbox, ~100 processes, 1000 other host processes', 'ms', snap, { name: 'full /proc scan of the host (status + ns links)', values: scan }, '< 10 ms, independent of host process count', (m) => m.p50 < 10));
  }
  if (want('capacity')) {
    const learners = quick ? 20 : 200;
    const c = await capacity(learners);
    add(metric(`capacity: ${c.created}/${learners} idle learners (two terminals each): agent RSS`, 'MiB', one(c.agentRssMiB), null, `${learners} learners, agent RSS < 150 MiB`, (m) => c.created === learners && m.p50 < 150));
    add(metric('capacity: host memory per idle learner', 'MiB', one(c.hostMiBPerLearner), null, 'reported', () => true));
  }
  if (want('browser')) {
    const b = await browserMetrics(quick ? 2 : 5);
    add(metric('lesson page: largest contentful paint in Chromium (localhost)', 'ms', b.lcp, null, 'LCP < 1000 ms', (m) => m.samples > 0 && m.p50 < 1000));
    add(metric('lesson page: JavaScript shipped (encoded)', 'KiB', one(b.jsKiB), null, 'reported', () => true));
    add(metric('step result visible: Enter on a graded command -> step green in Chromium', 'ms', b.stepVisible, null, 'p50 < 250 ms', (m) => m.p50 < 250));
  }

  // With --only, the other metrics of the last run (bench/results.json) are kept beside the new ones.
  if (only) {
    try {
      const previous = JSON.parse(fs.readFileSync(path.join(root, 'bench/results.json'), 'utf8')) as { metrics: Metric[] };
      const fresh = new Set(metrics.map((m) => m.name));
      metrics.unshift(...previous.metrics.filter((m) => !fresh.has(m.name)));
    } catch {
      // no earlier results
    }
  }
  const machine = `${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}, Node ${process.version}`;
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const rows = metrics.map(
    (m) =>
      `| ${m.name} | ${m.unit} | ${m.p50} | ${m.p99} | ${m.baseline ? `${m.baseline.name}: ${m.baseline.p50} / ${m.baseline.p99}` : '-'} | ${m.ratio ?? '-'} | ${m.target} | ${m.pass ? 'PASS' : 'MISS'} |`,
  );
  const table = ['| metric | unit | p50 | p99 | baseline p50 / p99 | ratio | target | result |', '| --- | --- | --- | --- | --- | --- | --- | --- |', ...rows].join('\n');
  process.stdout.write(`\n${table}\n`);
  fs.writeFileSync(path.join(root, 'bench/results.json'), `${JSON.stringify({ machine, command, startedAt, metrics }, null, 2)}\n`);
  fs.mkdirSync(path.join(root, 'docs'), { recursive: true });
  fs.writeFileSync(
    path.join(root, 'docs/benchmarks.md'),
    `# Benchmarks\n\nProduced by \`${command}\` on ${startedAt.slice(0, 10)}.\nMachine: ${machine}.\n\nEach metric is measured with its baseline in the same run (see bench/run.ts); the ratio is nslab's p50 over the baseline's p50.\n\n${table}\n`,
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
