// The database schema as Kysely sees it: one set of tables for SQLite and PostgreSQL.
// Conventions: ids are random URL-safe strings (text) chosen by the app, never autoincrement;
// timestamps are ms since the epoch in a `bigint` column (both dialects return a JS number);
// JSON values (evidence, lesson lists) are stored as text and parsed by the repository.
// The tables are created by migrations.ts; change both together (add a migration, never edit one).

/** An anonymous (cookie) identity; resume_secret_hash lets another browser take it over. */
export interface LearnersTable {
  id: string;
  display_name: string | null;
  /** SHA-256 (hex) of the current resume secret; the secret itself is never stored. */
  resume_secret_hash: string | null;
  created_at: number;
}

/** One passed step of one learner: stored exactly once (unique idempotency key and step). */
export interface StepResultsTable {
  idempotency_key: string;
  learner_id: string;
  lab_id: string;
  step_id: string;
  status: 'passed';
  message_en: string | null;
  message_zh: string | null;
  /** JSON object (labs/core/model.ts Evidence). */
  evidence: string;
  /** When the check passed (agent clock). */
  passed_at: number;
  /** When the row was written (app clock); later than passed_at when a write was retried. */
  recorded_at: number;
  /** The learner's display name when the step was stored (migration 0003): what a completion record certifies. */
  display_name: string | null;
}

export interface InstructorsTable {
  id: string;
  /** Lower-cased. */
  email: string;
  /** argon2id PHC string ($argon2id$v=19$m=...). */
  password_hash: string;
  created_at: number;
}

/** One signed-in instructor browser; deleting the row revokes its cookie (sign-out, password change). */
export interface InstructorSessionsTable {
  /** SHA-256 (hex) of the session secret carried in the signed cookie; the secret is never stored. */
  id_hash: string;
  instructor_id: string;
  created_at: number;
  expires_at: number;
}

export interface WorkshopsTable {
  id: string;
  /** Short join code, e.g. K7P-2QX (see workshopCodeAlphabet). */
  code: string;
  title: string;
  /** JSON array of lesson slugs. */
  lessons: string;
  capacity: number;
  /** Members joined so far; kept <= capacity by an atomic conditional update and a CHECK. */
  member_count: number;
  starts_at: number;
  ends_at: number;
  /** Set when an instructor ends the workshop early; null while it runs. */
  ended_at: number | null;
  created_by: string;
  created_at: number;
}

export interface WorkshopInstructorsTable {
  workshop_id: string;
  instructor_id: string;
  added_at: number;
}

export interface WorkshopMembersTable {
  workshop_id: string;
  learner_id: string;
  /** The name given when joining (shown to the instructor). */
  display_name: string;
  joined_at: number;
}

export interface WorkshopMessagesTable {
  id: string;
  workshop_id: string;
  /** The instructor who posted it; null for system messages. */
  instructor_id: string | null;
  text: string;
  created_at: number;
}

export interface Schema {
  learners: LearnersTable;
  step_results: StepResultsTable;
  instructors: InstructorsTable;
  instructor_sessions: InstructorSessionsTable;
  workshops: WorkshopsTable;
  workshop_instructors: WorkshopInstructorsTable;
  workshop_members: WorkshopMembersTable;
  workshop_messages: WorkshopMessagesTable;
}
