import assert from 'node:assert/strict';
import { test } from 'node:test';
import { workshopSweepMs } from './workshop-sweep';

test('NSLAB_WORKSHOP_SWEEP_MS: default 15 s, bounds, and a named error for bad values', () => {
  assert.equal(workshopSweepMs({}), 15_000);
  assert.equal(workshopSweepMs({ NSLAB_WORKSHOP_SWEEP_MS: '' }), 15_000);
  assert.equal(workshopSweepMs({ NSLAB_WORKSHOP_SWEEP_MS: '1000' }), 1000);
  for (const bad of ['0', '499', '600001', '1.5', 'abc', '-1000', '1e3x']) {
    assert.throws(() => workshopSweepMs({ NSLAB_WORKSHOP_SWEEP_MS: bad }), /NSLAB_WORKSHOP_SWEEP_MS must be an integer/, bad);
  }
});
