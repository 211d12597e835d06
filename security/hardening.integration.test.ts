// Security battery A11-A14 (issue 12, hardening): locked host-provided mounts, the seccomp filter,
// shells entered as the sandbox's uid (never host root), the grader's ping probe unprivileged, and the
// sandbox's rlimits. Every attack runs in a sandbox made by the real driver, behind the
// not-on-the-host probe (Box.open), under `timeout`. Nothing connects anywhere: sockets are only
// created (A12), and the probe pings the sandbox's own loopback (A14).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCase, Skip } from './battery';
import { runPython } from './py';
import { batteryDriver, Box, rand } from './support';
import { buildSnapshot } from '../sandbox-agent/src/grader/snapshot';
import { runProbes } from '../sandbox-agent/src/grader/probes';
import { defaultSandboxLimits } from '../sandbox-agent/src/sandbox/driver';
import { sandboxNproc, SANDBOX_NOFILE, type UnshareDriver } from '../sandbox-agent/src/sandbox/unshare-driver';

const FILE = 'security/hardening.integration.test.ts';
const here = path.dirname(fileURLToPath(import.meta.url));
let driver: UnshareDriver;
let a: Box;

before(async () => {
  driver = batteryDriver('hard');
  a = await Box.open(driver);
});
after(async () => {
  await a?.close();
  driver?.removeCgroupParents();
});

/** Mounts the kernel must keep locked in the learner's mount namespace (SANDBOX.md, "Locked mounts"). */
const HOST_PROVIDED = ['/dev/full', '/dev/null', '/dev/random', '/dev/tty', '/dev/urandom', '/dev/zero', '/usr', '/usr/local'];
/** The sandbox's own mounts (its proc, sysfs, devpts...): the learner may unmount them, nothing of the host is under them. */
const SANDBOX_OWN = ['/dev/mqueue', '/dev/pts', '/dev/shm', '/proc', '/run/.sys', '/sys'];

const UMOUNT_PY = `import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
def res(r):
    return 'OK' if r == 0 else errno.errorcode.get(ctypes.get_errno(), '?')
def um(t, flags):
    ctypes.set_errno(0)
    return res(libc.umount2(t.encode(), flags))
def remount(t, flags):
    ctypes.set_errno(0)
    return res(libc.mount(None, t.encode(), None, flags, None))
MS_REMOUNT, MS_BIND, MS_NOSUID, MS_NODEV, MS_RELATIME, MNT_DETACH = 32, 4096, 2, 4, 1 << 21, 2
print('R umount_/usr/local', um('/usr/local', 0))
print('R umount_lazy_/usr/local', um('/usr/local', MNT_DETACH))
print('R umount_lazy_/usr', um('/usr', MNT_DETACH))
print('R umount_lazy_/dev/null', um('/dev/null', MNT_DETACH))
# Only the read-only flag changes (nosuid, nodev, relatime kept): EPERM proves MNT_LOCK_READONLY.
print('R remount_rw_/usr', remount('/usr', MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | MS_RELATIME))
print('R remount_rw_/usr/local', remount('/usr/local', MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | MS_RELATIME))
print('R remount_suid_/usr', remount('/usr', MS_REMOUNT | MS_BIND | 1 | MS_RELATIME))
`;

