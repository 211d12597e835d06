// nsread's repeat rounds (root + real kernel, a real sandbox): a process's namespace links are
// reused only while it provably has not run, every change of namespace is seen at once (by a
// sleeping process woken by a signal, and by one that never leaves the CPU), and the /proc files
// it keeps open are bound to their process and released as soon as they are not needed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { defaultSandboxLimits, type Sandbox } from '../sandbox/driver';
import { TestShell } from '../sandbox/test-shell';
import { UnshareDriver } from '../sandbox/unshare-driver';
import { nsReader, nsreadBinary, stopNsReader, type ProcParts } from './ns-reader';

const driver = new UnshareDriver({ cgroupName: `nslab-reuse-${randomBytes(3).toString('hex')}` });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const b64 = (text: string) => Buffer.from(text).toString('base64');

/** Calls unshare(CLONE_NEWNET) in this very process (no exec) on SIGUSR1; otherwise sleeps. */
const wokenByUsr1 = `import ctypes, signal
libc = ctypes.CDLL(None, use_errno=True)
def unshare(*_):
    if libc.unshare(0x40000000) != 0: raise OSError(ctypes.get_errno(), "unshare")
signal.signal(signal.SIGUSR1, unshare)
while True: signal.pause()`;
/** Never sleeps: spins until /tmp/go exists, calls unshare(CLONE_NEWNET), spins on. */
const spinner = `import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
while not os.path.exists("/tmp/go"): pass
if libc.unshare(0x40000000) != 0: raise OSError(ctypes.get_errno(), "unshare")
while True: pass`;

describe('nsread repeat rounds', { timeout: 60_000 }, () => {
  let sb: Sandbox;
  let shell: TestShell;

  before(async () => {
    await driver.preflight();
    sb = await driver.create({ id: `r-${randomBytes(4).toString('hex')}`, hostname: 'reuse', limits: defaultSandboxLimits });
    shell = await TestShell.open(sb);
  });
  after(async () => {
    stopNsReader();
    await shell?.close();
    await sb?.destroy();
    await driver.reapLeftovers(new Set());
    driver.removeCgroupParents();
  });

  const readerPid = (): number => {
    const pid = spawnSync('pgrep', ['-P', String(process.pid), '-f', nsreadBinary], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
    assert.ok(pid, 'nsread runs as a child of this process');
    return Number(pid);
  };
  const openFds = (pid: number) => fs.readdirSync(`/proc/${pid}/fd`).length;
  const round = async (pids: number[], tag: number) => {
    const res = await nsReader()!.procs(pids, 5_000, tag);
    assert.ok(res.ok, JSON.stringify(res));
    return res;
  };
  const nsOf = (procs: Map<number, ProcParts | null>) => new Map([...procs].map(([pid, p]) => [pid, p?.ns]));

  test('links are reused only for processes that did not run; a change of namespace without exec is seen at once', async () => {
    const started = await shell.run(
      [
        `python3 -c "$(echo ${b64(wokenByUsr1)} | base64 -d)" & echo "usr1=$!"`,
        `python3 -c "$(echo ${b64(spinner)} | base64 -d)" & echo "spin=$!"`,
        'for i in $(seq 20); do sleep 600 & done',
        'sleep 0.5',
      ].join('; '),
    );
    assert.equal(started.exitCode, 0, started.output);
    const inner = (name: string) => Number(new RegExp(`${name}=(\\d+)`).exec(started.output)?.[1]);
    const pids = sb.listHostPids();
    const toHost = async (nsPid: number): Promise<number> => {
      const all = await round(pids, 0);
      for (const [pid, p] of all.procs) if (p && /NSpid:[^\n]*\s(\d+)\n/.exec(p.status)?.[1] === String(nsPid)) return pid;
      throw new Error(`no host pid for sandbox pid ${nsPid}`);
    };
    const usr1 = await toHost(inner('usr1'));
    const spin = await toHost(inner('spin'));
    const tag = 4242;

    const first = await round(pids, tag);
    assert.equal(first.nsReused, 0, 'the first round reads every link');
    await sleep(120);
    const second = await round(pids, tag);
    const fresh = await round(pids, 0);
    assert.ok(second.nsReused >= 20, `the 20 idle sleeps are reused (${second.nsReused} of ${pids.length})`);
    assert.ok(second.nsReused < pids.length, 'the spinning process never is');
    assert.deepEqual(nsOf(second.procs), nsOf(fresh.procs), 'reused links equal a fresh read');

    const baseNet = first.procs.get(usr1)!.ns.net;
    assert.equal(first.procs.get(spin)!.ns.net, baseNet);
    // Both change their network namespace in-process: no exec, same PID, same command line.
    const changed = await shell.run(`kill -USR1 ${inner('usr1')}; touch /tmp/go; sleep 0.3`);
    assert.equal(changed.exitCode, 0, changed.output);
    await sleep(100);
    const third = await round(pids, tag);
    assert.notEqual(third.procs.get(usr1)!.ns.net, baseNet, 'the woken process is read again');
    assert.notEqual(third.procs.get(spin)!.ns.net, baseNet, 'the process that never left the CPU is read again');
    assert.deepEqual(nsOf(third.procs), nsOf((await round(pids, 0)).procs));
    await shell.run('kill -9 $(jobs -p); wait; rm -f /tmp/go');
  });

  test('held /proc files are bound to their process and released when not needed', async () => {
    const started = await shell.run('for i in $(seq 10); do sleep 600 & done; sleep 0.3; echo "victim=$!"');
    assert.equal(started.exitCode, 0, started.output);
    const pids = sb.listHostPids();
    assert.ok(pids.length >= 12, String(pids));
    const reader = readerPid();
    await round([sb.initHostPid], 0);
    const baseline = openFds(reader);
    const tag = 777;
    await round(pids, tag);
    assert.equal(openFds(reader), baseline + 3 * pids.length, 'status, schedstat and cmdline of each process stay open');

    // A process that ends: its files read nothing, and it is reported gone, not as someone else.
    const victim = /victim=(\d+)/.exec(started.output)?.[1];
    assert.ok(victim, started.output);
    const victimHost = pids.find((pid) => /NSpid:[^\n]*\s(\d+)\n/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] === victim);
    assert.ok(victimHost);
    await shell.run(`kill -9 ${victim}; wait ${victim} 2>/dev/null; true`);
    const afterKill = await round(pids, tag);
    assert.equal(afterKill.procs.get(victimHost), undefined, 'the ended process is reported gone');
    assert.equal(openFds(reader), baseline + 3 * (pids.length - 1), 'its files are closed');

    // A round that lists fewer processes closes the others' files; dropping the tag closes the rest.
    await round([sb.initHostPid], tag);
    assert.equal(openFds(reader), baseline + 3);
    nsReader()!.dropTag(tag);
    await round([sb.initHostPid], 0); // requests are answered in order: the drop is done
    assert.equal(openFds(reader), baseline);
    await shell.run('kill -9 $(jobs -p); wait');
  });
});
