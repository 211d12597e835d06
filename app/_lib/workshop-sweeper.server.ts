// Drives workshop-sweep.ts every WORKSHOP_SWEEP_MS in the app process (started by instrumentation.ts).
import 'server-only';
import { workshopEndAgent } from './agent-client.server';
import { database } from './db/database';
import { sweepExpiredWorkshops, workshopSweepMs } from './workshop-sweep';
import { pokeWorkshop } from './workshops.server';

interface SweeperState {
  timer: NodeJS.Timeout | null;
  pending: Set<string>;
  running: boolean;
}

function state(): SweeperState {
  const holder = globalThis as { __nslabWorkshopSweeper?: SweeperState };
  return (holder.__nslabWorkshopSweeper ??= { timer: null, pending: new Set(), running: false });
}

async function sweepOnce(): Promise<void> {
  const s = state();
  const db = await database();
  const report = await sweepExpiredWorkshops(db, s.pending, workshopEndAgent, Date.now(), (workshopId, endedSessions) => {
    pokeWorkshop(workshopId);
    console.log(JSON.stringify({ level: 'info', msg: 'workshop reached its end time: its sandboxes were ended', workshopId, endedSessions }));
  });
  if (report.pending.length > 0) {
    console.error(JSON.stringify({ level: 'warn', msg: 'could not end the sandboxes of ended workshops yet; will retry', workshops: report.pending }));
  }
}

/**
 * A workshop an instructor ended whose sandboxes the agent did not end (after retries): the next
 * sweeps try again until it does (the same pending set as workshops that reached their end time).
 */
export function retryWorkshopEndLater(workshopId: string): void {
  state().pending.add(workshopId);
}

/** Starts the periodic sweep once per process (idempotent). */
export function startWorkshopSweeper(intervalMs = workshopSweepMs()): void {
  const s = state();
  if (s.timer) return;
  s.timer = setInterval(() => {
    if (s.running) return;
    s.running = true;
    sweepOnce()
      .catch((error: unknown) => console.error(JSON.stringify({ level: 'warn', msg: 'workshop sweep failed', error: String(error) })))
      .finally(() => {
        s.running = false;
      });
  }, intervalMs);
  s.timer.unref();
}
