// Workshops on the app's server side: who is asking (instructor cookie, learner cookie), whether
// they may, the live grid (database + agent), and the dashboard feed that polls the agent every
// 500 ms per open workshop and pushes a new grid only when something changed. Server-only.
import 'server-only';
import { cookies, headers } from 'next/headers';
import { NextResponse, type NextRequest } from 'next/server';
import { getLab } from '../../labs';
import { querySessions } from './agent-client.server';
import { INSTRUCTOR_COOKIE, foreignOrigin, isSecureRequest, signInstructorSession, verifyInstructorSession } from './auth.server';
import { sharedDatabase, type Db } from './db/database';
import {
  getInstructor,
  getWorkshop,
  isWorkshopInstructor,
  workshopMessages,
  workshopProgress,
  type Instructor,
  type Workshop,
} from './db/repository';
import {
  LEARNER_COOKIE,
  LEARNER_COOKIE_MAX_AGE_S,
  appSecret,
  signLearnerId,
  verifyLearnerCookie,
} from './learner-cookie.server';
import { buildGrid, gridFingerprint, type GridLab, type GridState, type WorkshopSummary } from './workshops';

const noStore = { 'cache-control': 'no-store' };

export function jsonError(status: number, error: string, extra: Record<string, string> = {}): NextResponse<{ error: string }> {
  return NextResponse.json({ error }, { status, headers: { ...noStore, ...extra } });
}

export function jsonOk<T>(body: T, status = 200): NextResponse<T> {
  return NextResponse.json(body, { status, headers: noStore });
}

/** Reads a JSON body of a same-origin POST, or answers the error (403 foreign origin, 415, 400). */
export async function readJsonBody(request: NextRequest): Promise<{ ok: true; body: unknown } | { ok: false; response: NextResponse }> {
  if (foreignOrigin(request)) return { ok: false, response: jsonError(403, 'Cross-origin requests are not allowed') };
  if (!(request.headers.get('content-type') ?? '').includes('application/json')) {
    return { ok: false, response: jsonError(415, 'Send the request body as application/json') };
  }
  try {
    return { ok: true, body: await request.json() };
  } catch {
    return { ok: false, response: jsonError(400, 'The request body is not valid JSON') };
  }
}

/** The first zod issue as one line ("capacity: Too small..."). */
export function zodMessage(error: { issues: Array<{ path: PropertyKey[]; message: string }> }): string {
  const issue = error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ` : '';
  return `${where}${issue?.message ?? 'invalid input'}`;
}

export async function database(): Promise<Db> {
  return (await sharedDatabase()).db;
}

// ---------- identity ----------

/** The signed-in instructor of a cookie value (checked against the database), or null. */
export async function instructorOf(cookieValue: string | undefined): Promise<Instructor | null> {
  const id = verifyInstructorSession(cookieValue, appSecret());
  if (!id) return null;
  return getInstructor(await database(), id);
}

export async function instructorFromRequest(request: NextRequest): Promise<Instructor | null> {
  return instructorOf(request.cookies.get(INSTRUCTOR_COOKIE)?.value);
}

/** For server components: the signed-in instructor or null. */
export async function currentInstructor(): Promise<Instructor | null> {
  return instructorOf((await cookies()).get(INSTRUCTOR_COOKIE)?.value);
}

/** For server components: the learner id of the cookie or null. */
export async function currentLearnerId(): Promise<string | null> {
  return verifyLearnerCookie((await cookies()).get(LEARNER_COOKIE)?.value, appSecret());
}

export function learnerIdFromRequest(request: NextRequest): string | null {
  return verifyLearnerCookie(request.cookies.get(LEARNER_COOKIE)?.value, appSecret());
}

export function setInstructorCookie(response: NextResponse, request: NextRequest, instructorId: string): void {
  const { value } = signInstructorSession(instructorId, appSecret());
  response.cookies.set(INSTRUCTOR_COOKIE, value, {
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    maxAge: 12 * 60 * 60,
    secure: isSecureRequest(request),
  });
}

export function clearInstructorCookie(response: NextResponse, request: NextRequest): void {
  response.cookies.set(INSTRUCTOR_COOKIE, '', { httpOnly: true, sameSite: 'lax', path: '/', maxAge: 0, secure: isSecureRequest(request) });
}

export function setLearnerCookie(response: NextResponse, request: NextRequest, learnerId: string): void {
  response.cookies.set(LEARNER_COOKIE, signLearnerId(learnerId, appSecret()), {
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    maxAge: LEARNER_COOKIE_MAX_AGE_S,
    secure: isSecureRequest(request),
  });
}

export type WorkshopAccess = { ok: true; instructor: Instructor; workshop: Workshop } | { ok: false; response: NextResponse };

/**
 * Only the workshop's instructors pass. Anyone else (a learner, another instructor, nobody signed
 * in) gets 403 without learning whether the workshop exists; an instructor of no such workshop 404.
 */
export async function requireWorkshopInstructor(request: NextRequest, workshopId: string): Promise<WorkshopAccess> {
  let instructor: Instructor | null;
  try {
    instructor = await instructorFromRequest(request);
  } catch (error) {
    console.error(JSON.stringify({ level: 'warn', msg: 'database unavailable', error: String(error) }));
    return { ok: false, response: jsonError(503, 'The database is unavailable; try again in a moment', { 'retry-after': '2' }) };
  }
  const forbidden = jsonError(403, 'Only the instructors of this workshop may do this');
  if (!instructor) return { ok: false, response: forbidden };
  const db = await database();
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(workshopId) || !(await isWorkshopInstructor(db, workshopId, instructor.id))) {
    return { ok: false, response: forbidden };
  }
  const workshop = await getWorkshop(db, workshopId);
  if (!workshop) return { ok: false, response: jsonError(404, 'No such workshop') };
  return { ok: true, instructor, workshop };
}

/** Where the browser reached us (for join links and QR codes): PUBLIC_URL, else the request's host. */
export async function publicOrigin(): Promise<string> {
  if (process.env.PUBLIC_URL) {
    try {
      return new URL(process.env.PUBLIC_URL).origin;
    } catch {
      // start.mjs validates PUBLIC_URL; fall through
    }
  }
  const h = await headers();
  const host = h.get('x-forwarded-host') ?? h.get('host') ?? 'localhost';
  const proto = h.get('x-forwarded-proto')?.split(',')[0]?.trim() ?? 'http';
  return `${proto}://${host}`;
}

