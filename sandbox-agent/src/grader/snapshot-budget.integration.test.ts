// A learner with many namespaces must not make each grading round run one process per namespace
// on the host (battery case D06): beyond a budget, unchanged namespaces reuse their last read,
// and a namespace that changed is read fresh in the next round.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { defaultSandboxLimits, type Sandbox } from '../sandbox/driver';
import { TestShell } from '../sandbox/test-shell';
import { UnshareDriver } from '../sandbox/unshare-driver';
import { buildSnapshot, refreshPerSnapshot } from './snapshot';

const driver = new UnshareDriver({ cgroupName: `nslab-budget-${randomBytes(3).toString('hex')}` });
let sb: Sandbox;
let shell: TestShell;

before(async () => {
  await driver.preflight();
  sb = await driver.create({ id: `s-${randomBytes(4).toString('hex')}`, hostname: 'budget', limits: defaultSandboxLimits });
  shell = await TestShell.open(sb);
});
after(async () => {
  await shell?.close();
  await sb?.destroy();
  await driver.reapLeftovers(new Set());
  driver.removeCgroupParents();
});

test('many network namespaces: bounded reads per round, changes still seen', { timeout: 90_000 }, async () => {
  const count = refreshPerSnapshot * 3;
  const made = await shell.run(`for i in $(seq ${count}); do unshare -n sleep 300 & done; sleep 1; pgrep -c -x sleep`);
  assert.match(made.output, new RegExp(`\\b${count}\\b`));
  // Each round reads at most the budget fresh; within a few rounds every namespace has been read.
  let second = await buildSnapshot(sb, { timeoutMs: 10_000 });
  assert.equal(second.netns.length, count + 1);
  assert.ok(second.warnings.some((w) => new RegExp(`${refreshPerSnapshot} read fresh`).test(w)), second.warnings.join('; '));
  for (let round = 0; round < 5 && second.netns.some((n) => !n.complete); round++) second = await buildSnapshot(sb, { timeoutMs: 10_000 });
  assert.ok(second.netns.every((n) => n.complete), 'every namespace read within a few rounds');
  assert.ok(second.netns.every((n) => n.interfaces.some((i) => i.name === 'lo')));

  // Change one namespace: its next read is fresh even though most are reused.
  const target = second.processes.filter((p) => p.comm === 'sleep').at(-1)!;
  const changed = await shell.run(`nsenter -t ${target.pid} -n ip link set lo up && nsenter -t ${target.pid} -n ip addr add 10.9.9.9/32 dev lo`);
  assert.equal(changed.exitCode, 0, changed.output);
  const third = await buildSnapshot(sb, { timeoutMs: 10_000 });
  const ns = third.netns.find((n) => n.inode === target.ns.net)!;
  assert.ok(ns.interfaces.some((i) => i.addresses.some((a) => a.address === '10.9.9.9')), JSON.stringify(ns));
  await shell.run('pkill -x sleep; true');
});
