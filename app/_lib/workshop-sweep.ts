// Workshops that reach their end time without an instructor pressing "End" are ended the same way:
// marked ended (their lessons lock for members, see workshopLockFor) and every member's sandbox is
// torn down (progress kept). The periodic driver is workshop-sweeper.server.ts; this part takes
// its database and agent call as arguments so that tests run it against a real database.
import type { Db } from './db/database';
import { claimExpiredWorkshops, getWorkshop } from './db/repository';
import { endWorkshopSandboxes, type EndRetryOptions, type WorkshopEndAgent } from './workshop-end';

/** How often (ms) to look for workshops past their end: NSLAB_WORKSHOP_SWEEP_MS, 500-600000, default 15 s. */
export function workshopSweepMs(env: Record<string, string | undefined> = process.env): number {
  const raw = env.NSLAB_WORKSHOP_SWEEP_MS;
  if (raw === undefined || raw === '') return 15_000;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 500 || value > 600_000) {
    throw new Error(`NSLAB_WORKSHOP_SWEEP_MS must be an integer from 500 to 600000 (milliseconds), got "${raw}"`);
  }
  return value;
}

export interface SweepReport {
  ended: { workshopId: string; endedSessions: number }[];
  /** Claimed workshops whose sandboxes could not be torn down yet (agent unreachable): retried next sweep. */
  pending: string[];
}

/**
 * One sweep: claims the workshops past their end (exactly one of several concurrent sweepers gets
 * each) and ends their members' sandboxes (endWorkshopSandboxes, the service the instructor's End
 * uses too); `pending` carries workshops across sweeps until the agent has ended their sandboxes:
 * claimed ones, and ones an instructor ended while the agent was away.
 */
export async function sweepExpiredWorkshops(
  db: Db,
  pending: Set<string>,
  agent: WorkshopEndAgent,
  now = Date.now(),
  onEnded: (workshopId: string, endedSessions: number) => void = () => {},
  retry: EndRetryOptions = {},
): Promise<SweepReport> {
  const lessonsOf = new Map<string, readonly string[]>();
  for (const workshop of await claimExpiredWorkshops(db, now)) {
    pending.add(workshop.id);
    lessonsOf.set(workshop.id, workshop.lessons);
  }
  const ended: SweepReport['ended'] = [];
  for (const workshopId of [...pending]) {
    const lessons = lessonsOf.get(workshopId) ?? (await getWorkshop(db, workshopId))?.lessons ?? [];
    const result = await endWorkshopSandboxes(db, { id: workshopId, lessons }, agent, { ...retry, now });
    if (!result.ok) continue;
    const endedSessions = result.value.ended;
    pending.delete(workshopId);
    ended.push({ workshopId, endedSessions });
    onEnded(workshopId, endedSessions);
  }
  return { ended, pending: [...pending] };
}
