// The instructor dashboard's model: a grid of learners x steps built from the progress database
// (what is stored) and the agent's live session status (what is happening now), who looks stuck,
// and the failure reasons of the class grouped by step and message. Pure: no Node and no DOM APIs
// (the dashboard's client component imports it too).
import type { Localized } from '../../labs/core/model';
import type { SessionStatus } from '../../sandbox-agent/protocol';
import type { Workshop } from './db/repositories/workshops';

export interface GridLab {
  labId: string;
  title: Localized;
  steps: Array<{ stepId: string; title: Localized }>;
}

/** passed: done (saved: in the database); failing: the learner is on it and its check fails now. */
export type CellStatus = 'passed' | 'failing' | 'pending';

export interface GridCell {
  status: CellStatus;
  /** For a passed cell: stored in the database (false: only the agent knows it so far). */
  saved: boolean;
  atMs: number | null;
}

export interface GridLearner {
  learnerId: string;
  displayName: string;
  joinedAt: number;
  /** A browser of the learner is attached to one of their sandboxes. */
  online: boolean;
  /** Their running sessions (the instructor may open a read-only view of one). */
  sessions: Array<{ labId: string; sessionId: string; connected: boolean }>;
  /** The step the learner is on (in their most recently active session), or null. */
  current: { labId: string; stepId: string; sinceMs: number; failure: Localized | null } | null;
  /** Keyed by cellKey(labId, stepId). */
  cells: Record<string, GridCell>;
  passedCount: number;
}

export interface FailureGroup {
  key: string;
  labId: string;
  stepId: string;
  /** The most recent message of the group (messages differ only in numbers: PIDs, inodes). */
  message: Localized;
  count: number;
  learners: string[];
}

/**
 * A workshop as the HTTP API and the dashboard carry it: the data layer's record (type only, so the
 * browser bundle gets none of its code) without its creator, times under their wire names.
 */
export type WorkshopSummary = Pick<Workshop, 'id' | 'code' | 'title' | 'lessons' | 'capacity' | 'memberCount'> & {
  startsAt: number;
  endsAt: number;
  endedAt: number | null;
};

export interface WorkshopMessageView {
  id: string;
  text: string;
  createdAt: number;
}

export interface GridState {
  workshop: WorkshopSummary;
  labs: GridLab[];
  learners: GridLearner[];
  reasons: FailureGroup[];
  messages: WorkshopMessageView[];
  /** The agent answered this round (false: live columns are stale, stored progress still shows). */
  agentOk: boolean;
  atMs: number;
}

export function cellKey(labId: string, stepId: string): string {
  return `${labId}/${stepId}`;
}

/** Numbers (PIDs, namespace inodes, exit codes) differ between learners; the reason does not. */
export function reasonKey(message: string): string {
  return message.replace(/\d+/g, '#').replace(/\s+/g, ' ').trim();
}

export interface GridInput {
  workshop: WorkshopSummary;
  labs: GridLab[];
  /** Members in join order with the steps they passed in the database: passed[labId][stepId] = passedAt. */
  members: Array<{ learnerId: string; displayName: string; joinedAt: number; passed: Record<string, Record<string, number>> }>;
  /** The agent's running sessions of these members (null: the agent did not answer). */
  sessions: SessionStatus[] | null;
  messages: WorkshopMessageView[];
  nowMs: number;
}

/** The learner's most recently active session: a connected one first, then the latest (re)attached. */
function activeSession(sessions: SessionStatus[]): SessionStatus | undefined {
  return [...sessions].sort(
    (a, b) => Number(b.connected) - Number(a.connected) || b.connectionChangedAtMs - a.connectionChangedAtMs || b.createdAtMs - a.createdAtMs,
  )[0];
}

