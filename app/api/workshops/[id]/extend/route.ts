// POST /api/workshops/:id/extend { minutes, locale? } -> { workshop }: moves the end time of a workshop
// that has not ended yet `minutes` later. An ended workshop (ended early or past its end time) is
// not reopened: 409 workshop_already_ended, nothing changes (its members' lessons stay locked).
// Instructors only.
import type { NextRequest } from 'next/server';
import { z } from 'zod';
import { extendWorkshop } from '../../../../_lib/db/repository';
import { apiError, database, databaseUnavailable, jsonOk, pokeWorkshop, readJsonBody, requireWorkshopInstructor, summaryOf, zodMessage } from '../../../../_lib/workshops.server';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const bodySchema = z.object({ minutes: z.number().int().min(1).max(24 * 60) });

export async function POST(request: NextRequest, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const read = await readJsonBody(request);
  if (!read.ok) return read.response;
  const { locale } = read;
  const access = await requireWorkshopInstructor(request, id, locale);
  if (!access.ok) return access.response;
  const body = bodySchema.safeParse(read.body);
  if (!body.success) return apiError(locale, 400, 'invalid_request', { params: { detail: zodMessage(body.error) } });
  const now = Date.now();
  let result;
  try {
    result = await extendWorkshop(await database(), id, Math.max(now, access.workshop.endsAt) + body.data.minutes * 60_000, now);
  } catch (error) {
    return databaseUnavailable(locale, error);
  }
  if (result.status === 'not_found') return apiError(locale, 404, 'workshop_not_found');
  if (result.status === 'ended') return apiError(locale, 409, 'workshop_already_ended', { extra: { workshop: summaryOf(result.workshop) } });
  pokeWorkshop(id);
  return jsonOk({ workshop: summaryOf(result.workshop) });
}
