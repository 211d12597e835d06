// Typed data access for progress, learners, instructors and workshops. Every function takes the
// Kysely handle first (from openDatabase) and validates its inputs with zod (throws a ZodError on
// bad input); expected outcomes that are not bugs (workshop full, ended, email taken) are typed
// results, not exceptions. Timestamps are ms since the epoch; `now` parameters default to Date.now().
// Server-only (node:crypto, argon2).
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { hash as argon2Hash, verify as argon2Verify, type Algorithm } from '@node-rs/argon2';
import type { Selectable } from 'kysely';
import { z } from 'zod';
import { evidenceSchema, type Evidence } from '../../../labs/core/model';
import type { Db } from './database';
import type { LearnersTable, StepResultsTable, WorkshopsTable } from './schema';

// ---------- shared validation ----------

/** Learner ids: the app's cookie ids (and the agent protocol's learnerId pattern). */
export const learnerIdSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_.:-]+$/, { error: 'learner id may contain only letters, digits and _ . : -' });
export const labIdSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[a-z0-9-]+$/, { error: 'lab id must be kebab-case' });
export const stepIdSchema = z.string().min(1).max(100);
export const lessonSlugSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[a-z0-9-]+$/, { error: 'lesson slug must be kebab-case' });

/** Unicode control characters and bidi overrides have no place in a name shown to others. */
const unsafeNameChars = /[\p{Cc}\u200B\u202A-\u202E\u2066-\u2069\uFEFF]/u;
export const displayNameMaxChars = 40;

/** A name people see (learner display name, workshop member name): trimmed, 1-40 characters. */
export const displayNameSchema = z
  .string()
  .transform((value) => value.normalize('NFC').trim().replace(/\s+/g, ' '))
  .pipe(
    z
      .string()
      .min(1, { error: 'name must not be empty' })
      .refine((value) => [...value].length <= displayNameMaxChars, {
        error: `name must be at most ${displayNameMaxChars} characters`,
      })
      .refine((value) => !unsafeNameChars.test(value), { error: 'name must not contain control characters' }),
  );

export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(254, { error: 'email must be at most 254 characters' })
  .pipe(z.email({ error: 'not a valid email address' }));

export const passwordMinChars = 10;
export const passwordSchema = z
  .string()
  .min(passwordMinChars, { error: `password must be at least ${passwordMinChars} characters` })
  .max(256, { error: 'password must be at most 256 characters' });

const timestampMsSchema = z.number().int().nonnegative().max(8.64e15);
const evidenceMaxBytes = 16 * 1024;

function newId(): string {
  return randomBytes(18).toString('base64url');
}

function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

// ---------- learners ----------

export interface Learner {
  id: string;
  displayName: string | null;
  createdAt: number;
}

function toLearner(row: Pick<Selectable<LearnersTable>, 'id' | 'display_name' | 'created_at'>): Learner {
  return { id: row.id, displayName: row.display_name, createdAt: row.created_at };
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
async function ensureLearnerRow(db: Db, id: string, now: number): Promise<void> {
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
  const secret = randomBytes(32).toString('base64url');
  await db.updateTable('learners').set({ resume_secret_hash: sha256Hex(secret) }).where('id', '=', id).execute();
  return secret;
}

const resumeSecretSchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/);

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

// ---------- step results ----------

export const recordStepResultInputSchema = z.object({
  learnerId: learnerIdSchema,
  labId: labIdSchema,
  stepId: stepIdSchema,
  status: z.literal('passed').default('passed'),
  message: z.object({ en: z.string().max(2000), zh: z.string().max(2000) }).nullable().default(null),
  evidence: evidenceSchema.refine((value) => Buffer.byteLength(JSON.stringify(value)) <= evidenceMaxBytes, {
    error: `evidence must be at most ${evidenceMaxBytes} bytes of JSON`,
  }),
  /** When the check passed (the agent's StepResult.atMs). */
  passedAt: timestampMsSchema,
  /** Dedupe key for retried writes; defaults to one per (learner, lab, step). */
  idempotencyKey: z.string().min(1).max(400).optional(),
});
export type RecordStepResultInput = z.input<typeof recordStepResultInputSchema>;

/** The default idempotency key: one passed result per learner, lab and step. */
export function stepIdempotencyKey(learnerId: string, labId: string, stepId: string): string {
  return JSON.stringify(['step', learnerId, labId, stepId]);
}

