// nsread, the grader's persistent namespace reader (root + real kernel): it proves every namespace
// it enters by inode, never enters the host's, survives bad input, and is replaced when it dies.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { after, test } from 'node:test';
import { ensureNsreadBuilt, nsReader, nsreadBinary, stopNsReader } from './ns-reader';

after(() => stopNsReader());

const inodeOf = (file: string) => fs.statSync(file).ino;

test('builds, then refuses the host namespaces, wrong inodes and malformed requests', async () => {
  assert.equal(ensureNsreadBuilt(), true);
  const reader = nsReader();
  assert.ok(reader);
  assert.deepEqual(await reader.read('net', '/proc/self/ns/net', inodeOf('/proc/self/ns/net'), 2_000), {
    ok: false,
    stdout: '',
    error: "refused: that is the host's namespace",
  });
  assert.equal((await reader.read('uts', '/proc/self/ns/uts', inodeOf('/proc/self/ns/uts'), 2_000)).ok, false);
  // A namespace of our own making, with the wrong inode: refused as if the process had gone.
  const holder = spawn('unshare', ['-nu', 'sleep', '30'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 300));
    const netFile = `/proc/${holder.pid}/ns/net`;
    assert.deepEqual(await reader.read('net', netFile, inodeOf(netFile) + 1, 2_000), { ok: false, stdout: '', error: 'reader process ended' });
    const good = await reader.read('net', netFile, inodeOf(netFile), 2_000);
    assert.ok(good.ok);
    assert.deepEqual(JSON.parse(good.stdout).map((l: { ifname: string }) => l.ifname), ['lo']);
    const uts = await reader.read('uts', `/proc/${holder.pid}/ns/uts`, inodeOf(`/proc/${holder.pid}/ns/uts`), 2_000);
    // nsOwner: the user namespace that owns it (NS_GET_USERNS), here the host's (unshare ran as root)
    assert.deepEqual(uts, { ok: true, stdout: fs.readFileSync('/proc/sys/kernel/hostname', 'utf8').trim(), nsOwner: inodeOf('/proc/self/ns/user') });
    // The reader holds no reference once it answered: only the sleep keeps the namespace.
    const readerPids = spawnSync('pgrep', ['-f', nsreadBinary], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
    for (const pid of readerPids) assert.notEqual(fs.readlinkSync(`/proc/${pid}/ns/net`), fs.readlinkSync(netFile));
  } finally {
    holder.kill('SIGKILL');
  }
  for (const bad of ['/etc/passwd', '/proc/1/ns/net;rm', '../x', '/proc/1/ns/net 5']) {
    assert.deepEqual(await reader.read('net', bad, 5, 2_000), { ok: false, stdout: '', error: 'nsread: bad request' }, bad);
  }
  const procs = await reader.procs([process.pid, 999_999_999], 2_000);
  assert.ok(procs.ok);
  assert.equal(procs.procs.get(process.pid)?.comm.toString('utf8'), fs.readFileSync('/proc/self/comm', 'utf8'));
  // exe: the target of /proc/PID/exe and the file's identity, as stat(2) through that link gives it
  const exe = procs.procs.get(process.pid)?.exe;
  const own = fs.statSync('/proc/self/exe');
  assert.deepEqual(exe && { path: exe.path.toString('utf8'), dev: exe.dev, ino: exe.ino }, { path: fs.readlinkSync('/proc/self/exe'), dev: own.dev, ino: own.ino });
  assert.equal(procs.procs.get(999_999_999), undefined);
});

test('the binary answers garbage lines with errors and keeps serving', () => {
  const run = spawnSync(nsreadBinary, [], { input: 'garbage\n7 nope /x 1\n8 net\n9 procs 1 0\n10 drop - 99\n11 procs 1,x,-3,1 5\n', encoding: 'utf8', timeout: 5_000 });
  const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id?: number; ok?: boolean; error?: string; ready?: boolean });
  assert.deepEqual(lines[0], { ready: true });
  assert.deepEqual(lines.slice(1, 4).map((l) => l.error), ['bad request', 'unknown kind', 'bad request']);
  assert.equal(lines[4]?.id, 9);
  assert.equal(lines[4]?.ok, true);
  assert.deepEqual(lines[5], { id: 10, ok: true }, 'dropping a tag nobody used is fine');
  assert.equal(lines[6]?.ok, true);
  assert.equal((lines[6] as { procs?: unknown[] }).procs?.length, 2, 'bad PIDs in a list are skipped');
  assert.equal(run.status, 0);
});

test('a reader that dies mid-request fails that request and is replaced on the next one', async () => {
  const reader = nsReader()!;
  const own = spawnSync('pgrep', ['-P', String(process.pid), '-f', nsreadBinary], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
  assert.ok(own, 'the reader is a child of this process');
  const pending = reader.procs([process.pid], 2_000);
  process.kill(Number(own), 'SIGKILL');
  const first = await pending;
  // Either it answered before the kill landed, or it failed cleanly.
  assert.ok(first.ok || /nsread exited/.test(first.error), JSON.stringify(first));
  const again = await reader.procs([process.pid], 2_000);
  assert.ok(again.ok, JSON.stringify(again));
});
