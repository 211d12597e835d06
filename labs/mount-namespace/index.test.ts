import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertLabShape, clone, gradeAll, loadFixture, statuses } from '../core/testing/fixtures';
import { mountNamespace } from './index';

const load = (name: string) => loadFixture(import.meta.url, name);

describe('mount-namespace', () => {
  test('lab shape', () => {
    assertLabShape(mountNamespace);
    assert.deepEqual(mountNamespace.steps.map((s) => s.id), ['private-mount', 'neighbour-blind', 'nsenter-mount']);
  });

  test('recorded: done right passes every step, citing the mount namespaces', () => {
    const obs = load('recorded-done');
    const r = gradeAll(mountNamespace, obs);
    for (const id of ['private-mount', 'neighbour-blind', 'nsenter-mount']) assert.equal(r[id]?.status, 'passed', `${id}: ${r[id]?.message?.en}`);
    assert.match(r['private-mount']!.message!.en, new RegExp(`tmpfs "scratch" at /mnt exists in mnt:\\[\\d+\\].* not in the sandbox's mnt:\\[${obs.snapshot.sandbox.baseNs.mnt}\\]`));
  });

  test('recorded: tmpfs mounted in the base mount namespace (visible to the neighbour) fails', () => {
    const r = gradeAll(mountNamespace, load('recorded-base-mount'));
    assert.deepEqual(statuses(r), { 'private-mount': 'failed', 'neighbour-blind': 'failed', 'nsenter-mount': 'failed' });
    assert.match(r['private-mount']!.message!.en, /in the sandbox's own mnt:\[\d+\]: terminal 2 sees it too/);
    assert.match(r['private-mount']!.hint!.en, /unshare -m/);
  });

  test('looking from terminal 1 (inside) or finding the mount does not count for neighbour-blind', () => {
    const obs = clone(load('recorded-done'));
    const look = obs.transcript.find((c) => c.command === 'findmnt /mnt')!;
    look.exitCode = 0;
    look.output = 'TARGET SOURCE  FSTYPE OPTIONS\n/mnt   scratch tmpfs  rw\n';
    assert.equal(gradeAll(mountNamespace, obs)['neighbour-blind']?.status, 'failed');
  });

  test('nsenter into a process of the base mount namespace does not count', () => {
    const obs = clone(load('recorded-done'));
    const call = obs.transcript.find((c) => c.command.startsWith('nsenter'))!;
    call.command = 'nsenter -t 1 -m findmnt /mnt';
    assert.equal(gradeAll(mountNamespace, obs)['nsenter-mount']?.status, 'failed');
  });
});
