// The anonymous learner identity: a random id in a cookie, signed with HMAC-SHA256 (APP_SECRET).
// Server-only (node:crypto); never import from client components.
import 'server-only';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

export const LEARNER_COOKIE = 'nslab_learner';
export const LEARNER_COOKIE_MAX_AGE_S = 365 * 24 * 60 * 60;

const appEnvSchema = z.object({
  NODE_ENV: z.string().optional(),
  APP_SECRET: z
    .string({ error: 'APP_SECRET must be set' })
    .min(32, { error: 'APP_SECRET must be at least 32 characters (e.g. `openssl rand -hex 32`)' })
    .optional(),
});

let cachedSecret: string | null = null;

/** APP_SECRET, validated at first use: required in production, a per-process random one in dev. */
export function appSecret(env: Record<string, string | undefined> = process.env): string {
  if (cachedSecret !== null && env === process.env) return cachedSecret;
  const parsed = appEnvSchema.safeParse({ NODE_ENV: env.NODE_ENV, APP_SECRET: env.APP_SECRET || undefined });
  if (!parsed.success) {
    throw new Error(`Invalid environment variable APP_SECRET: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  }
  let secret = parsed.data.APP_SECRET;
  if (secret === undefined) {
    if (parsed.data.NODE_ENV === 'production') {
      throw new Error('Environment variable APP_SECRET is required in production (signs the learner cookie); e.g. `openssl rand -hex 32`');
    }
    secret = randomBytes(32).toString('hex');
  }
  if (env === process.env) cachedSecret = secret;
  return secret;
}

function sign(id: string, secret: string): string {
  return createHmac('sha256', secret).update(`learner:${id}`).digest('base64url');
}

/** A fresh learner id (URL-safe base64; matches the agent's learnerId pattern). */
export function newLearnerId(): string {
  return randomBytes(18).toString('base64url');
}

export function signLearnerId(id: string, secret: string): string {
  return `${id}.${sign(id, secret)}`;
}

/** The learner id of a cookie value, or null when it is missing, malformed or forged. */
export function verifyLearnerCookie(value: string | undefined, secret: string): string | null {
  if (!value) return null;
  const dot = value.lastIndexOf('.');
  if (dot <= 0) return null;
  const id = value.slice(0, dot);
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(id)) return null;
  const given = Buffer.from(value.slice(dot + 1));
  const expected = Buffer.from(sign(id, secret));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  return id;
}
