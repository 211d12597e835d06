// POST /api/me/name { name, locale? } -> { displayName }: the cookie learner's display name (cookie created when absent).
import type { NextRequest } from 'next/server';
import { z } from 'zod';
import { displayNameSchema, setDisplayName } from '@/app/_lib/db/repository';
import { newLearnerId } from '@/app/_lib/learner-cookie.server';
import { database } from '@/app/_lib/db/database';
import { apiError, databaseUnavailable, jsonOk, readJsonBody } from '@/app/_lib/http.server';
import { learnerIdFromRequest, setLearnerCookie } from '@/app/_lib/identity.server';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export async function POST(request: NextRequest) {
  const read = await readJsonBody(request);
  if (!read.ok) return read.response;
  const body = z.object({ name: displayNameSchema }).safeParse(read.body);
  if (!body.success) return apiError(read.locale, 400, 'name_invalid');
  const existing = learnerIdFromRequest(request);
  const learnerId = existing ?? newLearnerId();
  let displayName: string;
  try {
    displayName = await setDisplayName(await database(), learnerId, body.data.name);
  } catch (error) {
    return databaseUnavailable(read.locale, error);
  }
  const response = jsonOk({ displayName });
  if (!existing) setLearnerCookie(response, request, learnerId);
  return response;
}