/**
 * Stores a passed step with its evidence, exactly once: writing the same result again (a retry, a
 * reconnect, a second agent) is a no-op. `inserted` says whether this call stored it. Safe to retry
 * with withDbRetry. Creates the learner row when missing.
 */
export async function recordStepResult(
  db: Db,
  input: RecordStepResultInput,
  now = Date.now(),
): Promise<{ inserted: boolean }> {
  const r = recordStepResultInputSchema.parse(input);
  return db.transaction().execute(async (trx) => {
    await ensureLearnerRow(trx, r.learnerId, now);
    // The name the learner has now is the one this step certifies (renaming later changes nothing).
    const learner = await trx.selectFrom('learners').select('display_name').where('id', '=', r.learnerId).executeTakeFirst();
    const result = await trx
      .insertInto('step_results')
      .values({
        idempotency_key: r.idempotencyKey ?? stepIdempotencyKey(r.learnerId, r.labId, r.stepId),
        learner_id: r.learnerId,
        lab_id: r.labId,
        step_id: r.stepId,
        status: r.status,
        message_en: r.message?.en ?? null,
        message_zh: r.message?.zh ?? null,
        evidence: JSON.stringify(r.evidence),
        passed_at: r.passedAt,
        recorded_at: now,
        display_name: learner?.display_name ?? null,
      })
      // No conflict target: a duplicate key OR a second pass of the same step are both no-ops.
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return { inserted: Number(result.numInsertedOrUpdatedRows ?? 0) > 0 };
  });
}

export interface StoredStepResult {
  learnerId: string;
  labId: string;
  stepId: string;
  status: 'passed';
  message: { en: string; zh: string } | null;
  evidence: Evidence;
  passedAt: number;
  recordedAt: number;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function parseEvidence(text: string): Evidence {
  const parsed = evidenceSchema.safeParse(parseJson(text));
  return parsed.success ? parsed.data : {};
}

function toStoredStepResult(row: Selectable<StepResultsTable>): StoredStepResult {
  return {
    learnerId: row.learner_id,
    labId: row.lab_id,
    stepId: row.step_id,
    status: row.status,
    message: row.message_en !== null || row.message_zh !== null ? { en: row.message_en ?? '', zh: row.message_zh ?? '' } : null,
    evidence: parseEvidence(row.evidence),
    passedAt: row.passed_at,
    recordedAt: row.recorded_at,
  };
}

/** A learner's passed steps (of one lab, or all), oldest first. */
export async function progressFor(db: Db, learnerId: string, labId?: string): Promise<StoredStepResult[]> {
  const id = learnerIdSchema.parse(learnerId);
  let query = db.selectFrom('step_results').selectAll().where('learner_id', '=', id);
  if (labId !== undefined) query = query.where('lab_id', '=', labIdSchema.parse(labId));
  const rows = await query.orderBy('passed_at').orderBy('lab_id').orderBy('step_id').execute();
  return rows.map(toStoredStepResult);
}

// ---------- instructors ----------

export interface Instructor {
  id: string;
  email: string;
  createdAt: number;
}

/** argon2id with the library's defaults (19 MiB, 2 passes, 1 lane: the OWASP baseline). */
const ARGON2ID = 2 as Algorithm.Argon2id;

export async function hashPassword(password: string): Promise<string> {
  return argon2Hash(passwordSchema.parse(password), { algorithm: ARGON2ID });
}

let dummyHash: Promise<string> | null = null;

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
  return { ok: true, instructor: { id, email: cleanEmail, createdAt: now } };
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

// ---------- instructor sessions ----------

/** A session secret: 256 random bits, base64url (43 characters). */
export const instructorSessionSecretSchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/);

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
): Promise<{ secret: string; expiresAt: number }> {
  const ttl = z.number().int().positive().max(31 * 24 * 3_600_000).parse(ttlMs);
  const secret = randomBytes(32).toString('base64url');
  const expiresAt = now + ttl;
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('instructor_sessions').where('instructor_id', '=', instructorId).where('expires_at', '<=', now).execute();
    await trx
      .insertInto('instructor_sessions')
      .values({ id_hash: sha256Hex(secret), instructor_id: instructorId, created_at: now, expires_at: expiresAt })
      .execute();
  });
  return { secret, expiresAt };
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
  return row ? { id: row.id, email: row.email, createdAt: row.created_at } : null;
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

