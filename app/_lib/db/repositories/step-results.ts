// Passed steps with their kernel evidence, stored exactly once per learner, lab and step.
import type { Selectable } from 'kysely';
import { z } from 'zod';
import { evidenceSchema, type Evidence } from '@/labs/core/model';
import type { Db } from '../database';
import type { StepResultsTable } from '../schema';
import { labIdSchema, learnerIdSchema, parseJson, stepIdSchema, timestampMsSchema } from '../validation';
import { ensureLearnerRow } from './learners';

const evidenceMaxBytes = 16 * 1024;

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


function parseEvidence(text: string): Evidence {
  const parsed = evidenceSchema.safeParse(parseJson(text));
  return parsed.success ? parsed.data : {};
}

export function toStoredStepResult(row: Selectable<StepResultsTable>): StoredStepResult {
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
