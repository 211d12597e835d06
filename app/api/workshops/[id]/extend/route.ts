// POST /api/workshops/:id/extend { minutes, locale? } -> { workshop }: moves the end time of a workshop
// that has not ended yet `minutes` later. An ended workshop (ended early or past its end time) is
// not reopened: 409 workshop_already_ended, nothing changes (its members' lessons stay locked).
// Instructors only.
import { z } from 'zod';
import { forWorkshopInstructors } from '@/app/_lib/authorization.server';
import { database } from '@/app/_lib/db/database';
import { extendWorkshop } from '@/app/_lib/db/repository';
import { apiError, databaseUnavailable, jsonOk } from '@/app/_lib/http.server';
import { pokeWorkshop, summaryOf } from '@/app/_lib/workshops.server';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const bodySchema = z.object({ minutes: z.number().int().min(1).max(24 * 60) });

export const POST = forWorkshopInstructors({ body: bodySchema }, async ({ workshopId, locale, workshop, body }) => {
  const now = Date.now();
  let result;
  try {
    result = await extendWorkshop(await database(), workshopId, Math.max(now, workshop.endsAtMs) + body.minutes * 60_000, now);
  } catch (error) {
    return databaseUnavailable(locale, error);
  }
  if (result.status === 'not_found') return apiError(locale, 404, 'workshop_not_found');
  if (result.status === 'ended') return apiError(locale, 409, 'workshop_already_ended', { extra: { workshop: summaryOf(result.workshop) } });
  pokeWorkshop(workshopId);
  return jsonOk({ workshop: summaryOf(result.workshop) });
});
