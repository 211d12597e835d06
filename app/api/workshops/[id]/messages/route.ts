// GET /api/workshops/:id/messages?after=ms -> { messages } (the workshop's instructors and members)
// POST /api/workshops/:id/messages { text } -> 201 { message, delivered } (instructors): stored, then
// pushed at once as a `notice` to every member's attached lab terminal.
import type { NextRequest } from 'next/server';
import { z } from 'zod';
import { sendNotice } from '../../../../_lib/agent-client.server';
import { isWorkshopInstructor, messageTextSchema, postWorkshopMessage, workshopMessages, workshopRoster } from '../../../../_lib/db/repository';
import {
  apiError,
  database,
  instructorFromRequest,
  jsonOk,
  learnerIdFromRequest,
  pokeWorkshop,
  readJsonBody,
  requestLocale,
  requireWorkshopInstructor,
  zodMessage,
} from '../../../../_lib/workshops.server';

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
  return jsonOk({ messages: messages.map((m) => ({ id: m.id, text: m.text, createdAt: m.createdAt })) });
}

export async function POST(request: NextRequest, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const read = await readJsonBody(request);
  if (!read.ok) return read.response;
  const { locale } = read;
  const access = await requireWorkshopInstructor(request, id, locale);
  if (!access.ok) return access.response;
  const body = z.object({ text: messageTextSchema }).safeParse(read.body);
  if (!body.success) return apiError(locale, 400, 'invalid_request', { params: { detail: zodMessage(body.error) } });
  const db = await database();
  const message = await postWorkshopMessage(db, { workshopId: id, instructorId: access.instructor.id, text: body.data.text });
  const learnerIds = (await workshopRoster(db, id)).map((m) => m.learnerId);
  let delivered = 0;
  if (learnerIds.length > 0) {
    const sent = await sendNotice({ learnerIds, level: 'info', code: 'workshop-message', message: message.text });
    delivered = sent.ok ? sent.value.delivered : 0;
  }
  pokeWorkshop(id);
  return jsonOk({ message: { id: message.id, text: message.text, createdAt: message.createdAt }, delivered }, 201);
}
