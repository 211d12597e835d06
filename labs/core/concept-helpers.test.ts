import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nsTypeZh, typeListZh, zhInline } from './results';
import { parseNsInode } from './ns-types';
import { nsLinksInText, procNsRef } from './transcript';
import { lsnsTypeFilters } from './ns-tools';

test('procNsRef: numeric, self and dynamic references, with the link named', () => {
  assert.deepEqual(procNsRef('/proc/42/ns/'), { ref: { pid: 42 }, link: null });
  assert.deepEqual(procNsRef('/proc/$$/ns/uts'), { ref: { self: true }, link: 'uts' });
  assert.deepEqual(procNsRef('/proc/self/ns'), { ref: { self: true }, link: null });
  assert.deepEqual(procNsRef('/proc/$!/ns/*'), { ref: { dynamic: '$!' }, link: null });
  assert.equal(procNsRef('/proc/42/status'), null);
  assert.equal(procNsRef('/etc/ns'), null);
});

test('parseNsInode accepts n, [n] and type:[n] only', () => {
  assert.deepEqual(parseNsInode('4026532184'), { inode: 4026532184 });
  assert.deepEqual(parseNsInode(" 'net:[4026532184]' "), { inode: 4026532184, type: 'net' });
  assert.equal(parseNsInode('net'), undefined);
  assert.equal(parseNsInode('0'), undefined);
  assert.equal(parseNsInode('12 34'), undefined);
});

test('lsnsTypeFilters reads -t X, -tX, --type X and --type=X; null for other programs', () => {
  assert.deepEqual(lsnsTypeFilters(['lsns']), []);
  assert.deepEqual(lsnsTypeFilters(['lsns', '-t', 'net', '-tuts', '--type', 'pid', '--type=mnt']), ['net', 'uts', 'pid', 'mnt']);
  assert.equal(lsnsTypeFilters(['ls', '-t', 'net']), null);
});

test('nsLinksInText folds pid_for_children into pid and ignores unrelated words', () => {
  const out = "pid -> 'pid:[4026532182]'\npid_for_children -> 'pid:[4026532182]'\nnetwork:[1] uts:[4026532180]\n";
  assert.deepEqual(nsLinksInText(out), { pid: [4026532182], uts: [4026532180] });
});

test('zh type names follow the glossary and sit between Chinese words with the right spacing', () => {
  assert.equal(`你的 shell 的${zhInline(nsTypeZh('net'))}命名空间`, '你的 shell 的网络命名空间');
  assert.equal(`你的 shell 的${zhInline(nsTypeZh('ipc'))}命名空间`, '你的 shell 的 IPC 命名空间');
  assert.equal(`新建的${zhInline(typeListZh(['mnt', 'user', 'uts'].map(nsTypeZh)))}命名空间`, '新建的挂载、用户、UTS 命名空间');
});
