// The map publisher of a session: turns host-side snapshots into the live namespace map (`snapshot`
// messages) the browsers draw. It never goes back to an older snapshot than it showed, hides an
// open step's answer, sends only changes, at most MAP_LIMITS.perSecond times a second, through the
// client hub's one broadcast (learner and viewers alike), and takes a map-only snapshot when a
// grading round is busy (a ping probe may hold it for seconds).
import type { MapConcealment, Observation } from '../../../labs/core/model';
import { MAP_LIMITS, mapSnapshotKey, toMapSnapshot, type MapSnapshot } from '../../protocol/index';
import { buildSnapshot } from '../grader/snapshot';
import { log } from '../log';
import { metrics } from '../metrics';
import type { Sandbox } from '../sandbox/driver';
import type { ClientConnection, ClientHub } from './client-hub';

/** Snapshots for the map time out like the grader's. */
const SNAPSHOT_TIMEOUT_MS = 3_000;

export interface MapSource {
  readonly id: string;
  readonly sandbox: Sandbox;
  isRunning(): boolean;
  /** What the map must not show yet (StepDef.conceals of the steps not passed). */
  concealed(): MapConcealment[];
}

export class MapPublisher {
  /** Snapshots are numbered when started; the map never goes back to an older one than it showed. */
  private snapshotSeq = 0;
  private shownSeq = 0;
  /** The latest trimmed map, the key of the one last sent, when, and a pending send. */
  private latest: { map: MapSnapshot; key: string } | null = null;
  private sentKey: string | null = null;
  private sentAtMs = 0;
  private timer: NodeJS.Timeout | null = null;
  /** A map-only snapshot in flight (taken while a grading round is busy). */
  private refreshing = false;

  constructor(
    private readonly source: MapSource,
    private readonly hub: ClientHub,
  ) {}

  /** Numbers a snapshot about to be taken (call before starting it). */
  nextSeq(): number {
    return ++this.snapshotSeq;
  }

  /** Takes a snapshot for the map only (no checks, no probes); at most one in flight, only while the learner is attached. */
  refresh(): void {
    if (this.refreshing || !this.source.isRunning() || !this.hub.hasLearner) return;
    this.refreshing = true;
    const started = performance.now();
    const seq = this.nextSeq();
    buildSnapshot(this.source.sandbox, { timeoutMs: SNAPSHOT_TIMEOUT_MS })
      .then((snapshot) => {
        metrics.snapshot.observe((performance.now() - started) / 1000);
        this.publish(snapshot, seq);
      })
      .catch((error: unknown) => log('warn', 'map snapshot failed', { session: this.source.id, error }))
      .finally(() => {
        this.refreshing = false;
      });
  }

  /** Sends the map's view of snapshot number `seq` when it changed (and is not older than the one shown). */
  publish(snapshot: Observation['snapshot'], seq: number): void {
    if (!this.source.isRunning() || seq < this.shownSeq) return;
    this.shownSeq = seq;
    try {
      // An open step's answer stays off the map until the step passed (StepDef.conceals).
      const map = toMapSnapshot(snapshot, { conceal: this.source.concealed() });
      this.latest = { map, key: mapSnapshotKey(map) };
      this.flush();
    } catch (error) {
      log('warn', 'map snapshot failed', { session: this.source.id, error });
    }
  }

  /** The learner (re)attached: it gets the current map at once (the viewers get it again too). */
  resend(): void {
    this.sentKey = null;
    this.flush();
  }

  /** A viewer attached: it gets the current map at once. */
  sendCurrentTo(viewer: ClientConnection): void {
    if (this.latest) viewer.sendJson({ type: 'snapshot', snapshot: this.latest.map });
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private flush(): void {
    const latest = this.latest;
    if (!this.hub.hasAudience || !latest || latest.key === this.sentKey || this.timer) return;
    const waitMs = this.sentAtMs + 1000 / MAP_LIMITS.perSecond - Date.now();
    if (waitMs > 0) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flush();
      }, waitMs);
      return;
    }
    this.sentKey = latest.key;
    this.sentAtMs = Date.now();
    this.hub.broadcast({ type: 'snapshot', snapshot: latest.map });
  }
}
