// Security battery G01 and G02 (reliability of durable progress), bounded and self-stopping, so they
// run in `npm test` (integration stage). Both drive the real pieces: a real agent (in-process
// harness for G02, a real `main.ts` process killed with SIGKILL for G01) whose durable outbox
// delivers over HTTP to the app's real route handler (app/api/internal/progress/route.ts, served by
// a plain node:http server here) writing through app/_lib/db to a real SQLite file or a real,
// throwaway PostgreSQL server (scripts/with-postgres.sh).
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { after, describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { NextRequest } from 'next/server';
import pg from 'pg';
import { POST as progressRoute } from '../app/api/internal/progress/route';
import { closeSharedDatabase, sharedDatabase } from '../app/_lib/db/database';
import { progressFor, recordStepResult } from '../app/_lib/db/repository';
import { storedProgress } from '../app/_lib/progress.server';
import { closeCodes, PROGRESS_PATH, type ProgressItem } from '../sandbox-agent/protocol/index';
import { resultKey } from '../sandbox-agent/src/outbox';
import { startHarness, TEST_ORIGIN, TestClient, type Harness } from '../sandbox-agent/src/test-support/agent-harness';
import { repoRoot, runCase } from './battery';
import { batteryCgroupName, cgroupParents, removeCgroupParents, sleep } from './support';

const FILE = 'security/reliability.integration.test.ts';
const LAB = 'exercise-net-namespace';
const STEP = 'isolate-sleep';
const PASS_COMMAND = 'unshare -n sleep 60\r';
const PROMPT = /root@nslab:[^\n]*# $/m;
const cgroupName = batteryCgroupName('relit');
process.env.AGENT_CGROUP_NAME = cgroupName;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nslab-sec-rel-'));

after(async () => {
  await closeSharedDatabase();
  removeCgroupParents(cgroupName);
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Resolves with `value` after ms without keeping the process alive. */
const settleAfter = <T>(ms: number, value: T) => new Promise<T>((r) => setTimeout(() => r(value), ms).unref());

async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

// ---------- the app's progress endpoint: the real route handler behind node:http ----------

interface Delivery {
  keys: string[];
  status: number;
  retryAfter: string | null;
  ms: number;
  reply: string;
}

class ProgressApp {
  readonly deliveries: Delivery[] = [];
  /** What the route logged (its console.error lines): the database error behind each 503. */
  readonly logged: string[] = [];
  /** Runs after the route answered and before the reply is written (G01 kills the agent here). */
  beforeReply: ((delivery: Delivery) => Promise<void> | void) | null = null;

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(): Promise<ProgressApp> {
    const server = http.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const app = new ProgressApp(server, `http://127.0.0.1:${(server.address() as net.AddressInfo).port}${PROGRESS_PATH}`);
    server.on('request', (req, res) => void app.handle(req, res));
    return app;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    let keys: string[] = [];
    try {
      keys = ((JSON.parse(body) as { items?: { key: string }[] }).items ?? []).map((i) => i.key);
    } catch {
      /* the route answers 400 */
    }
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value);
    const started = Date.now();
    const consoleError = console.error;
    console.error = (...args: unknown[]) => void this.logged.push(args.map(String).join(' '));
    let response: Response;
    try {
      response = await progressRoute(new NextRequest(`http://127.0.0.1${req.url ?? '/'}`, { method: req.method, headers, body }));
    } finally {
      console.error = consoleError;
    }
    const reply = await response.text();
    const delivery: Delivery = {
      keys,
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      ms: Date.now() - started,
      reply,
    };
    this.deliveries.push(delivery);
    await this.beforeReply?.(delivery);
    res.writeHead(response.status, Object.fromEntries(response.headers)).end(reply);
  }

  /** POSTs a delivery straight to the route (as a second agent or a retry would). */
  async post(secret: string, items: ProgressItem[]): Promise<{ status: number; body: string }> {
    const res = await fetch(this.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ items }),
    });
    return { status: res.status, body: await res.text() };
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

/** The rows of the agent's durable outbox file for one key (read with a second, read-only connection). */
function outboxRow(file: string, key: string): { delivered: boolean } | null {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare('SELECT delivered_at FROM outbox WHERE key = ?').get(key) as
      { delivered_at: number | null } | undefined;
    return row ? { delivered: row.delivered_at !== null } : null;
  } finally {
    db.close();
  }
}

