import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getLab, labIds, labs } from './index';

test('the registry lists each lab under its own id', () => {
  assert.ok(labIds.includes('exercise-net-namespace'));
  for (const id of labIds) {
    assert.equal(labs[id]?.id, id);
    assert.match(id, /^[a-z0-9-]+$/);
  }
  assert.equal(getLab('exercise-net-namespace')?.terminals, 2);
  assert.equal(getLab('nope'), undefined);
  assert.equal(getLab('constructor'), undefined);
  assert.equal(getLab('__proto__'), undefined);
});
