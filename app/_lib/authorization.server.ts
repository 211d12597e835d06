// What the asker may do: instructor-only routes, and routes of one workshop that only its
// instructors may call. forWorkshopInstructors is the one preamble of the /api/workshops/:id routes
// (read the JSON body, check the instructor, validate the body) so each route is only its own work.
import 'server-only';
import type { NextRequest, NextResponse } from 'next/server';
import type { z } from 'zod';
import type { Locale } from '@/labs/core/model';
import { database } from './db/database';
import { getWorkshop, isWorkshopInstructor, type Instructor, type Workshop } from './db/repository';
import { apiError, databaseUnavailable, readJsonBody, requestLocale, zodMessage } from './http.server';
import { instructorFromRequest } from './identity.server';

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

/** What a workshop instructor's call carries once the preamble passed. */
export interface WorkshopInstructorCall<Body> {
  request: NextRequest;
  workshopId: string;
  /** The reply language (the body's `locale` for POSTs, else the query or Accept-Language). */
  locale: Locale;
  instructor: Instructor;
  workshop: Workshop;
  body: Body;
}

type WorkshopRouteContext = { params: Promise<{ id: string }> };

/**
 * A route handler of /api/workshops/:id/... that only the workshop's instructors may call. With
 * `body` (POST) it first reads a same-origin JSON body (403/415/400), then checks the instructor
 * (401/403/404/503), then validates the body against the schema (400 invalid_request); the
 * handler runs only when all passed.
 */
export function forWorkshopInstructors<Body = undefined>(
  options: { body?: z.ZodType<Body> },
  handler: (call: WorkshopInstructorCall<Body>) => Promise<Response>,
): (request: NextRequest, context: WorkshopRouteContext) => Promise<Response> {
  return async (request, { params }) => {
    const { id: workshopId } = await params;
    let locale = requestLocale(request);
    let raw: unknown;
    if (options.body) {
      const read = await readJsonBody(request);
      if (!read.ok) return read.response;
      locale = read.locale;
      raw = read.body;
    }
    const access = await requireWorkshopInstructor(request, workshopId, locale);
    if (!access.ok) return access.response;
    let body = undefined as Body;
    if (options.body) {
      const parsed = options.body.safeParse(raw);
      if (!parsed.success) return apiError(locale, 400, 'invalid_request', { params: { detail: zodMessage(parsed.error) } });
      body = parsed.data;
    }
    return handler({ request, workshopId, locale, instructor: access.instructor, workshop: access.workshop, body });
  };
}
