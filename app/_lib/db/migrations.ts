// Schema migrations, defined in code and run by Kysely's Migrator (in name order) on open.
// Each migration is written once with Kysely's schema builder and runs unchanged on SQLite and
// PostgreSQL. Never edit a migration that has shipped: add the next one ("0002_...").
import { type Kysely, type Migration, type MigrationProvider, sql } from 'kysely';

// Migrations see the database as it was at their time, so they use an untyped Kysely.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

const initial: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('learners')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('display_name', 'text')
      .addColumn('resume_secret_hash', 'text', (c) => c.unique())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('step_results')
      .addColumn('idempotency_key', 'text', (c) => c.primaryKey())
      .addColumn('learner_id', 'text', (c) => c.notNull().references('learners.id').onDelete('cascade'))
      .addColumn('lab_id', 'text', (c) => c.notNull())
      .addColumn('step_id', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('message_en', 'text')
      .addColumn('message_zh', 'text')
      .addColumn('evidence', 'text', (c) => c.notNull())
      .addColumn('passed_at', 'bigint', (c) => c.notNull())
      .addColumn('recorded_at', 'bigint', (c) => c.notNull())
      // A step passes once per learner, whatever idempotency key the writer chose.
      .addUniqueConstraint('step_results_learner_lab_step', ['learner_id', 'lab_id', 'step_id'])
      .addCheckConstraint('step_results_status', sql`status in ('passed')`)
      .execute();

    await db.schema
      .createTable('instructors')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('email', 'text', (c) => c.notNull().unique())
      .addColumn('password_hash', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('workshops')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('code', 'text', (c) => c.notNull().unique())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('lessons', 'text', (c) => c.notNull())
      .addColumn('capacity', 'integer', (c) => c.notNull())
      .addColumn('member_count', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('starts_at', 'bigint', (c) => c.notNull())
      .addColumn('ends_at', 'bigint', (c) => c.notNull())
      .addColumn('ended_at', 'bigint')
      .addColumn('created_by', 'text', (c) => c.notNull().references('instructors.id'))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addCheckConstraint('workshops_capacity', sql`capacity > 0 and member_count >= 0 and member_count <= capacity`)
      .addCheckConstraint('workshops_times', sql`ends_at > starts_at`)
      .execute();

    await db.schema
      .createTable('workshop_instructors')
      .addColumn('workshop_id', 'text', (c) => c.notNull().references('workshops.id').onDelete('cascade'))
      .addColumn('instructor_id', 'text', (c) => c.notNull().references('instructors.id').onDelete('cascade'))
      .addColumn('added_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('workshop_instructors_pk', ['workshop_id', 'instructor_id'])
      .execute();

    await db.schema
      .createTable('workshop_members')
      .addColumn('workshop_id', 'text', (c) => c.notNull().references('workshops.id').onDelete('cascade'))
      .addColumn('learner_id', 'text', (c) => c.notNull().references('learners.id').onDelete('cascade'))
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('joined_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('workshop_members_pk', ['workshop_id', 'learner_id'])
      .execute();

    await db.schema
      .createTable('workshop_messages')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('workshop_id', 'text', (c) => c.notNull().references('workshops.id').onDelete('cascade'))
      .addColumn('instructor_id', 'text', (c) => c.references('instructors.id').onDelete('set null'))
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema.createIndex('step_results_learner_lab').on('step_results').columns(['learner_id', 'lab_id']).execute();
    await db.schema.createIndex('workshop_members_learner').on('workshop_members').column('learner_id').execute();
    await db.schema.createIndex('workshop_instructors_instructor').on('workshop_instructors').column('instructor_id').execute();
    await db.schema
      .createIndex('workshop_messages_workshop_time')
      .on('workshop_messages')
      .columns(['workshop_id', 'created_at'])
      .execute();
  },
  async down(db: AnyDb) {
    for (const table of [
      'workshop_messages',
      'workshop_members',
      'workshop_instructors',
      'workshops',
      'instructors',
      'step_results',
      'learners',
    ]) {
      await db.schema.dropTable(table).ifExists().execute();
    }
  },
};

/**
 * Server-side instructor sessions, so that signing out (here or everywhere), a password change or
 * the CLI revokes a cookie before its 12 h expiry. Only the SHA-256 of the session secret is stored.
 */
const instructorSessions: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('instructor_sessions')
      .addColumn('id_hash', 'text', (c) => c.primaryKey())
      .addColumn('instructor_id', 'text', (c) => c.notNull().references('instructors.id').onDelete('cascade'))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('instructor_sessions_instructor').on('instructor_sessions').column('instructor_id').execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropTable('instructor_sessions').ifExists().execute();
  },
};

/**
 * A completion record certifies the name the learner had when the work was done, not whatever name
 * they set later: each passed step keeps the learner's display name at the moment it was stored.
 * Rows stored before this migration get the learner's name as it is now (the best that is known).
 */
const stepResultsDisplayName: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable('step_results').addColumn('display_name', 'text').execute();
    await db
      .updateTable('step_results')
      .set((eb) => ({ display_name: eb.selectFrom('learners').select('learners.display_name').whereRef('learners.id', '=', 'step_results.learner_id') }))
      .execute();
  },
  async down(db: AnyDb) {
    await db.schema.alterTable('step_results').dropColumn('display_name').execute();
  },
};

/** Every migration, by name; names sort in the order they must run. */
export const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_instructor_sessions': instructorSessions,
  '0003_step_results_display_name': stepResultsDisplayName,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
