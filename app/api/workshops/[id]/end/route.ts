// POST /api/workshops/:id/end -> { workshop, endedSessions }: no new joins, and the members'
// sandboxes of the workshop's lessons are torn down (their progress is kept; a member's sandbox of a
// lab outside the workshop keeps running: app/_lib/workshop-end.ts). Instructors only.
import type { NextRequest } from 'next/server';
import { workshopEndAgent } from '../../../../_lib/agent-client.server';
import { endWorkshop, workshopRoster } from '../../../../_lib/db/repository';
import { endWorkshopSessions } from '../../../../_lib/workshop-end';
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
    const ended = await endWorkshopSessions(db, { learnerIds, lessons: workshop.lessons, reason: 'the workshop ended', closeReason: 'workshop-ended' }, workshopEndAgent);
    if (!ended.ok) return apiError(locale, 502, 'end_sessions_failed', { params: { detail: ended.message } });
    endedSessions = ended.value.ended;
  }
  pokeWorkshop(id);
  return jsonOk({ workshop: summaryOf(workshop), endedSessions });
}
