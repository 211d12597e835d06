import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CompletionRecord } from './db/repository';
import { claimOf, signCompletion, verifyCompletion } from './workshops-completion.server';

const secret = 'c'.repeat(40);
const record: Pick<CompletionRecord, 'certifiedName' | 'labId' | 'steps'> = {
  certifiedName: '李雷 Lei',
  labId: 'exercise-net-namespace',
  steps: [
    { stepId: 'isolate-sleep', status: 'passed', passedAt: 1_700_000_000_000, message: null, evidence: {} },
    { stepId: 'find-pid', status: 'passed', passedAt: 1_700_000_060_000, message: null, evidence: { pid: 42 } },
  ],
};

test('a completion link verifies and carries name, lab and step times (no evidence, no learner id)', () => {
  const token = signCompletion(claimOf(record, 1_700_000_100_000), secret);
  const claim = verifyCompletion(token, secret);
  assert.deepEqual(claim, {
    v: 1,
    name: '李雷 Lei',
    lab: 'exercise-net-namespace',
    steps: [
      ['isolate-sleep', 1_700_000_000_000],
      ['find-pid', 1_700_000_060_000],
    ],
    iat: 1_700_000_100_000,
  });
  assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
});

test('an altered or foreign completion link is refused', () => {
  const token = signCompletion(claimOf(record), secret);
  const [body, sig] = token.split('.') as [string, string];
  const claim = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  claim.name = 'Mallory';
  const altered = Buffer.from(JSON.stringify(claim)).toString('base64url');
  assert.equal(verifyCompletion(`${altered}.${sig}`, secret), null);
  assert.equal(verifyCompletion(token, 'd'.repeat(40)), null);
  for (const junk of ['', '.', 'abc', 'a.b.c', `${body}.`]) assert.equal(verifyCompletion(junk, secret), null);
});
