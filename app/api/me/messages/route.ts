// GET /api/me/messages?after=ms -> { messages: [{ id, workshopId, text, createdAt }] }: messages of the
// running workshops the cookie learner has joined (for the lesson banner).
import type { NextRequest } from 'next/server';
import { workshopHasEnded, workshopMessages, workshopsForLearner } from '@/app/_lib/db/repository';
import { database } from '@/app/_lib/db/database';
import { databaseUnavailable, jsonOk, requestLocale } from '@/app/_lib/http.server';
import { learnerIdFromRequest } from '@/app/_lib/identity.server';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export async function GET(request: NextRequest) {
  const learnerId = learnerIdFromRequest(request);
  if (!learnerId) return jsonOk({ messages: [] });
  const after = Number(request.nextUrl.searchParams.get('after') ?? '');
  try {
    const db = await database();
    const workshops = (await workshopsForLearner(db, learnerId)).filter((w) => !workshopHasEnded(w));
    const lists = await Promise.all(
    workshops.map(async (w) =>
      (await workshopMessages(db, w.id, Number.isFinite(after) && after > 0 ? { afterMs: after, limit: 20 } : { limit: 20 })).map((m) => ({
        id: m.id,
        workshopId: w.id,
        text: m.text,
        createdAt: m.createdAtMs,
      })),
    ),
  );
    return jsonOk({ messages: lists.flat().sort((a, b) => a.createdAt - b.createdAt) });
  } catch (error) {
    return databaseUnavailable(requestLocale(request), error);
  }
}
