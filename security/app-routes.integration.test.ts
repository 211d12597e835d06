// Security battery H05-H10 (issue 12): the app's own routes, called in-process as Next calls them
// (a NextRequest in, a NextResponse out; `server-only` resolved as Next's bundler does, see
// fixtures/app-route-loader.mjs), with the peer address the launcher sets (x-nslab-peer), a real
// agent for the sandboxes and a throwaway SQLite database.
import './fixtures/app-route-loader.mjs';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { NextRequest, type NextResponse } from 'next/server';
import { runCase } from './battery';
import { batteryCgroupName, rand, removeCgroupParents } from './support';
import { startHarness, type Harness } from '../sandbox-agent/src/test-support/agent-harness';

const FILE = 'security/app-routes.integration.test.ts';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nslab-routes-'));
let h: Harness;
let cgroupName: string;
type Handler = (request: NextRequest, context?: { params: Promise<Record<string, string>> }) => Promise<NextResponse | Response>;
let routes: Record<'signIn' | 'join' | 'sessions' | 'end' | 'resume' | 'resumeLink' | 'me' | 'name', Handler>;
let repo: typeof import('../app/_lib/db/repository');
let db: import('../app/_lib/db/database').Db;

before(async () => {
  cgroupName = batteryCgroupName('routes');
  process.env.AGENT_CGROUP_NAME = cgroupName;
  h = await startHarness({ AGENT_GRADE_POLL_MS: '5000' });
  Object.assign(process.env, {
    APP_SECRET: `routes-${rand()}`.padEnd(40, 'x'),
    AGENT_URL: h.baseUrl,
    AGENT_SECRET: h.secret,
    NSLAB_SQLITE_PATH: path.join(dir, 'nslab.sqlite'),
    NSLAB_TRUSTED_PROXIES: '10.0.0.0/8',
  });
  const load = async (p: string) => ((await import(p)) as { POST?: Handler; GET?: Handler });
  routes = {
    signIn: (await load('../app/api/auth/sign-in/route')).POST!,
    join: (await load('../app/api/workshops/join/route')).POST!,
    sessions: (await load('../app/api/sessions/route')).POST!,
    end: (await load('../app/api/workshops/[id]/end/route')).POST!,
    resume: (await load('../app/api/me/resume/route')).POST!,
    resumeLink: (await load('../app/api/me/resume-link/route')).POST!,
    me: (await load('../app/api/me/route')).GET!,
    name: (await load('../app/api/me/name/route')).POST!,
  };
  repo = await import('../app/_lib/db/repository');
  db = (await (await import('../app/_lib/db/database')).sharedDatabase()).db;
});
after(async () => {
  await h?.close();
  removeCgroupParents(cgroupName);
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Call {
  peer?: string;
  xff?: string;
  cookie?: string;
  body?: unknown;
  method?: string;
  params?: Record<string, string>;
}

async function call(handler: Handler, url: string, c: Call = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json', host: 'localhost', 'x-nslab-peer': c.peer ?? '127.0.0.1' };
  if (c.xff) headers['x-forwarded-for'] = c.xff;
  if (c.cookie) headers.cookie = c.cookie;
  const request = new NextRequest(`http://localhost${url}`, { method: c.method ?? 'POST', headers, ...(c.method === 'GET' ? {} : { body: JSON.stringify(c.body ?? {}) }) });
  const response = await handler(request, { params: Promise.resolve(c.params ?? {}) });
  const text = await response.text();
  const setCookie = response.headers.getSetCookie?.() ?? [];
  return { status: response.status, headers: response.headers, json: (text ? JSON.parse(text) : null) as Record<string, unknown>, cookie: setCookie.map((s) => s.split(';')[0]).join('; ') };
}

describe('H. app routes: limiters, identity and workshop end', { timeout: 300_000 }, () => {
  test('H05 instructor sign-in is limited per trusted client address: a forged X-Forwarded-For does not reset it', async (t) => {
    await runCase(t, 'H05', FILE, async () => {
      const email = `h05-${rand()}@example.org`;
      assert.ok((await repo.createInstructor(db, email, 'correct horse battery')).ok);
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) {
        // An attacker on 198.51.100.9 writes a new X-Forwarded-For every time (it used to be the key).
        const r = await call(routes.signIn, '/api/auth/sign-in', { peer: '198.51.100.9', xff: `203.0.113.${i}`, body: { email, password: `guess-${i}` } });
        statuses.push(r.status);
        if (r.status === 429) assert.ok(Number(r.headers.get('retry-after')) >= 1);
      }
      assert.deepEqual(statuses.slice(0, 10), Array(10).fill(401));
      assert.deepEqual(statuses.slice(10), [429, 429]);
      // Behind a trusted proxy (10.0.0.0/8) the forwarded client is the key: another client is not held.
      const viaProxy = await call(routes.signIn, '/api/auth/sign-in', { peer: '10.0.0.2', xff: '192.0.2.44', body: { email, password: 'correct horse battery' } });
      assert.equal(viaProxy.status, 200);
      return `12 wrong passwords from 198.51.100.9, each with a different forged X-Forwarded-For: 10 x 401 then 429 + Retry-After; the right password from another client behind the trusted proxy 10.0.0.2: 200`;
    });
  });

  test('H06 join codes cannot be guessed at full speed: 30 wrong codes per address, then 429; a class with the right code is never held', async (t) => {
    await runCase(t, 'H06', FILE, async () => {
      const instructor = await repo.createInstructor(db, `h06-${rand()}@example.org`, 'correct horse battery');
      assert.ok(instructor.ok);
      const now = Date.now();
      const w = await repo.createWorkshop(db, { title: 'H06', lessons: ['exercise-net-namespace'], capacity: 200, startsAtMs: now - 60_000, endsAtMs: now + 3_600_000, createdBy: instructor.instructor.id });
      const guesser = '198.51.100.23';
      const codes: number[] = [];
      for (let i = 0; i < 32; i++) codes.push((await call(routes.join, '/api/workshops/join', { peer: guesser, body: { code: `XXX-${String(i).padStart(3, '0')}`, name: 'g' } })).status);
      assert.deepEqual(codes.slice(0, 30), Array(30).fill(404));
      const blocked = await call(routes.join, '/api/workshops/join', { peer: guesser, body: { code: w.code, name: 'g', locale: 'zh' } });
      assert.equal(blocked.status, 429);
      assert.equal(blocked.json.code, 'join_rate_limited');
      assert.match(String(blocked.json.error), /工作坊代码/);
      assert.ok(Number(blocked.headers.get('retry-after')) > 60);
      // 60 learners of a class behind one NAT address, all with the right code: none is held.
      const nat = '192.0.2.77';
      let joined = 0;
      for (let i = 0; i < 60; i++) if ((await call(routes.join, '/api/workshops/join', { peer: nat, body: { code: w.code, name: `s${i}` } })).status === 200) joined++;
      assert.equal(joined, 60);
      return `30 wrong codes from ${guesser}: 404 each, then 429 join_rate_limited (Retry-After ${blocked.headers.get('retry-after')} s, zh message) even for the right code; 60 joins with the right code from one NAT address: ${joined} joined`;
    });
  });

  test('H07 POST /api/sessions: a cookie-less flood from one address gets 429 + Retry-After (en/zh), another client a sandbox', async (t) => {
    await runCase(t, 'H07', FILE, async () => {
      const statuses: Record<string, number> = {};
      let last: Awaited<ReturnType<typeof call>> | null = null;
      const made: string[] = [];
      const startedAt = Date.now();
      for (let i = 0; i < 40; i++) {
        const r = await call(routes.sessions, '/api/sessions', { peer: '10.0.0.2', xff: '198.51.100.99', body: { labId: 'exercise-net-namespace', locale: 'zh' } });
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        if (r.status === 200) made.push(String(r.json.sessionId));
        if (r.status === 429) last = r;
      }
      assert.ok(last, JSON.stringify(statuses));
      assert.equal(last.json.code, 'sandbox_rate_limited');
      assert.match(String(last.json.error), /秒后再试/);
      assert.ok(Number(last.headers.get('retry-after')) >= 1);
      // The default burst (30 a minute per address), plus what refilled while the requests ran.
      const allowed = 30 + Math.ceil(((Date.now() - startedAt) / 60_000) * 30);
      assert.ok(made.length <= allowed, `${made.length} sandboxes for one address (allowed ${allowed})`);
      const other = await call(routes.sessions, '/api/sessions', { peer: '10.0.0.2', xff: '203.0.113.50', body: { labId: 'exercise-net-namespace' } });
      assert.equal(other.status, 200, JSON.stringify(other.json));
      made.push(String(other.json.sessionId));
      await Promise.all(made.map((id) => h.api('DELETE', `/v1/sessions/${id}`)));
      return `40 cookie-less starts from 198.51.100.99 (through the trusted proxy 10.0.0.2): ${JSON.stringify(statuses)}; 429 code sandbox_rate_limited, Retry-After ${last.headers.get('retry-after')} s, zh: "${String(last.json.error)}"; another client behind the same proxy: 200 and a sandbox`;
    });
  });

  test("H08 ending a workshop ends its lessons' sandboxes only: a member's self-paced lab keeps running", async (t) => {
    await runCase(t, 'H08', FILE, async () => {
      const email = `h08-${rand()}@example.org`;
      assert.ok((await repo.createInstructor(db, email, 'correct horse battery')).ok);
      const signIn = await call(routes.signIn, '/api/auth/sign-in', { peer: '192.0.2.8', body: { email, password: 'correct horse battery' } });
      assert.equal(signIn.status, 200);
      const instructor = (await repo.verifyInstructor(db, email, 'correct horse battery'))!;
      const now = Date.now();
      const w = await repo.createWorkshop(db, { title: 'H08', lessons: ['exercise-net-namespace'], capacity: 5, startsAtMs: now - 60_000, endsAtMs: now + 3_600_000, createdBy: instructor.id });
      const joined = await call(routes.join, '/api/workshops/join', { peer: '192.0.2.9', body: { code: w.code, name: 'Member' } });
      assert.equal(joined.status, 200);
      const member = joined.cookie;
      const inWorkshop = await call(routes.sessions, '/api/sessions', { peer: '192.0.2.9', cookie: member, body: { labId: 'exercise-net-namespace' } });
      const selfPaced = await call(routes.sessions, '/api/sessions', { peer: '192.0.2.9', cookie: member, body: { labId: 'uts-namespace' } });
      assert.equal(inWorkshop.status, 200);
      assert.equal(selfPaced.status, 200);
      const ended = await call(routes.end, `/api/workshops/${w.id}/end`, { cookie: signIn.cookie, params: { id: w.id }, body: {} });
      assert.equal(ended.status, 200, JSON.stringify(ended.json));
      const still = [...h.sessions.forLearners([String(h.sessions.get(String(selfPaced.json.sessionId))?.learnerId ?? '')])].map((s) => s.labId);
      assert.equal(h.sessions.get(String(inWorkshop.json.sessionId)), undefined, 'the workshop lesson ended');
      assert.deepEqual(still, ['uts-namespace'], 'the self-paced lab runs on');
      await h.api('DELETE', `/v1/sessions/${String(selfPaced.json.sessionId)}`);
      return `member with exercise-net-namespace (in the workshop) and uts-namespace (self-paced) running; POST /api/workshops/:id/end: endedSessions ${String(ended.json.endedSessions)}; still running: ${still.join(', ')}`;
    });
  });

  test('H09 a resume link asks first: the preview says whose progress it is and changes nothing; only the confirm switches', async (t) => {
    await runCase(t, 'H09', FILE, async () => {
      const owner = await call(routes.name, '/api/me/name', { peer: '192.0.2.20', body: { name: 'Ann' } });
      assert.equal(owner.status, 200, JSON.stringify(owner.json));
      const ownerId = (await import('../app/_lib/learner-cookie.server')).verifyLearnerCookie(decodeURIComponent(owner.cookie.split('=')[1]!), process.env.APP_SECRET!)!;
      await repo.recordStepResult(db, { learnerId: ownerId, labId: 'exercise-net-namespace', stepId: 'isolate-sleep', evidence: {}, passedAt: Date.now() });
      const link = await call(routes.resumeLink, '/api/me/resume-link', { peer: '192.0.2.20', cookie: owner.cookie, body: {} });
      assert.equal(link.status, 200, JSON.stringify(link.json));
      const secret = String(link.json.path).split('#')[1]!;
      const victim = await call(routes.name, '/api/me/name', { peer: '192.0.2.21', body: { name: 'Bea' } });
      const preview = await call(routes.resume, '/api/me/resume', { peer: '192.0.2.21', cookie: victim.cookie, body: { secret, preview: true } });
      assert.equal(preview.status, 200, JSON.stringify(preview.json));
      assert.equal(preview.cookie, '', 'the preview sets no cookie');
      assert.equal(preview.json.displayName, 'Ann');
      assert.equal(preview.json.passedSteps, 1);
      assert.deepEqual(preview.json.current, { displayName: 'Bea', passedSteps: 0 });
      const switched = await call(routes.resume, '/api/me/resume', { peer: '192.0.2.21', cookie: victim.cookie, body: { secret } });
      assert.equal(switched.status, 200);
      assert.match(switched.cookie, /^nslab_learner=/);
      return `preview for a browser that is "Bea": ${JSON.stringify(preview.json)} (no Set-Cookie); the confirm POST sets the cookie to Ann's identity`;
    });
  });

  test('H10 a completion link certifies the name the learner had when the work was stored, not a later rename', async (t) => {
    await runCase(t, 'H10', FILE, async () => {
      const learner = await call(routes.name, '/api/me/name', { peer: '192.0.2.30', body: { name: 'Grace Hopper' } });
      const id = (await import('../app/_lib/learner-cookie.server')).verifyLearnerCookie(decodeURIComponent(learner.cookie.split('=')[1]!), process.env.APP_SECRET!)!;
      await repo.recordStepResult(db, { learnerId: id, labId: 'exercise-net-namespace', stepId: 'isolate-sleep', evidence: {}, passedAt: Date.now() });
      const renamed = await call(routes.name, '/api/me/name', { peer: '192.0.2.30', cookie: learner.cookie, body: { name: 'Someone Famous' } });
      assert.equal(renamed.status, 200);
      const me = await call(routes.me, '/api/me', { peer: '192.0.2.30', cookie: learner.cookie, method: 'GET' });
      const completions = me.json.completions as Array<{ verifyPath: string }>;
      const token = completions[0]!.verifyPath.split('/').at(-1)!;
      const claim = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as { name: string | null };
      assert.equal(claim.name, 'Grace Hopper');
      assert.equal((me.json.learner as { displayName: string }).displayName, 'Someone Famous');
      return `step passed as "Grace Hopper", then renamed to "Someone Famous": the completion link certifies "${claim.name}"`;
    });
  });
});