/** The instructor when email and password match, else null (same work either way: no user probing). */
export async function verifyInstructor(db: Db, email: string, password: string): Promise<Instructor | null> {
  const cleanEmail = emailSchema.safeParse(email);
  if (!cleanEmail.success || password.length === 0 || password.length > 256) return null;
  const row = await db
    .selectFrom('instructors')
    .select(['id', 'email', 'password_hash', 'created_at'])
    .where('email', '=', cleanEmail.data)
    .executeTakeFirst();
  if (!row) {
    dummyHash ??= argon2Hash('not-a-real-password-' + newId(), { algorithm: ARGON2ID });
    await argon2Verify(await dummyHash, password).catch(() => false);
    return null;
  }
  const ok = await argon2Verify(row.password_hash, password).catch(() => false);
  return ok ? { id: row.id, email: row.email, createdAt: row.created_at } : null;
}

export async function getInstructor(db: Db, id: string): Promise<Instructor | null> {
  const row = await db.selectFrom('instructors').select(['id', 'email', 'created_at']).where('id', '=', id).executeTakeFirst();
  return row ? { id: row.id, email: row.email, createdAt: row.created_at } : null;
}

// ---------- workshops ----------

/** Join-code characters: digits and capitals without look-alikes (0/O, 1/I/L, 5/S, 2/Z, 8/B, U/V). */
export const workshopCodeAlphabet = '346789ACDEFGHJKMNPQRTWXY';
const workshopCodeLength = 6;
const workshopCodePattern = new RegExp(`^[${workshopCodeAlphabet}]{3}-[${workshopCodeAlphabet}]{3}$`);

/** A fresh join code like K7P-3QX (24^6 = 191 million codes). */
export function generateWorkshopCode(): string {
  let raw = '';
  for (let i = 0; i < workshopCodeLength; i++) raw += workshopCodeAlphabet[randomInt(workshopCodeAlphabet.length)];
  return `${raw.slice(0, 3)}-${raw.slice(3)}`;
}

/** What a person typed, as a canonical code (case, spaces and dashes forgiven), or null. */
export function normalizeWorkshopCode(input: string): string | null {
  const raw = input.toUpperCase().replace(/[\s-]/g, '');
  if (raw.length !== workshopCodeLength) return null;
  const code = `${raw.slice(0, 3)}-${raw.slice(3)}`;
  return workshopCodePattern.test(code) ? code : null;
}

export interface Workshop {
  id: string;
  code: string;
  title: string;
  lessons: string[];
  capacity: number;
  memberCount: number;
  startsAt: number;
  endsAt: number;
  endedAt: number | null;
  createdBy: string;
  createdAt: number;
}

function toWorkshop(row: Selectable<WorkshopsTable>): Workshop {
  const lessons = z.array(z.string()).safeParse(parseJson(row.lessons));
  return {
    id: row.id,
    code: row.code,
    title: row.title,
    lessons: lessons.success ? lessons.data : [],
    capacity: row.capacity,
    memberCount: row.member_count,
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    endedAt: row.ended_at,
    createdBy: row.created_by,
    createdAt: row.created_at,
  };
}

/** Ended early by an instructor, or past its end time. */
export function workshopHasEnded(workshop: Pick<Workshop, 'endsAt' | 'endedAt'>, now = Date.now()): boolean {
  return workshop.endedAt !== null || now >= workshop.endsAt;
}

export const workshopCapacityMax = 1000;

export const createWorkshopInputSchema = z
  .object({
    title: z
      .string()
      .transform((value) => value.normalize('NFC').trim())
      .pipe(
        z
          .string()
          .min(1, { error: 'title must not be empty' })
          .max(120, { error: 'title must be at most 120 characters' })
          .refine((value) => !unsafeNameChars.test(value), { error: 'title must not contain control characters' }),
      ),
    lessons: z
      .array(lessonSlugSchema)
      .min(1, { error: 'pick at least one lesson' })
      .max(50)
      .refine((value) => new Set(value).size === value.length, { error: 'lessons must not repeat' }),
    capacity: z.number().int().min(1).max(workshopCapacityMax),
    startsAt: timestampMsSchema,
    endsAt: timestampMsSchema,
    createdBy: z.string().min(1),
  })
  .refine((value) => value.endsAt > value.startsAt, { error: 'endsAt must be after startsAt', path: ['endsAt'] });
