// nslab benchmarks: each metric is measured side by side with its physical baseline in the same run.
//   npm run bench                 all metrics
//   npm run bench -- --quick      fewer samples (a smoke run)
// Prints a table, writes bench/results.json and the table in docs/benchmarks.md.
// results.json schema: { machine, command, startedAt, metrics: [{ name, unit, p50, p99, samples,
//   baseline: { name, p50, p99 } | null, ratio (p50 / baseline p50) | null, target, pass }] }
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as pty from 'node-pty';
import WebSocket, { WebSocketServer } from 'ws';
import { startHarness, TestClient } from '../sandbox-agent/src/test-support/agent-harness';

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

/** One keystroke at a time: send a character, wait until its echo arrives. */
async function echoSamples(send: (ch: string) => void, waitEcho: (ch: string) => Promise<void>, count: number): Promise<number[]> {
  const times: number[] = [];
  const alphabet = 'abcdefghijklmnopqrstuvwxyz';
  for (let i = 0; i < count; i++) {
    const ch = alphabet[i % alphabet.length]!;
    const t0 = performance.now();
    const echoed = waitEcho(ch);
    send(ch);
    await echoed;
    times.push(performance.now() - t0);
    if (i % 40 === 39) {
      send('\x15'); // Ctrl-U: clear the line
      await new Promise((r) => setTimeout(r, 30));
    }
  }
  return times;
}

/** Full path: agent WebSocket (auth, replay, grading on) -> PTY -> bash in a sandbox -> back. */
async function echoFullPath(count: number): Promise<number[]> {
  const h = await startHarness();
  try {
    const { body } = await h.createSession('bench-echo');
    const client = TestClient.connect(h.wsUrl);
    await client.opened;
    client.auth(body.token);
    await client.waitForOutput(0, /# $/m);
    let expected: { ch: string; resolve: () => void } | null = null;
    client.ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary && expected && data.subarray(10).toString('utf8').includes(expected.ch)) {
        const e = expected;
        expected = null;
        e.resolve();
      }
    });
    return await echoSamples(
      (ch) => client.type(0, ch),
      (ch) => new Promise<void>((resolve) => (expected = { ch, resolve })),
      count,
    );
  } finally {
    await h.close();
  }
}

/** Baseline: the smallest thing that does the same job, a bare node-pty + ws echo server. */
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
  const ws = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
  await new Promise((r) => ws.once('open', r));
  let expected: { ch: string; resolve: () => void } | null = null;
  ws.on('message', (data: Buffer) => {
    if (expected && data.toString('utf8').includes(expected.ch)) {
      const e = expected;
      expected = null;
      e.resolve();
    }
  });
  await new Promise((r) => setTimeout(r, 300));
  try {
    return await echoSamples(
      (ch) => ws.send(ch),
      (ch) => new Promise<void>((resolve) => (expected = { ch, resolve })),
      count,
    );
  } finally {
    ws.close();
    wss.close();
    server.close();
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
  const startedAt = new Date().toISOString();
  process.stdout.write(`nslab bench (${quick ? 'quick' : 'full'}): ${starts} starts, ${keys} keystrokes\n`);

  const bare = bareUnshare(starts);
  const ready = await sessionReady(starts);
  const bareEcho = await echoBare(keys);
  const fullEcho = await echoFullPath(keys);

  const metrics: Metric[] = [
    metric('session ready: create request -> first prompt byte', 'ms', ready, { name: 'bare unshare (all namespaces) /bin/true', values: bare }, 'p50 < 300 ms, p99 < 1000 ms', (m) => m.p50 < 300 && m.p99 < 1000),
    metric('keystroke echo, full path (agent WS, sandbox shell, grading on)', 'ms', fullEcho, { name: 'bare node-pty + ws echo', values: bareEcho }, 'p50 <= 1.5x bare, p99 < 5 ms', (m) => (m.ratio ?? Infinity) <= 1.5 && m.p99 < 5),
  ];

  const machine = `${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}, Node ${process.version}`;
  const command = `npm run bench${quick ? ' -- --quick' : ''}`;
  const rows = metrics.map(
    (m) =>
      `| ${m.name} | ${m.p50} | ${m.p99} | ${m.baseline ? `${m.baseline.name}: ${m.baseline.p50} / ${m.baseline.p99}` : '-'} | ${m.ratio ?? '-'} | ${m.target} | ${m.pass ? 'PASS' : 'MISS'} |`,
  );
  const table = ['| metric | p50 (ms) | p99 (ms) | baseline p50 / p99 (ms) | ratio | target | result |', '| --- | --- | --- | --- | --- | --- | --- |', ...rows].join('\n');
  process.stdout.write(`\n${table}\n`);
  fs.writeFileSync(path.join(root, 'bench/results.json'), `${JSON.stringify({ machine, command, startedAt, metrics }, null, 2)}\n`);
  fs.mkdirSync(path.join(root, 'docs'), { recursive: true });
  fs.writeFileSync(
    path.join(root, 'docs/benchmarks.md'),
    `# Benchmarks\n\nProduced by \`${command}\` on ${startedAt.slice(0, 10)}.\nMachine: ${machine}.\n\nEach metric is measured with its baseline in the same run (see bench/run.ts).\n\n${table}\n`,
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
