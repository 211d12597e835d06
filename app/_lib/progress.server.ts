// Progress in the database, for the app's server side: what a learner already passed (sent to the
// agent when a session starts, so nothing earned is lost when the agent restarts or the learner
// moves to another browser), and storing what the agent delivers from its outbox, exactly once.
import type { StepResult } from '../../labs/core/model';

export type PassedResult = StepResult & { status: 'passed' };
import type { ProgressItem, ProgressReply } from '../../sandbox-agent/protocol';
import { sharedDatabase, withDbRetry, type Db } from './db/database';
import { progressFor, recordStepResult, workshopLockFor, type Workshop } from './db/repository';

/**
 * The ended workshop that locks this lesson for the learner (see workshopLockFor), or null when it
 * is open. Fails open: when the database is unavailable the learner keeps working (the lock is a
 * class-management rule, not a security boundary; the sandbox is the same either way).
 */
export async function lessonLock(learnerId: string, lessonSlug: string): Promise<Workshop | null> {
  try {
    const { db } = await sharedDatabase();
    return await workshopLockFor(db, learnerId, lessonSlug);
  } catch (error) {
    console.error(JSON.stringify({ level: 'warn', msg: 'workshop lock check skipped: database unavailable', error: String(error) }));
    return null;
  }
}

/** The learner's passed steps of a lab as StepResults, or null when the database is unavailable. */
export async function storedProgress(learnerId: string, labId: string): Promise<PassedResult[] | null> {
  try {
    const { db } = await sharedDatabase();
    const rows = await progressFor(db, learnerId, labId);
    return rows.map((row): PassedResult => ({
      stepId: row.stepId,
      status: 'passed',
      message: row.message,
      hint: null,
      evidence: row.evidence,
      atMs: row.passedAt,
      saved: true,
    }));
  } catch (error) {
    console.error(JSON.stringify({ level: 'warn', msg: 'progress database unavailable', error: String(error) }));
    return null;
  }
}

/** Stores delivered results (idempotent); throws when the database is unavailable (the agent retries). */
export async function storeProgress(items: ProgressItem[], database?: Db): Promise<ProgressReply> {
  const db = database ?? (await sharedDatabase()).db;
  const results: ProgressReply['results'] = [];
  for (const item of items) {
    const { inserted } = await withDbRetry(() =>
      recordStepResult(db, {
        learnerId: item.learnerId,
        labId: item.labId,
        stepId: item.result.stepId,
        message: item.result.message,
        evidence: item.result.evidence,
        passedAt: item.result.atMs,
      }),
    );
    results.push({ key: item.key, stored: inserted ? 'inserted' : 'duplicate' });
  }
  return { results };
}
