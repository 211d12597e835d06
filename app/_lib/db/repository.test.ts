// The data layer, one suite run against every dialect: SQLite (a temp file) always, PostgreSQL when
// NSLAB_TEST_DATABASE_URL is set, e.g. by
//   bash scripts/with-postgres.sh node --import tsx --test app/_lib/db/repository.test.ts
// Rows use random ids, so the suite can run repeatedly against the same PostgreSQL database.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import BetterSqlite3 from 'better-sqlite3';
import type { WorkshopEndAgent } from '../workshop-end';
import { sweepExpiredWorkshops } from '../workshop-sweep';
import { z } from 'zod';
import {
  closeSharedDatabase,
  isTransientDbError,
  migrateToLatest,
  openDatabase,
  resolveDatabaseTarget,
  sharedDatabase,
  withDbRetry,
  type Database,
} from './database';
import {
  claimExpiredWorkshops,
  completionRecords,
  getWorkshop,
  createInstructor,
  createInstructorSession,
  createLearner,
  createResumeSecret,
  createWorkshop,
  csvField,
  endWorkshop,
  extendWorkshop,
  generateWorkshopCode,
  getLearner,
  getWorkshopByCode,
  instructorForSession,
  isWorkshopInstructor,
  joinWorkshop,
  normalizeWorkshopCode,
  postWorkshopMessage,
  progressFor,
  recordStepResult,
  revokeAllInstructorSessions,
  revokeInstructorSession,
  revokeInstructorSessionsByEmail,
  setDisplayName,
  setInstructorPassword,
  toCsv,
  toJson,
  verifyInstructor,
  verifyResumeSecret,
  workshopCodeAlphabet,
  workshopLockFor,
  workshopMessages,
  workshopProgress,
  workshopRoster,
  workshopsForInstructor,
  type CompletionRecord,
  type Instructor,
} from './repository';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'nslab-db-test-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

const uid = (prefix = 'l') => `${prefix}-${randomBytes(9).toString('base64url')}`;
const uniqueEmail = () => `t-${randomBytes(6).toString('hex')}@Example.org`;
const HOUR = 3_600_000;