export function buildGrid(input: GridInput): GridState {
  const labIds = new Set(input.labs.map((l) => l.labId));
  const byLearner = new Map<string, SessionStatus[]>();
  for (const s of input.sessions ?? []) {
    if (!labIds.has(s.labId) || s.state !== 'running') continue;
    const list = byLearner.get(s.learnerId) ?? [];
    list.push(s);
    byLearner.set(s.learnerId, list);
  }

  const learners: GridLearner[] = input.members.map((member) => {
    const sessions = byLearner.get(member.learnerId) ?? [];
    const cells: Record<string, GridCell> = {};
    for (const lab of input.labs) {
      const live = sessions.find((s) => s.labId === lab.labId);
      for (const step of lab.steps) {
        const storedAt = member.passed[lab.labId]?.[step.stepId];
        const liveStep = live?.steps.find((st) => st.stepId === step.stepId);
        if (storedAt !== undefined) cells[cellKey(lab.labId, step.stepId)] = { status: 'passed', saved: true, atMs: storedAt };
        else if (liveStep?.status === 'passed') cells[cellKey(lab.labId, step.stepId)] = { status: 'passed', saved: false, atMs: liveStep.atMs };
        else cells[cellKey(lab.labId, step.stepId)] = { status: 'pending', saved: false, atMs: null };
      }
    }
    const active = activeSession(sessions);
    let current: GridLearner['current'] = null;
    if (active && active.currentStepId !== null && active.currentStepSinceMs !== null) {
      const failure = active.steps.find((st) => st.stepId === active.currentStepId)?.latestFailure?.message ?? null;
      current = { labId: active.labId, stepId: active.currentStepId, sinceMs: active.currentStepSinceMs, failure };
      const cell = cells[cellKey(active.labId, active.currentStepId)];
      if (cell && cell.status !== 'passed' && failure) cell.status = 'failing';
    }
    return {
      learnerId: member.learnerId,
      displayName: member.displayName,
      joinedAt: member.joinedAt,
      online: sessions.some((s) => s.connected),
      sessions: sessions.map((s) => ({ labId: s.labId, sessionId: s.sessionId, connected: s.connected })),
      current,
      cells,
      passedCount: Object.values(cells).filter((c) => c.status === 'passed').length,
    };
  });

  return {
    workshop: input.workshop,
    labs: input.labs,
    learners,
    reasons: groupFailureReasons(learners, input.sessions ?? []),
    messages: input.messages,
    agentOk: input.sessions !== null,
    atMs: input.nowMs,
  };
}

/**
 * What the class is stuck on: learners on the same step whose check fails with the same message
 * (numbers aside), most common first.
 */
export function groupFailureReasons(learners: GridLearner[], sessions: SessionStatus[] = []): FailureGroup[] {
  const groups = new Map<string, FailureGroup & { latestMs: number }>();
  for (const learner of learners) {
    const current = learner.current;
    if (!current?.failure) continue;
    const key = `${current.labId}/${current.stepId}/${reasonKey(current.failure.en)}`;
    const atMs =
      sessions
        .find((s) => s.learnerId === learner.learnerId && s.labId === current.labId)
        ?.steps.find((st) => st.stepId === current.stepId)?.latestFailure?.atMs ?? 0;
    const group = groups.get(key);
    if (!group) {
      groups.set(key, { key, labId: current.labId, stepId: current.stepId, message: current.failure, count: 1, learners: [learner.displayName], latestMs: atMs });
    } else {
      group.count++;
      group.learners.push(learner.displayName);
      if (atMs > group.latestMs) {
        group.latestMs = atMs;
        group.message = current.failure;
      }
    }
  }
  return [...groups.values()]
    .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key))
    .map(({ latestMs: _latestMs, ...group }) => group);
}

export const defaultStuckAfterMs = 5 * 60_000;

/** Someone who looks stuck: online, on the same step for longer than the threshold, and failing it. */
export function isStuck(learner: GridLearner, nowMs: number, stuckAfterMs = defaultStuckAfterMs): boolean {
  return learner.online && learner.current !== null && learner.current.failure !== null && nowMs - learner.current.sinceMs >= stuckAfterMs;
}

/** "42 s", "3 min 05 s", "1 h 02 min". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** The grid without its clock, to tell whether anything changed since the last push. */
export function gridFingerprint(state: GridState): string {
  return JSON.stringify({ ...state, atMs: 0 });
}
