// POST /api/workshops/:id/end -> { workshop, endedSessions }: no new joins, and the members'
// sandboxes of the workshop's lessons are torn down (their progress is kept; a member's sandbox of a
// lab outside the workshop keeps running). The agent is asked again when it refuses; if it still
// fails the reply is 502 and the sweeper keeps trying (app/_lib/workshop-end.ts). Instructors only.
import { z } from 'zod';
import { workshopEndAgent } from '@/app/_lib/agent-client.server';
import { forWorkshopInstructors } from '@/app/_lib/authorization.server';
import { database } from '@/app/_lib/db/database';
import { apiError, jsonOk } from '@/app/_lib/http.server';
import { endWorkshopNow } from '@/app/_lib/workshop-end';
import { retryWorkshopEndLater } from '@/app/_lib/workshop-sweeper.server';
import { pokeWorkshop, summaryOf } from '@/app/_lib/workshops.server';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const POST = forWorkshopInstructors({ body: z.unknown() }, async ({ workshopId, locale }) => {
  const outcome = await endWorkshopNow(await database(), workshopId, workshopEndAgent);
  if (outcome.status === 'not_found') return apiError(locale, 404, 'workshop_not_found');
  pokeWorkshop(workshopId);
  if (!outcome.sandboxes.ok) {
    retryWorkshopEndLater(workshopId);
    return apiError(locale, 502, 'end_sessions_failed', { params: { detail: outcome.sandboxes.message } });
  }
  return jsonOk({ workshop: summaryOf(outcome.workshop), endedSessions: outcome.sandboxes.value.ended });
});