export type CreateWorkshopInput = z.input<typeof createWorkshopInputSchema>;

export interface CreateWorkshopOptions {
  now?: number;
  /** Code generator (tests force collisions with it). */
  generateCode?: () => string;
  /** Tries before giving up on finding an unused code (default 10). */
  codeAttempts?: number;
}

/** Creates a workshop with a fresh unique join code; its creator becomes its first instructor. */
export async function createWorkshop(
  db: Db,
  input: CreateWorkshopInput,
  options: CreateWorkshopOptions = {},
): Promise<Workshop> {
  const w = createWorkshopInputSchema.parse(input);
  const now = options.now ?? Date.now();
  const generate = options.generateCode ?? generateWorkshopCode;
  const attempts = options.codeAttempts ?? 10;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const code = generate();
    if (!workshopCodePattern.test(code)) throw new Error(`generated workshop code ${JSON.stringify(code)} is malformed`);
    const id = newId();
    const inserted = await db.transaction().execute(async (trx) => {
      const result = await trx
        .insertInto('workshops')
        .values({
          id,
          code,
          title: w.title,
          lessons: JSON.stringify(w.lessons),
          capacity: w.capacity,
          member_count: 0,
          starts_at: w.startsAt,
          ends_at: w.endsAt,
          ended_at: null,
          created_by: w.createdBy,
          created_at: now,
        })
        .onConflict((oc) => oc.column('code').doNothing())
        .executeTakeFirst();
      if (Number(result.numInsertedOrUpdatedRows ?? 0) === 0) return false;
      await trx.insertInto('workshop_instructors').values({ workshop_id: id, instructor_id: w.createdBy, added_at: now }).execute();
      return true;
    });
    if (inserted) {
      const workshop = await getWorkshop(db, id);
      if (!workshop) throw new Error(`workshop ${id} vanished right after creation`);
      return workshop;
    }
  }
  throw new Error(`no unused workshop code after ${attempts} tries`);
}

export async function getWorkshop(db: Db, id: string): Promise<Workshop | null> {
  const row = await db.selectFrom('workshops').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toWorkshop(row) : null;
}

/** The workshop for a code as typed by a person (normalized), or null. */
export async function getWorkshopByCode(db: Db, code: string): Promise<Workshop | null> {
  const normalized = normalizeWorkshopCode(code);
  if (normalized === null) return null;
  const row = await db.selectFrom('workshops').selectAll().where('code', '=', normalized).executeTakeFirst();
  return row ? toWorkshop(row) : null;
}

/** Workshops an instructor runs, newest first. */
export async function workshopsForInstructor(db: Db, instructorId: string): Promise<Workshop[]> {
  const rows = await db
    .selectFrom('workshops')
    .innerJoin('workshop_instructors', 'workshop_instructors.workshop_id', 'workshops.id')
    .selectAll('workshops')
    .where('workshop_instructors.instructor_id', '=', instructorId)
    .orderBy('workshops.starts_at', 'desc')
    .execute();
  return rows.map(toWorkshop);
}

export async function addWorkshopInstructor(db: Db, workshopId: string, instructorId: string, now = Date.now()): Promise<void> {
  await db
    .insertInto('workshop_instructors')
    .values({ workshop_id: workshopId, instructor_id: instructorId, added_at: now })
    .onConflict((oc) => oc.columns(['workshop_id', 'instructor_id']).doNothing())
    .execute();
}

export async function isWorkshopInstructor(db: Db, workshopId: string, instructorId: string): Promise<boolean> {
  const row = await db
    .selectFrom('workshop_instructors')
    .select('instructor_id')
    .where('workshop_id', '=', workshopId)
    .where('instructor_id', '=', instructorId)
    .executeTakeFirst();
  return row !== undefined;
}

export interface WorkshopMember {
  workshopId: string;
  learnerId: string;
  displayName: string;
  joinedAt: number;
}

export const joinWorkshopInputSchema = z.object({
  code: z.string().max(20),
  learnerId: learnerIdSchema,
  displayName: displayNameSchema,
});
export type JoinWorkshopInput = z.input<typeof joinWorkshopInputSchema>;

