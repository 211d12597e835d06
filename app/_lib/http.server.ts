// HTTP plumbing for the app's route handlers: JSON replies (no-store), localized error replies,
// reading a same-origin JSON body, and where the browser reached us. Knows nothing about who is
// asking (identity.server.ts) or what they may do (authorization.server.ts).
import 'server-only';
import { headers } from 'next/headers';
import { NextResponse, type NextRequest } from 'next/server';
import type { Locale } from '@/labs/core/model';
import { apiErrorBody, resolveApiLocale, type ApiErrorBody, type ApiErrorCode, type ApiErrorParams } from './api-errors';
import { foreignOrigin } from './auth.server';

const noStore = { 'cache-control': 'no-store' };

/** The language of a request's error replies: `?locale=`, else Accept-Language, else en (see api-errors.ts). */
export function requestLocale(request: NextRequest, bodyLocale?: unknown): Locale {
  return resolveApiLocale({
    bodyLocale,
    queryLocale: request.nextUrl.searchParams.get('locale'),
    acceptLanguage: request.headers.get('accept-language'),
  });
}

/** A JSON error reply: `{ code, error, locale, ...extra }`, the message in `locale`. */
export function apiError(
  locale: Locale,
  status: number,
  code: ApiErrorCode,
  options: { params?: ApiErrorParams; headers?: Record<string, string>; extra?: Record<string, unknown> } = {},
): NextResponse<ApiErrorBody> {
  return NextResponse.json(
    { ...options.extra, ...apiErrorBody(code, locale, options.params) },
    { status, headers: { ...noStore, ...options.headers } },
  );
}

export function databaseUnavailable(locale: Locale, error: unknown): NextResponse<ApiErrorBody> {
  console.error(JSON.stringify({ level: 'warn', msg: 'database unavailable', error: String(error) }));
  return apiError(locale, 503, 'database_unavailable', { headers: { 'retry-after': '2' } });
}

export function jsonOk<T>(body: T, status = 200): NextResponse<T> {
  return NextResponse.json(body, { status, headers: noStore });
}

/**
 * Reads a JSON body of a same-origin POST, or answers the error (403 foreign origin, 415, 400).
 * `locale` is the reply language for the rest of the route: the body's `locale` field when it has
 * a valid one, else as requestLocale.
 */
export async function readJsonBody(
  request: NextRequest,
): Promise<{ ok: true; body: unknown; locale: Locale } | { ok: false; response: NextResponse }> {
  const early = requestLocale(request);
  if (foreignOrigin(request)) return { ok: false, response: apiError(early, 403, 'cross_origin') };
  if (!(request.headers.get('content-type') ?? '').includes('application/json')) {
    return { ok: false, response: apiError(early, 415, 'unsupported_media_type') };
  }
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    return { ok: false, response: apiError(early, 400, 'invalid_json') };
  }
  const bodyLocale = body !== null && typeof body === 'object' && 'locale' in body ? body.locale : undefined;
  return { ok: true, body, locale: requestLocale(request, bodyLocale) };
}

/** The first zod issue as one line ("capacity: Too small..."). */
export function zodMessage(error: { issues: Array<{ path: PropertyKey[]; message: string }> }): string {
  const issue = error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ` : '';
  return `${where}${issue?.message ?? 'invalid input'}`;
}

/** Where the browser reached us (for join links and QR codes): PUBLIC_URL, else the request's host. */
export async function publicOrigin(): Promise<string> {
  if (process.env.PUBLIC_URL) {
    try {
      return new URL(process.env.PUBLIC_URL).origin;
    } catch {
      // start.mjs validates PUBLIC_URL; fall through
    }
  }
  const h = await headers();
  const host = h.get('x-forwarded-host') ?? h.get('host') ?? 'localhost';
  const proto = h.get('x-forwarded-proto')?.split(',')[0]?.trim() ?? 'http';
  return `${proto}://${host}`;
}
