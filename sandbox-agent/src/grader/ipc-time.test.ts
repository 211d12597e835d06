import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipcTimeLimits, parseSysvipc, parseTimensOffsets } from './ipc-time';

test('timens_offsets: names (5.6+ kernels print them) and clock ids, negative offsets', () => {
  assert.deepEqual(parseTimensOffsets('monotonic           0         0\nboottime        86400         0\n'), { monotonicSec: 0, boottimeSec: 86400 });
  assert.deepEqual(parseTimensOffsets('1 -5 500000000\n7 3600 0\n'), { monotonicSec: -5.5, boottimeSec: 3600 });
  assert.equal(parseTimensOffsets('boottime 1 0\n'), null);
  assert.equal(parseTimensOffsets(''), null);
});

test('sysvipc: queues with keys and ids, counts of segments and sets, headers skipped', () => {
  const text = [
    '==> /proc/sysvipc/msg <==',
    '       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime',
    '1804289383          0   644           0          0     0     0     0     0     0     0          0          0 1795933000',
    '         0          1   600           0          0     0     0     0     0     0     0          0          0 1795933001',
    '',
    '==> /proc/sysvipc/shm <==',
    '       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap',
    '         0          2  1600                  1024    10     0      0     0     0     0     0          0          0 1795933002                     0                     0',
    '',
    '==> /proc/sysvipc/sem <==',
    '       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime',
    '',
  ].join('\n');
  assert.deepEqual(parseSysvipc(text), { msgQueues: [{ key: 1804289383, id: 0 }, { key: 0, id: 1 }], shmSegments: 1, semSets: 0 });
});

test('sysvipc: a learner with thousands of queues gets a bounded list', () => {
  const lines = ['==> /proc/sysvipc/msg <==', '       key      msqid perms'];
  for (let i = 0; i < 1000; i++) lines.push(`${i + 1} ${i} 644 0 0 0 0 0 0 0 0 0 0 0`);
  assert.equal(parseSysvipc(lines.join('\n')).msgQueues.length, ipcTimeLimits.maxQueuesListed);
});
