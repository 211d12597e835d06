// Security battery B01, B03 and D (resource exhaustion and fairness): each attack runs in a learner's
// sandbox through the real agent (WebSocket typing), beside a canary learner that types one key
// every 100 ms and must keep its echo p95 <= 150 ms while the agent's loop lag and RSS stay bounded.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { runCase } from './battery';
import { assertCanary, batteryCgroupName, Canary, Learner, rand, removeCgroupParents, sandboxCgroupDirs, sleep } from './support';
import { startHarness, type Harness } from '../sandbox-agent/src/test-support/agent-harness';
import { defaultSandboxLimits } from '../sandbox-agent/src/sandbox/driver';

const FILE = 'security/resources.slo.test.ts';
const PLANTED = `nslab-planted-${rand()}${rand()}`;
let h: Harness;
let canary: Canary;
let cgroupName: string;

before(async () => {
  cgroupName = batteryCgroupName('res');
  process.env.AGENT_CGROUP_NAME = cgroupName;
  process.env.NSLAB_PLANTED_SECRET = PLANTED; // B03: must never show up in a sandbox
  h = await startHarness({ AGENT_GRADE_POLL_MS: '1000' });
  canary = await Canary.open(h);
});
after(async () => {
  await canary?.close();
  await h?.close();
  removeCgroupParents(cgroupName);
});

describe('B. cross-tenant (through the agent)', { timeout: 120_000 }, () => {
  test('B01 cannot see or kill other sessions or the agent', async (t) => {
    await runCase(t, 'B01', FILE, async () => {
      const a = await Learner.open(h);
      try {
        const ps = await a.run(0, 'ps -e --no-headers | wc -l; ls /proc | grep -cE "^[0-9]+$"');
        const [psCount, procCount] = ps.output.trim().split('\n').map(Number);
        const ownHost = a.sandbox.listHostPids().length;
        assert.ok(psCount! <= ownHost + 3 && procCount! <= ownHost + 3, `A sees ${psCount} processes; its cgroup has ${ownHost}`);
        const own = (await a.run(0, 'ls /proc | grep -E "^[0-9]+$" | tr "\\n" " "')).output.trim().split(/\s+/).map(Number);
        const foreign = [...new Set([process.pid, ...canary.learner.sandbox.listHostPids()])].filter((p) => !own.includes(p)).slice(0, 5);
        assert.ok(foreign.length >= 2);
        const canaryPids = canary.learner.sandbox.listHostPids();
        const report = await canary.measure(100, 100, async () => {
          const r = await a.run(0, foreign.map((p) => `kill -0 ${p} 2>/dev/null; echo "z${p}=$?"; kill -9 ${p} 2>/dev/null; echo "k${p}=$?"`).join('; '));
          for (const p of foreign) assert.match(r.output, new RegExp(`z${p}=1[\\s\\S]*k${p}=1`), r.output);
          await a.run(0, 'sleep 100 & sleep 100 & kill -9 -1; echo killed-all=$?');
        });
        assert.ok(canary.learner.sandbox.isAlive());
        assert.ok(canaryPids.every((p) => fs.existsSync(`/proc/${p}`)), 'a canary process died');
        assert.ok(a.sandbox.isAlive(), "A's own sandbox init survives kill -9 -1");
        const left = (await a.run(0, 'pgrep -c sleep; echo')).output.trim();
        return `A sees ${psCount} processes (its cgroup holds ${ownHost}); kill -0/-9 of agent and canary host pids ${foreign.join(',')}: ESRCH; kill -9 -1 killed only A's processes (sleeps left: ${left.split('\n')[0]}); agent and canary alive; ${assertCanary(report)}`;
      } finally {
        await a.close();
      }
    });
  });

  test('B03 no agent secrets, sockets or env', async (t) => {
    await runCase(t, 'B03', FILE, async () => {
      const a = await Learner.open(h);
      try {
        const secrets = [h.secret, PLANTED];
        const env = await a.run(0, 'env | cut -d= -f1 | sort | tr "\\n" " "');
        const allowedEnv = new Set(['TERM', 'LANG', 'HOME', 'PATH', 'USER', 'LOGNAME', 'SHELL', 'PWD', 'OLDPWD', 'SHLVL', '_', 'LS_COLORS']);
        const names = env.output.trim().split(/\s+/);
        assert.deepEqual(names.filter((n) => !allowedEnv.has(n)), [], `unexpected env: ${env.output}`);
        const hunt = await a.run(
          0,
          `for s in ${secrets.join(' ')}; do cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n' | grep -cF "$s"; timeout 20 grep -rlF "$s" / --exclude-dir=proc --exclude-dir=sys --exclude-dir=usr 2>/dev/null | wc -l; done; wc -l </proc/net/unix; timeout 20 find / -xdev -type s 2>/dev/null | wc -l`,
          60_000,
        );
        const counts = hunt.output.trim().split('\n').map(Number);
        assert.deepEqual(counts.slice(0, 4), [0, 0, 0, 0], hunt.output);
        assert.ok(counts[4]! <= 1, `unix sockets visible: ${counts[4]! - 1}`);
        assert.equal(counts[5], 0);
        return `env names: ${names.join(' ')}; agent secret and a planted env secret: 0 hits in /proc/*/environ and in grep -r / (excluding proc, sys and the host's read-only /usr); /proc/net/unix empty (own netns); no sockets on the sandbox fs`;
      } finally {
        await a.close();
      }
    });
  });
});

