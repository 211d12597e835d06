// POST /api/workshops/:id/extend { minutes } -> { workshop }: moves the end time later (from the
// current end, or from now when it already ended; an ended workshop reopens). Instructors only.
import type { NextRequest } from 'next/server';
import { z } from 'zod';
import { extendWorkshop } from '../../../../_lib/db/repository';
import { database, jsonError, jsonOk, pokeWorkshop, readJsonBody, requireWorkshopInstructor, summaryOf, zodMessage } from '../../../../_lib/workshops.server';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const bodySchema = z.object({ minutes: z.number().int().min(1).max(24 * 60) });

export async function POST(request: NextRequest, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const read = await readJsonBody(request);
  if (!read.ok) return read.response;
  const access = await requireWorkshopInstructor(request, id);
  if (!access.ok) return access.response;
  const body = bodySchema.safeParse(read.body);
  if (!body.success) return jsonError(400, zodMessage(body.error));
  const now = Date.now();
  const from = access.workshop.endedAt === null ? Math.max(now, access.workshop.endsAt) : now;
  const workshop = await extendWorkshop(await database(), id, from + body.data.minutes * 60_000, now);
  if (!workshop) return jsonError(404, 'No such workshop');
  pokeWorkshop(id);
  return jsonOk({ workshop: summaryOf(workshop) });
}
