// POST /api/workshops/join { code, name, locale? } -> { workshopId, title, href } (href: its first lesson)
// The learner is the signed cookie's (created here when absent). Errors, each { code, error } in the
// request's language: 404 join_not_found, 409 join_full (+ capacity), 410 join_ended, 400 name_invalid,
// 429 join_rate_limited (+ Retry-After): more than 30 unknown codes in 10 minutes from one client
// address (IPv6: its /64) stops that address trying codes for the rest of the window. Only wrong
// codes count, so a whole class behind one NAT address joining with the right code is never
// limited. Per process: with several app replicas each keeps its own count (see admission.ts).
import type { NextRequest } from 'next/server';
import { z } from 'zod';
import { localeSchema } from '@/labs/core/model';
import { clientKey } from '@/app/_lib/admission';
import { requestClient } from '@/app/_lib/admission.server';
import { AttemptLimiter } from '@/app/_lib/auth.server';
import { displayNameSchema, joinWorkshop } from '@/app/_lib/db/repository';
import { newLearnerId } from '@/app/_lib/learner-cookie.server';
import { database } from '@/app/_lib/db/database';
import { apiError, databaseUnavailable, jsonOk, readJsonBody, zodMessage } from '@/app/_lib/http.server';
import { learnerIdFromRequest, setLearnerCookie } from '@/app/_lib/identity.server';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

/** Wrong codes per client address and window: 30 guesses in 10 minutes of a 24^6 code space. */
const JOIN_FAILURES_MAX = 30;
type LimiterHolder = typeof globalThis & { __nslabJoinLimiter?: AttemptLimiter };
const limiter = ((globalThis as LimiterHolder).__nslabJoinLimiter ??= new AttemptLimiter(JOIN_FAILURES_MAX, 10 * 60_000));

const bodySchema = z.object({ code: z.string().max(20), name: displayNameSchema, locale: localeSchema.default('en') });

export async function POST(request: NextRequest) {
  const read = await readJsonBody(request);
  if (!read.ok) return read.response;
  const { locale } = read;
  const body = bodySchema.safeParse(read.body);
  if (!body.success) {
    return body.error.issues[0]?.path[0] === 'name'
      ? apiError(locale, 400, 'name_invalid')
      : apiError(locale, 400, 'invalid_request', { params: { detail: zodMessage(body.error) } });
  }
  const client = clientKey(requestClient(request));
  if (limiter.blocked(client)) {
    return apiError(locale, 429, 'join_rate_limited', { headers: { 'retry-after': String(limiter.retryAfterS(client)) } });
  }
  const existing = learnerIdFromRequest(request);
  const learnerId = existing ?? newLearnerId();
  let result;
  try {
    result = await joinWorkshop(await database(), { code: body.data.code, learnerId, displayName: body.data.name });
  } catch (error) {
    return databaseUnavailable(locale, error);
  }
  if (result.status === 'not_found') {
    limiter.allow(client); // counts the wrong code
    return apiError(locale, 404, 'join_not_found');
  }
  if (result.status === 'full') {
    const capacity = result.workshop.capacity;
    return apiError(locale, 409, 'join_full', { params: { capacity }, extra: { capacity } });
  }
  if (result.status === 'ended') return apiError(locale, 410, 'join_ended');
  const first = result.workshop.lessons[0];
  const response = jsonOk({
    workshopId: result.workshop.id,
    title: result.workshop.title,
    alreadyMember: result.alreadyMember,
    href: first ? `/${body.data.locale}/lessons/${first}` : `/${body.data.locale}`,
  });
  if (!existing) setLearnerCookie(response, request, learnerId);
  return response;
}
