// Workshops: created with a unique join code, their instructors, ended (by an instructor or by
// their end time passing: claimExpiredWorkshops) or extended.
import type { Selectable } from 'kysely';
import { z } from 'zod';
import type { Db } from '../database';
import { generateWorkshopCode, normalizeWorkshopCode, workshopCodePattern } from '../join-codes';
import type { WorkshopsTable } from '../schema';
import { newId } from '../secrets';
import { lessonSlugSchema, parseJson, timestampMsSchema, unsafeNameChars } from '../validation';

export interface Workshop {
  id: string;
  code: string;
  title: string;
  lessons: string[];
  capacity: number;
  memberCount: number;
  startsAtMs: number;
  endsAtMs: number;
  endedAtMs: number | null;
  createdBy: string;
  createdAtMs: number;
}

export function toWorkshop(row: Selectable<WorkshopsTable>): Workshop {
  const lessons = z.array(z.string()).safeParse(parseJson(row.lessons));
  return {
    id: row.id,
    code: row.code,
    title: row.title,
    lessons: lessons.success ? lessons.data : [],
    capacity: row.capacity,
    memberCount: row.member_count,
    startsAtMs: row.starts_at,
    endsAtMs: row.ends_at,
    endedAtMs: row.ended_at,
    createdBy: row.created_by,
    createdAtMs: row.created_at,
  };
}

/** Ended early by an instructor, or past its end time. */
export function workshopHasEnded(workshop: Pick<Workshop, 'endsAtMs' | 'endedAtMs'>, now = Date.now()): boolean {
  return workshop.endedAtMs !== null || now >= workshop.endsAtMs;
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
    startsAtMs: timestampMsSchema,
    endsAtMs: timestampMsSchema,
    createdBy: z.string().min(1),
  })
  .refine((value) => value.endsAtMs > value.startsAtMs, { error: 'the end must be after the start', path: ['endsAtMs'] });
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
          starts_at: w.startsAtMs,
          ends_at: w.endsAtMs,
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
export async function extendWorkshop(db: Db, workshopId: string, endsAtMs: number, now = Date.now()): Promise<ExtendWorkshopResult> {
  const end = timestampMsSchema
    .refine((value) => value > now, { error: 'the new end time must be in the future' })
    .parse(endsAtMs);
  const workshop = await getWorkshop(db, workshopId);
  if (!workshop) return { status: 'not_found' };
  if (end <= workshop.startsAtMs) {
    throw new z.ZodError([{ code: 'custom', message: 'the new end time must be after the start', path: ['endsAtMs'], input: end }]);
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
