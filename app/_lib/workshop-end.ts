// Ending a workshop (an instructor's "end", or its end time passing) tears down its members'
// sandboxes for the workshop's lessons only: a member's session of a lab outside the workshop, or of
// a lesson that another running workshop of theirs still gives them (workshopLockFor), keeps
// running. Pure apart from the database and the agent calls it is given (unit-tested in
// workshop-end.test.ts).
import type { AgentCallResult } from './agent-client.server';
import type { Db } from './db/database';
import { workshopLockFor } from './db/repository';

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