describe('D. resource exhaustion and fairness, with the canary', { timeout: 300_000 }, () => {
  test('D01 fork bomb', async (t) => {
    await runCase(t, 'D01', FILE, async () => {
      const a = await Learner.open(h);
      try {
        let bomb = { exitCode: 0, output: '' };
        let peak = 0;
        const report = await canary.measure(100, 100, async () => {
          const sampler = setInterval(() => (peak = Math.max(peak, a.sandbox.stats().pids ?? 0)), 200);
          bomb = await a.run(0, `timeout 12 bash -c 'trap "kill -9 0" EXIT; for i in $(seq 5000); do sleep 60 & done' 2>&1 | grep -m1 -o 'fork: .*'`, 30_000);
          const rec = await a.run(0, "timeout 5 bash -c ':(){ :|:& };:' 2>/dev/null; kill -9 -1 2>/dev/null; echo rec-done", 30_000);
          assert.match(rec.output, /rec-done/);
          clearInterval(sampler);
        });
        assert.match(bomb.output, /fork: (retry: )?Resource temporarily unavailable/, bomb.output);
        assert.ok(peak <= defaultSandboxLimits.pidsMax, `pids peaked at ${peak}`);
        assert.ok(a.sandbox.isAlive());
        const pidsAfter = a.sandbox.stats().pids;
        const pidsHits = a.sandbox.stats().pidsLimitHits;
        const id = a.sessionId;
        await a.close();
        await sleep(300);
        assert.deepEqual(sandboxCgroupDirs(cgroupName, id), [], 'sandbox cgroup left after teardown');
        return `learner saw "${bomb.output.trim()}"; pids peaked at ${peak} (pids.max ${defaultSandboxLimits.pidsMax}); recursive :(){ :|:& } bounded and cleaned with kill -9 -1 (pids after: ${pidsAfter}; forks refused at pids.max: ${pidsHits}); teardown left 0 processes and no cgroup; ${assertCanary(report)}`;
      } catch (e) {
        await a.close().catch(() => {});
        throw e;
      }
    });
  });

  test('D02 memory hog', async (t) => {
    await runCase(t, 'D02', FILE, async () => {
      const a = await Learner.open(h);
      try {
        const oom0 = a.sandbox.stats().oomKills ?? 0;
        const canaryOom0 = canary.learner.sandbox.stats().oomKills ?? 0;
        const applied = a.sandbox.appliedLimits();
        assert.equal(applied.memoryMaxBytes, defaultSandboxLimits.memoryMaxBytes);
        if (applied.swapMaxBytes !== null) assert.equal(applied.swapMaxBytes, 0, 'swap allowed');
        let hog = { exitCode: 0, output: '' };
        const report = await canary.measure(100, 100, async () => {
          hog = await a.run(0, `timeout 30 python3 -c 'a=[]\nfor i in range(8): a.append(b"\\x01" * (64<<20)); print("allocated", (i+1)*64, "MiB", flush=True)'`, 40_000);
        });
        const oom1 = a.sandbox.stats().oomKills ?? 0;
        assert.ok(oom1 > oom0, `no OOM kill recorded in A (oom_kill ${oom0} -> ${oom1})`);
        assert.equal(canary.learner.sandbox.stats().oomKills ?? 0, canaryOom0, 'the canary was OOM-killed');
        assert.ok(hog.exitCode === 137 || /Killed/.test(hog.output), `learner not told: exit ${hog.exitCode} ${hog.output}`);
        assert.ok(a.sandbox.isAlive(), 'the sandbox itself died');
        const last = hog.output.trim().split('\n').filter((l) => l.startsWith('allocated')).pop();
        return `allocating to 2x memory limit: ${last}, then "Killed" (exit ${hog.exitCode}) in the learner's terminal; A oom_kill ${oom0} -> ${oom1}, canary's unchanged; swap limit ${applied.swapMaxBytes === null ? 'not available (swap accounting off)' : `${applied.swapMaxBytes} (no swap)`}; ${assertCanary(report)}`;
      } finally {
        await a.close();
      }
    });
  });

  test('D03 disk and inode fill', async (t) => {
    await runCase(t, 'D03', FILE, async () => {
      const a = await Learner.open(h);
      const disk0 = fs.statfsSync('/');
      try {
        let out = '';
        const report = await canary.measure(60, 100, async () => {
          const fill = await a.run(0, 'for d in /tmp /root /dev/shm; do timeout 20 dd if=/dev/zero of=$d/fill bs=1M count=80 2>&1 | grep -o "No space left on device" | head -1; done; timeout 10 fallocate -l 80M /var/tmp/fa 2>&1 | grep -o "No space left on device"; rm -f /tmp/fill /root/fill /dev/shm/fill /var/tmp/fa', 60_000);
          const inodes = await a.run(0, 'timeout 30 bash -c \'for i in $(seq 16400); do : 2>/dev/null >/tmp/i$i || { echo "stopped at $i"; break; }; done\'; rm -rf /tmp/i*; echo cleaned', 60_000);
          const other = await canary.learner.run(1, 'echo canary-write >/tmp/cw && cat /tmp/cw');
          out = `${fill.output}\n${inodes.output}\n${other.output}`;
        });
        const enospc = (out.match(/No space left on device/g) ?? []).length;
        assert.ok(enospc >= 4, out);
        assert.match(out, /stopped at \d+/);
        assert.match(out, /canary-write/);
        const disk1 = fs.statfsSync('/');
        const hostDelta = ((disk0.bavail - disk1.bavail) * disk0.bsize) / 2 ** 20;
        assert.ok(Math.abs(hostDelta) < 256, `host disk changed by ${hostDelta} MiB`);
        return `ENOSPC in /tmp, /root, /dev/shm and fallocate in /var/tmp (the ${defaultSandboxLimits.diskMaxBytes >> 20} MiB tmpfs root; /dev/shm capped separately); inode fill ${/stopped at (\d+)/.exec(out)?.[1]} (inodes ${defaultSandboxLimits.inodesMax}); host disk delta ${hostDelta.toFixed(1)} MiB (sandbox layers are tmpfs charged to the sandbox memory cgroup); canary's own writes fine; ${assertCanary(report)}`;
      } finally {
        await a.close();
      }
    });
  });

  test('D04 CPU fairness', async (t) => {
    await runCase(t, 'D04', FILE, async () => {
      const hogs = await Promise.all([0, 1, 2, 3].map(() => Learner.open(h)));
      try {
        const usage = (l: Learner) => (l.sandbox.stats().cpuUsageUsec ?? NaN) * 1000;
        for (const l of hogs) l.client.type(0, 'timeout 16 sh -c "yes >/dev/null & yes >/dev/null & wait"\r');
        await sleep(1_500);
        const u0 = hogs.map(usage);
        const t0 = process.hrtime.bigint();
        const report = await canary.measure(100, 100);
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        const shares = hogs.map((l, i) => (usage(l) - u0[i]!) / 1e9 / seconds);
        if (shares.some((s) => !Number.isFinite(s))) throw new Error('cpu.stat usage_usec not readable');
        const mean = shares.reduce((x, y) => x + y, 0) / shares.length;
        const quota = (hogs[0]!.sandbox.appliedLimits().cpuMaxPercent ?? NaN) / 100;
        for (const s of shares) {
          assert.ok(Math.abs(s - mean) <= 0.2 * mean, `shares ${shares.map((x) => x.toFixed(2)).join(', ')} not within 20% of ${mean.toFixed(2)}`);
          assert.ok(s <= quota * 1.05, `share ${s} above cpu quota ${quota}`);
        }
        return `4 sandboxes x 2 busy loops on ${(await import('node:os')).cpus().length} cores for ${seconds.toFixed(1)} s: CPU shares ${shares.map((x) => x.toFixed(2)).join(', ')} cores (mean ${mean.toFixed(2)}, all within 20%, quota ${quota} core each, usage from the cgroup2 cpu.stat); ${assertCanary(report)}`;
      } finally {
        for (const l of hogs) l.client.type(0, '\x03');
        await Promise.all(hogs.map((l) => l.close()));
      }
    });
  });

  test('D05 output flood', async (t) => {
    await runCase(t, 'D05', FILE, async () => {
      // The flood reader acknowledges the way the browser does (every 50 ms, not every frame) and
      // keeps only the tail of the text, so the harness process measures the agent, not itself.
      const a = await Learner.open(h, `flood-${rand()}`, false);
      const raw = a.client.raw as string[];
      const acker = setInterval(() => {
        a.client.send({ type: 'ack', terminal: 0, offset: a.client.offsets[0] });
        if (raw[0]!.length > 64 * 1024) raw[0] = raw[0]!.slice(-4096);
      }, 50);
      try {
        let ctrlCMs = 0;
        let received = 0;
        const report = await canary.measure(80, 100, async () => {
          const from = a.client.offsets[0]!;
          a.client.type(0, 'timeout 15 base64 /dev/urandom\r');
          await sleep(5_000);
          received = a.client.offsets[0]! - from;
          const t0 = Date.now();
          a.client.type(0, '\x03');
          raw[0] = '';
          await a.client.until(() => raw[0]!.includes('\x1b]133;A\x07'), 'prompt after Ctrl-C', 5_000);
          ctrlCMs = Date.now() - t0;
        });
        clearInterval(acker);
        assert.equal(a.client.closeCode, null, `flood client was closed with ${a.client.closeCode}`);
        assert.ok(ctrlCMs <= 2_000, `Ctrl-C took ${ctrlCMs} ms`);
        // A client that stops reading and acknowledging: the PTY is paused, nothing piles up.
        const slow = await Learner.open(h, `slow-${rand()}`, false);
        const session = h.sessions.get(slow.sessionId)!;
        slow.client.type(0, 'timeout 15 yes\r');
        await sleep(3_000);
        const terminal = session.terminals[0]!;
        const o1 = terminal.offset;
        await sleep(1_500);
        const o2 = terminal.offset;
        const paused = terminal.isPaused;
        slow.client.type(0, '\x03');
        await slow.close();
        assert.ok(paused, 'PTY not paused for a client that does not acknowledge');
        assert.ok(o2 - o1 < 256 * 1024, `output kept flowing to a non-reading client: ${o2 - o1} bytes`);
        clearInterval(acker);
        return `base64 flood streamed ${(received / 2 ** 20).toFixed(1)} MiB in 5 s to a reading client; Ctrl-C back to the prompt in ${ctrlCMs} ms; a client that stops acknowledging has its PTY paused at ${(o1 / 2 ** 20).toFixed(2)} MiB (grew ${o2 - o1} B in 1.5 s; the writer blocks, agent memory bounded by the 256 KiB replay + 1 MiB window; a socket buffer over 8 MiB closes 4408); ${assertCanary(report)}`;
      } finally {
        clearInterval(acker);
        await a.close();
      }
    });
  });

  test('D06 kernel-object and fd exhaustion', async (t) => {
    await runCase(t, 'D06', FILE, async () => {
      const a = await Learner.open(h);
      const lsns0 = fs.readdirSync('/proc').length;
      try {
        let out = '';
        const report = await canary.measure(60, 100, async () => {
          const r = await a.run(
            0,
            [
              "timeout 40 bash -c 'for i in $(seq 300); do ip netns add n$i 2>/dev/null || { echo netns-stop $i; break; }; done; echo netns-made $(ip netns list | wc -l); ip -all netns delete'",
              "timeout 20 bash -c 'for i in $(seq 500); do ip link add va$i type veth peer name vb$i 2>/dev/null || { echo veth-stop $i; break; }; done; echo veth-made $(ip -o link | grep -c va); for i in $(seq 500); do ip link del va$i 2>/dev/null; done'",
              'timeout 20 python3 -c \'import os\nfds=[]\ntry:\n    while len(fds) < 5000: fds.append(os.open("/dev/null", 0))\nexcept OSError as e: print("fd-stop", len(fds), e.strerror)\'',
              'timeout 20 python3 -c \'import threading, time\nn=0\ntry:\n    while n < 500:\n        threading.Thread(target=time.sleep, args=(5,), daemon=True).start(); n+=1\nexcept RuntimeError as e: print("thread-stop", n, e)\nprint("threads", n)\'',
              "timeout 20 bash -c 'for i in $(seq 300); do unshare -U true 2>/dev/null || { echo userns-stop $i; break; }; done; echo userns-ok'",
            ].join('; '),
            120_000,
          );
          out = r.output;
        });
        assert.match(out, /fd-stop 10\d\d Too many open files/, out);
        assert.match(out, /thread-stop \d+|threads 500/, out);
        assert.match(out, /netns-made \d+/);
        const threads = /threads (\d+)/.exec(out)?.[1];
        assert.ok(Number(threads) < defaultSandboxLimits.pidsMax, `threads ${threads} beyond pids.max`);
        return `${out.trim().replace(/\n/g, '; ')} (fds stop at RLIMIT_NOFILE 1024, threads at pids.max ${defaultSandboxLimits.pidsMax}; netns, veth and user namespaces are charged to the sandbox's own host uid ucounts and its memory cgroup, so they cannot starve other sandboxes); ${assertCanary(report)}; host /proc entries ${lsns0} before`;
      } finally {
        await a.close();
      }
    });
  });
});