export type JoinWorkshopResult =
  | { status: 'joined'; workshop: Workshop; member: WorkshopMember; alreadyMember: boolean }
  | { status: 'full'; workshop: Workshop }
  | { status: 'ended'; workshop: Workshop }
  | { status: 'not_found' };

/** Thrown inside the join transaction to roll back the membership row when there is no seat. */
class NoSeat extends Error {}

/**
 * Joins a learner to a workshop by code. Capacity holds under any concurrency: the seat is taken by
 * one conditional UPDATE (member_count < capacity) in the same transaction as the membership row,
 * so concurrent joins serialize on the workshop row (PostgreSQL) or the database (SQLite). Joining
 * again is a no-op that keeps the seat ('joined', alreadyMember). Joining before the start is fine.
 */
export async function joinWorkshop(db: Db, input: JoinWorkshopInput, now = Date.now()): Promise<JoinWorkshopResult> {
  const j = joinWorkshopInputSchema.parse(input);
  const workshop = await getWorkshopByCode(db, j.code);
  if (!workshop) return { status: 'not_found' };
  const existing = await db
    .selectFrom('workshop_members')
    .selectAll()
    .where('workshop_id', '=', workshop.id)
    .where('learner_id', '=', j.learnerId)
    .executeTakeFirst();
  if (existing) {
    return { status: 'joined', workshop, member: toMember(existing), alreadyMember: true };
  }
  if (workshopHasEnded(workshop, now)) return { status: 'ended', workshop };
  try {
    const alreadyMember = await db.transaction().execute(async (trx) => {
      await ensureLearnerRow(trx, j.learnerId, now);
      const member = await trx
        .insertInto('workshop_members')
        .values({ workshop_id: workshop.id, learner_id: j.learnerId, display_name: j.displayName, joined_at: now })
        .onConflict((oc) => oc.columns(['workshop_id', 'learner_id']).doNothing())
        .executeTakeFirst();
      if (Number(member.numInsertedOrUpdatedRows ?? 0) === 0) return true; // a concurrent join of the same learner won
      const seat = await trx
        .updateTable('workshops')
        .set((eb) => ({ member_count: eb('member_count', '+', 1) }))
        .where('id', '=', workshop.id)
        .whereRef('member_count', '<', 'capacity')
        .where('ended_at', 'is', null)
        .where('ends_at', '>', now)
        .executeTakeFirst();
      if (Number(seat.numUpdatedRows) === 0) throw new NoSeat();
      await trx
        .updateTable('learners')
        .set({ display_name: j.displayName })
        .where('id', '=', j.learnerId)
        .where('display_name', 'is', null)
        .execute();
      return false;
    });
    const row = await db
      .selectFrom('workshop_members')
      .selectAll()
      .where('workshop_id', '=', workshop.id)
      .where('learner_id', '=', j.learnerId)
      .executeTakeFirstOrThrow();
    const fresh = (await getWorkshop(db, workshop.id)) ?? workshop;
    return { status: 'joined', workshop: fresh, member: toMember(row), alreadyMember };
  } catch (error) {
    if (!(error instanceof NoSeat)) throw error;
    const fresh = (await getWorkshop(db, workshop.id)) ?? workshop;
    return workshopHasEnded(fresh, now) ? { status: 'ended', workshop: fresh } : { status: 'full', workshop: fresh };
  }
}

function toMember(row: { workshop_id: string; learner_id: string; display_name: string; joined_at: number }): WorkshopMember {
  return { workshopId: row.workshop_id, learnerId: row.learner_id, displayName: row.display_name, joinedAt: row.joined_at };
}

/** Members in join order. */
export async function workshopRoster(db: Db, workshopId: string): Promise<WorkshopMember[]> {
  const rows = await db
    .selectFrom('workshop_members')
    .selectAll()
    .where('workshop_id', '=', workshopId)
    .orderBy('joined_at')
    .orderBy('learner_id')
    .execute();
  return rows.map(toMember);
}

/** Workshops a learner has joined, newest first. */
export async function workshopsForLearner(db: Db, learnerId: string): Promise<Workshop[]> {
  const rows = await db
    .selectFrom('workshops')
    .innerJoin('workshop_members', 'workshop_members.workshop_id', 'workshops.id')
    .selectAll('workshops')
    .where('workshop_members.learner_id', '=', learnerIdSchema.parse(learnerId))
    .orderBy('workshops.starts_at', 'desc')
    .execute();
  return rows.map(toWorkshop);
}

