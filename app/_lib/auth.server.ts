// Instructor sign-in state and request guards for the app's own API. Server-only (node:crypto).
// The instructor session cookie is base64url(JSON {iid, sid, exp}) "." HMAC-SHA256 with APP_SECRET
// (domain-separated from the learner cookie), httpOnly, SameSite=Lax, 12 hours. `sid` is a 256-bit
// session secret whose SHA-256 is a row of instructor_sessions (app/_lib/db): the HMAC rejects
// forged cookies without a database read, the row makes the cookie revocable before it expires
// (sign-out, sign out everywhere, password change, `cli.ts revoke-instructor-sessions`).
// Passwords are checked by the data layer (argon2id, app/_lib/db/repository.ts verifyInstructor).
import 'server-only';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

export const INSTRUCTOR_COOKIE = 'nslab_instructor';
export const INSTRUCTOR_SESSION_MS = 12 * 60 * 60 * 1000;

const payloadSchema = z.object({
  iid: z.string().min(1).max(100),
  sid: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  exp: z.number().int(),
});

export interface InstructorSessionClaim {
  instructorId: string;
  /** The session secret (look it up with instructorForSession; revoke with revokeInstructorSession). */
  sessionSecret: string;
  expiresAtMs: number;
}

function mac(body: string, secret: string): string {
  return createHmac('sha256', secret).update(`instructor:${body}`).digest('base64url');
}

/** A signed instructor session cookie value for a server-side session, valid until `expiresAtMs`. */
export function signInstructorSession(
  claim: { instructorId: string; sessionSecret: string; expiresAtMs: number },
  secret: string,
): { value: string; expiresAtMs: number } {
  const body = Buffer.from(JSON.stringify({ iid: claim.instructorId, sid: claim.sessionSecret, exp: claim.expiresAtMs })).toString('base64url');
  return { value: `${body}.${mac(body, secret)}`, expiresAtMs: claim.expiresAtMs };
}

/**
 * The claim of a cookie value, or null when missing, malformed, forged or expired. A valid claim
 * is not yet a signed-in instructor: its session must still be live in the database.
 */
export function verifyInstructorSession(value: string | undefined, secret: string, now = Date.now()): InstructorSessionClaim | null {
  if (!value || value.length > 1024) return null;
  const dot = value.indexOf('.');
  if (dot <= 0 || dot !== value.lastIndexOf('.')) return null;
  const body = value.slice(0, dot);
  const given = Buffer.from(value.slice(dot + 1));
  const expected = Buffer.from(mac(body, secret));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  let payload: z.infer<typeof payloadSchema>;
  try {
    payload = payloadSchema.parse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')));
  } catch {
    return null;
  }
  return payload.exp > now ? { instructorId: payload.iid, sessionSecret: payload.sid, expiresAtMs: payload.exp } : null;
}

/** Minimal view of a request for the guards (NextRequest satisfies it; tests pass plain objects). */
export interface RequestLike {
  headers: { get(name: string): string | null };
  nextUrl?: { protocol: string };
}

/** Same-origin check for state-changing requests: a foreign (or unparsable) Origin is refused (CSRF). */
export function foreignOrigin(request: RequestLike): boolean {
  const origin = request.headers.get('origin');
  if (!origin) return false;
  const host = request.headers.get('x-forwarded-host') ?? request.headers.get('host');
  try {
    return new URL(origin).host !== host;
  } catch {
    return true;
  }
}

/** Whether the browser reached us over HTTPS (directly or through a proxy): cookies get `Secure`. */
export function isSecureRequest(request: RequestLike): boolean {
  return request.nextUrl?.protocol === 'https:' || request.headers.get('x-forwarded-proto')?.split(',')[0]?.trim() === 'https';
}

/**
 * A small fixed-window limiter for sign-in attempts (per key, e.g. client address + email): argon2
 * already costs ~50 ms per try; this stops a single client from turning that into a DoS or a fast
 * guessing loop. In memory (one app process); a restart forgets it.
 */
export class AttemptLimiter {
  private readonly windows = new Map<string, { startMs: number; count: number }>();
  constructor(
    private readonly maxAttempts: number,
    private readonly windowMs: number,
  ) {}

  /** Counts an attempt; false when the key is over its budget for the current window. */
  allow(key: string, now = Date.now()): boolean {
    if (this.windows.size > 10_000) for (const [k, w] of this.windows) if (now - w.startMs >= this.windowMs) this.windows.delete(k);
    const window = this.windows.get(key);
    if (!window || now - window.startMs >= this.windowMs) {
      this.windows.set(key, { startMs: now, count: 1 });
      return true;
    }
    window.count++;
    return window.count <= this.maxAttempts;
  }

  /** Whether the key has used up its budget for the current window (counts nothing). */
  blocked(key: string, now = Date.now()): boolean {
    const window = this.windows.get(key);
    return window !== undefined && now - window.startMs < this.windowMs && window.count >= this.maxAttempts;
  }

  retryAfterS(key: string, now = Date.now()): number {
    const window = this.windows.get(key);
    return window ? Math.max(1, Math.ceil((window.startMs + this.windowMs - now) / 1000)) : 1;
  }
}
