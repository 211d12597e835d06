// Random ids, secrets and the hashes the data layer stores instead of them: SHA-256 for 256-bit
// random tokens (resume secrets, instructor sessions: a plain hash is enough and lookups by hash are
// safe), argon2id for passwords people chose.
import { createHash, randomBytes } from 'node:crypto';
import { hash as argon2Hash, verify as argon2Verify, type Algorithm } from '@node-rs/argon2';
import { passwordSchema } from './validation';

/** A row id: 144 random bits, base64url. */
export function newId(): string {
  return randomBytes(18).toString('base64url');
}

/** A bearer secret: 256 random bits, base64url (43 characters). */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** What a stored 256-bit secret looks like (43 base64url characters). */
export const secretPattern = /^[A-Za-z0-9_-]{43}$/;

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** argon2id with the library's defaults (19 MiB, 2 passes, 1 lane: the OWASP baseline). */
const ARGON2ID = 2 as Algorithm.Argon2id;

export async function hashPassword(password: string): Promise<string> {
  return argon2Hash(passwordSchema.parse(password), { algorithm: ARGON2ID });
}

let dummyHash: Promise<string> | null = null;

/**
 * Whether `password` matches the stored argon2 hash. With no hash (unknown account) it still
 * verifies against a throwaway hash and answers false, so both cases cost the same (no probing).
 */
export async function verifyPassword(storedHash: string | null, password: string): Promise<boolean> {
  if (storedHash === null) {
    dummyHash ??= argon2Hash('not-a-real-password-' + newId(), { algorithm: ARGON2ID });
    await argon2Verify(await dummyHash, password).catch(() => false);
    return false;
  }
  return argon2Verify(storedHash, password).catch(() => false);
}
