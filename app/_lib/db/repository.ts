// The data layer's public face: typed data access for learners, step results, instructors and
// their sessions, workshops, members, messages and progress (one module per aggregate under
// repositories/), join codes, secrets and the CSV/JSON export. Every function takes the Kysely
// handle first (from openDatabase) and validates its inputs with zod (throws a ZodError on bad
// input); expected outcomes that are not bugs (workshop full, ended, email taken) are typed results,
// not exceptions. Timestamps are ms since the epoch; `now` parameters default to Date.now().
// Server-side only (node:crypto, argon2) but without `server-only`: the CLI (cli.ts) and tests
// import it in plain Node. Import from here or from the aggregate's module.
export * from './validation';
export { hashPassword } from './secrets';
export * from './join-codes';
export * from './repositories/learners';
export * from './repositories/step-results';
export * from './repositories/instructors';
export * from './repositories/instructor-sessions';
export * from './repositories/workshops';
export * from './repositories/workshop-members';
export * from './repositories/workshop-messages';
export * from './repositories/progress';
export * from './export';
