// POST /api/me/name { name } -> { displayName }: the cookie learner's display name (cookie created when absent).
import type { NextRequest } from 'next/server';
import { z } from 'zod';
import { displayNameSchema, setDisplayName } from '../../../_lib/db/repository';
import { newLearnerId } from '../../../_lib/learner-cookie.server';
import { database, jsonError, jsonOk, learnerIdFromRequest, readJsonBody, setLearnerCookie, zodMessage } from '../../../_lib/workshops.server';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export async function POST(request: NextRequest) {
  const read = await readJsonBody(request);
  if (!read.ok) return read.response;
  const body = z.object({ name: displayNameSchema }).safeParse(read.body);
  if (!body.success) return jsonError(400, zodMessage(body.error));
  const existing = learnerIdFromRequest(request);
  const learnerId = existing ?? newLearnerId();
  const displayName = await setDisplayName(await database(), learnerId, body.data.name);
  const response = jsonOk({ displayName });
  if (!existing) setLearnerCookie(response, request, learnerId);
  return response;
}
