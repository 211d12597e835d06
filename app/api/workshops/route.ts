// GET /api/workshops -> { workshops } (the signed-in instructor's)
// POST /api/workshops { title, lessons[], capacity, startsAt, endsAt, locale? } -> 201 { workshop }
// No live instructor session: 401 sign_in_required.
import type { NextRequest } from 'next/server';
import { z } from 'zod';
import { getLab } from '@/labs';
import { createWorkshop, createWorkshopInputSchema, workshopsForInstructor } from '@/app/_lib/db/repository';
import { requireInstructor } from '@/app/_lib/authorization.server';
import { database } from '@/app/_lib/db/database';
import { apiError, databaseUnavailable, jsonOk, readJsonBody, requestLocale, zodMessage } from '@/app/_lib/http.server';
import { summaryOf } from '@/app/_lib/workshops.server';

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
  const locale = requestLocale(request);
  const signedIn = await requireInstructor(request, locale);
  if (!signedIn.ok) return signedIn.response;
  try {
    const workshops = await workshopsForInstructor(await database(), signedIn.instructor.id);
    return jsonOk({ workshops: workshops.map(summaryOf) });
  } catch (error) {
    return databaseUnavailable(locale, error);
  }
}

export async function POST(request: NextRequest) {
  const read = await readJsonBody(request);
  if (!read.ok) return read.response;
  const { locale } = read;
  const signedIn = await requireInstructor(request, locale);
  if (!signedIn.ok) return signedIn.response;
  const body = bodySchema.safeParse(read.body);
  if (!body.success) return apiError(locale, 400, 'invalid_request', { params: { detail: zodMessage(body.error) } });
  const unknown = body.data.lessons.find((slug) => !getLab(slug));
  if (unknown !== undefined) return apiError(locale, 400, 'unknown_lesson', { params: { lesson: unknown } });
  const { startsAt, endsAt, ...rest } = body.data; // the API keeps its field names; the domain says Ms
  const input = createWorkshopInputSchema.safeParse({ ...rest, startsAtMs: startsAt, endsAtMs: endsAt, createdBy: signedIn.instructor.id });
  if (!input.success) return apiError(locale, 400, 'invalid_request', { params: { detail: zodMessage(input.error) } });
  try {
    const workshop = await createWorkshop(await database(), input.data);
    return jsonOk({ workshop: summaryOf(workshop) }, 201);
  } catch (error) {
    return databaseUnavailable(locale, error);
  }
}
