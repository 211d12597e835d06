// Signed, short-lived, single-use terminal tokens. The app gets one from the control API for a
// (learner, session) and hands it to the browser, which presents it once in its `auth` message.
// Format: base64url(JSON payload) "." base64url(HMAC-SHA256(payload)). Never put in URLs or logs.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

const payloadSchema = z.object({
  v: z.literal(1),
  sid: z.string(),
  lid: z.string(),
  exp: z.number(),
  n: z.string(),
  /** 'viewer': a read-only attach (an instructor's live view); absent: the learner. */
  r: z.literal('viewer').optional(),
});
export type TokenPayload = z.infer<typeof payloadSchema>;

export type VerifyResult =
  | { ok: true; payload: TokenPayload }
  | { ok: false; reason: 'malformed' | 'bad-signature' | 'expired' | 'replayed' };

export class TokenIssuer {
  private readonly key: Buffer;
  /** nonce -> expiry, for single use. Pruned as tokens expire. */
  private readonly used = new Map<string, number>();

  constructor(
    secret: string,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.key = createHmac('sha256', secret).update('nslab terminal tokens v1').digest();
  }

  issue(sessionId: string, learnerId: string, role?: 'viewer'): { token: string; expiresAtMs: number } {
    const exp = this.now() + this.ttlMs;
    const payload: TokenPayload = { v: 1, sid: sessionId, lid: learnerId, exp, n: randomBytes(12).toString('base64url'), ...(role ? { r: role } : {}) };
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return { token: `${body}.${this.sign(body)}`, expiresAtMs: exp };
  }

  /** Verifies and consumes a token (a second use of the same token is refused). */
  consume(token: string): VerifyResult {
    const dot = token.indexOf('.');
    if (dot <= 0 || dot !== token.lastIndexOf('.')) return { ok: false, reason: 'malformed' };
    const body = token.slice(0, dot);
    // Compare the text, not the decoded bytes: base64url's last character carries 2 unused bits,
    // so byte comparison would accept four spellings of one signature.
    const sig = Buffer.from(token.slice(dot + 1));
    const expected = Buffer.from(this.sign(body));
    if (sig.length !== expected.length || !timingSafeEqual(sig, expected)) return { ok: false, reason: 'bad-signature' };
    let payload: TokenPayload;
    try {
      payload = payloadSchema.parse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')));
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    const now = this.now();
    if (payload.exp <= now) return { ok: false, reason: 'expired' };
    this.prune(now);
    if (this.used.has(payload.n)) return { ok: false, reason: 'replayed' };
    this.used.set(payload.n, payload.exp);
    return { ok: true, payload };
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }

  private prune(now: number): void {
    if (this.used.size < 1024) return;
    for (const [nonce, exp] of this.used) if (exp <= now) this.used.delete(nonce);
  }
}
