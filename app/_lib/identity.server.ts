// Who is asking: the signed-in instructor (signed cookie + live server-side session) and the
// learner (signed cookie id), for route handlers and server components; and setting or clearing
// those cookies. Whether they may do something is authorization.server.ts.
import 'server-only';
import { cookies } from 'next/headers';
import type { NextRequest, NextResponse } from 'next/server';
import {
  INSTRUCTOR_COOKIE,
  INSTRUCTOR_SESSION_MS,
  isSecureRequest,
  signInstructorSession,
  verifyInstructorSession,
  type InstructorSessionClaim,
} from './auth.server';
import { database } from './db/database';
import { createInstructorSession, instructorForSession, type Instructor } from './db/repository';
import { LEARNER_COOKIE, LEARNER_COOKIE_MAX_AGE_S, appSecret, signLearnerId, verifyLearnerCookie } from './learner-cookie.server';

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
  const { value } = signInstructorSession({ instructorId, sessionSecret: session.secret, expiresAtMs: session.expiresAtMs }, appSecret());
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
