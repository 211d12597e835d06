// The agent's durable outbox of passed steps. A step result is written here (a local SQLite file,
// fsynced) the moment it passes, then delivered to the app, which stores it in the progress
// database exactly once (the idempotency key is learner + lab + step). While the app or its
// database is unavailable the results wait here and delivery is retried with backoff; after an
// agent restart the queue is still there. Nothing a learner earned is lost.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { progressItemSchema, progressReplySchema, type ProgressItem } from '../protocol/index';
import { log } from './log';

export const outboxItemSchema = progressItemSchema;
export type OutboxItem = ProgressItem;

export type Deliver = (items: OutboxItem[]) => Promise<Set<string>>;

export function resultKey(learnerId: string, labId: string, stepId: string): string {
  return `${learnerId}\u0000${labId}\u0000${stepId}`;
}

export class ResultOutbox {
  private readonly db: Database.Database;
  private timer: NodeJS.Timeout | null = null;
  private backoffMs = 0;
  private delivering = false;
  private closed = false;
  private readonly listeners = new Set<(item: OutboxItem) => void>();

  constructor(
    file: string,
    private readonly deliver: Deliver | null,
  ) {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS outbox (
      key TEXT PRIMARY KEY,
      item TEXT NOT NULL,
      queued_at INTEGER NOT NULL,
      delivered_at INTEGER
    )`);
  }

  /** Queues a passed step (once per key) and kicks delivery. */
  enqueue(item: OutboxItem): void {
    this.db
      .prepare('INSERT OR IGNORE INTO outbox (key, item, queued_at) VALUES (?, ?, ?)')
      .run(item.key, JSON.stringify(item), Date.now());
    this.kick(0);
  }

  isDelivered(key: string): boolean {
    const row = this.db.prepare('SELECT delivered_at FROM outbox WHERE key = ?').get(key) as { delivered_at: number | null } | undefined;
    return row?.delivered_at != null;
  }

  pendingCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM outbox WHERE delivered_at IS NULL').get() as { n: number }).n;
  }

  /** Called with each item once the app has stored it. */
  onDelivered(listener: (item: OutboxItem) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts delivering what a previous run left queued. */
  start(): void {
    this.kick(0);
  }

  private kick(delayMs: number): void {
    if (this.closed || !this.deliver || this.timer || this.delivering) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, delayMs);
    this.timer.unref();
  }

  private async flush(): Promise<void> {
    if (this.closed || !this.deliver) return;
    const rows = this.db.prepare('SELECT item FROM outbox WHERE delivered_at IS NULL ORDER BY queued_at LIMIT 50').all() as { item: string }[];
    if (rows.length === 0) {
      this.backoffMs = 0;
      return;
    }
    const items = rows.map((r) => outboxItemSchema.parse(JSON.parse(r.item)));
    this.delivering = true;
    try {
      const stored = await this.deliver(items);
      if (this.closed) return;
      const mark = this.db.prepare('UPDATE outbox SET delivered_at = ? WHERE key = ?');
      const now = Date.now();
      this.db.transaction(() => {
        for (const key of stored) mark.run(now, key);
      })();
      for (const item of items) if (stored.has(item.key)) for (const l of this.listeners) l(item);
      this.backoffMs = 0;
    } catch (error) {
      this.backoffMs = Math.min(10_000, this.backoffMs === 0 ? 500 : this.backoffMs * 2);
      log('warn', 'progress delivery failed; will retry', { pending: this.pendingCount(), retryInMs: this.backoffMs, error });
    } finally {
      this.delivering = false;
    }
    if (!this.closed && this.pendingCount() > 0) this.kick(this.backoffMs);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.db.close();
  }
}

/** Delivery over HTTP to the app's internal endpoint, authenticated with the shared secret. */
export function httpDeliver(url: string, secret: string, timeoutMs = 5_000): Deliver {
  return async (items) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ items }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) throw new Error(`app answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
    const reply = progressReplySchema.parse(await res.json());
    return new Set(reply.results.map((r) => r.key));
  };
}