describe('A11-A14 hardening', { timeout: 180_000 }, () => {
  test('A11 host-provided mounts are locked: no umount, no remount rw', async (t) => {
    await runCase(t, 'A11', FILE, async () => {
      const r = await runPython(a, UMOUNT_PY, 20);
      assert.equal(r.exitCode, 0, r.output);
      const res = Object.fromEntries([...r.output.matchAll(/^R (\S+) (\S+)/gm)].map((m) => [m[1]!, m[2]!]));
      for (const k of ['umount_/usr/local', 'umount_lazy_/usr/local', 'umount_lazy_/usr', 'umount_lazy_/dev/null']) assert.equal(res[k], 'EINVAL', `${k}: ${r.output}`);
      for (const k of ['remount_rw_/usr', 'remount_rw_/usr/local', 'remount_suid_/usr']) assert.equal(res[k], 'EPERM', `${k}: ${r.output}`);
      const after = await a.run('ls -A /usr/local | wc -l; touch /usr/.x 2>&1 | head -1');
      assert.match(after.output, /^0$/m, 'the host /usr/local became visible');
      assert.match(after.output, /Read-only file system/);
      // Which mounts are locked: try to detach each one in a throwaway copy of the namespace
      // (`unshare -m`: same user namespace, locks kept); a nested `unshare -Urm` must not unlock them.
      const table = await a.run(
        'timeout 30 sh -c \'for t in $(awk "{print \\$5}" /proc/self/mountinfo | sort -u); do [ "$t" = / ] && continue; ' +
          'if unshare -m umount -l "$t" 2>/dev/null; then echo "U $t"; else echo "L $t"; fi; done; ' +
          'unshare -Urm sh -c "umount -l /usr/local 2>/dev/null && echo NESTED-U || echo NESTED-L"\'',
        40_000,
      );
      const locked = [...table.output.matchAll(/^L (\S+)/gm)].map((m) => m[1]!).sort();
      const unlocked = [...table.output.matchAll(/^U (\S+)/gm)].map((m) => m[1]!).sort();
      assert.deepEqual(locked, HOST_PROVIDED, table.output);
      assert.deepEqual(unlocked, SANDBOX_OWN, table.output);
      assert.match(table.output, /NESTED-L/);
      return `umount /usr/local: ${res['umount_/usr/local']}; umount -l /usr: ${res['umount_lazy_/usr']}; remount,bind,rw /usr: ${res['remount_rw_/usr']}; remount,bind,rw /usr/local: ${res['remount_rw_/usr/local']}; remount suid /usr: ${res['remount_suid_/usr']}; /usr/local still empty, /usr read-only; locked: ${locked.join(' ')}; the sandbox's own (unlockable, hide nothing of the host): ${unlocked.join(' ')}; still locked under a nested unshare -Urm`;
    });
  });

  test('A12 seccomp: socket families outside the allowlist and the denied calls are refused', async (t) => {
    await runCase(t, 'A12', FILE, async () => {
      const r = await runPython(a, fs.readFileSync(path.join(here, 'fixtures/a12-seccomp.py'), 'utf8'), 20);
      assert.equal(r.exitCode, 0, r.output);
      const fam = Object.fromEntries([...r.output.matchAll(/^FAM (\S+) (\S+)/gm)].map((m) => [m[1]!, m[2]!]));
      const sys = Object.fromEntries([...r.output.matchAll(/^SYS (\S+) (\S+)/gm)].map((m) => [m[1]!, m[2]!]));
      for (const f of ['AF_VSOCK', 'AF_VSOCK_high_bits', 'socketpair_AF_VSOCK', 'AF_ALG', 'AF_RDS', 'AF_TIPC', 'AF_KCM', 'AF_XDP', 'AF_BLUETOOTH', 'AF_KEY', 'AF_AX25']) {
        assert.equal(fam[f], 'EAFNOSUPPORT', `${f}: ${r.output}`);
      }
      for (const f of ['AF_UNIX', 'AF_INET', 'AF_INET6', 'AF_NETLINK', 'AF_PACKET']) assert.equal(fam[f], 'OK', `${f}: ${r.output}`);
      for (const [k, v] of Object.entries(sys)) assert.equal(v, k === 'x32_getpid' ? 'ENOSYS' : 'EPERM', `${k}: ${r.output}`);
      // Every process has it: the init, the entered shell, a nested namespace's child; the lessons' tools still work.
      const st = await a.run(
        'grep --color=never ^Seccomp: /proc/1/status /proc/$$/status | tr "\\n" " "; unshare -Urpf --mount-proc grep --color=never ^Seccomp: /proc/self/status; ' +
          'timeout 10 strace -f -o /dev/null unshare -f true && echo STRACE-OK; timeout 5 ping -c1 -W1 127.0.0.1 >/dev/null && echo PING-OK',
      );
      assert.equal((st.output.match(/Seccomp:\s+2/g) ?? []).length, 3, st.output);
      const strace = fs.existsSync('/usr/bin/strace') ? (assert.match(st.output, /STRACE-OK/), 'strace -f works') : 'strace not installed';
      assert.match(st.output, /PING-OK/);
      return `socket(AF_VSOCK): ${fam.AF_VSOCK} (also with garbage in the upper 32 bits, and socketpair); AF_ALG AF_RDS AF_TIPC AF_KCM AF_XDP AF_BLUETOOTH AF_KEY AF_AX25: EAFNOSUPPORT; unix inet inet6 netlink packet open; ${Object.keys(sys).filter((k) => k !== 'x32_getpid').join(' ')}: EPERM; x32 ABI: ${sys.x32_getpid}; Seccomp: 2 in init, shell and a nested unshare -Urpf child; ${strace}; ping 127.0.0.1 works`;
    });
  });

  test('A13 learner shells are entered as the sandbox uid, never as host root', async (t) => {
    await runCase(t, 'A13', FILE, async () => {
      if (!fs.existsSync('/usr/bin/strace')) throw new Skip('strace is not installed on the host');
      const base = a.sandbox.uidBase;
      const cmd = a.sandbox.shellCommand({ cols: 80, rows: 24, terminal: 0 });
      const trace = path.join(os.tmpdir(), `a13-${rand()}.trace`);
      try {
        const r = spawnSync('/usr/bin/strace', ['-f', '-qq', '-e', 'trace=setns,setresuid,setuid,setgroups', '-o', trace, cmd.file, ...cmd.args], {
          env: cmd.env as unknown as NodeJS.ProcessEnv,
          cwd: cmd.cwd,
          input: 'exit 0\n',
          timeout: 20_000,
          encoding: 'utf8',
        });
        assert.equal(r.status, 0, `${r.stderr}`);
        const lines = fs.readFileSync(trace, 'utf8').split('\n');
        const setns = lines.map((l, i) => [l, i] as const).filter(([l]) => /\bsetns\(/.test(l));
        assert.ok(setns.length >= 6, lines.join('\n'));
        const drop = lines.findIndex((l) => new RegExp(`setres?uid\\(${base}\\b.* = 0`).test(l));
        assert.ok(drop >= 0, `no drop to uid ${base}:\n${lines.join('\n')}`);
        const early = setns.filter(([, i]) => i < drop);
        assert.deepEqual(early.map(([l]) => l), [], `setns before dropping to uid ${base}`);
        assert.match(setns[0]![0], /CLONE_NEWUSER/, 'the user namespace is joined first');
      } finally {
        fs.rmSync(trace, { force: true });
      }
      // And every process of the running sandbox, the live shell's included, is not host root.
      const uids = a.sandbox.listHostPids().map((p) => {
        try {
          return Number(/^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))![1]);
        } catch {
          return -1;
        }
      }).filter((u) => u >= 0);
      assert.ok(uids.length >= 3 && uids.every((u) => u === base), uids.join(','));
      return `shell entry (strace of the real shellCommand): setresuid(${base}) before the first of its setns calls, the user namespace joined first, no setns as host uid 0; ${uids.length} processes in the sandbox's cgroup, all host uid ${base}`;
    });
  });

  test('A14 grader ping probe runs unprivileged; sandbox rlimits', async (t) => {
    await runCase(t, 'A14', FILE, async () => {
      const snapshot = await buildSnapshot(a.sandbox);
      const seen = new Map<number, string>();
      const watch = setInterval(() => {
        for (const e of fs.readdirSync('/proc')) {
          if (!/^\d+$/.test(e)) continue;
          try {
            const st = fs.readFileSync(`/proc/${e}/status`, 'utf8');
            if (!/^Name:\s+ping$/m.test(st) || Number(/^PPid:\s+(\d+)/m.exec(st)?.[1]) !== process.pid) continue;
            const f = (k: string) => new RegExp(`^${k}:[ \\t]*(.*)$`, 'm').exec(st)?.[1]?.trim().split(/\s+/)[0] ?? '?';
            seen.set(Number(e), `uid=${f('Uid')} gid=${f('Gid')} groups=${f('Groups') || '-'} CapEff=${f('CapEff')} NoNewPrivs=${f('NoNewPrivs')}`);
          } catch {
            /* gone */
          }
        }
      }, 3);
      let results;
      try {
        results = await runProbes([{ kind: 'ping', id: 'lo', from: { base: true }, to: '127.0.0.1', count: 3, timeoutMs: 2000 }], snapshot);
      } finally {
        clearInterval(watch);
      }
      assert.equal(results[0]?.status, 'ran', JSON.stringify(results));
      assert.ok(results[0]!.received > 0, JSON.stringify(results));
      const views = [...new Set(seen.values())];
      assert.ok(views.length > 0, 'the ping process was never seen');
      const base = a.sandbox.uidBase;
      for (const v of views) assert.match(v, new RegExp(`^uid=${base} gid=${base} groups=- CapEff=0000000000000000 NoNewPrivs=1$`), v);
      const lim = await a.run('grep -E "^Max (open files|core file size|processes)" /proc/1/limits | tr -s " " | tr "\\n" ";"; ulimit -Hc; ulimit -Hn; ulimit -Hu; (ulimit -Hc 1 2>&1 || true) | tail -1');
      const nproc = sandboxNproc(defaultSandboxLimits.pidsMax);
      assert.match(lim.output, new RegExp(`Max open files ${SANDBOX_NOFILE} ${SANDBOX_NOFILE} files`), lim.output);
      assert.match(lim.output, /Max core file size 0 0 bytes/, lim.output);
      assert.match(lim.output, new RegExp(`Max processes ${nproc} ${nproc} processes`), lim.output);
      assert.match(lim.output, new RegExp(`(^|;)0\\s*\\n${SANDBOX_NOFILE}\\s*\\n${nproc}\\s*$`, 'm'), lim.output);
      assert.match(lim.output, /Operation not permitted|cannot modify limit/, lim.output);
      return `ping probe to the sandbox's lo: ${results[0]!.received}/${results[0]!.transmitted} replies, ping seen as ${views.join(' | ')}; init and shell: RLIMIT_NOFILE ${SANDBOX_NOFILE}/${SANDBOX_NOFILE}, RLIMIT_CORE 0/0 (raising it: refused), RLIMIT_NPROC ${nproc}/${nproc}`;
    });
  });
});
