// GET /api/workshops -> { workshops } (the signed-in instructor's)
// POST /api/workshops { title, lessons[], capacity, startsAt, endsAt } -> 201 { workshop }
import type { NextRequest } from 'next/server';
import { z } from 'zod';
import { getLab } from '../../../labs';
import { createWorkshop, createWorkshopInputSchema, workshopsForInstructor } from '../../_lib/db/repository';
import { database, instructorFromRequest, jsonError, jsonOk, readJsonBody, summaryOf, zodMessage } from '../../_lib/workshops.server';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const bodySchema = z.object({
  title: z.string(),
  lessons: z.array(z.string()),
  capacity: z.number(),
  startsAt: z.number(),
  endsAt: z.number(),
});

export async function GET(request: NextRequest) {
  const instructor = await instructorFromRequest(request);
  if (!instructor) return jsonError(401, 'Sign in as an instructor first');
  const workshops = await workshopsForInstructor(await database(), instructor.id);
  return jsonOk({ workshops: workshops.map(summaryOf) });
}

export async function POST(request: NextRequest) {
  const read = await readJsonBody(request);
  if (!read.ok) return read.response;
  const instructor = await instructorFromRequest(request);
  if (!instructor) return jsonError(401, 'Sign in as an instructor first');
  const body = bodySchema.safeParse(read.body);
  if (!body.success) return jsonError(400, `Invalid request: ${zodMessage(body.error)}`);
  const unknown = body.data.lessons.find((slug) => !getLab(slug));
  if (unknown !== undefined) return jsonError(400, `Invalid request: lessons: unknown lesson "${unknown}"`);
  const input = createWorkshopInputSchema.safeParse({ ...body.data, createdBy: instructor.id });
  if (!input.success) return jsonError(400, `Invalid request: ${zodMessage(input.error)}`);
  const workshop = await createWorkshop(await database(), input.data);
  return jsonOk({ workshop: summaryOf(workshop) }, 201);
}
