// POST /api/workshops/:id/end -> { workshop, endedSessions }: no new joins, and every member's
// sandbox is torn down (their progress is kept). Instructors only.
import type { NextRequest } from 'next/server';
import { endSessions } from '../../../../_lib/agent-client.server';
import { endWorkshop, workshopRoster } from '../../../../_lib/db/repository';
import { apiError, database, jsonOk, pokeWorkshop, readJsonBody, requireWorkshopInstructor, summaryOf } from '../../../../_lib/workshops.server';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export async function POST(request: NextRequest, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const read = await readJsonBody(request);
  if (!read.ok) return read.response;
  const { locale } = read;
  const access = await requireWorkshopInstructor(request, id, locale);
  if (!access.ok) return access.response;
  const db = await database();
  const workshop = await endWorkshop(db, id);
  if (!workshop) return apiError(locale, 404, 'workshop_not_found');
  const learnerIds = (await workshopRoster(db, id)).map((m) => m.learnerId);
  let endedSessions = 0;
  if (learnerIds.length > 0) {
    const ended = await endSessions({ learnerIds, reason: 'the workshop ended', closeReason: 'workshop-ended' });
    if (!ended.ok) return apiError(locale, 502, 'end_sessions_failed', { params: { detail: ended.message } });
    endedSessions = ended.value.ended;
  }
  pokeWorkshop(id);
  return jsonOk({ workshop: summaryOf(workshop), endedSessions });
}
