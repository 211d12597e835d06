// POST /api/auth/sign-out { everywhere?: boolean, locale? } -> { ok, revoked }: revokes this browser's
// instructor session on the server (the cookie stops working at once, also where it was copied)
// and clears the cookie. `everywhere: true` revokes every session of the instructor (all browsers);
// it needs a live session (401 otherwise). A body is optional; same-origin only.
import type { NextRequest } from 'next/server';
import { z } from 'zod';
import { foreignOrigin } from '@/app/_lib/auth.server';
import { revokeAllInstructorSessions, revokeInstructorSession } from '@/app/_lib/db/repository';
import { database } from '@/app/_lib/db/database';
import { apiError, databaseUnavailable, jsonOk, readJsonBody, requestLocale } from '@/app/_lib/http.server';
import { clearInstructorCookie, instructorClaimFromRequest, instructorFromRequest } from '@/app/_lib/identity.server';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const bodySchema = z.object({ everywhere: z.boolean().default(false) });

export async function POST(request: NextRequest) {
  let locale = requestLocale(request);
  if (foreignOrigin(request)) return apiError(locale, 403, 'cross_origin');
  let everywhere = false;
  if ((request.headers.get('content-type') ?? '').includes('application/json')) {
    const read = await readJsonBody(request);
    if (!read.ok) return read.response;
    locale = read.locale;
    const body = bodySchema.safeParse(read.body ?? {});
    if (!body.success) return apiError(locale, 400, 'invalid_request', { params: { detail: 'send { everywhere: boolean }' } });
    everywhere = body.data.everywhere;
  }
  const claim = instructorClaimFromRequest(request);
  let revoked = 0;
  try {
    if (everywhere) {
      const instructor = await instructorFromRequest(request);
      if (!instructor) {
        const response = apiError(locale, 401, 'sign_in_required');
        clearInstructorCookie(response, request);
        return response;
      }
      revoked = await revokeAllInstructorSessions(await database(), instructor.id);
    } else if (claim) {
      revoked = (await revokeInstructorSession(await database(), claim.sessionSecret)) ? 1 : 0;
    }
  } catch (error) {
    return databaseUnavailable(locale, error);
  }
  const response = jsonOk({ ok: true, revoked });
  clearInstructorCookie(response, request);
  return response;
}
