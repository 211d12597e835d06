// Workshops on the app's server side: who is asking (instructor cookie, learner cookie), whether
// they may, the live grid (database + agent), and the dashboard feed that polls the agent every
// 500 ms per open workshop and pushes a new grid only when something changed. Server-only.
import 'server-only';
import { cookies, headers } from 'next/headers';
import { NextResponse, type NextRequest } from 'next/server';
import { getLab } from '../../labs';
import { querySessions } from './agent-client.server';
import type { Locale } from '../../labs/core/model';
import { apiErrorBody, resolveApiLocale, type ApiErrorBody, type ApiErrorCode, type ApiErrorParams } from './api-errors';
import {
  INSTRUCTOR_COOKIE,
  INSTRUCTOR_SESSION_MS,
  foreignOrigin,
  isSecureRequest,
  signInstructorSession,
  verifyInstructorSession,
  type InstructorSessionClaim,
} from './auth.server';
import { sharedDatabase, type Db } from './db/database';
import {
  createInstructorSession,
  getWorkshop,
  instructorForSession,
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

// ---------- replies ----------

/** The language of a request's error replies: `?locale=`, else Accept-Language, else en (see api-errors.ts). */
export function requestLocale(request: NextRequest, bodyLocale?: unknown): Locale {
  return resolveApiLocale({
    bodyLocale,
    queryLocale: request.nextUrl.searchParams.get('locale'),
    acceptLanguage: request.headers.get('accept-language'),
  });
}

/** A JSON error reply: `{ code, error, locale, ...extra }`, the message in `locale`. */
export function apiError(
  locale: Locale,
  status: number,
  code: ApiErrorCode,
  options: { params?: ApiErrorParams; headers?: Record<string, string>; extra?: Record<string, unknown> } = {},
): NextResponse<ApiErrorBody> {
  return NextResponse.json(
    { ...options.extra, ...apiErrorBody(code, locale, options.params) },
    { status, headers: { ...noStore, ...options.headers } },
  );
}

export function databaseUnavailable(locale: Locale, error: unknown): NextResponse<ApiErrorBody> {
  console.error(JSON.stringify({ level: 'warn', msg: 'database unavailable', error: String(error) }));
  return apiError(locale, 503, 'database_unavailable', { headers: { 'retry-after': '2' } });
}

export function jsonOk<T>(body: T, status = 200): NextResponse<T> {
  return NextResponse.json(body, { status, headers: noStore });
}

/**
 * Reads a JSON body of a same-origin POST, or answers the error (403 foreign origin, 415, 400).
 * `locale` is the reply language for the rest of the route: the body's `locale` field when it has
 * a valid one, else as requestLocale.
 */
export async function readJsonBody(
  request: NextRequest,
): Promise<{ ok: true; body: unknown; locale: Locale } | { ok: false; response: NextResponse }> {
  const early = requestLocale(request);
  if (foreignOrigin(request)) return { ok: false, response: apiError(early, 403, 'cross_origin') };
  if (!(request.headers.get('content-type') ?? '').includes('application/json')) {
    return { ok: false, response: apiError(early, 415, 'unsupported_media_type') };
  }
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    return { ok: false, response: apiError(early, 400, 'invalid_json') };
  }
  const bodyLocale = body !== null && typeof body === 'object' && 'locale' in body ? body.locale : undefined;
  return { ok: true, body, locale: requestLocale(request, bodyLocale) };
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

/**
 * The signed-in instructor of a cookie value, or null: the cookie must be genuine and unexpired
 * (HMAC) and its server-side session still live (not signed out, not revoked).
 */
export async function instructorOf(cookieValue: string | undefined): Promise<Instructor | null> {
  const claim = verifyInstructorSession(cookieValue, appSecret());
  if (!claim) return null;
  const instructor = await instructorForSession(await database(), claim.sessionSecret);
  return instructor && instructor.id === claim.instructorId ? instructor : null;
}

export async function instructorFromRequest(request: NextRequest): Promise<Instructor | null> {
  return instructorOf(request.cookies.get(INSTRUCTOR_COOKIE)?.value);
}

/** The session claim of the request's instructor cookie (for sign-out), or null. */
export function instructorClaimFromRequest(request: NextRequest): InstructorSessionClaim | null {
  return verifyInstructorSession(request.cookies.get(INSTRUCTOR_COOKIE)?.value, appSecret());
}

/**
 * For instructor-only routes: the signed-in instructor, or the reply to send (401 sign_in_required
 * when there is no live session: no cookie, expired, signed out or revoked; 503 database down).
 */
export async function requireInstructor(request: NextRequest, locale: Locale): Promise<{ ok: true; instructor: Instructor } | { ok: false; response: NextResponse }> {
  try {
    const instructor = await instructorFromRequest(request);
    if (!instructor) return { ok: false, response: apiError(locale, 401, 'sign_in_required') };
    return { ok: true, instructor };
  } catch (error) {
    return { ok: false, response: databaseUnavailable(locale, error) };
  }
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

/** Starts a server-side session for the instructor and sets its signed cookie (12 h). */
export async function startInstructorSession(response: NextResponse, request: NextRequest, instructorId: string): Promise<void> {
  const session = await createInstructorSession(await database(), instructorId, INSTRUCTOR_SESSION_MS);
  const { value } = signInstructorSession({ instructorId, sessionSecret: session.secret, expiresAtMs: session.expiresAt }, appSecret());
  response.cookies.set(INSTRUCTOR_COOKIE, value, {
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    maxAge: Math.floor(INSTRUCTOR_SESSION_MS / 1000),
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
 * Only the workshop's instructors pass. No live instructor session: 401 (sign_in_required). Anyone
 * else signed in (another instructor) gets 403 without learning whether the workshop exists; an
 * instructor of no such workshop 404.
 */
export async function requireWorkshopInstructor(request: NextRequest, workshopId: string, locale = requestLocale(request)): Promise<WorkshopAccess> {
  const signedIn = await requireInstructor(request, locale);
  if (!signedIn.ok) return signedIn;
  const { instructor } = signedIn;
  const forbidden = apiError(locale, 403, 'not_workshop_instructor');
  try {
    const db = await database();
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(workshopId) || !(await isWorkshopInstructor(db, workshopId, instructor.id))) {
      return { ok: false, response: forbidden };
    }
    const workshop = await getWorkshop(db, workshopId);
    if (!workshop) return { ok: false, response: apiError(locale, 404, 'workshop_not_found') };
    return { ok: true, instructor, workshop };
  } catch (error) {
    return { ok: false, response: databaseUnavailable(locale, error) };
  }
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