/** RFC 4180 parser (quoted fields, doubled quotes, CRLF) to read back what toCsv wrote. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += ch;
  }
  assert.equal(field, '', 'CSV must end with CRLF');
  return rows;
}

type Opener = () => Promise<Database>;

const dialects: Array<{ name: string; open: Opener | null }> = [
  {
    name: 'sqlite',
    open: () => openDatabase({ sqlitePath: path.join(tmpRoot, 'suite.sqlite') }),
  },
  {
    name: 'postgres',
    open: process.env.NSLAB_TEST_DATABASE_URL
      ? () => openDatabase({ url: process.env.NSLAB_TEST_DATABASE_URL as string })
      : null,
  },
];

for (const dialect of dialects) {
  const skip = dialect.open === null ? 'NSLAB_TEST_DATABASE_URL not set (run under scripts/with-postgres.sh)' : false;
  describe(`data layer on ${dialect.name}`, { skip }, () => {
    let database: Database;
    let instructor: Instructor;
    const open = dialect.open as Opener;

    before(async () => {
      database = await open();
      const created = await createInstructor(database.db, uniqueEmail(), 'correct horse battery');
      assert.ok(created.ok);
      instructor = created.instructor;
    });
    after(async () => {
      await database?.close();
    });

    async function newWorkshop(capacity: number, now = Date.now(), durationMs = 2 * HOUR) {
      return createWorkshop(
        database.db,
        {
          title: 'Namespaces 101',
          lessons: ['exercise-net-namespace'],
          capacity,
          startsAtMs: now - HOUR,
          endsAtMs: now - HOUR + durationMs,
          createdBy: instructor.id,
        },
        { now },
      );
    }

    test('opens the selected dialect', () => {
      assert.equal(database.dialect, dialect.name);
    });

    test('migrations are idempotent: a second run and a second opener change nothing', async () => {
      assert.deepEqual(await migrateToLatest(database.db), []);
      const [a, b] = await Promise.all([open(), open()]);
      try {
        assert.deepEqual(await migrateToLatest(a.db), []);
        const learner = await createLearner(b.db, { displayName: 'Ada' });
        assert.equal((await getLearner(a.db, learner.id))?.displayName, 'Ada');
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    test('step results: 20 concurrent duplicate writes store exactly one row', async () => {
      const learnerId = uid();
      const input = {
        learnerId,
        labId: 'exercise-net-namespace',
        stepId: 'own-netns',
        message: { en: 'sleep 4242 is in net:[4026532301], not the host', zh: 'sleep 4242 位于 net:[4026532301]' },
        evidence: { pid: 4242, netns: 'net:[4026532301]', ok: true, note: '中文, "quoted"' },
        passedAt: 1_750_000_000_123,
      };
      const results = await Promise.all(Array.from({ length: 20 }, () => recordStepResult(database.db, input)));
      assert.equal(results.filter((r) => r.inserted).length, 1);
      const progress = await progressFor(database.db, learnerId);
      assert.equal(progress.length, 1);
      const [row] = progress;
      assert.ok(row);
      assert.equal(row.passedAt, 1_750_000_000_123);
      assert.equal(typeof row.passedAt, 'number');
      assert.deepEqual(row.evidence, input.evidence);
      assert.deepEqual(row.message, input.message);
      assert.equal(row.status, 'passed');
      // The learner row was created on the fly; a second pass of the same step under another key
      // is not a second record either.
      assert.ok(await getLearner(database.db, learnerId));
      const again = await recordStepResult(database.db, { ...input, idempotencyKey: 'other-key', passedAt: 1_750_000_999_000 });
      assert.equal(again.inserted, false);
      assert.equal((await progressFor(database.db, learnerId))[0]?.passedAt, 1_750_000_000_123);
    });

    test('step results: same idempotency key for different steps is stored once', async () => {
      const learnerId = uid();
      const key = uid('key');
      const base = { learnerId, labId: 'lab-a', evidence: {}, passedAt: 1000, idempotencyKey: key };
      const [a, b] = await Promise.all([
        recordStepResult(database.db, { ...base, stepId: 's1' }),
        recordStepResult(database.db, { ...base, stepId: 's2' }),
      ]);
      assert.equal(Number(a.inserted) + Number(b.inserted), 1);
      assert.equal((await progressFor(database.db, learnerId)).length, 1);
    });

    test('progressFor filters by lab and orders by time', async () => {
      const learnerId = uid();
      await recordStepResult(database.db, { learnerId, labId: 'lab-b', stepId: 'x', evidence: {}, passedAt: 3000 });
      await recordStepResult(database.db, { learnerId, labId: 'lab-a', stepId: 'second', evidence: {}, passedAt: 2000 });
      await recordStepResult(database.db, { learnerId, labId: 'lab-a', stepId: 'first', evidence: {}, passedAt: 1000 });
      assert.deepEqual(
        (await progressFor(database.db, learnerId, 'lab-a')).map((r) => r.stepId),
        ['first', 'second'],
      );
      assert.deepEqual(
        (await progressFor(database.db, learnerId)).map((r) => `${r.labId}/${r.stepId}`),
        ['lab-a/first', 'lab-a/second', 'lab-b/x'],
      );
      assert.deepEqual(await progressFor(database.db, uid()), []);
    });

    test('learners: display names are cleaned and stored', async () => {
      const learner = await createLearner(database.db, { id: uid() });
      assert.equal(learner.displayName, null);
      assert.equal(await setDisplayName(database.db, learner.id, '  李  雷 '), '李 雷');
      assert.equal((await getLearner(database.db, learner.id))?.displayName, '李 雷');
      // createLearner on an existing id keeps it as it is.
      const again = await createLearner(database.db, { id: learner.id, displayName: 'Other' });
      assert.equal(again.displayName, '李 雷');
      assert.equal(again.createdAtMs, learner.createdAtMs);
    });

    test('resume secret: verifies, stores only a hash, and rotates', async () => {
      const learner = await createLearner(database.db, { displayName: 'Grace' });
      const secret = await createResumeSecret(database.db, learner.id);
      assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
      assert.equal((await verifyResumeSecret(database.db, secret))?.id, learner.id);
      const stored = await database.db
        .selectFrom('learners')
        .select('resume_secret_hash')
        .where('id', '=', learner.id)
        .executeTakeFirstOrThrow();
      assert.ok(stored.resume_secret_hash);
      assert.notEqual(stored.resume_secret_hash, secret);
      assert.ok(!stored.resume_secret_hash.includes(secret));
      // Wrong, malformed and revoked secrets fail.
      const flipped = (secret[0] === 'A' ? 'B' : 'A') + secret.slice(1);
      assert.equal(await verifyResumeSecret(database.db, flipped), null);
      assert.equal(await verifyResumeSecret(database.db, ''), null);
      assert.equal(await verifyResumeSecret(database.db, "' or 1=1 --"), null);
      const rotated = await createResumeSecret(database.db, learner.id);
      assert.equal(await verifyResumeSecret(database.db, secret), null);
      assert.equal((await verifyResumeSecret(database.db, rotated))?.displayName, 'Grace');
    });

    test('instructors: argon2id hash, right password only, emails case-insensitive and unique', async () => {
      const email = uniqueEmail();
      const password = 'sesame-open-42';
      const created = await createInstructor(database.db, email, password);
      assert.ok(created.ok);
      assert.equal(created.instructor.email, email.toLowerCase());
      const row = await database.db
        .selectFrom('instructors')
        .select('password_hash')
        .where('id', '=', created.instructor.id)
        .executeTakeFirstOrThrow();
      assert.match(row.password_hash, /^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$/);
      assert.ok(!row.password_hash.includes(password));
      assert.equal((await verifyInstructor(database.db, email.toUpperCase(), password))?.id, created.instructor.id);
      assert.equal(await verifyInstructor(database.db, email, 'sesame-open-43'), null);
      assert.equal(await verifyInstructor(database.db, email, ''), null);
      assert.equal(await verifyInstructor(database.db, uniqueEmail(), password), null);
      assert.deepEqual(await createInstructor(database.db, email.toUpperCase(), 'another-password'), {
        ok: false,
        reason: 'email_taken',
      });
    });

    test('workshops: capacity 3 under 10 concurrent joins -> exactly 3 members, 7 full', async () => {
      const workshop = await newWorkshop(3);
      const learners = Array.from({ length: 10 }, (_, i) => ({ id: uid(), name: `Learner ${i}` }));
      const results = await Promise.all(
        learners.map((l) => joinWorkshop(database.db, { code: workshop.code, learnerId: l.id, displayName: l.name })),
      );
      assert.equal(results.filter((r) => r.status === 'joined').length, 3);
      assert.equal(results.filter((r) => r.status === 'full').length, 7);
      const roster = await workshopRoster(database.db, workshop.id);
      assert.equal(roster.length, 3);
      const joinedIds = results.flatMap((r, i) => (r.status === 'joined' ? [learners[i]?.id] : []));
      assert.deepEqual(new Set(roster.map((m) => m.learnerId)), new Set(joinedIds));
      assert.equal((await getWorkshopByCode(database.db, workshop.code))?.memberCount, 3);
      // A member joining again keeps their seat; it costs no capacity.
      const first = roster[0];
      assert.ok(first);
      const rejoin = await joinWorkshop(database.db, { code: workshop.code, learnerId: first.learnerId, displayName: 'x' });
      assert.equal(rejoin.status, 'joined');
      assert.ok(rejoin.status === 'joined' && rejoin.alreadyMember);
    });

    test('workshops: the same learner joining 5 times at once takes one seat', async () => {
      const workshop = await newWorkshop(2);
      const learnerId = uid();
      const results = await Promise.all(
        Array.from({ length: 5 }, () => joinWorkshop(database.db, { code: workshop.code, learnerId, displayName: 'Twin' })),
      );
      assert.ok(results.every((r) => r.status === 'joined'));
      assert.equal(results.filter((r) => r.status === 'joined' && !r.alreadyMember).length, 1);
      assert.equal((await getWorkshopByCode(database.db, workshop.code))?.memberCount, 1);
      const other = await joinWorkshop(database.db, { code: workshop.code, learnerId: uid(), displayName: 'Other' });
      assert.equal(other.status, 'joined');
    });

    test('an ended workshop locks its lessons for its members only, and keeps their progress', async () => {
      const now = Date.now();
      const lesson = 'exercise-net-namespace';
      const workshop = await newWorkshop(5, now);
      const member = uid();
      const selfPaced = uid();
      assert.equal((await joinWorkshop(database.db, { code: workshop.code, learnerId: member, displayName: 'Mei' }, now)).status, 'joined');
      await recordStepResult(database.db, { learnerId: member, labId: lesson, stepId: 'isolate-sleep', evidence: { pid: 42 }, passedAt: now });
      await recordStepResult(database.db, { learnerId: selfPaced, labId: lesson, stepId: 'isolate-sleep', evidence: { pid: 43 }, passedAt: now });

      // Running (and extended while running): nothing is locked.
      assert.equal(await workshopLockFor(database.db, member, lesson, now), null);
      assert.equal((await extendWorkshop(database.db, workshop.id, now + 4 * HOUR, now)).status, 'extended');
      assert.equal(await workshopLockFor(database.db, member, lesson, now + 3 * HOUR), null);

      // Ended by the instructor: locked for the member, for this workshop's lessons only.
      await endWorkshop(database.db, workshop.id, now + HOUR);
      assert.equal((await workshopLockFor(database.db, member, lesson, now + HOUR))?.id, workshop.id);
      assert.equal(await workshopLockFor(database.db, member, 'some-other-lesson', now + HOUR), null);
      assert.equal(await workshopLockFor(database.db, selfPaced, lesson, now + HOUR), null);
      assert.equal(await workshopLockFor(database.db, 'not a learner id!', lesson, now + HOUR), null);
      // Extending it now is refused, so it stays locked; the earned progress is still there.
      assert.equal((await extendWorkshop(database.db, workshop.id, now + 6 * HOUR, now + HOUR)).status, 'ended');
      assert.equal((await workshopLockFor(database.db, member, lesson, now + HOUR))?.id, workshop.id);
      assert.deepEqual((await progressFor(database.db, member, lesson)).map((r) => r.stepId), ['isolate-sleep']);

      // Past its end time without anyone ending it: locked as well.
      const lapsed = await newWorkshop(5, now);
      const other = uid();
      await joinWorkshop(database.db, { code: lapsed.code, learnerId: other, displayName: 'Ola' }, now);
      assert.equal(await workshopLockFor(database.db, other, lesson, now + HOUR - 1), null);
      assert.equal((await workshopLockFor(database.db, other, lesson, now + HOUR))?.id, lapsed.id);

      // A member of an ended and of a running workshop with the same lesson: the running one keeps it open.
      const next = await newWorkshop(5, now, 3 * HOUR);
      await joinWorkshop(database.db, { code: next.code, learnerId: other, displayName: 'Ola' }, now);
      assert.equal(await workshopLockFor(database.db, other, lesson, now + HOUR), null);
    });

    test('instructor sessions: live until revoked (one, everywhere, password change) or expired', async () => {
      const now = Date.now();
      const email = uniqueEmail();
      const created = await createInstructor(database.db, email, 'first long password');
      assert.ok(created.ok);
      const me = created.instructor;
      const laptop = await createInstructorSession(database.db, me.id, 12 * HOUR, now);
      const phone = await createInstructorSession(database.db, me.id, 12 * HOUR, now);
      assert.match(laptop.secret, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(laptop.expiresAtMs, now + 12 * HOUR);
      assert.equal((await instructorForSession(database.db, laptop.secret, now))?.id, me.id);
      assert.equal((await instructorForSession(database.db, phone.secret, now))?.email, me.email);
      // Expired: no longer valid, and pruned at the next sign-in.
      assert.equal(await instructorForSession(database.db, laptop.secret, now + 12 * HOUR), null);
      // Unknown, malformed: null.
      assert.equal(await instructorForSession(database.db, 'A'.repeat(43), now), null);
      assert.equal(await instructorForSession(database.db, 'short', now), null);

      // Sign-out revokes that browser only.
      assert.equal(await revokeInstructorSession(database.db, laptop.secret), true);
      assert.equal(await revokeInstructorSession(database.db, laptop.secret), false);
      assert.equal(await instructorForSession(database.db, laptop.secret, now), null);
      assert.equal((await instructorForSession(database.db, phone.secret, now))?.id, me.id);

      // Sign out everywhere.
      const tablet = await createInstructorSession(database.db, me.id, 12 * HOUR, now);
      assert.equal(await revokeAllInstructorSessions(database.db, me.id), 2);
      assert.equal(await instructorForSession(database.db, phone.secret, now), null);
      assert.equal(await instructorForSession(database.db, tablet.secret, now), null);

      // A password change revokes every session; so does the CLI's revocation by email.
      const before = await createInstructorSession(database.db, me.id, 12 * HOUR, now);
      assert.equal(await setInstructorPassword(database.db, email, 'second long password'), true);
      assert.equal(await instructorForSession(database.db, before.secret, now), null);
      assert.equal((await verifyInstructor(database.db, email, 'second long password'))?.id, me.id);
      const again = await createInstructorSession(database.db, me.id, 12 * HOUR, now);
      assert.equal(await revokeInstructorSessionsByEmail(database.db, email), 1);
      assert.equal(await instructorForSession(database.db, again.secret, now), null);
      assert.equal(await revokeInstructorSessionsByEmail(database.db, uniqueEmail()), null);
      assert.equal(await setInstructorPassword(database.db, uniqueEmail(), 'third long password'), false);

      // Other instructors' sessions are untouched by all of this.
      const mine = await createInstructorSession(database.db, instructor.id, 12 * HOUR, now);
      await revokeAllInstructorSessions(database.db, me.id);
      assert.equal((await instructorForSession(database.db, mine.secret, now))?.id, instructor.id);
      await assert.rejects(createInstructorSession(database.db, me.id, 0, now), z.ZodError);
    });

    test('workshops past their end time are claimed exactly once by the sweeper; others are not', async () => {
      const now = Date.now();
      const due = await newWorkshop(5, now, 2 * HOUR); // ends at now + 1 h
      const later = await newWorkshop(5, now, 30 * HOUR); // ends at now + 29 h
      const sweepAt = now + HOUR + 1;
      // Two app processes sweeping at the same moment: one claims it.
      const [a, b] = await Promise.all([claimExpiredWorkshops(database.db, sweepAt), claimExpiredWorkshops(database.db, sweepAt)]);
      const claims = [...a, ...b].filter((w) => w.id === due.id);
      assert.equal(claims.length, 1);
      assert.equal(claims[0]?.endedAtMs, sweepAt);
      assert.ok(![...a, ...b].some((w) => w.id === later.id));
      assert.deepEqual((await claimExpiredWorkshops(database.db, sweepAt + 1)).filter((w) => w.id === due.id), []);
      assert.equal((await getWorkshop(database.db, later.id))?.endedAtMs, null);
    });

    test("the sweep ends a workshop at its end time: members' sandboxes ended once, retried while the agent is down", async () => {
      const now = Date.now();
      const workshop = await newWorkshop(5, now, 2 * HOUR);
      const members: string[] = [];
      for (const name of ['Ana', 'Bo']) {
        const joined = await joinWorkshop(database.db, { code: workshop.code, learnerId: uid(), displayName: name }, now);
        assert.ok(joined.status === 'joined');
        members.push(joined.member.learnerId);
      }
      const calls: string[][] = [];
      let agentUp = false;
      // The agent: each member runs the workshop's lesson; while it is down every call fails.
      const down = { ok: false as const, status: 503, message: 'agent down' };
      const end: WorkshopEndAgent = {
        query: async (learnerIds) => {
          calls.push(learnerIds);
          return agentUp ? { ok: true, value: { sessions: learnerIds.map((learnerId) => ({ sessionId: `s-${learnerId}`, learnerId, labId: 'exercise-net-namespace' })) } } : down;
        },
        endLearners: async (request) => (agentUp ? { ok: true, value: { ended: request.learnerIds.length } } : down),
        endSession: async () => down,
      };
      const pending = new Set<string>();
      const onEnded: string[] = [];
      // Before its end time nothing happens.
      await sweepExpiredWorkshops(database.db, pending, end, now, (id) => onEnded.push(id));
      assert.ok(!calls.some((c) => c.includes(members[0]!)));
      // At its end time it is claimed; the agent is down, so it stays pending.
      const at = now + HOUR;
      const first = await sweepExpiredWorkshops(database.db, pending, end, at, (id) => onEnded.push(id), { attempts: 1 });
      assert.ok(first.pending.includes(workshop.id));
      assert.equal((await getWorkshop(database.db, workshop.id))?.endedAtMs, at);
      assert.equal(onEnded.includes(workshop.id), false);
      // The agent is back: the members' sandboxes are ended, once.
      agentUp = true;
      const second = await sweepExpiredWorkshops(database.db, pending, end, at + 15_000, (id) => onEnded.push(id));
      assert.deepEqual(second.ended.find((e) => e.workshopId === workshop.id), { workshopId: workshop.id, endedSessions: 2 });
      assert.deepEqual(second.pending.filter((id) => id === workshop.id), []);
      await sweepExpiredWorkshops(database.db, pending, end, at + 30_000, (id) => onEnded.push(id));
      assert.equal(onEnded.filter((id) => id === workshop.id).length, 1);
      assert.equal(calls.filter((c) => c.includes(members[0]!)).length, 2, 'one failed call, one that worked, no more');
      assert.deepEqual([...calls.find((c) => c.includes(members[0]!))!].sort(), [...members].sort());
      // Its members' lesson is now locked.
      assert.ok(await workshopLockFor(database.db, members[0]!, 'exercise-net-namespace', at + 30_000));
    });

    test('workshops: codes normalize, end and extend, not found', async () => {
      const now = Date.now();
      const workshop = await newWorkshop(5, now);
      assert.ok(normalizeWorkshopCode(workshop.code));
      assert.ok(await isWorkshopInstructor(database.db, workshop.id, instructor.id));
      assert.ok((await workshopsForInstructor(database.db, instructor.id)).some((w) => w.id === workshop.id));
      const typed = ` ${workshop.code.replace('-', '').toLowerCase()} `;
      const joined = await joinWorkshop(database.db, { code: typed, learnerId: uid(), displayName: 'Lin' }, now);
      assert.equal(joined.status, 'joined');
      // The member name becomes the learner's display name when they had none.
      assert.ok(joined.status === 'joined');
      assert.equal((await getLearner(database.db, joined.member.learnerId))?.displayName, 'Lin');

      const ended = await endWorkshop(database.db, workshop.id, now);
      assert.equal(ended?.endedAtMs, now);
      assert.equal((await joinWorkshop(database.db, { code: workshop.code, learnerId: uid(), displayName: 'Late' }, now)).status, 'ended');
      // Members still see it after the end.
      const again = await joinWorkshop(database.db, { code: workshop.code, learnerId: joined.member.learnerId, displayName: 'Lin' }, now);
      assert.equal(again.status, 'joined');

      // An ended workshop stays ended: extending it is refused and changes nothing.
      const refused = await extendWorkshop(database.db, workshop.id, now + 3 * HOUR, now);
      assert.equal(refused.status, 'ended');
      assert.equal(refused.status === 'ended' && refused.workshop.endedAtMs, now);
      assert.equal(refused.status === 'ended' && refused.workshop.endsAtMs, workshop.endsAtMs);
      assert.equal((await joinWorkshop(database.db, { code: workshop.code, learnerId: uid(), displayName: 'Back' }, now)).status, 'ended');

      // A running one moves its end; past its end time it is ended without anyone ending it, and
      // then it cannot be extended either.
      const running = await newWorkshop(5, now);
      const extended = await extendWorkshop(database.db, running.id, now + 3 * HOUR, now);
      assert.equal(extended.status, 'extended');
      assert.equal(extended.status === 'extended' && extended.workshop.endsAtMs, now + 3 * HOUR);
      assert.equal((await joinWorkshop(database.db, { code: running.code, learnerId: uid(), displayName: 'Back' }, now)).status, 'joined');
      assert.equal(
        (await joinWorkshop(database.db, { code: running.code, learnerId: uid(), displayName: 'Later' }, now + 3 * HOUR)).status,
        'ended',
      );
      assert.equal((await extendWorkshop(database.db, running.id, now + 5 * HOUR, now + 3 * HOUR)).status, 'ended');
      assert.deepEqual(await extendWorkshop(database.db, 'no-such-workshop', now + HOUR, now), { status: 'not_found' });
      await assert.rejects(extendWorkshop(database.db, running.id, now - 1, now), z.ZodError);
      assert.deepEqual(await joinWorkshop(database.db, { code: 'AAA-AAA', learnerId: uid(), displayName: 'Nobody' }), {
        status: 'not_found',
      });
      assert.deepEqual(await joinWorkshop(database.db, { code: 'not a code', learnerId: uid(), displayName: 'Nobody' }), {
        status: 'not_found',
      });
    });

    test('workshops: code collisions are retried; codes look right', async () => {
      const first = await newWorkshop(1);
      const fresh = generateWorkshopCode();
      const codes = [first.code, first.code, fresh];
      const second = await createWorkshop(
        database.db,
        { title: 'Second', lessons: ['a'], capacity: 1, startsAtMs: 0, endsAtMs: 1, createdBy: instructor.id },
        { generateCode: () => codes.shift() ?? generateWorkshopCode() },
      );
      assert.equal(second.code, fresh === first.code ? second.code : fresh);
      await assert.rejects(
        createWorkshop(
          database.db,
          { title: 'Third', lessons: ['a'], capacity: 1, startsAtMs: 0, endsAtMs: 1, createdBy: instructor.id },
          { generateCode: () => first.code, codeAttempts: 3 },
        ),
        /no unused workshop code after 3 tries/,
      );
      for (let i = 0; i < 200; i++) {
        const code = generateWorkshopCode();
        assert.match(code, new RegExp(`^[${workshopCodeAlphabet}]{3}-[${workshopCodeAlphabet}]{3}$`));
        assert.doesNotMatch(code, /[01OILSZBUV5]/);
      }
    });

    test('workshop progress, completion records, CSV and JSON export', async () => {
      const workshop = await newWorkshop(10);
      const a = uid();
      const b = uid();
      await joinWorkshop(database.db, { code: workshop.code, learnerId: a, displayName: 'Smith, "Jo"' });
      await joinWorkshop(database.db, { code: workshop.code, learnerId: b, displayName: '王小明' });
      await recordStepResult(database.db, {
        learnerId: a,
        labId: 'exercise-net-namespace',
        stepId: 'veth',
        message: { en: 'veth0 up,\nline two', zh: '接口 veth0 已启用，"好"' },
        evidence: { ifname: 'veth0', peer: 'a,b "c"\r\nd' },
        passedAt: Date.UTC(2025, 0, 2, 3, 4, 5, 6),
      });
      await recordStepResult(database.db, {
        learnerId: a,
        labId: 'exercise-net-namespace',
        stepId: 'netns',
        evidence: { inode: 4026532301 },
        passedAt: Date.UTC(2025, 0, 2, 3, 0, 0, 0),
      });
      await recordStepResult(database.db, { learnerId: a, labId: 'other-lab', stepId: 's', evidence: {}, passedAt: 5 });

      const progress = await workshopProgress(database.db, workshop.id, ['exercise-net-namespace']);
      assert.equal(progress.length, 2);
      assert.deepEqual(progress.find((p) => p.learnerId === a)?.passed, {
        'exercise-net-namespace': { veth: Date.UTC(2025, 0, 2, 3, 4, 5, 6), netns: Date.UTC(2025, 0, 2, 3, 0, 0, 0) },
      });
      assert.deepEqual(progress.find((p) => p.learnerId === b)?.passed, {});
      assert.ok((await workshopProgress(database.db, workshop.id)).find((p) => p.learnerId === a)?.passed['other-lab']);

      const records = await completionRecords(database.db, { workshopId: workshop.id, labIds: ['exercise-net-namespace'] });
      assert.equal(records.length, 1);
      const [record] = records;
      assert.ok(record);
      assert.equal(record.displayName, 'Smith, "Jo"');
      assert.deepEqual(
        record.steps.map((s) => s.stepId),
        ['netns', 'veth'],
      );
      assert.equal(record.firstPassedAt, Date.UTC(2025, 0, 2, 3, 0, 0, 0));
      assert.equal(record.lastPassedAt, Date.UTC(2025, 0, 2, 3, 4, 5, 6));
      assert.equal((await completionRecords(database.db, { learnerId: a })).length, 2);
      assert.deepEqual(await completionRecords(database.db, { learnerId: b }), []);

      const csv = toCsv(records);
      assert.ok(csv.startsWith('\uFEFFlearner_id,display_name,lab_id,step_id,status,passed_at,message_en,message_zh,evidence\r\n'));
      const rows = parseCsv(csv.slice(1));
      assert.equal(rows.length, 3);
      const veth = rows.find((r) => r[3] === 'veth');
      assert.deepEqual(veth, [
        a,
        'Smith, "Jo"',
        'exercise-net-namespace',
        'veth',
        'passed',
        '2025-01-02T03:04:05.006Z',
        'veth0 up,\nline two',
        '接口 veth0 已启用，"好"',
        JSON.stringify({ ifname: 'veth0', peer: 'a,b "c"\r\nd' }),
      ]);
      assert.ok(csv.includes('"Smith, ""Jo"""'));

      const json = JSON.parse(toJson(records)) as { records: CompletionRecord[] };
      assert.deepEqual(json.records[0]?.steps[1]?.evidence, { ifname: 'veth0', peer: 'a,b "c"\r\nd' });
    });

    test('a completion record certifies the name the learner had when the work was stored, not a later rename', async () => {
      const learner = uid();
      await setDisplayName(database.db, learner, 'Ada Lovelace');
      await recordStepResult(database.db, { learnerId: learner, labId: 'exercise-net-namespace', stepId: 'netns', evidence: {}, passedAt: 1_000 });
      await recordStepResult(database.db, { learnerId: learner, labId: 'exercise-net-namespace', stepId: 'veth', evidence: {}, passedAt: 2_000 });
      await setDisplayName(database.db, learner, 'Linus Torvalds');
      const [record] = await completionRecords(database.db, { learnerId: learner });
      assert.equal(record?.certifiedName, 'Ada Lovelace', 'frozen when the steps were stored');
      assert.equal(record?.displayName, 'Linus Torvalds', 'the roster shows the current name');
      // A step stored after the rename re-issues the record under the new name.
      await recordStepResult(database.db, { learnerId: learner, labId: 'exercise-net-namespace', stepId: 'ping', evidence: {}, passedAt: 3_000 });
      assert.equal((await completionRecords(database.db, { learnerId: learner }))[0]?.certifiedName, 'Linus Torvalds');
    });

    test('workshop messages: posted and listed in order, polling with afterMs', async () => {
      const workshop = await newWorkshop(2);
      await postWorkshopMessage(database.db, { workshopId: workshop.id, instructorId: instructor.id, text: ' Break: 10 min ' }, 1000);
      await postWorkshopMessage(database.db, { workshopId: workshop.id, instructorId: null, text: '继续' }, 2000);
      const all = await workshopMessages(database.db, workshop.id);
      assert.deepEqual(
        all.map((m) => [m.text, m.createdAtMs]),
        [
          ['Break: 10 min', 1000],
          ['继续', 2000],
        ],
      );
      assert.deepEqual(
        (await workshopMessages(database.db, workshop.id, { afterMs: 1000 })).map((m) => m.text),
        ['继续'],
      );
      await assert.rejects(postWorkshopMessage(database.db, { workshopId: workshop.id, instructorId: null, text: '   ' }), z.ZodError);
    });

    test('bad input is rejected with zod errors and stores nothing', async () => {
      const learnerId = uid();
      for (const name of ['', '   ', 'x'.repeat(41), '中'.repeat(41), 'bell\u0007', 'rtl\u202Eevil']) {
        await assert.rejects(setDisplayName(database.db, learnerId, name), z.ZodError, `name ${JSON.stringify(name)}`);
      }
      assert.equal(await setDisplayName(database.db, learnerId, '中'.repeat(40)), '中'.repeat(40));
      for (const email of ['', 'no-at-sign', 'a@', '@b.c', 'a b@c.d', `${'x'.repeat(250)}@b.cd`]) {
        await assert.rejects(createInstructor(database.db, email, 'long-enough-password'), z.ZodError, `email ${email}`);
      }
      await assert.rejects(createInstructor(database.db, uniqueEmail(), 'short'), z.ZodError);
      await assert.rejects(createLearner(database.db, { id: 'has space' }), z.ZodError);
      await assert.rejects(
        recordStepResult(database.db, { learnerId: 'bad id!', labId: 'lab', stepId: 's', evidence: {}, passedAt: 1 }),
        z.ZodError,
      );
      await assert.rejects(
        recordStepResult(database.db, { learnerId, labId: 'Bad_Lab', stepId: 's', evidence: {}, passedAt: 1 }),
        z.ZodError,
      );
      await assert.rejects(
        recordStepResult(database.db, { learnerId, labId: 'lab', stepId: 's', evidence: { big: 'x'.repeat(20_000) }, passedAt: 1 }),
        z.ZodError,
      );
      const workshop = { title: 'T', lessons: ['a'], capacity: 2, startsAtMs: 0, endsAtMs: 10, createdBy: instructor.id };
      for (const bad of [
        { ...workshop, title: '  ' },
        { ...workshop, title: 't'.repeat(121) },
        { ...workshop, capacity: 0 },
        { ...workshop, capacity: 2.5 },
        { ...workshop, lessons: [] },
        { ...workshop, lessons: ['a', 'a'] },
        { ...workshop, lessons: ['../etc'] },
        { ...workshop, endsAtMs: 0 },
      ]) {
        await assert.rejects(createWorkshop(database.db, bad), z.ZodError, JSON.stringify(bad));
      }
      const open = await newWorkshop(2);
      await assert.rejects(joinWorkshop(database.db, { code: open.code, learnerId: uid(), displayName: ' ' }), z.ZodError);
      assert.equal((await workshopRoster(database.db, open.id)).length, 0);
      assert.deepEqual(await progressFor(database.db, learnerId), []);
    });

    test('data survives closing and reopening the database', async () => {
      const learnerId = uid();
      await recordStepResult(database.db, { learnerId, labId: 'lab-a', stepId: 'kept', evidence: { n: 1 }, passedAt: 42 });
      const workshop = await newWorkshop(4);
      await joinWorkshop(database.db, { code: workshop.code, learnerId, displayName: 'Persistent' });
      const secret = await createResumeSecret(database.db, learnerId);
      const other = await open();
      await other.close();
      const reopened = await open();
      try {
        assert.deepEqual(
          (await progressFor(reopened.db, learnerId)).map((r) => [r.stepId, r.passedAt, r.evidence]),
          [['kept', 42, { n: 1 }]],
        );
        assert.equal((await workshopRoster(reopened.db, workshop.id))[0]?.displayName, 'Persistent');
        assert.equal((await verifyResumeSecret(reopened.db, secret))?.id, learnerId);
      } finally {
        await reopened.close();
      }
    });
  });
}

describe('sqlite file specifics', () => {
  test('a SQLite file keeps everything across close and reopen (WAL, foreign keys on)', async () => {
    const file = path.join(tmpRoot, 'nested', 'dir', 'reopen.sqlite');
    const first = await openDatabase({ sqlitePath: file });
    const learner = await createLearner(first.db, { displayName: 'Rosalind' });
    await recordStepResult(first.db, { learnerId: learner.id, labId: 'lab-a', stepId: 's1', evidence: { k: 'v' }, passedAt: 7 });
    await first.close();
    assert.ok(fs.existsSync(file));

    const raw = new BetterSqlite3(file, { readonly: true });
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    raw.close();

    const second = await openDatabase({ sqlitePath: file });
    try {
      assert.equal((await getLearner(second.db, learner.id))?.displayName, 'Rosalind');
      assert.deepEqual((await progressFor(second.db, learner.id))[0]?.evidence, { k: 'v' });
      // Foreign keys are enforced: a member row for a workshop that does not exist is refused.
      await assert.rejects(
        second.db
          .insertInto('workshop_members')
          .values({ workshop_id: 'nope', learner_id: learner.id, display_name: 'x', joined_at: 1 })
          .execute(),
        /FOREIGN KEY/,
      );
    } finally {
      await second.close();
    }
  });

  test('SQLite busy (another writer holds the lock) is transient, and withDbRetry rides it out', async () => {
    const file = path.join(tmpRoot, 'busy.sqlite');
    const database = await openDatabase({ sqlitePath: file });
    await database.close();
    const holder = new BetterSqlite3(file);
    const writer = new BetterSqlite3(file, { timeout: 0 });
    try {
      holder.exec('BEGIN IMMEDIATE');
      const write = () => writer.prepare('INSERT INTO learners (id, display_name, created_at) VALUES (?, NULL, 1)').run(uid());
      let busy: unknown;
      try {
        write();
      } catch (error) {
        busy = error;
      }
      assert.ok(busy instanceof Error, 'a second writer must hit the lock');
      assert.ok(isTransientDbError(busy), String(busy));
      setTimeout(() => holder.exec('COMMIT'), 150);
      let tries = 0;
      await withDbRetry(
        async () => {
          tries++;
          write();
        },
        { baseDelayMs: 50, attempts: 10 },
      );
      assert.ok(tries > 1);
    } finally {
      if (holder.inTransaction) holder.exec('ROLLBACK');
      holder.close();
      writer.close();
    }
  });
});

describe('configuration', () => {
  test('DATABASE_URL selects PostgreSQL, else NSLAB_SQLITE_PATH, else var/nslab.sqlite', () => {
    assert.deepEqual(resolveDatabaseTarget({ env: {} }), { kind: 'sqlite', file: 'var/nslab.sqlite' });
    assert.deepEqual(resolveDatabaseTarget({ env: { DATABASE_URL: '' } }), { kind: 'sqlite', file: 'var/nslab.sqlite' });
    assert.deepEqual(resolveDatabaseTarget({ env: { NSLAB_SQLITE_PATH: '/data/x.db' } }), { kind: 'sqlite', file: '/data/x.db' });
    assert.deepEqual(resolveDatabaseTarget({ env: { DATABASE_URL: 'postgres://u:p@db:5432/nslab', NSLAB_SQLITE_PATH: 'x' } }), {
      kind: 'postgres',
      url: 'postgres://u:p@db:5432/nslab',
    });
    assert.equal(resolveDatabaseTarget({ env: { DATABASE_URL: 'postgresql://db/nslab' } }).kind, 'postgres');
    assert.equal(resolveDatabaseTarget({ sqlitePath: 'a.db', env: { DATABASE_URL: 'postgres://db/x' } }).kind, 'sqlite');
  });

  test('bad values fail with an error naming the variable (and not echoing the password)', async () => {
    assert.throws(() => resolveDatabaseTarget({ env: { DATABASE_URL: 'mysql://u:hunter2@db/x' } }), (error: Error) => {
      assert.match(error.message, /DATABASE_URL/);
      assert.match(error.message, /postgres:\/\/ or postgresql:\/\//);
      assert.doesNotMatch(error.message, /hunter2/);
      return true;
    });
    assert.throws(() => resolveDatabaseTarget({ env: { DATABASE_URL: 'not a url' } }), /DATABASE_URL/);
    assert.throws(() => resolveDatabaseTarget({ env: { NSLAB_SQLITE_PATH: '  ' } }), /NSLAB_SQLITE_PATH: must not be empty/);
    await assert.rejects(openDatabase({ env: { DATABASE_URL: 'sqlite://x' } }), /DATABASE_URL/);
  });

  test('an unreachable PostgreSQL is a transient error (connection refused on loopback)', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const error = await openDatabase({ url: `postgresql://nobody@127.0.0.1:${port}/none` }).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(error instanceof Error, 'opening must fail');
    assert.ok(isTransientDbError(error), String(error));
    assert.equal(isTransientDbError(new Error('syntax error')), false);
    assert.equal(isTransientDbError(z.ZodError), false);
  });

  test('sharedDatabase opens one database per process from the environment', async () => {
    const saved = { url: process.env.DATABASE_URL, path: process.env.NSLAB_SQLITE_PATH };
    delete process.env.DATABASE_URL;
    process.env.NSLAB_SQLITE_PATH = path.join(tmpRoot, 'shared.sqlite');
    try {
      const [a, b] = await Promise.all([sharedDatabase(), sharedDatabase()]);
      assert.equal(a, b);
      assert.equal(a.description, `sqlite:${path.join(tmpRoot, 'shared.sqlite')}`);
      await createLearner(a.db, { displayName: 'Shared' });
      await closeSharedDatabase();
      const c = await sharedDatabase();
      assert.notEqual(c, a);
      await closeSharedDatabase();
    } finally {
      if (saved.url === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved.url;
      if (saved.path === undefined) delete process.env.NSLAB_SQLITE_PATH;
      else process.env.NSLAB_SQLITE_PATH = saved.path;
    }
  });

  test('csvField quotes only what RFC 4180 needs', () => {
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('中文'), '中文');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('two\nlines'), '"two\nlines"');
    assert.equal(csvField('cr\rhere'), '"cr\rhere"');
  });

  test('CSV defuses spreadsheet formulas in names', () => {
    const csv = toCsv(
      [
        {
          learnerId: 'l1',
          displayName: '=HYPERLINK("http://x")',
          certifiedName: '=HYPERLINK("http://x")',
          labId: 'lab',
          steps: [{ stepId: 's', status: 'passed', passedAt: 0, message: null, evidence: {} }],
          firstPassedAt: 0,
          lastPassedAt: 0,
        },
      ],
      { bom: false },
    );
    assert.equal(parseCsv(csv)[1]?.[1], `'=HYPERLINK("http://x")`);
  });
});
