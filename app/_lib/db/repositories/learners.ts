// Learners: created from the app's cookie ids, display names, resume secrets.
import type { Selectable } from 'kysely';
import { z } from 'zod';
import type { Db } from '../database';
import type { LearnersTable } from '../schema';
import { newId, newSecret, secretPattern, sha256Hex } from '../secrets';
import { displayNameSchema, learnerIdSchema } from '../validation';

export interface Learner {
  id: string;
  displayName: string | null;
  createdAtMs: number;
}

function toLearner(row: Pick<Selectable<LearnersTable>, 'id' | 'display_name' | 'created_at'>): Learner {
  return { id: row.id, displayName: row.display_name, createdAtMs: row.created_at };
}

export const createLearnerInputSchema = z.object({
  /** The cookie's id (app/_lib/learner-cookie.server.ts newLearnerId); a random one when absent. */
  id: learnerIdSchema.optional(),
  displayName: displayNameSchema.optional(),
});
export type CreateLearnerInput = z.input<typeof createLearnerInputSchema>;

/** Creates the learner (or returns the existing one with that id, unchanged). */
export async function createLearner(db: Db, input: CreateLearnerInput = {}, now = Date.now()): Promise<Learner> {
  const parsed = createLearnerInputSchema.parse(input);
  const id = parsed.id ?? newId();
  await db
    .insertInto('learners')
    .values({ id, display_name: parsed.displayName ?? null, resume_secret_hash: null, created_at: now })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  const learner = await getLearner(db, id);
  if (!learner) throw new Error(`learner ${id} vanished right after creation`);
  return learner;
}

/** Makes sure a learner row exists for this id (cookie identities are minted without the DB). */
export async function ensureLearnerRow(db: Db, id: string, now: number): Promise<void> {
  await db
    .insertInto('learners')
    .values({ id, display_name: null, resume_secret_hash: null, created_at: now })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

export async function getLearner(db: Db, id: string): Promise<Learner | null> {
  const parsedId = learnerIdSchema.safeParse(id);
  if (!parsedId.success) return null;
  const row = await db
    .selectFrom('learners')
    .select(['id', 'display_name', 'created_at'])
    .where('id', '=', parsedId.data)
    .executeTakeFirst();
  return row ? toLearner(row) : null;
}

/** Sets the learner's display name (creating the learner row if needed); returns the clean name. */
export async function setDisplayName(db: Db, learnerId: string, displayName: string, now = Date.now()): Promise<string> {
  const id = learnerIdSchema.parse(learnerId);
  const name = displayNameSchema.parse(displayName);
  await ensureLearnerRow(db, id, now);
  await db.updateTable('learners').set({ display_name: name }).where('id', '=', id).execute();
  return name;
}

/**
 * A new resume secret for the learner (for a resume link on another browser). Only its SHA-256 is
 * stored; creating a new one revokes the previous one. The secret is 256 random bits, so a plain
 * hash is enough (no slow KDF needed) and lookups by hash are safe.
 */
export async function createResumeSecret(db: Db, learnerId: string, now = Date.now()): Promise<string> {
  const id = learnerIdSchema.parse(learnerId);
  await ensureLearnerRow(db, id, now);
  const secret = newSecret();
  await db.updateTable('learners').set({ resume_secret_hash: sha256Hex(secret) }).where('id', '=', id).execute();
  return secret;
}

const resumeSecretSchema = z.string().regex(secretPattern);

/** The learner a resume secret belongs to, or null when it is malformed, unknown or revoked. */
export async function verifyResumeSecret(db: Db, secret: string): Promise<Learner | null> {
  if (!resumeSecretSchema.safeParse(secret).success) return null;
  const row = await db
    .selectFrom('learners')
    .select(['id', 'display_name', 'created_at'])
    .where('resume_secret_hash', '=', sha256Hex(secret))
    .executeTakeFirst();
  return row ? toLearner(row) : null;
}
