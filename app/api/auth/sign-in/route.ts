// POST /api/auth/sign-in { email, password, locale? } -> { instructor: { id, email } } + the instructor cookie
// (a new server-side session; see app/_lib/auth.server.ts). Passwords are verified by the data layer
// (argon2id); wrong email and wrong password get the same answer; attempts are limited per client
// address and email (429 + Retry-After). Errors: { code, error } in the request's language.
import type { NextRequest } from 'next/server';
import { z } from 'zod';
import { verifyInstructor } from '@/app/_lib/db/repository';
import { clientKey } from '@/app/_lib/admission';
import { requestClient } from '@/app/_lib/admission.server';
import { AttemptLimiter } from '@/app/_lib/auth.server';
import { database } from '@/app/_lib/db/database';
import { apiError, databaseUnavailable, jsonOk, readJsonBody } from '@/app/_lib/http.server';
import { startInstructorSession } from '@/app/_lib/identity.server';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const bodySchema = z.object({ email: z.string().max(254), password: z.string().max(256) });

type LimiterHolder = typeof globalThis & { __nslabSignInLimiter?: AttemptLimiter };
const limiter = ((globalThis as LimiterHolder).__nslabSignInLimiter ??= new AttemptLimiter(10, 5 * 60_000));

export async function POST(request: NextRequest) {
  const read = await readJsonBody(request);
  if (!read.ok) return read.response;
  const { locale } = read;
  const parsed = bodySchema.safeParse(read.body);
  if (!parsed.success) return apiError(locale, 400, 'sign_in_invalid');
  // The trusted client address (the TCP peer, or X-Forwarded-For only from NSLAB_TRUSTED_PROXIES):
  // a header the client writes itself would give it a fresh budget per request.
  const client = clientKey(requestClient(request));
  const key = `${client}\u0000${parsed.data.email.trim().toLowerCase()}`;
  if (!limiter.allow(key)) {
    return apiError(locale, 429, 'sign_in_rate_limited', { headers: { 'retry-after': String(limiter.retryAfterS(key)) } });
  }
  try {
    const instructor = await verifyInstructor(await database(), parsed.data.email, parsed.data.password);
    if (!instructor) return apiError(locale, 401, 'sign_in_failed');
    const response = jsonOk({ instructor: { id: instructor.id, email: instructor.email } });
    await startInstructorSession(response, request, instructor.id);
    return response;
  } catch (error) {
    return databaseUnavailable(locale, error);
  }
}
