// POST /api/sessions { labId, locale? } -> { sessionId, token, tokenExpiresAtMs, terminals, steps }
// Identifies the learner by the signed `nslab_learner` cookie (created when absent) and asks the
// sandbox agent for the learner's session with a fresh short-lived WebSocket token.
// A member of a workshop that has ended whose lessons include this lab gets 410 workshop_ended and
// no sandbox (their stored progress is untouched). A new sandbox passes admission control first
// (app/_lib/admission.ts: per-learner and, outside a workshop, per-client quotas): 429 + Retry-After
// when over a quota, 403 workshop_required in NSLAB_ADMISSION=workshop-only mode. Every error is { code, error } in the request's
// language (app/_lib/api-errors.ts).
import { NextResponse, type NextRequest } from 'next/server';
import { getLab } from '@/labs';
import { admissionState, isWorkshopMember, requestClient } from '@/app/_lib/admission.server';
import { createAgentSession } from '@/app/_lib/agent-client.server';
import type { ApiErrorBody } from '@/app/_lib/api-errors';
import { appSecret, newLearnerId, verifyLearnerCookie, LEARNER_COOKIE } from '@/app/_lib/learner-cookie.server';
import { lessonLock, storedProgress } from '@/app/_lib/progress.server';
import { labSessionRequestSchema, type LabSessionResponse } from '@/app/_lib/session-api';
import { apiError, readJsonBody, zodMessage } from '@/app/_lib/http.server';
import { setLearnerCookie } from '@/app/_lib/identity.server';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const noStore = { 'cache-control': 'no-store' };

export async function POST(request: NextRequest): Promise<NextResponse<LabSessionResponse | ApiErrorBody>> {
  const read = await readJsonBody(request);
  if (!read.ok) return read.response as NextResponse<ApiErrorBody>;
  const { locale } = read;
  const parsed = labSessionRequestSchema.safeParse(read.body);
  if (!parsed.success) return apiError(locale, 400, 'invalid_request', { params: { detail: zodMessage(parsed.error) } });
  const { labId } = parsed.data;
  if (!getLab(labId)) return apiError(locale, 404, 'lab_not_found', { params: { lesson: labId } });

  let secret: string;
  try {
    secret = appSecret();
  } catch (error) {
    console.error(JSON.stringify({ level: 'error', msg: 'app misconfigured', error: String(error) }));
    return apiError(locale, 500, 'misconfigured');
  }
  const existing = verifyLearnerCookie(request.cookies.get(LEARNER_COOKIE)?.value, secret);
  const learnerId = existing ?? newLearnerId();

  // The learner's workshop ended: its lessons are closed to its members (410, no sandbox).
  const lock = existing ? await lessonLock(learnerId, labId) : null;
  if (lock) return apiError(locale, 410, 'workshop_ended', { extra: { workshopId: lock.id, workshopTitle: lock.title } });

  let gate: ReturnType<typeof admissionState>['gate'];
  try {
    gate = admissionState().gate;
  } catch (error) {
    console.error(JSON.stringify({ level: 'error', msg: 'app misconfigured', error: String(error) }));
    return apiError(locale, 500, 'misconfigured');
  }
  const client = requestClient(request);
  const admission = await gate.admit({ learnerId, labId, client, member: existing ? await isWorkshopMember(learnerId, labId) : false });
  if (!admission.ok) {
    console.error(JSON.stringify({ level: 'warn', msg: 'session start refused', code: admission.code, client, learnerId, labId }));
    const refused = apiError(locale, admission.status, admission.code, {
      params: { retryAfterS: admission.retryAfterS, limit: admission.limit },
      ...(admission.status === 429 ? { headers: { 'retry-after': String(admission.retryAfterS) } } : {}),
    });
    if (!existing) setLearnerCookie(refused, request, learnerId);
    return refused;
  }

  // What the database holds starts passed in the sandbox session (null: database down, the agent's
  // own memory of this learner's progress still applies).
  const progress = existing ? await storedProgress(learnerId, labId) : null;

  let result: Awaited<ReturnType<typeof createAgentSession>>;
  try {
    result = await createAgentSession({ learnerId, labId, ...(progress && progress.length > 0 ? { progress } : {}) });
  } catch (error) {
    gate.settle(admission.ticket, false);
    console.error(JSON.stringify({ level: 'error', msg: 'agent client misconfigured', error: String(error) }));
    return apiError(locale, 500, 'misconfigured');
  }
  gate.settle(admission.ticket, result.ok && result.created);

  let response: NextResponse<LabSessionResponse | ApiErrorBody>;
  if (result.ok) {
    response = NextResponse.json(result.session, { headers: noStore });
  } else if (result.kind === 'busy') {
    response = apiError(locale, 503, 'agent_busy', { headers: { 'retry-after': String(result.retryAfterS) } });
  } else if (result.kind === 'unreachable') {
    response = apiError(locale, 503, 'agent_unreachable', { headers: { 'retry-after': '3' } });
  } else {
    console.error(JSON.stringify({ level: 'warn', msg: 'agent refused session', status: result.status, error: result.message }));
    response = apiError(locale, 502, 'agent_refused', { params: { detail: result.message } });
  }

  if (!existing) setLearnerCookie(response, request, learnerId);
  return response;
}
