// POST /api/workshops/:id/end -> { workshop, endedSessions }: no new joins, and every member's
// sandbox is torn down (their progress is kept). Instructors only.
import type { NextRequest } from 'next/server';
import { endSessions } from '../../../../_lib/agent-client.server';
import { endWorkshop, workshopRoster } from '../../../../_lib/db/repository';
import { database, jsonError, jsonOk, pokeWorkshop, readJsonBody, requireWorkshopInstructor, summaryOf } from '../../../../_lib/workshops.server';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export async function POST(request: NextRequest, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const read = await readJsonBody(request);
  if (!read.ok) return read.response;
  const access = await requireWorkshopInstructor(request, id);
  if (!access.ok) return access.response;
  const db = await database();
  const workshop = await endWorkshop(db, id);
  if (!workshop) return jsonError(404, 'No such workshop');
  const learnerIds = (await workshopRoster(db, id)).map((m) => m.learnerId);
  let endedSessions = 0;
  if (learnerIds.length > 0) {
    const ended = await endSessions({ learnerIds, reason: 'the workshop ended' });
    if (!ended.ok) return jsonError(502, `The workshop is ended, but its sandboxes could not be stopped: ${ended.message}`);
    endedSessions = ended.value.ended;
  }
  pokeWorkshop(id);
  return jsonOk({ workshop: summaryOf(workshop), endedSessions });
}