// ---------- the grid ----------

export function summaryOf(w: Workshop): WorkshopSummary {
  return {
    id: w.id,
    code: w.code,
    title: w.title,
    lessons: w.lessons,
    capacity: w.capacity,
    memberCount: w.memberCount,
    startsAt: w.startsAt,
    endsAt: w.endsAt,
    endedAt: w.endedAt,
  };
}

/** The workshop's labs with their steps (lessons whose lab is unknown are skipped). */
export function gridLabsOf(lessons: string[]): GridLab[] {
  const labs: GridLab[] = [];
  for (const slug of lessons) {
    const lab = getLab(slug);
    if (!lab) continue;
    labs.push({ labId: lab.id, title: lab.title, steps: lab.steps.map((s) => ({ stepId: s.id, title: s.title })) });
  }
  return labs;
}

/** One grid state: the database's members and stored progress, merged with the agent's live status. */
export async function workshopGrid(workshopId: string): Promise<GridState | null> {
  const db = await database();
  const workshop = await getWorkshop(db, workshopId);
  if (!workshop) return null;
  const labs = gridLabsOf(workshop.lessons);
  const labIds = labs.map((l) => l.labId);
  const [members, messages] = await Promise.all([workshopProgress(db, workshopId, labIds), workshopMessages(db, workshopId, { limit: 20 })]);
  let sessions = null;
  if (members.length > 0) {
    const reply = await querySessions(
      members.map((m) => m.learnerId),
      labIds,
      { timeoutMs: 2_000 },
    ).catch(() => null);
    sessions = reply?.ok ? reply.value.sessions : null;
  } else {
    sessions = [];
  }
  return buildGrid({
    workshop: summaryOf(workshop),
    labs,
    members,
    sessions,
    messages: messages.map((m) => ({ id: m.id, text: m.text, createdAt: m.createdAt })),
    nowMs: Date.now(),
  });
}

// ---------- the dashboard feed ----------

export const FEED_POLL_MS = 500;

type Listener = (state: GridState) => void;

/** One poller per open workshop, shared by all its dashboards; stops when the last one leaves. */
class WorkshopFeed {
  private readonly listeners = new Set<Listener>();
  private latest: GridState | null = null;
  private fingerprint = '';
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;

  constructor(
    readonly workshopId: string,
    private readonly onIdle: () => void,
  ) {}

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    if (this.latest) listener(this.latest);
    if (!this.timer) this.loop();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) {
        if (this.timer) clearTimeout(this.timer);
        this.timer = null;
        this.onIdle();
      }
    };
  }

  /** Polls now (after an instructor action) instead of waiting for the next tick. */
  poke(): void {
    void this.tick();
  }

  private loop(): void {
    void this.tick().finally(() => {
      if (this.listeners.size === 0) return;
      this.timer = setTimeout(() => this.loop(), FEED_POLL_MS);
    });
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const state = await workshopGrid(this.workshopId);
      if (!state) return;
      const fingerprint = gridFingerprint(state);
      if (fingerprint === this.fingerprint) return;
      this.fingerprint = fingerprint;
      this.latest = state;
      for (const listener of this.listeners) listener(state);
    } catch (error) {
      console.error(JSON.stringify({ level: 'warn', msg: 'workshop feed poll failed', workshop: this.workshopId, error: String(error) }));
    } finally {
      this.ticking = false;
    }
  }
}

type FeedHolder = typeof globalThis & { __nslabWorkshopFeeds?: Map<string, WorkshopFeed> };

function feeds(): Map<string, WorkshopFeed> {
  const holder = globalThis as FeedHolder;
  return (holder.__nslabWorkshopFeeds ??= new Map());
}

export function subscribeWorkshop(workshopId: string, listener: Listener): () => void {
  const all = feeds();
  let feed = all.get(workshopId);
  if (!feed) {
    feed = new WorkshopFeed(workshopId, () => all.delete(workshopId));
    all.set(workshopId, feed);
  }
  return feed.subscribe(listener);
}

export function pokeWorkshop(workshopId: string): void {
  feeds().get(workshopId)?.poke();
}
