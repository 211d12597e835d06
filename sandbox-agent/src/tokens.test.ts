import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenIssuer } from './tokens';

const secret = 'x'.repeat(40);

test('a token verifies once and binds session and learner', () => {
  const issuer = new TokenIssuer(secret, 60_000);
  const { token } = issuer.issue('s-1', 'learner-a');
  const first = issuer.consume(token);
  assert.equal(first.ok, true);
  if (first.ok) {
    assert.equal(first.payload.sid, 's-1');
    assert.equal(first.payload.lid, 'learner-a');
  }
  assert.deepEqual(issuer.consume(token), { ok: false, reason: 'replayed' });
});

test('expired, tampered, foreign and garbage tokens are refused', () => {
  let now = 1_000_000;
  const issuer = new TokenIssuer(secret, 1_000, () => now);
  const { token } = issuer.issue('s-1', 'a');
  now += 1_001;
  assert.deepEqual(issuer.consume(token), { ok: false, reason: 'expired' });

  const fresh = issuer.issue('s-1', 'a').token;
  const [body, sig] = fresh.split('.');
  const forged = Buffer.from(JSON.stringify({ v: 1, sid: 's-2', lid: 'a', exp: now + 1000, n: 'x' })).toString('base64url');
  assert.deepEqual(issuer.consume(`${forged}.${sig}`), { ok: false, reason: 'bad-signature' });
  assert.deepEqual(issuer.consume(`${body}.${sig}x`), { ok: false, reason: 'bad-signature' });
  // Every other spelling of the last character (including ones that decode to the same bytes).
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  for (const ch of alphabet) {
    if (ch === sig!.at(-1)) continue;
    assert.deepEqual(issuer.consume(`${body}.${sig!.slice(0, -1)}${ch}`), { ok: false, reason: 'bad-signature' }, ch);
  }

  const other = new TokenIssuer('y'.repeat(40), 60_000, () => now);
  assert.deepEqual(other.consume(fresh), { ok: false, reason: 'bad-signature' });
  for (const junk of ['', '.', 'a.b.c', 'nodot', '%%%.%%%']) assert.equal(issuer.consume(junk).ok, false, junk);
});

test('a viewer token says so; a learner token does not, and the role cannot be forged', () => {
  const issuer = new TokenIssuer(secret, 60_000);
  const viewer = issuer.consume(issuer.issue('s-1', 'learner-a', 'viewer').token);
  assert.equal(viewer.ok && viewer.payload.r, 'viewer');
  const learner = issuer.consume(issuer.issue('s-1', 'learner-a').token);
  assert.equal(learner.ok && learner.payload.r, undefined);
  const [, sig] = issuer.issue('s-1', 'learner-a').token.split('.');
  const forged = Buffer.from(JSON.stringify({ v: 1, sid: 's-1', lid: 'learner-a', exp: Date.now() + 1000, n: 'z', r: 'viewer' })).toString('base64url');
  assert.deepEqual(issuer.consume(`${forged}.${sig}`), { ok: false, reason: 'bad-signature' });
});
