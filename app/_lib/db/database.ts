// Opens the database: PostgreSQL when DATABASE_URL (or `url`) is set, else a SQLite file
// (NSLAB_SQLITE_PATH, default var/nslab.sqlite relative to the working directory). Runs the
// migrations on open. Server-only (node:fs, native drivers).
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver } from 'kysely';
import pg from 'pg';
import { z } from 'zod';
import { migrationProvider } from './migrations';
import type { Schema } from './schema';

export type Db = Kysely<Schema>;
export type DbDialect = 'sqlite' | 'postgres';

export interface Database {
  db: Db;
  dialect: DbDialect;
  /** Where it lives, for logs: the SQLite file, or the PostgreSQL host/db (never the password). */
  description: string;
  close(): Promise<void>;
}

export const defaultSqlitePath = 'var/nslab.sqlite';
/**
 * How long a SQLite writer waits for another process's write lock before SQLITE_BUSY. Short on
 * purpose: better-sqlite3 waits synchronously, so the whole app (pages, API, the proxied terminals)
 * stands still while it waits. Write transactions here take milliseconds (WAL: readers never block
 * a writer), so a lock held longer is an anomaly (a stuck admin session, a backup tool): fail fast and
 * retry asynchronously with withDbRetry. Measured by security battery G02 (held write lock).
 */
export const sqliteBusyTimeoutMs = 250;

export const databaseUrlSchema = z
  .string()
  .trim()
  .superRefine((value, ctx) => {
    const problem = !URL.canParse(value)
      ? 'must be a URL like postgresql://user:password@host:5432/db'
      : !/^postgres(ql)?:$/.test(new URL(value).protocol)
        ? 'must start with postgres:// or postgresql:// (unset it to use SQLite)'
        : new URL(value).hostname === '' && !new URL(value).searchParams.has('host')
          ? 'must name a host'
          : null;
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

export const sqlitePathSchema = z
  .string()
  .trim()
  .min(1, { error: 'must not be empty' })
  .refine((value) => !value.includes('\0'), { error: 'must not contain NUL' });

export interface OpenDatabaseOptions {
  /** A postgres:// URL; overrides DATABASE_URL. */
  url?: string;
  /** A SQLite file (or ':memory:'); used when no URL is given; overrides NSLAB_SQLITE_PATH. */
  sqlitePath?: string;
  /** Where DATABASE_URL / NSLAB_SQLITE_PATH come from (default process.env). */
  env?: Record<string, string | undefined>;
  /** Run migrations to the latest on open (default true). */
  migrate?: boolean;
  /** PostgreSQL pool size (default 10). */
  poolMax?: number;
}

function parseOrExplain<T>(schema: z.ZodType<T>, value: string, name: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new Error(`Invalid ${name}: ${parsed.error.issues[0]?.message ?? 'invalid value'}`);
  }
  return parsed.data;
}

type Target = { kind: 'postgres'; url: string } | { kind: 'sqlite'; file: string };

/** Which database the options and environment select (validated; throws naming the variable). */
export function resolveDatabaseTarget(options: OpenDatabaseOptions = {}): Target {
  const env = options.env ?? process.env;
  if (options.url !== undefined) {
    return { kind: 'postgres', url: parseOrExplain(databaseUrlSchema, options.url, 'database url') };
  }
  if (options.sqlitePath !== undefined) {
    return { kind: 'sqlite', file: parseOrExplain(sqlitePathSchema, options.sqlitePath, 'SQLite path') };
  }
  const url = env.DATABASE_URL;
  if (url !== undefined && url.trim() !== '') {
    return { kind: 'postgres', url: parseOrExplain(databaseUrlSchema, url, 'environment variable DATABASE_URL') };
  }
  const file = env.NSLAB_SQLITE_PATH;
  if (file !== undefined) {
    return { kind: 'sqlite', file: parseOrExplain(sqlitePathSchema, file, 'environment variable NSLAB_SQLITE_PATH') };
  }
  return { kind: 'sqlite', file: defaultSqlitePath };
}

const PG_INT8_OID = 20;

function openPostgres(url: string, poolMax: number): { db: Db; description: string } {
  const parsed = new URL(url);
  const pool = new pg.Pool({
    connectionString: url,
    max: poolMax,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    // bigint (int8) columns hold ms timestamps and counts: return them as JS numbers (exact below
    // 2^53), for this pool only, so both dialects give the same row types.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === PG_INT8_OID && format !== 'binary'
          ? (value: string) => Number(value)
          : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client losing its connection (server restart, network blip) must not crash the
  // process; the next query gets a fresh connection, and callers retry (see withDbRetry).
  pool.on('error', () => {});
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  return { db, description: `postgresql://${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}` };
}

/**
 * SQLite rolls a transaction back by itself on some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM,
 * ...). Kysely's ROLLBACK then fails with "cannot rollback - no transaction is active", and that
 * error replaced the real one (the disk is full) in what callers and logs saw: skip the ROLLBACK
 * when SQLite has already rolled back.
 */
class SqliteDialectKeepingErrors extends SqliteDialect {
  constructor(private readonly sqlite: BetterSqlite3.Database) {
    super({ database: sqlite });
  }

  override createDriver(): Driver {
    const sqlite = this.sqlite;
    return new (class extends SqliteDriver {
      override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
        if (sqlite.inTransaction) await super.rollbackTransaction(connection);
      }
    })({ database: sqlite });
  }
}

/**
 * The database holds learners' names, progress and instructors' password hashes: only the app's
 * user may read it. Creates the file 0600 before SQLite does (SQLite gives its -wal and -shm files
 * the main file's mode) and tightens a file an older version left group/world-readable.
 */
export function restrictSqliteFile(file: string): void {
  if (file === ':memory:') return;
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  fs.closeSync(fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_RDWR, 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) {
    try {
      if ((fs.statSync(f).mode & 0o077) !== 0) fs.chmodSync(f, 0o600);
    } catch {
      /* not there */
    }
  }
}

function openSqlite(file: string): { db: Db; description: string } {
  restrictSqliteFile(file);
  const sqlite = new BetterSqlite3(file, { timeout: sqliteBusyTimeoutMs });
  try {
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma(`busy_timeout = ${sqliteBusyTimeoutMs}`);
    // synchronous stays FULL (SQLite's default): a committed step survives power loss too.
    sqlite.pragma('synchronous = FULL');
  } catch (error) {
    sqlite.close();
    throw error;
  }
  const db = new Kysely<Schema>({ dialect: new SqliteDialectKeepingErrors(sqlite) });
  return { db, description: file === ':memory:' ? 'sqlite::memory:' : `sqlite:${path.resolve(file)}` };
}

/** Applies every pending migration; returns the names applied now (empty when up to date). */
export async function migrateToLatest(db: Db): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    const cause = error instanceof Error ? error.message : String(error);
    throw new Error(`database migration ${failed ?? ''} failed: ${cause}`.replace('  ', ' '), { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Opens (and by default migrates) the database chosen by the options and the environment. */
export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<Database> {
  const target = resolveDatabaseTarget(options);
  const opened = target.kind === 'postgres' ? openPostgres(target.url, options.poolMax ?? 10) : openSqlite(target.file);
  const database: Database = {
    db: opened.db,
    dialect: target.kind,
    description: opened.description,
    close: () => opened.db.destroy(),
  };
  if (options.migrate !== false) {
    try {
      await migrateToLatest(opened.db);
    } catch (error) {
      await database.close().catch(() => {});
      throw error;
    }
  }
  return database;
}

/**
 * Errors worth retrying: the database is briefly unreachable or busy (PostgreSQL restarting or
 * unreachable, a dropped connection, serialization failures; SQLite locked by another writer).
 */
export function isTransientDbError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'].includes(code)) {
      return true;
    }
    // PostgreSQL SQLSTATE: 08 connection exception, 40001 serialization, 40P01 deadlock,
    // 53300 too many connections, 57P01..57P03 admin shutdown / crash shutdown / cannot connect now.
    if (/^08/.test(code) || ['40001', '40P01', '53300', '57P01', '57P02', '57P03'].includes(code)) return true;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || code.startsWith('SQLITE_BUSY_')) return true;
  }
  if (/Connection terminated|timeout exceeded when trying to connect/i.test(error.message)) return true;
  if (error instanceof AggregateError && error.errors.some(isTransientDbError)) return true;
  return error.cause !== undefined && error.cause !== error && isTransientDbError(error.cause);
}

