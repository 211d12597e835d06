// Every lab's reference solution, run in a real sandbox, proves each check fails before its step
// and passes after it (labs:verify, as part of npm test).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { labs } from '../../labs/index';
import { verifyLab } from './labs-verify';
import { startHarness, type Harness } from './test-support/agent-harness';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.close();
});

for (const lab of Object.values(labs)) {
  test(`labs:verify ${lab.id}`, { timeout: 120_000 }, async () => {
    const verdicts = await verifyLab(h, lab);
    assert.ok(verdicts.length >= lab.steps.length, 'every step verified');
    for (const v of verdicts) assert.ok(v.ok, `${v.labId}/${v.stepId}: ${v.detail}`);
  });
}