/** Ends the workshop now (no new joins; members keep everything they earned). */
export async function endWorkshop(db: Db, workshopId: string, now = Date.now()): Promise<Workshop | null> {
  await db.updateTable('workshops').set({ ended_at: now }).where('id', '=', workshopId).where('ended_at', 'is', null).execute();
  return getWorkshop(db, workshopId);
}

/**
 * Workshops whose end time has passed but that nobody ended: marks each ended (ended_at = now) with
 * one conditional UPDATE, so of several app processes sweeping at once exactly one claims it.
 * Returns the workshops this call claimed (their sandboxes are still to be torn down).
 */
export async function claimExpiredWorkshops(db: Db, now = Date.now()): Promise<Workshop[]> {
  const due = await db.selectFrom('workshops').select('id').where('ended_at', 'is', null).where('ends_at', '<=', now).execute();
  const claimed: Workshop[] = [];
  for (const { id } of due) {
    const res = await db.updateTable('workshops').set({ ended_at: now }).where('id', '=', id).where('ended_at', 'is', null).executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) continue;
    const workshop = await getWorkshop(db, id);
    if (workshop) claimed.push(workshop);
  }
  return claimed;
}

export type ExtendWorkshopResult =
  | { status: 'extended'; workshop: Workshop }
  | { status: 'ended'; workshop: Workshop }
  | { status: 'not_found' };

/**
 * Moves the end time of a workshop that has not ended (must be in the future and after the start).
 * An ended workshop (ended early, or past its end time) stays ended: its members' lessons are locked
 * and its sandboxes were torn down, so reopening it would surprise everyone; 'ended' is returned
 * and nothing changes (create a new workshop instead). The check and the write are one conditional
 * UPDATE, so an extend racing an end cannot reopen it.
 */
export async function extendWorkshop(db: Db, workshopId: string, endsAt: number, now = Date.now()): Promise<ExtendWorkshopResult> {
  const end = timestampMsSchema
    .refine((value) => value > now, { error: 'the new end time must be in the future' })
    .parse(endsAt);
  const workshop = await getWorkshop(db, workshopId);
  if (!workshop) return { status: 'not_found' };
  if (end <= workshop.startsAt) {
    throw new z.ZodError([{ code: 'custom', message: 'the new end time must be after the start', path: ['endsAt'], input: end }]);
  }
  const result = await db
    .updateTable('workshops')
    .set({ ends_at: end })
    .where('id', '=', workshopId)
    .where('ended_at', 'is', null)
    .where('ends_at', '>', now)
    .executeTakeFirst();
  const fresh = (await getWorkshop(db, workshopId)) ?? workshop;
  return Number(result.numUpdatedRows) > 0 ? { status: 'extended', workshop: fresh } : { status: 'ended', workshop: fresh };
}

/**
 * Whether a lesson is locked for a learner because their workshop ended: the learner is a member of
 * at least one workshop that includes this lesson, and every such workshop has ended (ended early or
 * past its end time). Returns the workshop that ended last, or null when the lesson is open (a
 * self-paced learner, a lesson outside their workshops, or a workshop still upcoming or running).
 * Their stored progress is untouched either way.
 */
export async function workshopLockFor(db: Db, learnerId: string, lessonSlug: string, now = Date.now()): Promise<Workshop | null> {
  const id = learnerIdSchema.safeParse(learnerId);
  const slug = lessonSlugSchema.safeParse(lessonSlug);
  if (!id.success || !slug.success) return null;
  const mine = (await workshopsForLearner(db, id.data)).filter((w) => w.lessons.includes(slug.data));
  if (mine.length === 0 || mine.some((w) => !workshopHasEnded(w, now))) return null;
  const endOf = (w: Workshop) => Math.min(w.endedAt ?? w.endsAt, w.endsAt);
  return mine.reduce((latest, w) => (endOf(w) > endOf(latest) ? w : latest));
}

// ---------- workshop messages ----------

export interface WorkshopMessage {
  id: string;
  workshopId: string;
  instructorId: string | null;
  text: string;
  createdAt: number;
}

