// POST /api/me/resume-link { locale? } -> { path }: a fresh resume secret for the cookie learner (the
// previous link stops working). The secret travels in the URL fragment (#...), which browsers never
// send to a server, so it does not end up in access logs; /[locale]/me/resume posts it back.
import type { NextRequest } from 'next/server';
import { z } from 'zod';
import { localeSchema } from '@/labs/core/model';
import { createResumeSecret } from '@/app/_lib/db/repository';
import { database } from '@/app/_lib/db/database';
import { apiError, databaseUnavailable, jsonOk, readJsonBody } from '@/app/_lib/http.server';
import { learnerIdFromRequest } from '@/app/_lib/identity.server';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export async function POST(request: NextRequest) {
  const read = await readJsonBody(request);
  if (!read.ok) return read.response;
  const locale = z.object({ locale: localeSchema.default('en') }).catch({ locale: 'en' as const }).parse(read.body).locale;
  const learnerId = learnerIdFromRequest(request);
  if (!learnerId) return apiError(read.locale, 404, 'no_progress_yet');
  let secret: string;
  try {
    secret = await createResumeSecret(await database(), learnerId);
  } catch (error) {
    return databaseUnavailable(read.locale, error);
  }
  return jsonOk({ path: `/${locale}/me/resume#${secret}` });
}
