// Progress in the database, for the app's server side: what a learner already passed (sent to the
// agent when a session starts, so nothing earned is lost when the agent restarts or the learner
// moves to another browser), and storing what the agent delivers from its outbox, exactly once.
import type { StepResult } from '../../labs/core/model';

export type PassedResult = StepResult & { status: 'passed' };
import type { ProgressItem, ProgressReply } from '../../sandbox-agent/protocol';
import { reopenSharedDatabaseAfter, sharedDatabase, withDbRetry, type Db } from './db/database';
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

/** At most ~2 s per delivery (4 tries, 100-400 ms apart, each SQLite try waits <= 250 ms for a lock). */
const storeRetry = { attempts: 4, baseDelayMs: 100, maxDelayMs: 400 };

/**
 * Stores delivered results (idempotent); throws when the database is unavailable (the agent retries).
 * A write refused for good by this handle (read-only file or session) drops the shared handle, so
 * the retry reopens the database and succeeds once it takes writes again.
 */
export async function storeProgress(items: ProgressItem[], database?: Db): Promise<ProgressReply> {
  const db = database ?? (await sharedDatabase()).db;
  const results: ProgressReply['results'] = [];
  try {
    for (const item of items) {
      const { inserted } = await withDbRetry(
        () =>
          recordStepResult(db, {
            learnerId: item.learnerId,
            labId: item.labId,
            stepId: item.result.stepId,
            message: item.result.message,
            evidence: item.result.evidence,
            passedAt: item.result.atMs,
          }),
        // Short: the agent keeps the result in its outbox and retries; answer 503 well within its
        // delivery timeout (httpDeliver, 5 s) instead of holding the request.
        storeRetry,
      );
      results.push({ key: item.key, stored: inserted ? 'inserted' : 'duplicate' });
    }
  } catch (error) {
    if (!database) await reopenSharedDatabaseAfter(error);
    throw error;
  }
  return { results };
}
