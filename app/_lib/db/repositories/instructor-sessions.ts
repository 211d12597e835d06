// Server-side instructor sessions: one row per signed-in browser, keyed by the SHA-256 of the
// secret only the signed cookie carries; sign-out and revocation delete rows.
import { z } from 'zod';
import type { Db } from '../database';
import { newSecret, secretPattern, sha256Hex } from '../secrets';
import { emailSchema } from '../validation';
import type { Instructor } from './instructors';

// ---------- instructor sessions ----------

/** A session secret: 256 random bits, base64url (43 characters). */
export const instructorSessionSecretSchema = z.string().regex(secretPattern);

/**
 * Starts a server-side instructor session (one per signed-in browser) and returns its secret, which
 * goes into the signed cookie; only its SHA-256 is stored. Expired sessions of the instructor are
 * pruned on the way.
 */
export async function createInstructorSession(
  db: Db,
  instructorId: string,
  ttlMs: number,
  now = Date.now(),
): Promise<{ secret: string; expiresAtMs: number }> {
  const ttl = z.number().int().positive().max(31 * 24 * 3_600_000).parse(ttlMs);
  const secret = newSecret();
  const expiresAtMs = now + ttl;
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('instructor_sessions').where('instructor_id', '=', instructorId).where('expires_at', '<=', now).execute();
    await trx
      .insertInto('instructor_sessions')
      .values({ id_hash: sha256Hex(secret), instructor_id: instructorId, created_at: now, expires_at: expiresAtMs })
      .execute();
  });
  return { secret, expiresAtMs };
}

/** The instructor of a live session (not revoked, not expired), or null. */
export async function instructorForSession(db: Db, secret: string, now = Date.now()): Promise<Instructor | null> {
  if (!instructorSessionSecretSchema.safeParse(secret).success) return null;
  const row = await db
    .selectFrom('instructor_sessions')
    .innerJoin('instructors', 'instructors.id', 'instructor_sessions.instructor_id')
    .select(['instructors.id', 'instructors.email', 'instructors.created_at'])
    .where('instructor_sessions.id_hash', '=', sha256Hex(secret))
    .where('instructor_sessions.expires_at', '>', now)
    .executeTakeFirst();
  return row ? { id: row.id, email: row.email, createdAtMs: row.created_at } : null;
}

/** Revokes one session (sign-out); false when it was not live. */
export async function revokeInstructorSession(db: Db, secret: string): Promise<boolean> {
  if (!instructorSessionSecretSchema.safeParse(secret).success) return false;
  const result = await db.deleteFrom('instructor_sessions').where('id_hash', '=', sha256Hex(secret)).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Revokes every session of the instructor (sign out everywhere); returns how many there were. */
export async function revokeAllInstructorSessions(db: Db, instructorId: string): Promise<number> {
  const result = await db.deleteFrom('instructor_sessions').where('instructor_id', '=', instructorId).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** The CLI's revocation: every session of the instructor with this email; null when no such email. */
export async function revokeInstructorSessionsByEmail(db: Db, email: string): Promise<number | null> {
  const cleanEmail = emailSchema.parse(email);
  const row = await db.selectFrom('instructors').select('id').where('email', '=', cleanEmail).executeTakeFirst();
  if (!row) return null;
  return revokeAllInstructorSessions(db, row.id);
}
