// POST /api/sessions { labId } -> { sessionId, token, tokenExpiresAtMs, terminals, steps }
// Identifies the learner by the signed `nslab_learner` cookie (created when absent) and asks the
// sandbox agent for the learner's session with a fresh short-lived WebSocket token.
import { NextResponse, type NextRequest } from 'next/server';
import { getLab } from '../../../labs';
import { createAgentSession } from '../../_lib/agent-client.server';
import {
  LEARNER_COOKIE,
  LEARNER_COOKIE_MAX_AGE_S,
  appSecret,
  newLearnerId,
  signLearnerId,
  verifyLearnerCookie,
} from '../../_lib/learner-cookie.server';
import { storedProgress } from '../../_lib/progress.server';
import { labSessionRequestSchema, type ApiError, type LabSessionResponse } from '../../_lib/session-api';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const noStore = { 'cache-control': 'no-store' };

function fail(status: number, error: string, headers: Record<string, string> = {}): NextResponse<ApiError> {
  return NextResponse.json({ error }, { status, headers: { ...noStore, ...headers } });
}

/** Same-origin check: browsers send Origin on POST; a foreign one is refused (CSRF). */
function foreignOrigin(request: NextRequest): boolean {
  const origin = request.headers.get('origin');
  if (!origin) return false;
  const host = request.headers.get('x-forwarded-host') ?? request.headers.get('host');
  try {
    return new URL(origin).host !== host;
  } catch {
    return true;
  }
}

export async function POST(request: NextRequest): Promise<NextResponse<LabSessionResponse | ApiError>> {
  if (foreignOrigin(request)) return fail(403, 'Cross-origin requests are not allowed');
  if (!(request.headers.get('content-type') ?? '').includes('application/json')) {
    return fail(415, 'Send the request body as application/json');
  }
  let raw: unknown;
  try {
    raw = await request.json();
  } catch {
    return fail(400, 'The request body is not valid JSON');
  }
  const parsed = labSessionRequestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    return fail(400, `Invalid request: ${where}${issue?.message ?? 'invalid body'}`);
  }
  const { labId } = parsed.data;
  if (!getLab(labId)) return fail(404, `Unknown lab "${labId}"`);

  let secret: string;
  try {
    secret = appSecret();
  } catch (error) {
    console.error(JSON.stringify({ level: 'error', msg: 'app misconfigured', error: String(error) }));
    return fail(500, 'The app is misconfigured (see the server log)');
  }
  const existing = verifyLearnerCookie(request.cookies.get(LEARNER_COOKIE)?.value, secret);
  const learnerId = existing ?? newLearnerId();

  // What the database holds starts passed in the sandbox session (null: database down, the agent's
  // own memory of this learner's progress still applies).
  const progress = existing ? await storedProgress(learnerId, labId) : null;

  let result: Awaited<ReturnType<typeof createAgentSession>>;
  try {
    result = await createAgentSession({ learnerId, labId, ...(progress && progress.length > 0 ? { progress } : {}) });
  } catch (error) {
    console.error(JSON.stringify({ level: 'error', msg: 'agent client misconfigured', error: String(error) }));
    return fail(500, 'The app is misconfigured (see the server log)');
  }

  let response: NextResponse<LabSessionResponse | ApiError>;
  if (result.ok) {
    response = NextResponse.json(result.session, { headers: noStore });
  } else if (result.kind === 'busy') {
    response = fail(503, result.message, { 'retry-after': String(result.retryAfterS) });
  } else if (result.kind === 'unreachable') {
    response = fail(503, result.message, { 'retry-after': '3' });
  } else {
    console.error(JSON.stringify({ level: 'warn', msg: 'agent refused session', status: result.status, error: result.message }));
    response = fail(502, result.message);
  }

  if (!existing) {
    const secure =
      request.nextUrl.protocol === 'https:' || request.headers.get('x-forwarded-proto')?.split(',')[0]?.trim() === 'https';
    response.cookies.set(LEARNER_COOKIE, signLearnerId(learnerId, secret), {
      httpOnly: true,
      sameSite: 'lax',
      path: '/',
      maxAge: LEARNER_COOKIE_MAX_AGE_S,
      secure,
    });
  }
  return response;
}
