// The one service that ends a workshop and its sandboxes, used by the instructor's "End"
// (app/api/workshops/[id]/end) and by the sweeper (workshop-sweep.ts, a workshop reaching its end
// time). Ending tears down the members' sandboxes for the workshop's lessons only: a member's
// session of a lab outside the workshop, or of a lesson that another running workshop of theirs
// still gives them (workshopLockFor), keeps running. The agent is asked again (with backoff) when
// it refuses or cannot be reached, so one dropped call does not leave sandboxes running. Pure apart
// from the database and the agent calls it is given (unit-tested in workshop-end.test.ts).
import type { AgentCallResult } from './agent-client.server';
import type { Db } from './db/database';
import { endWorkshop, workshopLockFor, workshopRoster, type Workshop } from './db/repository';

export interface WorkshopEndAgent {
  /** The running sessions of these learners (POST /v1/sessions/query). */
  query(learnerIds: string[]): Promise<AgentCallResult<{ sessions: Array<{ sessionId: string; learnerId: string; labId: string }> }>>;
  /** Ends every session of these learners, closing their sockets with `closeReason` (POST /v1/sessions/end). */
  endLearners(request: { learnerIds: string[]; reason: string; closeReason?: 'workshop-ended' }): Promise<AgentCallResult<{ ended: number }>>;
  /** Ends one session (DELETE /v1/sessions/:id). */
  endSession(sessionId: string): Promise<AgentCallResult<unknown>>;
}

export interface WorkshopEndRequest {
  learnerIds: string[];
  /** The workshop's lessons: only their sessions may end. */
  lessons: readonly string[];
  reason: string;
  closeReason?: 'workshop-ended';
}

/**
 * Ends the members' sessions of lessons now closed for them. A member whose every running session
 * is such a lesson is ended through `endLearners` (their page says the workshop ended); a member
 * who also runs another lab has only the closed lessons' sessions ended, one by one (that lab's
 * page then finds its lesson closed, 410, when it asks for a new sandbox). Returns how many ended.
 */
export async function endWorkshopSessions(db: Db, request: WorkshopEndRequest, agent: WorkshopEndAgent, now = Date.now()): Promise<AgentCallResult<{ ended: number }>> {
  const running: Array<{ sessionId: string; learnerId: string; labId: string }> = [];
  for (let i = 0; i < request.learnerIds.length; i += 2000) {
    const reply = await agent.query(request.learnerIds.slice(i, i + 2000));
    if (!reply.ok) return reply;
    running.push(...reply.value.sessions);
  }
  const byLearner = new Map<string, typeof running>();
  for (const s of running) byLearner.set(s.learnerId, [...(byLearner.get(s.learnerId) ?? []), s]);
  const wholeLearners: string[] = [];
  const single: string[] = [];
  for (const [learnerId, sessions] of byLearner) {
    const closing = [];
    for (const s of sessions) {
      if (request.lessons.includes(s.labId) && (await workshopLockFor(db, learnerId, s.labId, now))) closing.push(s);
    }
    if (closing.length === 0) continue;
    if (closing.length === sessions.length) wholeLearners.push(learnerId);
    else single.push(...closing.map((s) => s.sessionId));
  }
  let ended = 0;
  if (wholeLearners.length > 0) {
    const reply = await agent.endLearners({ learnerIds: wholeLearners, reason: request.reason, ...(request.closeReason ? { closeReason: request.closeReason } : {}) });
    if (!reply.ok) return reply;
    ended += reply.value.ended;
  }
  for (const id of single) {
    const reply = await agent.endSession(id);
    if (!reply.ok && reply.status !== 404) return reply;
    if (reply.ok) ended++;
  }
  return { ok: true, value: { ended } };
}

export interface EndRetryOptions {
  /** Calls to the agent before giving up (default 3). */
  attempts?: number;
  /** Wait before the second call; doubled for each further one (default 250 ms). */
  backoffMs?: number;
  /** For tests. */
  sleep?: (ms: number) => Promise<void>;
  now?: number;
}

const sleepMs = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Tears down the members' sandboxes of an ended workshop (its lessons only, as endWorkshopSessions),
 * asking the agent again with backoff while it fails. Returns the last agent answer: `ok` with how
 * many sessions ended, or the failure after the last attempt (the caller retries later).
 */
export async function endWorkshopSandboxes(
  db: Db,
  workshop: { id: string; lessons: readonly string[] },
  agent: WorkshopEndAgent,
  options: EndRetryOptions = {},
): Promise<AgentCallResult<{ ended: number }>> {
  const learnerIds = (await workshopRoster(db, workshop.id)).map((m) => m.learnerId);
  if (learnerIds.length === 0) return { ok: true, value: { ended: 0 } };
  const attempts = Math.max(1, options.attempts ?? 3);
  const sleep = options.sleep ?? sleepMs;
  const request = { learnerIds, lessons: workshop.lessons, reason: 'the workshop ended', closeReason: 'workshop-ended' as const };
  let result: AgentCallResult<{ ended: number }> = { ok: false, status: 0, message: 'not tried' };
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (attempt > 0) await sleep((options.backoffMs ?? 250) * 2 ** (attempt - 1));
    result = await endWorkshopSessions(db, request, agent, options.now ?? Date.now());
    if (result.ok) return result;
  }
  return result;
}

export type EndWorkshopOutcome =
  | { status: 'not_found' }
  | { status: 'ended'; workshop: Workshop; sandboxes: AgentCallResult<{ ended: number }> };

/**
 * An instructor's "End": the workshop is marked ended (no new joins, its lessons lock for members)
 * and its sandboxes are torn down with retry. When the agent still fails, the workshop stays ended
 * and `sandboxes` carries the failure (the caller hands it to the sweeper to retry).
 */
export async function endWorkshopNow(db: Db, workshopId: string, agent: WorkshopEndAgent, options: EndRetryOptions = {}): Promise<EndWorkshopOutcome> {
  const workshop = await endWorkshop(db, workshopId, options.now);
  if (!workshop) return { status: 'not_found' };
  return { status: 'ended', workshop, sandboxes: await endWorkshopSandboxes(db, workshop, agent, options) };
}
