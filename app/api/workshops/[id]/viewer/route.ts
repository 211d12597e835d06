// POST /api/workshops/:id/viewer { learnerId, labId } -> { sessionId, labId, terminals, token, tokenExpiresAtMs }
// A single-use, short-lived read-only terminal token for a member's running lab session.
// Only the workshop's instructors (403 for anyone else, learners included).
import { z } from 'zod';
import { getLab } from '@/labs';
import { issueViewerToken, querySessions } from '@/app/_lib/agent-client.server';
import { forWorkshopInstructors } from '@/app/_lib/authorization.server';
import { database } from '@/app/_lib/db/database';
import { labIdSchema, learnerIdSchema, workshopRoster } from '@/app/_lib/db/repository';
import { apiError, jsonOk } from '@/app/_lib/http.server';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const bodySchema = z.object({ learnerId: learnerIdSchema, labId: labIdSchema });

export const POST = forWorkshopInstructors({ body: bodySchema }, async ({ workshopId: id, locale, workshop, body }) => {
  const { learnerId, labId } = body;
  const lab = getLab(labId);
  if (!lab || !workshop.lessons.includes(labId)) return apiError(locale, 404, 'lab_not_in_workshop');
  if (!(await workshopRoster(await database(), id)).some((m) => m.learnerId === learnerId)) {
    return apiError(locale, 404, 'learner_not_member');
  }
  const sessions = await querySessions([learnerId], [labId]);
  if (!sessions.ok) return apiError(locale, 503, 'viewer_unavailable', { params: { detail: sessions.message }, headers: { 'retry-after': '2' } });
  const session = sessions.value.sessions.find((s) => s.state === 'running');
  if (!session) return apiError(locale, 404, 'no_running_session');
  const token = await issueViewerToken(session.sessionId);
  if (!token.ok) {
    return token.status === 404
      ? apiError(locale, 404, 'no_running_session')
      : apiError(locale, 503, 'viewer_unavailable', { params: { detail: token.message } });
  }
  return jsonOk({ sessionId: session.sessionId, labId, terminals: lab.terminals, token: token.value.token, tokenExpiresAtMs: token.value.tokenExpiresAtMs });
});
