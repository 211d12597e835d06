// POST /api/workshops/join { code, name, locale? } -> { workshopId, title, href } (href: its first lesson)
// The learner is the signed cookie's (created here when absent). Errors, each { code, error } in the
// request's language: 404 join_not_found, 409 join_full (+ capacity), 410 join_ended, 400 name_invalid.
import type { NextRequest } from 'next/server';
import { z } from 'zod';
import { localeSchema } from '../../../../labs/core/model';
import { displayNameSchema, joinWorkshop } from '../../../_lib/db/repository';
import { newLearnerId } from '../../../_lib/learner-cookie.server';
import { apiError, database, databaseUnavailable, jsonOk, learnerIdFromRequest, readJsonBody, setLearnerCookie, zodMessage } from '../../../_lib/workshops.server';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

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
  const existing = learnerIdFromRequest(request);
  const learnerId = existing ?? newLearnerId();
  let result;
  try {
    result = await joinWorkshop(await database(), { code: body.data.code, learnerId, displayName: body.data.name });
  } catch (error) {
    return databaseUnavailable(locale, error);
  }
  if (result.status === 'not_found') return apiError(locale, 404, 'join_not_found');
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
