// Instructor accounts: created by the CLI, signed in by email and password (argon2id).
import type { Db } from '../database';
import { hashPassword, newId, verifyPassword } from '../secrets';
import { emailSchema } from '../validation';

export interface Instructor {
  id: string;
  email: string;
  createdAtMs: number;
}


export type CreateInstructorResult = { ok: true; instructor: Instructor } | { ok: false; reason: 'email_taken' };

/** Creates an instructor account; the password is stored only as an argon2id hash. */
export async function createInstructor(
  db: Db,
  email: string,
  password: string,
  now = Date.now(),
): Promise<CreateInstructorResult> {
  const cleanEmail = emailSchema.parse(email);
  const passwordHash = await hashPassword(password);
  const id = newId();
  const result = await db
    .insertInto('instructors')
    .values({ id, email: cleanEmail, password_hash: passwordHash, created_at: now })
    .onConflict((oc) => oc.column('email').doNothing())
    .executeTakeFirst();
  if (Number(result.numInsertedOrUpdatedRows ?? 0) === 0) return { ok: false, reason: 'email_taken' };
  return { ok: true, instructor: { id, email: cleanEmail, createdAtMs: now } };
}

/** Replaces an instructor's password and signs them out everywhere; false when no such email. */
export async function setInstructorPassword(db: Db, email: string, password: string): Promise<boolean> {
  const cleanEmail = emailSchema.parse(email);
  const passwordHash = await hashPassword(password);
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('instructors')
      .set({ password_hash: passwordHash })
      .where('email', '=', cleanEmail)
      .returning('id')
      .executeTakeFirst();
    if (!row) return false;
    await trx.deleteFrom('instructor_sessions').where('instructor_id', '=', row.id).execute();
    return true;
  });
}

/** The instructor when email and password match, else null (same work either way: no user probing). */
export async function verifyInstructor(db: Db, email: string, password: string): Promise<Instructor | null> {
  const cleanEmail = emailSchema.safeParse(email);
  if (!cleanEmail.success || password.length === 0 || password.length > 256) return null;
  const row = await db
    .selectFrom('instructors')
    .select(['id', 'email', 'password_hash', 'created_at'])
    .where('email', '=', cleanEmail.data)
    .executeTakeFirst();
  const ok = await verifyPassword(row?.password_hash ?? null, password);
  return ok && row ? { id: row.id, email: row.email, createdAtMs: row.created_at } : null;
}

export async function getInstructor(db: Db, id: string): Promise<Instructor | null> {
  const row = await db.selectFrom('instructors').select(['id', 'email', 'created_at']).where('id', '=', id).executeTakeFirst();
  return row ? { id: row.id, email: row.email, createdAtMs: row.created_at } : null;
}