export const messageTextSchema = z
  .string()
  .transform((value) => value.trim())
  .pipe(z.string().min(1, { error: 'message must not be empty' }).max(2000, { error: 'message must be at most 2000 characters' }));

export async function postWorkshopMessage(
  db: Db,
  input: { workshopId: string; instructorId: string | null; text: string },
  now = Date.now(),
): Promise<WorkshopMessage> {
  const text = messageTextSchema.parse(input.text);
  const message: WorkshopMessage = { id: newId(), workshopId: input.workshopId, instructorId: input.instructorId, text, createdAt: now };
  await db
    .insertInto('workshop_messages')
    .values({ id: message.id, workshop_id: message.workshopId, instructor_id: message.instructorId, text, created_at: now })
    .execute();
  return message;
}

/** Messages oldest first; `afterMs` returns only newer ones (for polling). */
export async function workshopMessages(
  db: Db,
  workshopId: string,
  options: { afterMs?: number; limit?: number } = {},
): Promise<WorkshopMessage[]> {
  let query = db.selectFrom('workshop_messages').selectAll().where('workshop_id', '=', workshopId);
  if (options.afterMs !== undefined) query = query.where('created_at', '>', options.afterMs);
  const rows = await query
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .limit(options.limit ?? 100)
    .execute();
  return rows.reverse().map((row) => ({
    id: row.id,
    workshopId: row.workshop_id,
    instructorId: row.instructor_id,
    text: row.text,
    createdAt: row.created_at,
  }));
}

// ---------- progress and completion ----------

export interface WorkshopProgressRow {
  learnerId: string;
  displayName: string;
  joinedAt: number;
  /** passed[labId][stepId] = passedAt */
  passed: Record<string, Record<string, number>>;
}

/**
 * Learners x steps for a workshop: every member with the steps they passed (of `labIds`, or of any
 * lab). Progress earned before joining counts too: it is the learner's, not the workshop's.
 */
export async function workshopProgress(db: Db, workshopId: string, labIds?: string[]): Promise<WorkshopProgressRow[]> {
  const roster = await workshopRoster(db, workshopId);
  let query = db
    .selectFrom('step_results')
    .innerJoin('workshop_members', 'workshop_members.learner_id', 'step_results.learner_id')
    .select(['step_results.learner_id', 'step_results.lab_id', 'step_results.step_id', 'step_results.passed_at'])
    .where('workshop_members.workshop_id', '=', workshopId);
  if (labIds !== undefined) {
    if (labIds.length === 0) return roster.map((m) => ({ ...pickMember(m), passed: {} }));
    query = query.where('step_results.lab_id', 'in', labIds.map((id) => labIdSchema.parse(id)));
  }
  const results = await query.execute();
  const byLearner = new Map<string, WorkshopProgressRow>(roster.map((m) => [m.learnerId, { ...pickMember(m), passed: {} }]));
  for (const r of results) {
    const row = byLearner.get(r.learner_id);
    if (!row) continue;
    (row.passed[r.lab_id] ??= {})[r.step_id] = r.passed_at;
  }
  return [...byLearner.values()];
}

function pickMember(m: WorkshopMember): Omit<WorkshopProgressRow, 'passed'> {
  return { learnerId: m.learnerId, displayName: m.displayName, joinedAt: m.joinedAt };
}

/** What one learner did in one lab, with the kernel evidence of each passed step. */
export interface CompletionRecord {
  learnerId: string;
  /** The learner's name now (the instructor's roster and export). */
  displayName: string | null;
  /**
   * The name the record certifies (the completion link): the learner's name when the record's
   * latest step was stored, frozen there; a later rename does not change it.
   */
  certifiedName: string | null;
  labId: string;
  steps: Array<{
    stepId: string;
    status: 'passed';
    passedAt: number;
    message: { en: string; zh: string } | null;
    evidence: Evidence;
  }>;
  firstPassedAt: number;
  lastPassedAt: number;
}

export type CompletionScope = { workshopId: string; labIds?: string[] } | { learnerId: string; labIds?: string[] };

/**
 * Completion records per learner and lab (steps oldest first): for every member of a workshop
 * (named as they joined) or for one learner. Whether a lab is complete is for the caller to judge
 * against the lab's step list (labs/), which the data layer does not know.
 */