/** Opens a session for the learner and passes the first step in terminal `terminal`. */
async function passFirstStep(wsUrl: string, token: string, terminal = 0): Promise<TestClient> {
  const client = TestClient.connect(wsUrl);
  await client.opened;
  client.auth(token);
  await client.until(() => client.message('ready'), 'ready');
  await client.waitForOutput(terminal, PROMPT);
  client.type(terminal, PASS_COMMAND);
  await client.until(
    () => client.message('step', (m) => m.result.stepId === STEP && m.result.status === 'passed'),
    `${STEP} passed`,
  );
  return client;
}

const savedFlags = (client: TestClient) =>
  client.messages.flatMap((m) =>
    m.type === 'step' && m.result.stepId === STEP && m.result.status === 'passed' ? [m.result.saved] : [],
  );

// ---------- a throwaway PostgreSQL server we may stop and start (scripts/with-postgres.sh) ----------

interface ThrowawayPostgres {
  url: string;
  stop(): void;
  start(): void;
  admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

async function startPostgres(): Promise<ThrowawayPostgres> {
  // The command with-postgres.sh runs: print the server's coordinates, then wait for stdin to close
  // (or 120 s) so the script stops the server and removes its directory.
  const hold = `process.stdout.write(JSON.stringify(Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('NSLAB_TEST_')))) + '\\n');
    process.stdin.resume(); process.stdin.on('end', () => process.exit(0)); setTimeout(() => process.exit(0), 120000).unref();`;
  const child = spawn('bash', ['scripts/with-postgres.sh', process.execPath, '-e', hold], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const line = await Promise.race([
    waitFor('with-postgres.sh to start PostgreSQL', () => (out.includes('\n') ? out.split('\n')[0] : undefined), 60_000),
    exited.then(() => {
      throw new Error(`with-postgres.sh exited: ${err.slice(-500)}`);
    }),
  ]);
  const env = JSON.parse(line) as Record<string, string>;
  const url = env.NSLAB_TEST_DATABASE_URL;
  const bin = env.NSLAB_TEST_PG_BIN;
  const data = env.NSLAB_TEST_PG_DATA;
  if (!url || !bin || !data || !env.NSLAB_TEST_PG_OPTIONS || !env.NSLAB_TEST_PG_LOG)
    throw new Error(`with-postgres.sh did not export the server's coordinates: ${line}`);
  const asPg = (args: string[]) =>
    process.getuid?.() === 0
      ? execFileSync('runuser', ['-u', env.NSLAB_TEST_PG_OS_USER ?? 'postgres', '--', ...args], { stdio: 'pipe' })
      : execFileSync(args[0]!, args.slice(1), { stdio: 'pipe' });
  return {
    url,
    stop: () => void asPg([`${bin}/pg_ctl`, '-D', data, '-m', 'fast', '-w', '-t', '20', '-s', 'stop']),
    start: () =>
      void asPg([
        `${bin}/pg_ctl`,
        '-D',
        data,
        '-l',
        env.NSLAB_TEST_PG_LOG!,
        '-o',
        env.NSLAB_TEST_PG_OPTIONS!,
        '-w',
        '-t',
        '20',
        '-s',
        'start',
      ]),
    async admin(fn) {
      const client = new pg.Client({ connectionString: url });
      client.on('error', () => {});
      await client.connect();
      try {
        await client.query('SET default_transaction_read_only = off'); // the admin may write when the app may not

        return await fn(client);
      } finally {
        await client.end().catch(() => {});
      }
    },
    async close() {
      child.stdin.end();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise<void>((r) => (timer = setTimeout(r, 30_000).unref()))]);
      clearTimeout(timer);
    },
  };
}

// ---------- G01: a real agent process ----------

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

interface AgentProcess {
  child: ChildProcess;
  ready: Promise<void>;
  exited: Promise<void>;
  out: () => string;
}

