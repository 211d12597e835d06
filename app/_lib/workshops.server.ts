// Workshops on the app's server side: the live grid (database + agent) and the dashboard feed that
// polls the agent every 500 ms per open workshop and pushes a new grid only when something changed.
// HTTP replies are http.server.ts, who is asking identity.server.ts, what they may do
// authorization.server.ts (re-exported below while callers move). Server-only.
import 'server-only';
import { getLab } from '@/labs';
import { querySessions } from './agent-client.server';
import { database } from './db/database';
import { getWorkshop, workshopMessages, workshopProgress, type Workshop } from './db/repository';
import { buildGrid, gridFingerprint, type GridLab, type GridState, type WorkshopSummary } from './workshops';

// Moved out in issue 14; re-exported so routes written against this module keep working.
export { apiError, databaseUnavailable, jsonOk, publicOrigin, readJsonBody, requestLocale, zodMessage } from './http.server';
export {
  clearInstructorCookie,
  currentInstructor,
  currentLearnerId,
  instructorClaimFromRequest,
  instructorFromRequest,
  instructorOf,
  learnerIdFromRequest,
  setLearnerCookie,
  startInstructorSession,
} from './identity.server';
export { requireInstructor, requireWorkshopInstructor, type WorkshopAccess } from './authorization.server';
export { database } from './db/database';

// ---------- the grid ----------

export function summaryOf(w: Workshop): WorkshopSummary {
  return {
    id: w.id,
    code: w.code,
    title: w.title,
    lessons: w.lessons,
    capacity: w.capacity,
    memberCount: w.memberCount,
    startsAt: w.startsAtMs,
    endsAt: w.endsAtMs,
    endedAt: w.endedAtMs,
  };
}

/** The workshop's labs with their steps (lessons whose lab is unknown are skipped). */
export function gridLabsOf(lessons: string[]): GridLab[] {
  const labs: GridLab[] = [];
  for (const slug of lessons) {
    const lab = getLab(slug);
    if (!lab) continue;
    labs.push({ labId: lab.id, title: lab.title, steps: lab.steps.map((s) => ({ stepId: s.id, title: s.title })) });
  }
  return labs;
}

/** One grid state: the database's members and stored progress, merged with the agent's live status. */
export async function workshopGrid(workshopId: string): Promise<GridState | null> {
  const db = await database();
  const workshop = await getWorkshop(db, workshopId);
  if (!workshop) return null;
  const labs = gridLabsOf(workshop.lessons);
  const labIds = labs.map((l) => l.labId);
  const [members, messages] = await Promise.all([workshopProgress(db, workshopId, labIds), workshopMessages(db, workshopId, { limit: 20 })]);
  let sessions = null;
  if (members.length > 0) {
    const reply = await querySessions(
      members.map((m) => m.learnerId),
      labIds,
      { timeoutMs: 2_000 },
    ).catch(() => null);
    sessions = reply?.ok ? reply.value.sessions : null;
  } else {
    sessions = [];
  }
  return buildGrid({
    workshop: summaryOf(workshop),
    labs,
    members,
    sessions,
    messages: messages.map((m) => ({ id: m.id, text: m.text, createdAt: m.createdAtMs })),
    nowMs: Date.now(),
  });
}

// ---------- the dashboard feed ----------

export const FEED_POLL_MS = 500;

type Listener = (state: GridState) => void;

/** One poller per open workshop, shared by all its dashboards; stops when the last one leaves. */
class WorkshopFeed {
  private readonly listeners = new Set<Listener>();
  private latest: GridState | null = null;
  private fingerprint = '';
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;

  constructor(
    readonly workshopId: string,
    private readonly onIdle: () => void,
  ) {}

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    if (this.latest) listener(this.latest);
    if (!this.timer) this.loop();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) {
        if (this.timer) clearTimeout(this.timer);
        this.timer = null;
        this.onIdle();
      }
    };
  }

  /** Polls now (after an instructor action) instead of waiting for the next tick. */
  poke(): void {
    void this.tick();
  }

  private loop(): void {
    void this.tick().finally(() => {
      if (this.listeners.size === 0) return;
      this.timer = setTimeout(() => this.loop(), FEED_POLL_MS);
    });
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const state = await workshopGrid(this.workshopId);
      if (!state) return;
      const fingerprint = gridFingerprint(state);
      if (fingerprint === this.fingerprint) return;
      this.fingerprint = fingerprint;
      this.latest = state;
      for (const listener of this.listeners) listener(state);
    } catch (error) {
      console.error(JSON.stringify({ level: 'warn', msg: 'workshop feed poll failed', workshop: this.workshopId, error: String(error) }));
    } finally {
      this.ticking = false;
    }
  }
}

type FeedHolder = typeof globalThis & { __nslabWorkshopFeeds?: Map<string, WorkshopFeed> };

function feeds(): Map<string, WorkshopFeed> {
  const holder = globalThis as FeedHolder;
  return (holder.__nslabWorkshopFeeds ??= new Map());
}

export function subscribeWorkshop(workshopId: string, listener: Listener): () => void {
  const all = feeds();
  let feed = all.get(workshopId);
  if (!feed) {
    feed = new WorkshopFeed(workshopId, () => all.delete(workshopId));
    all.set(workshopId, feed);
  }
  return feed.subscribe(listener);
}

export function pokeWorkshop(workshopId: string): void {
  feeds().get(workshopId)?.poke();
}
