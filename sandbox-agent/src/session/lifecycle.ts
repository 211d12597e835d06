// A session's lifecycle: the SessionManager starts a learner's sandbox and session (one per
// learner and lab, within the agent's limits), finds it again, ends it on request, and keeps its
// step results when the sandbox goes (lost, idle, reset), so the next sandbox starts with them.
// A session tears itself down in Session.end (browsers, shells, sandbox).
import { randomBytes } from 'node:crypto';
import { initialResults } from '../../../labs/core/grade';
import type { LabDef, StepResult } from '../../../labs/core/model';
import { getLab } from '../../../labs/index';
import type { AgentConfig } from '../config';
import { log } from '../log';
import { metrics } from '../metrics';
import { resultKey, type ResultOutbox } from '../outbox';
import { defaultSandboxLimits, type SandboxDriver } from '../sandbox/driver';
import { Session } from './session';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfterS?: number,
  ) {
    super(message);
  }
}

/** The key of a learner's session of a lab (one running at a time). */
function learnerLabKey(learnerId: string, labId: string): string {
  return `${learnerId}\u0000${labId}`;
}

export class SessionManager {
  private readonly sessions = new Map<string, Session>();
  private readonly byLearnerLab = new Map<string, string>();
  /** Step results per learner and lab, kept when a sandbox is lost or reaped (in memory for now). */
  private readonly progress = new Map<string, Record<string, StepResult>>();
  private readonly starting = new Map<string, Promise<Session>>();

  constructor(
    private readonly driver: SandboxDriver,
    private readonly config: AgentConfig,
    /** Durable queue of passed steps for the app's progress database (null: progress stays in memory). */
    private readonly outbox: ResultOutbox | null = null,
  ) {
    outbox?.onDelivered((item) => {
      const key = learnerLabKey(item.learnerId, item.labId);
      const id = this.byLearnerLab.get(key);
      if (id) this.sessions.get(id)?.markSaved(item.result.stepId);
      const kept = this.progress.get(key)?.[item.result.stepId];
      if (kept?.status === 'passed') kept.saved = true;
    });
  }

  get size(): number {
    return this.sessions.size;
  }

  get(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  ids(): Set<string> {
    return new Set(this.sessions.keys());
  }

  /** Returns the learner's running session for the lab, or starts one. */
  async getOrCreate(
    learnerId: string,
    labId: string,
    stored: StepResult[] = [],
  ): Promise<{ session: Session; created: boolean }> {
    const lab = getLab(labId);
    if (!lab) throw new HttpError(404, `unknown lab "${labId}"`);
    const key = learnerLabKey(learnerId, labId);
    const existingId = this.byLearnerLab.get(key);
    const existing = existingId ? this.sessions.get(existingId) : undefined;
    if (existing && existing.state === 'running' && existing.sandbox.isAlive()) return { session: existing, created: false };
    const pending = this.starting.get(key);
    if (pending) return { session: await pending, created: false };
    if (this.sessions.size + this.starting.size >= this.config.AGENT_MAX_SESSIONS) {
      metrics.startsRefused.inc({ status: '503' });
      throw new HttpError(503, 'This lab machine is full right now. Please try again in a minute.', 30);
    }
    if (this.starting.size >= this.config.AGENT_MAX_CONCURRENT_STARTS) {
      metrics.startsRefused.inc({ status: '429' });
      throw new HttpError(429, 'Many labs are starting at once. Retrying shortly.', 1);
    }
    const start = this.start(learnerId, lab, key, stored);
    this.starting.set(key, start);
    try {
      return { session: await start, created: true };
    } finally {
      this.starting.delete(key);
    }
  }

  private async start(learnerId: string, lab: LabDef, key: string, stored: StepResult[]): Promise<Session> {
    const id = `s-${randomBytes(9).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, 'x')}`;
    const sandbox = await this.driver.create({
      id,
      hostname: 'nslab',
      limits: { ...defaultSandboxLimits, ...lab.limits },
    });
    const results = this.progress.get(key) ?? Object.fromEntries(initialResults(lab, Date.now()).map((r) => [r.stepId, r]));
    // What the progress database already holds starts passed (and saved), whatever this agent knows.
    for (const result of stored) {
      if (lab.steps.some((s) => s.id === result.stepId) && results[result.stepId]?.status !== 'passed') {
        results[result.stepId] = { ...result, status: 'passed', saved: true };
      }
    }
    const outbox = this.outbox;
    const session = new Session(id, learnerId, lab, sandbox, results, this.config, {
      ended: (s, reason) => {
        this.progress.set(key, s.progress);
        this.sessions.delete(s.id);
        if (this.byLearnerLab.get(key) === s.id) this.byLearnerLab.delete(key);
        metrics.sessionsEnded.inc({ reason });
        log('info', 'session ended', { session: s.id, reason });
      },
      passed: (s, result) => {
        if (!outbox) return false;
        outbox.enqueue({ key: resultKey(s.learnerId, s.labId, result.stepId), learnerId: s.learnerId, labId: s.labId, result: { ...result, status: 'passed' } });
        return !outbox.isDelivered(resultKey(s.learnerId, s.labId, result.stepId));
      },
    });
    this.sessions.set(id, session);
    this.byLearnerLab.set(key, id);
    metrics.sessionStart.observe(sandbox.startMs / 1000);
    metrics.sessionsStarted.inc();
    log('info', 'session started', { session: id, lab: lab.id, startMs: Math.round(sandbox.startMs) });
    return session;
  }

  /** Running sessions of these learners (of these labs, when given). */
  forLearners(learnerIds: readonly string[], labIds?: readonly string[]): Session[] {
    const learners = new Set(learnerIds);
    const labs = labIds ? new Set(labIds) : null;
    return [...this.sessions.values()].filter((s) => learners.has(s.learnerId) && (!labs || labs.has(s.labId)));
  }

  /** Ends every session of these learners; returns how many ended. */
  async endForLearners(learnerIds: readonly string[], reason: string, closeReason?: 'session-ended' | 'workshop-ended'): Promise<number> {
    const ending = this.forLearners(learnerIds);
    await Promise.allSettled(ending.map((s) => s.end(reason, closeReason)));
    return ending.length;
  }

  async delete(id: string): Promise<boolean> {
    const session = this.sessions.get(id);
    if (!session) return false;
    await session.end('deleted');
    return true;
  }

  async shutdown(): Promise<void> {
    await Promise.allSettled([...this.sessions.values()].map((s) => s.end('shutdown')));
  }
}
