// Signed completion links: anyone can verify, without an account, that a named learner passed these
// steps of a lab at these times. The token is base64url(JSON claim) "." HMAC-SHA256(APP_SECRET),
// domain-separated from the cookies. It holds no learner id and no evidence (only the claim shown
// on the verification page). Server-only (node:crypto).
import 'server-only';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { CompletionRecord } from './db/repository';

export const completionClaimSchema = z.object({
  v: z.literal(1),
  /** The learner's display name when the link was made (null: anonymous). */
  name: z.string().max(100).nullable(),
  lab: z.string().regex(/^[a-z0-9-]{1,100}$/),
  /** [stepId, passedAt ms] in the order passed. */
  steps: z.array(z.tuple([z.string().min(1).max(100), z.number().int().nonnegative()])).min(1).max(200),
  /** When the link was issued (ms). */
  iat: z.number().int().nonnegative(),
});
export type CompletionClaim = z.infer<typeof completionClaimSchema>;

function mac(body: string, secret: string): string {
  return createHmac('sha256', secret).update(`completion:${body}`).digest('base64url');
}

/** The claim of a completion link: the name frozen with the record (certifiedName), never the learner's current one. */
export function claimOf(record: Pick<CompletionRecord, 'certifiedName' | 'labId' | 'steps'>, now = Date.now()): CompletionClaim {
  return { v: 1, name: record.certifiedName, lab: record.labId, steps: record.steps.map((s) => [s.stepId, s.passedAt]), iat: now };
}

export function signCompletion(claim: CompletionClaim, secret: string): string {
  const body = Buffer.from(JSON.stringify(completionClaimSchema.parse(claim))).toString('base64url');
  return `${body}.${mac(body, secret)}`;
}

/** The claim of a token when its signature holds, else null (tampered, foreign, malformed). */
export function verifyCompletion(token: string, secret: string): CompletionClaim | null {
  if (token.length > 8192) return null;
  const dot = token.indexOf('.');
  if (dot <= 0 || dot !== token.lastIndexOf('.')) return null;
  const body = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1));
  const expected = Buffer.from(mac(body, secret));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  try {
    return completionClaimSchema.parse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')));
  } catch {
    return null;
  }
}

/** The public verification path of a record (locale-prefixed). */
export function completionPath(token: string, locale: string): string {
  return `/${locale}/completion/${token}`;
}