export interface RetryOptions {
  /** Total tries (default 6). */
  attempts?: number;
  /** First back-off; doubles each time, capped at maxDelayMs (default 100). */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Runs fn, retrying transient database errors with exponential back-off. Only for idempotent
 * work (recordStepResult is: a retried write that had in fact committed is a no-op).
 */
export async function withDbRetry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 6;
  const base = options.baseDelayMs ?? 100;
  const max = options.maxDelayMs ?? 2_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= attempts || !isTransientDbError(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(max, base * 2 ** (attempt - 1))));
    }
  }
}

const sharedKey = Symbol.for('nslab.database');
type SharedHolder = { [sharedKey]?: Promise<Database> };

/**
 * The process-wide database, opened (and migrated) on first use from the environment. Kept on
 * globalThis so Next's dev-mode module reloads reuse one pool / one SQLite handle. A failed open is
 * forgotten, so the next call tries again (e.g. PostgreSQL was briefly down at boot).
 */
export function sharedDatabase(): Promise<Database> {
  const holder = globalThis as SharedHolder;
  let opened = holder[sharedKey];
  if (!opened) {
    opened = openDatabase();
    holder[sharedKey] = opened;
    opened.catch(() => {
      if (holder[sharedKey] === opened) delete holder[sharedKey];
    });
  }
  return opened;
}

/** The process-wide database's Kysely handle (sharedDatabase().db), for route handlers and pages. */
export async function database(): Promise<Db> {
  return (await sharedDatabase()).db;
}

/**
 * Errors that stay until the handle is reopened, whatever happens to the database meanwhile: a SQLite
 * file that was read-only when it was opened is used read-only for good (SQLITE_READONLY*), and a
 * PostgreSQL session that started with default_transaction_read_only keeps it (SQLSTATE 25006,
 * read_only_sql_transaction; pooled sessions live on).
 */
export function isStaleHandleError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (code.startsWith('SQLITE_READONLY') || code === '25006')) return true;
  return error.cause !== undefined && error.cause !== error && isStaleHandleError(error.cause);
}

/** After a write failed with a stale-handle error, drops the shared handle so the next call reopens it. */
export async function reopenSharedDatabaseAfter(error: unknown): Promise<void> {
  if (isStaleHandleError(error)) await closeSharedDatabase().catch(() => {});
}

/** Closes the shared database (graceful shutdown); a later sharedDatabase() opens a new one. */
export async function closeSharedDatabase(): Promise<void> {
  const holder = globalThis as SharedHolder;
  const opened = holder[sharedKey];
  delete holder[sharedKey];
  if (opened) await (await opened.catch(() => null))?.close();
}
