import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { AttemptLimiter, INSTRUCTOR_SESSION_MS, foreignOrigin, signInstructorSession, verifyInstructorSession } from './auth.server';
import { signLearnerId } from './learner-cookie.server';

const secret = 's'.repeat(40);

const sid = 'S'.repeat(43);

test('an instructor session cookie verifies until its expiry and not after', () => {
  const now = 1_700_000_000_000;
  const { value, expiresAtMs } = signInstructorSession({ instructorId: 'inst-1', sessionSecret: sid, expiresAtMs: now + INSTRUCTOR_SESSION_MS }, secret);
  assert.equal(expiresAtMs, now + INSTRUCTOR_SESSION_MS);
  assert.deepEqual(verifyInstructorSession(value, secret, now + 1000), { instructorId: 'inst-1', sessionSecret: sid, expiresAtMs });
  assert.equal(verifyInstructorSession(value, secret, now + INSTRUCTOR_SESSION_MS - 1)?.instructorId, 'inst-1');
  assert.equal(verifyInstructorSession(value, secret, now + INSTRUCTOR_SESSION_MS), null);
});

test('tampered, foreign, learner, old-format and garbage cookies are refused', () => {
  const now = Date.now();
  const { value } = signInstructorSession({ instructorId: 'inst-1', sessionSecret: sid, expiresAtMs: now + 1e6 }, secret);
  const [body, sig] = value.split('.') as [string, string];
  const forged = Buffer.from(JSON.stringify({ iid: 'inst-2', sid, exp: now + 1e9 })).toString('base64url');
  assert.equal(verifyInstructorSession(`${forged}.${sig}`, secret, now), null);
  // Every other spelling of the signature's last character is refused (was flaky with a fixed 'A'
  // that matched the real last character one time in 64).
  for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_') {
    if (ch !== sig.at(-1)) assert.equal(verifyInstructorSession(`${body}.${sig.slice(0, -1)}${ch}`, secret, now), null, ch);
  }
  assert.equal(verifyInstructorSession(value, 't'.repeat(40), now), null);
  // A learner cookie (same secret, other purpose) is not an instructor session.
  assert.equal(verifyInstructorSession(signLearnerId('abcdefghijklmnopqrstuvwx', secret), secret, now), null);
  // A correctly signed cookie of the old stateless format (no session) is not accepted either.
  const oldBody = Buffer.from(JSON.stringify({ iid: 'inst-1', exp: now + 1e6 })).toString('base64url');
  const oldMac = createHmac('sha256', secret).update(`instructor:${oldBody}`).digest('base64url');
  assert.equal(verifyInstructorSession(`${oldBody}.${oldMac}`, secret, now), null);
  for (const junk of [undefined, '', '.', 'a.b.c', 'x'.repeat(2000)]) assert.equal(verifyInstructorSession(junk, secret, now), null);
});

test('foreign Origin headers are refused, same-origin and absent ones pass', () => {
  const req = (origin: string | null, host = 'labs.example.org') => ({
    headers: { get: (name: string) => (name === 'origin' ? origin : name === 'host' ? host : null) },
  });
  assert.equal(foreignOrigin(req(null)), false);
  assert.equal(foreignOrigin(req('https://labs.example.org')), false);
  assert.equal(foreignOrigin(req('https://evil.example')), true);
  assert.equal(foreignOrigin(req('https://labs.example.org.evil.example')), true);
  assert.equal(foreignOrigin(req('null')), true);
});

test('the attempt limiter allows a budget per window and key', () => {
  const limiter = new AttemptLimiter(3, 60_000);
  const t0 = 1_000_000;
  assert.deepEqual([1, 2, 3, 4].map(() => limiter.allow('a', t0)), [true, true, true, false]);
  assert.equal(limiter.allow('b', t0), true);
  assert.equal(limiter.retryAfterS('a', t0 + 30_000), 30);
  assert.equal(limiter.allow('a', t0 + 60_000), true);
});
