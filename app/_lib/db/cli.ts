// Database administration from the shell (uses DATABASE_URL / NSLAB_SQLITE_PATH like the app):
//   node --import tsx app/_lib/db/cli.ts migrate
//   node --import tsx app/_lib/db/cli.ts create-instructor --email you@example.org
//   node --import tsx app/_lib/db/cli.ts set-instructor-password --email you@example.org
//   node --import tsx app/_lib/db/cli.ts revoke-instructor-sessions --email you@example.org
// A password change also signs the instructor out everywhere. The password comes from NSLAB_INSTRUCTOR_PASSWORD, else from stdin (first line; prompted without
// echo on a terminal, asked twice). Exit status: 0 done, 1 failed, 2 usage error.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { migrateToLatest, openDatabase, type Database } from './database';
import { createInstructor, emailSchema, passwordSchema, revokeInstructorSessionsByEmail, setInstructorPassword } from './repository';

const usage = `usage: node --import tsx app/_lib/db/cli.ts <command>
commands:
  migrate                                  apply pending migrations
  create-instructor --email <address>      create an instructor account
  set-instructor-password --email <address> replace an instructor's password (signs them out everywhere)
  revoke-instructor-sessions --email <address> sign an instructor out of every browser now
the password is read from NSLAB_INSTRUCTOR_PASSWORD, else from stdin
the database is DATABASE_URL (postgres://...) when set, else the SQLite file NSLAB_SQLITE_PATH (default var/nslab.sqlite)`;

class UsageError extends Error {}

function readHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const input = process.stdin;
    process.stderr.write(prompt);
    input.setRawMode(true);
    input.resume();
    input.setEncoding('utf8');
    let value = '';
    const done = (error?: Error) => {
      input.setRawMode(false);
      input.pause();
      input.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003' || ch === '\u0004') return done(new Error('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    input.on('data', onData);
  });
}

async function readPassword(): Promise<string> {
  const fromEnv = process.env.NSLAB_INSTRUCTOR_PASSWORD;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (process.stdin.isTTY) {
    const first = await readHidden('Password: ');
    const second = await readHidden('Again: ');
    if (first !== second) throw new Error('the two passwords differ');
    return first;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  const line = text.split(/\r?\n/)[0] ?? '';
  if (line === '') throw new Error('no password: set NSLAB_INSTRUCTOR_PASSWORD or pipe it on stdin');
  return line;
}

function explain(error: unknown): string {
  if (error instanceof z.ZodError) return error.issues.map((issue) => issue.message).join('; ');
  return error instanceof Error ? error.message : String(error);
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { email: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  const [command, ...rest] = positionals;
  if (values.help) {
    process.stdout.write(usage + '\n');
    return 0;
  }
  if (!command || rest.length > 0) throw new UsageError(command ? `unexpected argument ${rest[0]}` : 'missing command');
  if (!['migrate', 'create-instructor', 'set-instructor-password', 'revoke-instructor-sessions'].includes(command)) {
    throw new UsageError(`unknown command ${command}`);
  }
  let email = '';
  let password = '';
  if (command !== 'migrate') {
    if (values.email === undefined) throw new UsageError(`${command} needs --email <address>`);
    email = emailSchema.parse(values.email);
    if (command !== 'revoke-instructor-sessions') password = passwordSchema.parse(await readPassword());
  }

  let database: Database | null = null;
  try {
    database = await openDatabase({ migrate: false });
    const applied = await migrateToLatest(database.db);
    if (command === 'migrate') {
      process.stdout.write(
        applied.length > 0
          ? `migrated ${database.description}: ${applied.join(', ')}\n`
          : `${database.description} is up to date\n`,
      );
      return 0;
    }
    if (command === 'create-instructor') {
      const result = await createInstructor(database.db, email, password);
      if (!result.ok) {
        process.stderr.write(`an instructor with email ${email} already exists (use set-instructor-password)\n`);
        return 1;
      }
      process.stdout.write(`created instructor ${result.instructor.email} (id ${result.instructor.id}) in ${database.description}\n`);
      return 0;
    }
    if (command === 'revoke-instructor-sessions') {
      const revoked = await revokeInstructorSessionsByEmail(database.db, email);
      if (revoked === null) {
        process.stderr.write(`no instructor with email ${email}\n`);
        return 1;
      }
      process.stdout.write(`revoked ${revoked} session(s) of ${email}: every browser of theirs is signed out\n`);
      return 0;
    }
    const changed = await setInstructorPassword(database.db, email, password);
    if (!changed) {
      process.stderr.write(`no instructor with email ${email}\n`);
      return 1;
    }
    process.stdout.write(`password changed for ${email}; every browser of theirs is signed out\n`);
    return 0;
  } finally {
    await database?.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const usageError = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`nslab db: ${explain(error)}\n${usageError ? usage + '\n' : ''}`);
    process.exitCode = usageError ? 2 : 1;
  },
);
