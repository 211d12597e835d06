// Workshop membership: joining by code (capacity held under concurrency), rosters, a learner's
// workshops, and whether a lesson is locked because the learner's workshops ended.
import { z } from 'zod';
import type { Db } from '../database';
import { lessonSlugSchema, learnerIdSchema, displayNameSchema } from '../validation';
import { ensureLearnerRow } from './learners';
import { getWorkshop, getWorkshopByCode, toWorkshop, workshopHasEnded, type Workshop } from './workshops';

export interface WorkshopMember {
  workshopId: string;
  learnerId: string;
  displayName: string;
  joinedAtMs: number;
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
  const existing = await memberOf(db, workshop.id, j.learnerId);
  if (existing) {
    return { status: 'joined', workshop, member: existing, alreadyMember: true };
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
    const member = await memberOf(db, workshop.id, j.learnerId);
    if (!member) throw new Error(`membership of ${j.learnerId} in ${workshop.id} vanished right after joining`);
    const fresh = (await getWorkshop(db, workshop.id)) ?? workshop;
    return { status: 'joined', workshop: fresh, member, alreadyMember };
  } catch (error) {
    if (!(error instanceof NoSeat)) throw error;
    const fresh = (await getWorkshop(db, workshop.id)) ?? workshop;
    return workshopHasEnded(fresh, now) ? { status: 'ended', workshop: fresh } : { status: 'full', workshop: fresh };
  }
}

function toMember(row: { workshop_id: string; learner_id: string; display_name: string; joined_at: number }): WorkshopMember {
  return { workshopId: row.workshop_id, learnerId: row.learner_id, displayName: row.display_name, joinedAtMs: row.joined_at };
}

async function memberOf(db: Db, workshopId: string, learnerId: string): Promise<WorkshopMember | null> {
  const row = await db
    .selectFrom('workshop_members')
    .selectAll()
    .where('workshop_id', '=', workshopId)
    .where('learner_id', '=', learnerId)
    .executeTakeFirst();
  return row ? toMember(row) : null;
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
  const endOf = (w: Workshop) => Math.min(w.endedAtMs ?? w.endsAtMs, w.endsAtMs);
  return mine.reduce((latest, w) => (endOf(w) > endOf(latest) ? w : latest));
}
