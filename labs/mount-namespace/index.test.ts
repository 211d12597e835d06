import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertPasses, assertStaysFailed, clone, forged, gradeAll, loadFixture, statuses } from '../core/test-support';
import { testDefinition } from '../core/test-support';
import { mountNamespace } from './index';

const load = (name: string) => loadFixture(import.meta.url, name);

describe('mount-namespace', () => {
  testDefinition(mountNamespace, ['private-mount', 'neighbour-blind', 'nsenter-mount']);

  test('recorded: done right passes every step, citing the mount namespaces', () => {
    const obs = load('recorded-done');
    const r = assertPasses(mountNamespace, obs, ['private-mount', 'neighbour-blind', 'nsenter-mount']);
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

  describe('forgeries (issue 13): the kernel state of the real solution, the reading steps faked', () => {
    const done = () => load('recorded-done');
    const isLook = (c: string) => c === 'findmnt /mnt';
    const isNsenter = (c: string) => c.startsWith('nsenter');

    test('the real looks pass: findmnt, mountpoint, and cat of the file terminal 1 wrote', () => {
      for (const [command, output] of [
        ['findmnt /mnt', ''],
        ['mountpoint /mnt', '/mnt is not a mountpoint'],
        ['cat /mnt/note', 'cat: /mnt/note: No such file or directory'],
      ] as const) {
        const obs = forged(done(), isLook, [{ terminal: 1, command, output, exitCode: 1 }]);
        assert.equal(gradeAll(mountNamespace, obs)['neighbour-blind']?.status, 'passed', command);
      }
    });

    test('neighbour-blind and nsenter-mount stay failed on looks at something else, no tmpfs shown, or output printed by hand', () => {
      const cases: Array<[string, (c: string) => boolean, Array<[string, string, number]>]> = [
        ['neighbour-blind', isLook, [
          ['cat /mnt/anything', 'cat: /mnt/anything: No such file or directory', 1],
          ['ls /mnt/nothing-here', "ls: cannot access '/mnt/nothing-here': No such file or directory", 2],
          ['findmnt /mnt/sub', '', 1],
          ['findmnt /mnt; false', '', 1],
          ['false # findmnt /mnt', '', 1],
          ['echo "/mnt is not a mountpoint"; false', '/mnt is not a mountpoint', 1],
          ['findmnt /mnt -x', 'findmnt: invalid option', 1],
        ]],
        ['nsenter-mount', isNsenter, [
          ['nsenter -t 13 -m true /mnt', '', 0],
          ['nsenter -t 13 -m ls /mnt', 'note', 0],
          ['nsenter -t 13 -m echo /mnt scratch tmpfs', '/mnt scratch tmpfs', 0],
          ['nsenter -t 13 -m true; echo "/mnt scratch tmpfs rw"', '/mnt scratch tmpfs rw', 0],
          ['nsenter -t 13 -m findmnt /mnt', '', 0],
          ['nsenter -t 13 -m findmnt /mnt | sed s/x/y/', 'TARGET SOURCE FSTYPE\n/mnt scratch tmpfs rw', 0],
        ]],
      ];
      for (const [stepId, drop, typed] of cases) {
        assertStaysFailed(mountNamespace, done(), stepId, drop, typed.map(([command, output, exitCode]) => ({ terminal: 1, command, output, exitCode })));
      }
      const real = forged(done(), isNsenter, [{ terminal: 1, command: 'nsenter -t 13 -m df /mnt', output: 'Filesystem 1K-blocks Used Available Use% Mounted on\nscratch 1000 4 996 1% /mnt', exitCode: 0 }]);
      assert.equal(gradeAll(mountNamespace, real)['nsenter-mount']?.status, 'passed', 'df of the mount point shows it');
    });
  });
});