export async function completionRecords(db: Db, scope: CompletionScope): Promise<CompletionRecord[]> {
  const names = new Map<string, string | null>();
  let learnerIds: string[];
  if ('workshopId' in scope) {
    const roster = await workshopRoster(db, scope.workshopId);
    for (const m of roster) names.set(m.learnerId, m.displayName);
    learnerIds = roster.map((m) => m.learnerId);
  } else {
    const learner = await getLearner(db, learnerIdSchema.parse(scope.learnerId));
    if (!learner) return [];
    names.set(learner.id, learner.displayName);
    learnerIds = [learner.id];
  }
  if (learnerIds.length === 0) return [];
  let query = db.selectFrom('step_results').selectAll().where('learner_id', 'in', learnerIds);
  if (scope.labIds !== undefined) {
    if (scope.labIds.length === 0) return [];
    query = query.where('lab_id', 'in', scope.labIds.map((id) => labIdSchema.parse(id)));
  }
  const rows = await query.orderBy('passed_at').orderBy('step_id').execute();
  const records = new Map<string, CompletionRecord>();
  for (const row of rows) {
    const key = JSON.stringify([row.learner_id, row.lab_id]);
    let record = records.get(key);
    if (!record) {
      record = {
        learnerId: row.learner_id,
        displayName: names.get(row.learner_id) ?? null,
        certifiedName: row.display_name,
        labId: row.lab_id,
        steps: [],
        firstPassedAt: row.passed_at,
        lastPassedAt: row.passed_at,
      };
      records.set(key, record);
    }
    const stored = toStoredStepResult(row);
    record.steps.push({ stepId: stored.stepId, status: stored.status, passedAt: stored.passedAt, message: stored.message, evidence: stored.evidence });
    record.firstPassedAt = Math.min(record.firstPassedAt, row.passed_at);
    if (row.passed_at >= record.lastPassedAt) record.certifiedName = row.display_name; // rows come in passed_at order
    record.lastPassedAt = Math.max(record.lastPassedAt, row.passed_at);
  }
  const order = new Map(learnerIds.map((id, index) => [id, index]));
  return [...records.values()].sort(
    (a, b) => (order.get(a.learnerId) ?? 0) - (order.get(b.learnerId) ?? 0) || a.labId.localeCompare(b.labId),
  );
}

// ---------- export ----------

export const completionCsvColumns = [
  'learner_id',
  'display_name',
  'lab_id',
  'step_id',
  'status',
  'passed_at',
  'message_en',
  'message_zh',
  'evidence',
] as const;

/** One CSV field per RFC 4180: quoted when it holds a comma, quote, CR or LF; quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * Text a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a leading apostrophe
 * (OWASP "CSV injection"); only for free text people typed, never for ids or numbers.
 */
function defuseFormula(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/**
 * Completion records as CSV (RFC 4180: CRLF line ends, header row, UTF-8; a BOM so spreadsheet
 * programs read Chinese correctly): one row per passed step, passed_at in ISO 8601 UTC, evidence
 * as JSON.
 */
export function toCsv(records: CompletionRecord[], options: { bom?: boolean } = {}): string {
  const lines = [completionCsvColumns.join(',')];
  for (const record of records) {
    for (const step of record.steps) {
      lines.push(
        [
          record.learnerId,
          defuseFormula(record.displayName ?? ''),
          record.labId,
          step.stepId,
          step.status,
          new Date(step.passedAt).toISOString(),
          step.message?.en ?? '',
          step.message?.zh ?? '',
          JSON.stringify(step.evidence),
        ]
          .map(csvField)
          .join(','),
      );
    }
  }
  return (options.bom === false ? '' : '\uFEFF') + lines.join('\r\n') + '\r\n';
}

/** Completion records as JSON (ISO times beside the ms ones, for people reading the file). */
export function toJson(records: CompletionRecord[]): string {
  return JSON.stringify(
    {
      format: 'nslab-completion-records',
      version: 1,
      records: records.map((r) => ({
        ...r,
        firstPassedAtIso: new Date(r.firstPassedAt).toISOString(),
        lastPassedAtIso: new Date(r.lastPassedAt).toISOString(),
        steps: r.steps.map((s) => ({ ...s, passedAtIso: new Date(s.passedAt).toISOString() })),
      })),
    },
    null,
    2,
  );
}
