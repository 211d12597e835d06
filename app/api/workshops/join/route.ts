// POST /api/workshops/join { code, name, locale? } -> { workshopId, title, href } (href: its first lesson)
// The learner is the signed cookie's (created here when absent). Full: 409; ended: 410; unknown code: 404.
import { NextResponse, type NextRequest } from 'next/server';
import { z } from 'zod';
import { localeSchema } from '../../../../labs/core/model';
import { displayNameSchema, joinWorkshop } from '../../../_lib/db/repository';
import { newLearnerId } from '../../../_lib/learner-cookie.server';
import { workshopStrings } from '../../../_lib/workshops-strings';
import { database, jsonError, jsonOk, learnerIdFromRequest, readJsonBody, setLearnerCookie, zodMessage } from '../../../_lib/workshops.server';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const noStore = { 'cache-control': 'no-store' };

const bodySchema = z.object({ code: z.string().max(20), name: displayNameSchema, locale: localeSchema.default('en') });

export async function POST(request: NextRequest) {
  const read = await readJsonBody(request);
  if (!read.ok) return read.response;
  const body = bodySchema.safeParse(read.body);
  if (!body.success) return jsonError(400, zodMessage(body.error));
  const existing = learnerIdFromRequest(request);
  const learnerId = existing ?? newLearnerId();
  let result;
  try {
    result = await joinWorkshop(await database(), { code: body.data.code, learnerId, displayName: body.data.name });
  } catch (error) {
    console.error(JSON.stringify({ level: 'warn', msg: 'join failed: database', error: String(error) }));
    return jsonError(503, 'The database is unavailable; try again in a moment', { 'retry-after': '2' });
  }
  // `reason` lets the page say it in the learner's language; `error` is the English text.
  const w = workshopStrings('en');
  if (result.status === 'not_found') return NextResponse.json({ error: w.joinNotFound, reason: 'not_found' }, { status: 404, headers: noStore });
  if (result.status === 'full') {
    return NextResponse.json(
      { error: w.joinFull(result.workshop.capacity), reason: 'full', capacity: result.workshop.capacity },
      { status: 409, headers: noStore },
    );
  }
  if (result.status === 'ended') return NextResponse.json({ error: w.joinEnded, reason: 'ended' }, { status: 410, headers: noStore });
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
