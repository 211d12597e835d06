import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appSecret, newLearnerId, signLearnerId, verifyLearnerCookie } from './learner-cookie.server';

const secret = 'x'.repeat(40);

test('a signed learner id verifies and yields the id', () => {
  const id = newLearnerId();
  assert.match(id, /^[A-Za-z0-9_-]{24}$/);
  assert.equal(verifyLearnerCookie(signLearnerId(id, secret), secret), id);
});

test('a tampered, re-signed or malformed cookie is refused', () => {
  const id = newLearnerId();
  const cookie = signLearnerId(id, secret);
  assert.equal(verifyLearnerCookie(cookie, 'y'.repeat(40)), null);
  assert.equal(verifyLearnerCookie(`${newLearnerId()}${cookie.slice(cookie.indexOf('.'))}`, secret), null);
  assert.equal(verifyLearnerCookie(`${cookie}x`, secret), null);
  assert.equal(verifyLearnerCookie(id, secret), null);
  assert.equal(verifyLearnerCookie('', secret), null);
  assert.equal(verifyLearnerCookie(undefined, secret), null);
});

test('APP_SECRET is required in production and must be long enough', () => {
  assert.throws(() => appSecret({ NODE_ENV: 'production' }), /APP_SECRET is required in production/);
  assert.throws(() => appSecret({ NODE_ENV: 'production', APP_SECRET: 'short' }), /APP_SECRET/);
  assert.equal(appSecret({ NODE_ENV: 'production', APP_SECRET: secret }), secret);
  assert.equal(appSecret({ NODE_ENV: 'development' }).length, 64);
});
