// POST /api/me/resume { secret, preview?, locale? }
//   preview: true -> { displayName, passedSteps, labs, current: { displayName, passedSteps } | null, same }:
//     whose progress the link holds and what this browser holds now; changes nothing (the page asks
//     the learner before switching).
//   otherwise -> { displayName }: this browser becomes the learner the resume secret belongs to (its
//     learner cookie is replaced).
// Unknown or revoked secrets: 404. Both count against the per-address limiter.
import type { NextRequest } from 'next/server';
import { z } from 'zod';
import { clientKey } from '@/app/_lib/admission';
import { requestClient } from '@/app/_lib/admission.server';
import { AttemptLimiter } from '@/app/_lib/auth.server';
import type { Db } from '@/app/_lib/db/database';
import { completionRecords, getLearner, verifyResumeSecret } from '@/app/_lib/db/repository';
import { database } from '@/app/_lib/db/database';
import { apiError, databaseUnavailable, jsonOk, readJsonBody } from '@/app/_lib/http.server';
import { learnerIdFromRequest, setLearnerCookie } from '@/app/_lib/identity.server';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

type LimiterHolder = typeof globalThis & { __nslabResumeLimiter?: AttemptLimiter };
const limiter = ((globalThis as LimiterHolder).__nslabResumeLimiter ??= new AttemptLimiter(30, 5 * 60_000));

export async function POST(request: NextRequest) {
  const read = await readJsonBody(request);
  if (!read.ok) return read.response;
  const body = z.object({ secret: z.string().max(100), preview: z.boolean().optional() }).safeParse(read.body);
  if (!body.success) return apiError(read.locale, 400, 'resume_invalid');
  // The trusted client address (the TCP peer, or X-Forwarded-For only from NSLAB_TRUSTED_PROXIES):
  // a header the client writes itself would give it a fresh budget per request.
  const client = clientKey(requestClient(request));
  if (!limiter.allow(client)) {
    return apiError(read.locale, 429, 'resume_rate_limited', { headers: { 'retry-after': String(limiter.retryAfterS(client)) } });
  }
  let learner;
  try {
    const db = await database();
    learner = await verifyResumeSecret(db, body.data.secret);
    if (learner && body.data.preview) {
      const currentId = learnerIdFromRequest(request);
      const current = currentId && currentId !== learner.id ? await getLearner(db, currentId) : null;
      const theirs = await progressSummary(db, learner.id);
      return jsonOk({
        displayName: learner.displayName,
        ...theirs,
        current: current ? { displayName: current.displayName, passedSteps: (await progressSummary(db, current.id)).passedSteps } : null,
        same: currentId === learner.id,
      });
    }
  } catch (error) {
    return databaseUnavailable(read.locale, error);
  }
  if (!learner) return apiError(read.locale, 404, 'resume_invalid');
  const response = jsonOk({ displayName: learner.displayName });
  setLearnerCookie(response, request, learner.id);
  return response;
}

async function progressSummary(db: Db, learnerId: string): Promise<{ passedSteps: number; labs: number }> {
  const records = await completionRecords(db, { learnerId });
  return { passedSteps: records.reduce((n, r) => n + r.steps.length, 0), labs: records.length };
}
