// Instructor messages to a workshop's members.
import { z } from 'zod';
import type { Db } from '../database';
import { newId } from '../secrets';

export interface WorkshopMessage {
  id: string;
  workshopId: string;
  instructorId: string | null;
  text: string;
  createdAtMs: number;
}

export const messageTextSchema = z
  .string()
  .transform((value) => value.trim())
  .pipe(z.string().min(1, { error: 'message must not be empty' }).max(2000, { error: 'message must be at most 2000 characters' }));

export async function postWorkshopMessage(
  db: Db,
  input: { workshopId: string; instructorId: string | null; text: string },
  now = Date.now(),
): Promise<WorkshopMessage> {
  const text = messageTextSchema.parse(input.text);
  const message: WorkshopMessage = { id: newId(), workshopId: input.workshopId, instructorId: input.instructorId, text, createdAtMs: now };
  await db
    .insertInto('workshop_messages')
    .values({ id: message.id, workshop_id: message.workshopId, instructor_id: message.instructorId, text, created_at: now })
    .execute();
  return message;
}

/** Messages oldest first; `afterMs` returns only newer ones (for polling). */
export async function workshopMessages(
  db: Db,
  workshopId: string,
  options: { afterMs?: number; limit?: number } = {},
): Promise<WorkshopMessage[]> {
  let query = db.selectFrom('workshop_messages').selectAll().where('workshop_id', '=', workshopId);
  if (options.afterMs !== undefined) query = query.where('created_at', '>', options.afterMs);
  const rows = await query
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .limit(options.limit ?? 100)
    .execute();
  return rows.reverse().map((row) => ({
    id: row.id,
    workshopId: row.workshop_id,
    instructorId: row.instructor_id,
    text: row.text,
    createdAtMs: row.created_at,
  }));
}
