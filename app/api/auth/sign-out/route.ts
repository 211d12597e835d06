// POST /api/auth/sign-out: clears the instructor cookie (same-origin only).
import type { NextRequest } from 'next/server';
import { foreignOrigin } from '../../../_lib/auth.server';
import { clearInstructorCookie, jsonError, jsonOk } from '../../../_lib/workshops.server';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export async function POST(request: NextRequest) {
  if (foreignOrigin(request)) return jsonError(403, 'Cross-origin requests are not allowed');
  const response = jsonOk({ ok: true });
  clearInstructorCookie(response, request);
  return response;
}
