// GET /api/workshops/:id/messages?after=ms -> { messages } (the workshop's instructors and members)
// POST /api/workshops/:id/messages { text } -> 201 { message, delivered } (instructors): stored, then
// pushed at once as a `notice` to every member's attached lab terminal.
import type { NextRequest } from 'next/server';
import { z } from 'zod';
import { sendNotice } from '@/app/_lib/agent-client.server';
import { forWorkshopInstructors } from '@/app/_lib/authorization.server';
import { database } from '@/app/_lib/db/database';
import { isWorkshopInstructor, messageTextSchema, postWorkshopMessage, workshopMessages, workshopRoster } from '@/app/_lib/db/repository';
import { apiError, jsonOk, requestLocale } from '@/app/_lib/http.server';
import { instructorFromRequest, learnerIdFromRequest } from '@/app/_lib/identity.server';
import { pokeWorkshop } from '@/app/_lib/workshops.server';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export async function GET(request: NextRequest, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const db = await database();
  const instructor = await instructorFromRequest(request);
  const learnerId = learnerIdFromRequest(request);
  const allowed =
    (instructor && (await isWorkshopInstructor(db, id, instructor.id))) ||
    (learnerId && (await workshopRoster(db, id)).some((m) => m.learnerId === learnerId));
  if (!allowed) return apiError(requestLocale(request), 403, 'messages_forbidden');
  const after = Number(request.nextUrl.searchParams.get('after') ?? '');
  const messages = await workshopMessages(db, id, Number.isFinite(after) && after > 0 ? { afterMs: after, limit: 50 } : { limit: 50 });
  return jsonOk({ messages: messages.map((m) => ({ id: m.id, text: m.text, createdAt: m.createdAtMs })) });
}

export const POST = forWorkshopInstructors({ body: z.object({ text: messageTextSchema }) }, async ({ workshopId: id, instructor, body }) => {
  const db = await database();
  const message = await postWorkshopMessage(db, { workshopId: id, instructorId: instructor.id, text: body.text });
  const learnerIds = (await workshopRoster(db, id)).map((m) => m.learnerId);
  let delivered = 0;
  if (learnerIds.length > 0) {
    const sent = await sendNotice({ learnerIds, level: 'info', code: 'workshop-message', message: message.text });
    delivered = sent.ok ? sent.value.delivered : 0;
  }
  pokeWorkshop(id);
  return jsonOk({ message: { id: message.id, text: message.text, createdAt: message.createdAtMs }, delivered }, 201);
});