function startAgentProcess(env: Record<string, string>): AgentProcess {
  let out = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'sandbox-agent/src/main.ts'], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent did not start: ${out}`)), 30_000);
    const check = () => {
      if (out.includes('agent listening')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`agent exited ${code}: ${out}`));
    });
  });
  ready.catch(() => {});
  return { child, ready, exited, out: () => out };
}

/** Processes in this file's sandbox cgroups. */
const procsIn = (): number => {
  let n = 0;
  try {
    const v2 = cgroupParents(cgroupName)[0]!;
    for (const id of fs.readdirSync(v2)) {
      try {
        n += fs
          .readFileSync(`${v2}/${id}/cgroup.procs`, 'utf8')
          .split('\n')
          .filter(Boolean).length;
      } catch {
        /* not a dir */
      }
    }
  } catch {
    /* none */
  }
  return n;
};

const cgroupDirs = (): number => {
  try {
    return fs.readdirSync(cgroupParents(cgroupName)[0]!, { withFileTypes: true }).filter((e) => e.isDirectory()).length;
  } catch {
    return 0;
  }
};

/** uid slots claimed by this file's agents (the slot dir is shared by every agent on the host). */
const ownSlots = (): number => {
  try {
    return fs.readdirSync('/run/nslab/slots').filter((s) => {
      try {
        return fs.readFileSync(`/run/nslab/slots/${s}/owner`, 'utf8').startsWith(`${cgroupName}/`);
      } catch {
        return false;
      }
    }).length;
  } catch {
    return 0;
  }
};

// ---------- G02 ----------

interface Outage {
  name: string;
  /** Makes the database refuse writes; returns what was done, for the evidence line. */
  breakIt(): Promise<string>;
  /** Undoes it. */
  fix(): Promise<void>;
}

/**
 * One outage: the database refuses writes, a learner passes a step, the route answers 503 with
 * Retry-After (at least twice: a delivery and a retry), the result waits in the agent's outbox file
 * and the learner sees saved:false; the database comes back and the same result is stored once and
 * the learner sees saved:true.
 */
async function runOutage(h: Harness, app: ProgressApp, outboxFile: string, outage: Outage): Promise<string> {
  const learnerId = `g02-${outage.name.replace(/[^a-z0-9]+/gi, '-')}-${randomBytes(3).toString('hex')}`;
  const key = resultKey(learnerId, LAB, STEP);
  const what = await outage.breakIt();
  const fromLog = app.logged.length;
  const session = await h.createSession(learnerId, LAB);
  assert.equal(session.status, 201);
  let client: TestClient | null = null;
  try {
    client = await passFirstStep(h.wsUrl, session.body.token);
    const c = client;
    const mine = () => app.deliveries.filter((d) => d.keys.includes(key));
    await waitFor(`${outage.name}: a refused delivery and a retry`, () => mine().filter((d) => d.status !== 200).length >= 2);
    const refused = mine();
    assert.ok(
      refused.every((d) => d.status === 503 && d.retryAfter !== null),
      `${outage.name}: deliveries answered ${refused.map((d) => `${d.status}/${d.retryAfter}`).join(', ')}`,
    );
    assert.deepEqual(savedFlags(c), [false], `${outage.name}: the learner must see "not saved yet" only`);
    assert.deepEqual(outboxRow(outboxFile, key), { delivered: false }, `${outage.name}: the result must wait in the outbox file`);
    const slowestMs = Math.max(...refused.map((d) => d.ms));
    const cause = app.logged
      .slice(fromLog)
      .map((l) => {
        try {
          return String((JSON.parse(l) as { error?: unknown }).error ?? '');
        } catch {
          return '';
        }
      })
      .find(Boolean)
      ?.replace(/^\w*error: /i, '')
      .slice(0, 26);
    const fixedAt = Date.now();
    await outage.fix();
    await c.until(() => savedFlags(c).includes(true), `${outage.name}: saved:true after recovery`, 20_000);
    const recoveredMs = Date.now() - fixedAt;
    assert.deepEqual(outboxRow(outboxFile, key), { delivered: true });
    const { db } = await sharedDatabase();
    const rows = await progressFor(db, learnerId);
    assert.deepEqual(
      rows.map((r) => [r.labId, r.stepId]),
      [[LAB, STEP]],
      `${outage.name}: exactly one stored row`,
    );
    // A late duplicate (a retry whose reply was lost, a second agent) changes nothing.
    const dup = await app.post(h.secret, [
      {
        key,
        learnerId,
        labId: LAB,
        result: { stepId: STEP, status: 'passed', message: null, hint: null, evidence: {}, atMs: Date.now(), saved: false },
      },
    ]);
    assert.equal(dup.status, 200);
    assert.match(dup.body, /"stored":"duplicate"/);
    assert.equal((await progressFor(db, learnerId)).length, 1);
    return `${outage.name} (${what}): ${refused.length}x "${cause ?? '?'}"${slowestMs > 500 ? ` in ${slowestMs} ms` : ''}, +${(recoveredMs / 1000).toFixed(1)} s`;
  } finally {
    client?.close();
    await h.api('DELETE', `/v1/sessions/${session.body.sessionId}`);
  }
}

describe('G. reliability (durable progress)', { timeout: 240_000 }, () => {
  test('G01 agent crash mid-session', { timeout: 120_000 }, async (t) => {
    await runCase(t, 'G01', FILE, async () => {
      const app = await ProgressApp.start();
      const dbFile = path.join(tmp, 'g01.sqlite');
      delete process.env.DATABASE_URL;
      process.env.NSLAB_SQLITE_PATH = dbFile;
      await closeSharedDatabase();
      const secret = randomBytes(24).toString('base64url') + 'x'.repeat(8);
      const savedSecret = process.env.AGENT_SECRET;
      process.env.AGENT_SECRET = secret;
      const port = await freePort();
      const stateDir = path.join(tmp, 'g01-agent');
      const env = {
        AGENT_SECRET: secret,
        AGENT_ALLOWED_ORIGINS: TEST_ORIGIN,
        AGENT_PORT: String(port),
        AGENT_CGROUP_NAME: cgroupName,
        AGENT_PROGRESS_URL: app.url,
        AGENT_STATE_DIR: stateDir,
        AGENT_GRADE_POLL_MS: '300',
      };
      const base = `http://127.0.0.1:${port}`;
      const wsUrl = `ws://127.0.0.1:${port}/agent/ws`;
      const api = async (method: string, urlPath: string, body?: unknown) => {
        const res = await fetch(`${base}${urlPath}`, {
          method,
          headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
          body: body ? JSON.stringify(body) : undefined,
        });
        return { status: res.status, json: (await res.json().catch(() => null)) as Record<string, unknown> | null };
      };
      const agents: AgentProcess[] = [];
      const clients: TestClient[] = [];
      try {
        const first = startAgentProcess(env);
        agents.push(first);
        await first.ready;
        // Five learners typing; learner 0 will complete a step.
        const learnerIds = Array.from({ length: 5 }, (_, i) => `g01-${randomBytes(3).toString('hex')}-${i}`);
        const tokens: string[] = [];
        const sessionIds: string[] = [];
        for (const learnerId of learnerIds) {
          const res = await api('POST', '/v1/sessions', { learnerId, labId: LAB });
          assert.equal(res.status, 201);
          tokens.push(String(res.json!.token));
          sessionIds.push(String(res.json!.sessionId));
          const c = TestClient.connect(wsUrl);
          await c.opened;
          c.auth(String(res.json!.token));
          await c.waitForOutput(0, PROMPT);
          await c.waitForOutput(1, PROMPT);
          c.type(0, 'while :; do echo typing; sleep 0.2; done\r');
          clients.push(c);
        }
        const l0 = learnerIds[0]!;
        const c0 = clients[0]!;
        const key0 = resultKey(l0, LAB, STEP);
        // The crash lands at the worst moment: the app has stored the step, the agent has not heard
        // back (its outbox still holds it as undelivered).
        let killed: Delivery | null = null;
        app.beforeReply = async (delivery) => {
          if (killed || !delivery.keys.includes(key0)) return;
          killed = delivery;
          process.kill(first.child.pid!, 'SIGKILL');
          await first.exited;
        };
        await sleep(300);
        c0.type(1, PASS_COMMAND);
        const crash = await waitFor('the step delivery (and the SIGKILL)', () => killed, 15_000);
        assert.equal(crash.status, 200);
        assert.match(crash.reply, /"stored":"inserted"/);
        const codes = await Promise.all(clients.map((c) => Promise.race([c.closed, settleAfter(5_000, -1)])));
        assert.ok(
          codes.every((code) => code === 1006),
          `clients saw ${codes.join(',')}`,
        );
        assert.ok(!savedFlags(c0).includes(true), 'the learner cannot have been told "saved" by an agent that never heard back');
        const shownBeforeCrash = savedFlags(c0).length > 0 ? 'shown as not saved yet' : 'crash beat the step message';
        const orphaned = procsIn();
        assert.ok(orphaned >= 10, `only ${orphaned} sandbox processes before the restart`);

        // The supervisor restarts the agent (same state dir: same outbox).
        const second = startAgentProcess(env);
        agents.push(second);
        await second.ready;
        assert.equal(procsIn(), 0, 'sandbox processes survived the restart');
        assert.match(second.out(), /reaped sandboxes left by a previous run/);
        assert.equal(cgroupDirs(), 0, 'cgroups left after the reap');
        const redelivered = await waitFor(
          'the restarted agent to re-deliver the step',
          () => app.deliveries.find((d) => d !== crash && d.keys.includes(key0) && d.status === 200),
          15_000,
        );
        assert.match(redelivered.reply, /"stored":"duplicate"/);
        await waitFor(
          'the outbox to mark it delivered',
          () => outboxRow(path.join(stateDir, 'outbox.sqlite'), key0)?.delivered,
          5_000,
        );
        const { db } = await sharedDatabase();
        const rows = await progressFor(db, l0);
        assert.deepEqual(
          rows.map((r) => [r.labId, r.stepId]),
          [[LAB, STEP]],
          'the step is stored exactly once',
        );
        for (const other of learnerIds.slice(1)) assert.equal((await progressFor(db, other)).length, 0);

        // A client coming back to its lost session is told so, clearly (error + close code).
        const back = TestClient.connect(wsUrl);
        await back.opened;
        back.auth(tokens[0]!);
        const backCode = await Promise.race([back.closed, settleAfter(5_000, -1)]);
        const notice = back.message('error');
        assert.equal(backCode, closeCodes.sessionNotFound);
        assert.equal(notice?.code, 'session-not-found');
        assert.equal(notice?.close, closeCodes.sessionNotFound);

        // The app's way back (POST /api/sessions does this): a new sandbox that starts with what the database holds.
        const progress = await storedProgress(l0, LAB);
        assert.deepEqual(
          progress?.map((p) => p.stepId),
          [STEP],
        );
        const again = await api('POST', '/v1/sessions', { learnerId: l0, labId: LAB, progress });
        assert.equal(again.status, 201);
        assert.notEqual(again.json!.sessionId, sessionIds[0]);
        const fresh = TestClient.connect(wsUrl);
        clients.push(fresh);
        await fresh.opened;
        fresh.auth(String(again.json!.token));
        const ready = await fresh.until(() => fresh.message('ready'), 'ready after restart');
        const step = ready.steps.find((s) => s.stepId === STEP);
        assert.equal(step?.status, 'passed');
        assert.equal(step?.saved, true);
        // A10 after the restart: the fresh shell holds only its terminal (0-2, and bash's own 255).
        await fresh.waitForOutput(0, PROMPT);
        const from = fresh.output[0]!.length;
        fresh.type(0, 'ls -l /proc/$$/fd; echo FD-END\r');
        await fresh.waitForOutput(0, /^FD-END\s*$/m, from);
        const fds = [...fresh.output[0]!.slice(from).matchAll(/ (\d+) -> (\S+)/g)].map((m) => ['FD', m[1]!, m[2]!]);
        assert.deepEqual(fds.map((f) => f[1]).sort(), ['0', '1', '2', '255'], JSON.stringify(fds));
        assert.ok(
          fds.every((f) => /^\/dev\/pts\/\d+$/.test(f[2] ?? '')),
          JSON.stringify(fds),
        );
        fresh.close();
        await api('DELETE', `/v1/sessions/${String(again.json!.sessionId)}`);

        second.child.kill('SIGTERM');
        await second.exited;
        assert.equal(procsIn(), 0);
        assert.equal(cgroupDirs(), 0);
        assert.equal(ownSlots(), 0, 'uid slots left');
        await closeSharedDatabase();
        const check = new BetterSqlite3(dbFile, { readonly: true });
        try {
          assert.equal(check.pragma('integrity_check', { simple: true }), 'ok');
        } finally {
          check.close();
        }
        return `kill -9 of the agent (5 learners typing) after the app stored learner 0's step, before the agent heard back (${shownBeforeCrash}): clients 1006; ${orphaned} orphaned processes reaped at restart (0 procs, cgroups, uid slots after); outbox re-delivered, app said duplicate: stored exactly once (learner+lab+step), integrity ok; resuming the lost session: error session-not-found + close 4404; new sandbox starts with the step passed+saved; A10: shell fds 0,1,2,255 all /dev/pts. No shim: sandboxes are lost and clearly reported (battery's "reported lost" branch)`;
      } finally {
        app.beforeReply = null;
        for (const c of clients) c.close();
        for (const a of agents)
          if (a.child.exitCode === null && a.child.signalCode === null) {
            a.child.kill('SIGTERM');
            await Promise.race([a.exited, settleAfter(10_000, undefined)]);
          }
        await closeSharedDatabase();
        await app.close();
        if (savedSecret === undefined) delete process.env.AGENT_SECRET;
        else process.env.AGENT_SECRET = savedSecret;
      }
    });
  });

  test('G02 DB write failures', { timeout: 180_000 }, async (t) => {
    await runCase(t, 'G02', FILE, async () => {
      const app = await ProgressApp.start();
      const outboxFile = path.join(tmp, 'g02-outbox.sqlite');
      const h = await startHarness({}, { outbox: { file: outboxFile, url: app.url } });
      const savedSecret = process.env.AGENT_SECRET;
      process.env.AGENT_SECRET = h.secret; // the route authenticates the agent with it
      let postgres: ThrowawayPostgres | null = null;
      const sqliteFile = path.join(tmp, 'g02.sqlite');
      const lines: string[] = [];
      try {
        // --- SQLite (the default database) ---
        delete process.env.DATABASE_URL;
        process.env.NSLAB_SQLITE_PATH = sqliteFile;
        await closeSharedDatabase();
        await sharedDatabase();
        let fillers = 0;
        let lock: ChildProcess | null = null;
        const loopDelay = monitorEventLoopDelay({ resolution: 10 });
        const sqliteOutages: Outage[] = [
          {
            name: 'SQLite full',
            async breakIt() {
              // The app's own connection may not grow the file: max_page_count = the current size,
              // then small rows fill the pages that are left (each tree's last page) until SQLITE_FULL.
              const { db } = await sharedDatabase();
              const pages = (await sql<{ page_count: number }>`PRAGMA page_count`.execute(db)).rows[0]!.page_count;
              await sql.raw(`PRAGMA max_page_count = ${pages}`).execute(db);
              for (;;) {
                try {
                  await recordStepResult(db, {
                    learnerId: `f-${String(fillers).padStart(4, '0')}`,
                    labId: LAB,
                    stepId: STEP,
                    evidence: {},
                    passedAt: Date.now(),
                  });
                  fillers++;
                } catch (error) {
                  if ((error as { code?: string }).code === 'SQLITE_FULL') break;
                  throw error;
                }
                if (fillers > 5_000) throw new Error('the database never filled up');
              }
              return `max_page_count=${pages}`;
            },
            async fix() {
              const { db } = await sharedDatabase();
              await sql.raw('PRAGMA max_page_count = 1073741823').execute(db);
            },
          },
          {
            name: 'SQLite read-only',
            async breakIt() {
              // Root ignores file modes (CAP_DAC_OVERRIDE), so chmod 444 would not stop this process:
              // the immutable flag does (root needs CAP_LINUX_IMMUTABLE to change it, and no one may
              // open the file for writing while it is set). It is local to one file, unlike a
              // read-only bind mount of the directory, which changes the host's mount table (and a
              // read-only remount is refused while the app holds the file open for writing anyway).
              // The app reopens the file (as after a restart): SQLite falls back to a read-only open.
              await closeSharedDatabase();
              execFileSync('chattr', ['+i', sqliteFile]);
              return 'chattr +i';
            },
            async fix() {
              execFileSync('chattr', ['-i', sqliteFile]);
            },
          },
          {
            name: 'SQLite locked',
            async breakIt() {
              // Another process (a backup, the admin CLI) holds the write lock: BEGIN IMMEDIATE.
              const holder = spawn(
                process.execPath,
                [
                  '-e',
                  `const D = require('better-sqlite3'); const d = new D(process.argv[1]); d.exec('BEGIN IMMEDIATE'); console.log('locked');
                  process.stdin.resume(); process.stdin.on('end', () => { d.exec('COMMIT'); process.exit(0); }); setTimeout(() => process.exit(3), 60000);`,
                  sqliteFile,
                ],
                { cwd: repoRoot, stdio: ['pipe', 'pipe', 'inherit'] },
              );
              lock = holder;
              let out = '';
              holder.stdout!.on('data', (d: Buffer) => (out += d.toString()));
              await waitFor('the lock holder', () => out.includes('locked'), 10_000);
              loopDelay.reset();
              loopDelay.enable();
              return 'BEGIN IMMEDIATE elsewhere';
            },
            async fix() {
              loopDelay.disable();
              const holder = lock!;
              const exited = new Promise((r) => holder.once('exit', r));
              holder.stdin!.end();
              await exited;
            },
          },
        ];
        for (const outage of sqliteOutages) lines.push(await runOutage(h, app, outboxFile, outage));
        const stallMs = Math.round(loopDelay.max / 1e6);
        assert.ok(
          stallMs < 1_000,
          `a held SQLite write lock stalled the app's event loop for ${stallMs} ms (busy_timeout blocks the thread)`,
        );
        lines.push(`loop stall while locked ${stallMs} ms`);
        await closeSharedDatabase();
        const check = new BetterSqlite3(sqliteFile, { readonly: true });
        try {
          assert.equal(check.pragma('integrity_check', { simple: true }), 'ok');
          const dups = check
            .prepare(
              'SELECT count(*) AS n FROM (SELECT 1 FROM step_results GROUP BY learner_id, lab_id, step_id HAVING count(*) > 1)',
            )
            .get() as { n: number };
          assert.equal(dups.n, 0);
          const total = (check.prepare('SELECT count(*) AS n FROM step_results').get() as { n: number }).n;
          assert.equal(total, fillers + sqliteOutages.length, 'rows lost or added');
          lines.push(`integrity ok, ${total} rows (${fillers} fillers), 0 dups`);
        } finally {
          check.close();
        }

        // --- PostgreSQL (DATABASE_URL) ---
        const pgServer = await startPostgres();
        postgres = pgServer;
        process.env.DATABASE_URL = pgServer.url;
        await closeSharedDatabase();
        await sharedDatabase();
        const terminateOthers = `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`;
        const pgOutages: Outage[] = [
          {
            name: 'PG read-only',
            async breakIt() {
              // ALTER DATABASE ... SET applies to new sessions: end the app's pooled ones (as a
              // failover does) so the pool reconnects into read-only sessions.
              await pgServer.admin(async (c) => {
                await c.query(`ALTER DATABASE ${c.database} SET default_transaction_read_only = on`);
                await c.query(terminateOthers);
              });
              return 'ALTER DATABASE';
            },
            async fix() {
              // No session is ended now: the app drops its pool on "read-only transaction" errors, so
              // its next try starts sessions that see the reset.
              await pgServer.admin(async (c) => {
                await c.query(`ALTER DATABASE ${c.database} RESET default_transaction_read_only`);
              });
            },
          },
          {
            name: 'PG down',
            async breakIt() {
              pgServer.stop();
              return 'pg_ctl stop/start';
            },
            async fix() {
              pgServer.start();
            },
          },
        ];
        for (const outage of pgOutages) lines.push(await runOutage(h, app, outboxFile, outage));
        const counts = await pgServer.admin(async (c) => {
          const dups = await c.query(
            'SELECT count(*)::int AS n FROM (SELECT 1 FROM step_results GROUP BY learner_id, lab_id, step_id HAVING count(*) > 1) d',
          );
          const mine = await c.query(`SELECT count(*)::int AS n FROM step_results WHERE learner_id LIKE 'g02-%'`);
          return { dups: (dups.rows[0] as { n: number }).n, rows: (mine.rows[0] as { n: number }).n };
        });
        assert.equal(counts.dups, 0);
        assert.equal(counts.rows, pgOutages.length, 'rows lost or added');
        lines.push(`PG ${counts.rows} rows, 0 dups`);
        return `each: 503+Retry-After, UI saved:false, kept in agent outbox; after fix stored once, saved:true, re-POST duplicate. ${lines.join('; ')}`;
      } finally {
        await closeSharedDatabase();
        delete process.env.DATABASE_URL;
        try {
          execFileSync('chattr', ['-i', sqliteFile], { stdio: 'ignore' });
        } catch {
          /* not set */
        }
        await h.close();
        await app.close();
        await postgres?.close();
        if (savedSecret === undefined) delete process.env.AGENT_SECRET;
        else process.env.AGENT_SECRET = savedSecret;
      }
    });
  });
});
