// POST /api/auth/sign-in { email, password } -> { instructor: { id, email } } + the instructor cookie.
// Passwords are verified by the data layer (argon2id); wrong email and wrong password get the same
// answer; attempts are limited per client address and email (429 + Retry-After).
import type { NextRequest } from 'next/server';
import { z } from 'zod';
import { verifyInstructor } from '../../../_lib/db/repository';
import { AttemptLimiter } from '../../../_lib/auth.server';
import { database, jsonError, jsonOk, readJsonBody, setInstructorCookie } from '../../../_lib/workshops.server';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const bodySchema = z.object({ email: z.string().max(254), password: z.string().max(256) });

type LimiterHolder = typeof globalThis & { __nslabSignInLimiter?: AttemptLimiter };
const limiter = ((globalThis as LimiterHolder).__nslabSignInLimiter ??= new AttemptLimiter(10, 5 * 60_000));

export async function POST(request: NextRequest) {
  const read = await readJsonBody(request);
  if (!read.ok) return read.response;
  const parsed = bodySchema.safeParse(read.body);
  if (!parsed.success) return jsonError(400, 'Send { email, password }');
  const client = request.headers.get('x-forwarded-for')?.split(',')[0]?.trim() ?? 'local';
  const key = `${client}\u0000${parsed.data.email.trim().toLowerCase()}`;
  if (!limiter.allow(key)) {
    return jsonError(429, 'Too many sign-in attempts; wait a few minutes', { 'retry-after': String(limiter.retryAfterS(key)) });
  }
  let instructor;
  try {
    instructor = await verifyInstructor(await database(), parsed.data.email, parsed.data.password);
  } catch (error) {
    console.error(JSON.stringify({ level: 'warn', msg: 'sign-in failed: database', error: String(error) }));
    return jsonError(503, 'The database is unavailable; try again in a moment', { 'retry-after': '2' });
  }
  if (!instructor) return jsonError(401, 'Wrong email or password');
  const response = jsonOk({ instructor: { id: instructor.id, email: instructor.email } });
  setInstructorCookie(response, request, instructor.id);
  return response;
}
