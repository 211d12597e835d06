// GET /api/me -> { learner: { displayName } | null, workshops[], completions[] }: the cookie learner's own data only.
import type { NextRequest } from 'next/server';
import { getLab } from '@/labs';
import { completionRecords, getLearner, workshopsForLearner } from '@/app/_lib/db/repository';
import { appSecret } from '@/app/_lib/learner-cookie.server';
import { claimOf, completionPath, signCompletion } from '@/app/_lib/workshops-completion.server';
import { database } from '@/app/_lib/db/database';
import { databaseUnavailable, jsonOk, requestLocale } from '@/app/_lib/http.server';
import { learnerIdFromRequest } from '@/app/_lib/identity.server';
import { summaryOf } from '@/app/_lib/workshops.server';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export async function GET(request: NextRequest) {
  const learnerId = learnerIdFromRequest(request);
  if (!learnerId) return jsonOk({ learner: null, workshops: [], completions: [] });
  let learner, workshops, records;
  try {
    const db = await database();
    [learner, workshops, records] = await Promise.all([getLearner(db, learnerId), workshopsForLearner(db, learnerId), completionRecords(db, { learnerId })]);
  } catch (error) {
    return databaseUnavailable(requestLocale(request), error);
  }
  const secret = appSecret();
  const locale = requestLocale(request); // ?locale= or Accept-Language: the verify link's language
  return jsonOk({
    learner: learner ? { displayName: learner.displayName } : null,
    workshops: workshops.map(summaryOf),
    completions: records.map((r) => ({
      labId: r.labId,
      steps: r.steps.map((s) => ({ stepId: s.stepId, passedAt: s.passedAt, evidence: s.evidence })),
      total: getLab(r.labId)?.steps.length ?? r.steps.length,
      verifyPath: completionPath(signCompletion(claimOf(r), secret), locale),
    })),
  });
}
