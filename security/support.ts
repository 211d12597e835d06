// Shared helpers of the security battery: sandboxes made through the real driver or the real agent,
// the "not on the host" probe every attack runs behind, a learner that types through the real
// WebSocket path, and the canary session that measures what the other learners feel.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { after, before } from 'node:test';
import { stripAnsi } from '../sandbox-agent/src/terminal/shell-marks';
import { TestShell, type ShellResult } from '../sandbox-agent/src/sandbox/test-shell';
import { UnshareDriver } from '../sandbox-agent/src/sandbox/unshare-driver';
import { CgroupLayout } from '../sandbox-agent/src/sandbox/cgroups';
import { defaultSandboxLimits, type Sandbox, type SandboxLimits } from '../sandbox-agent/src/sandbox/driver';
import { startHarness, TestClient, type Harness } from '../sandbox-agent/src/test-support/agent-harness';
import { percentile } from './battery';

export const hostNetns = fs.readlinkSync('/proc/self/ns/net');
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const rand = () => randomBytes(4).toString('hex');

/**
 * A parent cgroup name of the battery's own: under the AGENT_CGROUP_NAME the runner was given (so
 * two people running tests on one host can tell theirs apart), with a random suffix (so the battery
 * never reaps or counts anyone else's sandboxes, an agent's included). At most 40 characters.
 */
export function batteryCgroupName(tag: string): string {
  const suffix = `-sec-${tag}-${rand()}`;
  const base = (process.env.AGENT_CGROUP_NAME ?? 'nslab').toLowerCase().replace(/[^a-z0-9-]/g, '') || 'nslab';
  return `${base.slice(0, 40 - suffix.length)}${suffix}`;
}

/** The parent cgroup directories named `cgroupName` on this host's layout (every hierarchy, cgroup2 first). */
export function cgroupParents(cgroupName: string): string[] {
  return CgroupLayout.detect().parentDirs(cgroupName);
}

/** Removes the (empty) parent cgroups a test file's agent made; leaves them when still in use. */
export function removeCgroupParents(cgroupName: string): void {
  for (const dir of cgroupParents(cgroupName)) {
    try {
      fs.rmdirSync(dir);
    } catch {
      /* in use or absent */
    }
  }
}

/** One sandbox's cgroup directories that still exist. */
export function sandboxCgroupDirs(cgroupName: string, id: string): string[] {
  return CgroupLayout.detect().sandboxDirs(cgroupName, id).all.filter((d) => fs.existsSync(d));
}

/** A driver with its own parent cgroup, so the battery never touches anyone else's sandboxes. */
export function batteryDriver(tag: string): UnshareDriver {
  return new UnshareDriver({ cgroupName: batteryCgroupName(tag) });
}

/** The probe every attack runs behind: the shell must be in its own netns with a non-identity uid map. */
export function assertNotHost(netnsLink: string, uidMap: string): string {
  const netns = netnsLink.trim();
  if (!/^net:\[\d+\]$/.test(netns)) throw new Error(`probe: unexpected netns link ${JSON.stringify(netns)}`);
  if (netns === hostNetns) throw new Error(`probe: shell is in the host netns ${hostNetns}; refusing to run the attack`);
  const fields = uidMap.trim().split(/\s+/).map(Number);
  if (fields.length < 3 || (fields[0] === 0 && fields[1] === 0)) {
    throw new Error(`probe: uid_map is the identity map (${uidMap.trim()}); refusing to run the attack`);
  }
  return `netns ${netns} != host ${hostNetns}; uid_map "${uidMap.trim().replace(/\s+/g, ' ')}"`;
}

/** A driver-made sandbox with one probed root shell. */
export class Box {
  private constructor(
    readonly sandbox: Sandbox,
    readonly shell: TestShell,
    readonly probe: string,
  ) {}

  static async open(driver: UnshareDriver, limits: Partial<SandboxLimits> = {}, hostname = 'nslab'): Promise<Box> {
    const sandbox = await driver.create({ id: `b-${rand()}`, hostname, limits: { ...defaultSandboxLimits, ...limits } });
    let shell: TestShell;
    try {
      shell = await TestShell.open(sandbox);
    } catch (e) {
      await sandbox.destroy();
      throw e;
    }
    const r = await shell.run('readlink /proc/self/ns/net; cat /proc/self/uid_map');
    const [netns = '', uidMap = ''] = r.output.trim().split('\n');
    let probe: string;
    try {
      probe = assertNotHost(netns, uidMap);
    } catch (e) {
      await shell.close();
      await sandbox.destroy();
      throw e;
    }
    return new Box(sandbox, shell, probe);
  }

  /** Runs a command line in the shell (callers wrap attacks in `timeout`); output has escapes stripped. */
  async run(command: string, timeoutMs = 20_000): Promise<ShellResult> {
    const r = await this.shell.run(command, timeoutMs);
    return { ...r, output: stripAnsi(r.output) };
  }

  /** Teardown, asserting zero leftover processes. */
  async close(): Promise<void> {
    await this.shell.close();
    await this.sandbox.destroy();
    const left = this.sandbox.listHostPids();
    if (left.length > 0) throw new Error(`teardown left processes ${left.join(',')}`);
  }
}

const D_MARK = /\x1b\]133;D;(-?\d*)\x07/;

/** A learner typing through the real WebSocket path of an in-process agent (startHarness). */
export class Learner {
  private constructor(
    readonly h: Harness,
    readonly client: TestClient,
    readonly sessionId: string,
    readonly learnerId: string,
  ) {}

  static async open(h: Harness, learnerId = `l-${rand()}`, autoAck = true): Promise<Learner> {
    const { status, body } = await h.createSession(learnerId);
    if (status !== 201 && status !== 200) throw new Error(`session start: HTTP ${status}`);
    const client = TestClient.connect(h.wsUrl, undefined, autoAck);
    await client.opened;
    client.auth(body.token);
    await client.until(() => client.message('ready'), 'ready');
    for (let t = 0; t < body.terminals; t++) await client.until(() => client.raw[t]!.includes('\x1b]133;A\x07'), `prompt in terminal ${t}`);
    const learner = new Learner(h, client, body.sessionId, learnerId);
    const probe = await learner.run(0, 'readlink /proc/self/ns/net; cat /proc/self/uid_map');
    const [netns = '', uidMap = ''] = probe.output.trim().split('\n');
    assertNotHost(netns, uidMap);
    return learner;
  }

  get sandbox(): Sandbox {
    const s = this.h.sessions.get(this.sessionId);
    if (!s) throw new Error(`session ${this.sessionId} is gone`);
    return s.sandbox;
  }

  /** Types a command + Enter, waits for its end mark; returns exit code and the text it printed. */
  async run(terminal: number, command: string, timeoutMs = 20_000): Promise<{ exitCode: number; output: string }> {
    const from = this.client.raw[terminal]!.length;
    this.client.type(terminal, `${command}\r`);
    await this.client.until(() => D_MARK.test(this.client.raw[terminal]!.slice(from)), `end of ${command.slice(0, 60)}`, timeoutMs);
    const tail = this.client.raw[terminal]!.slice(from);
    const m = D_MARK.exec(tail)!;
    const c = tail.lastIndexOf('\x1b]133;C\x07', m.index);
    const body = c >= 0 ? tail.slice(c + 8, m.index) : tail.slice(0, m.index);
    return { exitCode: Number(m[1]), output: stripAnsi(body).replace(/\r\n/g, '\n') };
  }

  async close(): Promise<void> {
    this.client.close();
    await this.h.api('DELETE', `/v1/sessions/${this.sessionId}`);
  }
}

/**
 * Adds `count` /32 routes on lo in the learner's own network namespace, 20 000 per `ip -batch` (ip
 * keeps ~4 KiB per batch line: one batch of 200 000 would hit the sandbox's memory limit near 61 000).
 * Returns how many routes the main table holds then.
 */
export async function addRoutes(l: Learner, count: number): Promise<number> {
  const r = await l.run(
    0,
    `timeout 100 sh -c 'i=0; while [ $i -lt ${count} ]; do seq $i $((i + 19999 < ${count} - 1 ? i + 19999 : ${count} - 1)) | awk "{printf \\"route add 10.%d.%d.%d/32 dev lo\\\\n\\", int(\\$1/65536), int(\\$1/256)%256, \\$1%256}" | ip -batch - || exit 1; i=$((i + 20000)); done'; ip -4 route show table main | wc -l`,
    120_000,
  );
  const n = Number(r.output.trim().split('\n').pop());
  if (!(n >= count)) throw new Error(`only ${n} routes were added: ${r.output.slice(-300)}`);
  return n;
}

/**
 * Registers before/after hooks for a test file: an in-process agent (startHarness with `env`) under
 * a battery cgroup of its own (`tag`), and, unless `canary` is false, a canary learner. Read them
 * from the returned object inside the tests.
 */
export function batteryAgent(tag: string, env: Record<string, string>, options: { canary?: boolean } = {}): { readonly h: Harness; readonly canary: Canary } {
  const ctx = {} as { h: Harness; canary: Canary; cgroupName: string };
  before(async () => {
    ctx.cgroupName = batteryCgroupName(tag);
    process.env.AGENT_CGROUP_NAME = ctx.cgroupName;
    ctx.h = await startHarness(env);
    if (options.canary !== false) ctx.canary = await Canary.open(ctx.h);
  });
  after(async () => {
    await ctx.canary?.close();
    await ctx.h?.close();
    removeCgroupParents(ctx.cgroupName);
  });
  return ctx;
}

export interface CanaryReport {
  samples: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  lagP99Ms: number;
  rssGrowthMiB: number;
}

/** SLOs from SECURITY-BATTERY.md ("others unaffected"). */
export const canarySlo = { echoP95Ms: 150, lagP99Ms: 100, rssGrowthMiB: 64 };

/**
 * The canary: a second learner that types one key every 100 ms through the real WebSocket path and
 * measures how long its echo takes; meanwhile the agent's event-loop delay and RSS are sampled.
 */
export class Canary {
  private constructor(readonly learner: Learner) {}

  static async open(h: Harness): Promise<Canary> {
    return new Canary(await Learner.open(h, `canary-${rand()}`));
  }

  async measure(samples = 100, intervalMs = 100, during?: () => Promise<unknown>): Promise<CanaryReport> {
    const client = this.learner.client;
    const histogram = monitorEventLoopDelay({ resolution: 10 });
    histogram.enable();
    if (typeof globalThis.gc === 'function') globalThis.gc(); // the baseline is memory held, too
    const rss0 = process.memoryUsage().rss;
    let rssMax = rss0;
    const rtts: number[] = [];
    let errors = 0;
    const attack = during ? during() : Promise.resolve();
    let attackError: unknown = null;
    attack.catch((e: unknown) => (attackError = e));
    for (let i = 0; i < samples; i++) {
      const started = performance.now();
      const before = client.offsets[0]!;
      try {
        client.type(0, i % 40 === 39 ? '\x15' : 'k'); // Ctrl-U now and then keeps the line short
        await client.until(() => client.offsets[0]! > before, 'canary echo', 2_000);
        rtts.push(performance.now() - started);
      } catch {
        errors++;
        rtts.push(2_000);
      }
      // RSS as memory held, not garbage not yet collected: with --expose-gc (the security-slo stage
      // runs with it) a collection precedes one sample a second. This process also hosts the test
      // clients, whose decoded output (tens of MiB a second in D05) is garbage too.
      // Only those samples count: a sample between collections measured garbage as well (D05 read
      // +64 MiB that way on a loaded machine, +34 MiB with collections first).
      const collect = typeof globalThis.gc === 'function';
      if (!collect || i % 10 === 9) {
        if (collect) globalThis.gc!();
        rssMax = Math.max(rssMax, process.memoryUsage().rss);
      }
      const left = intervalMs - (performance.now() - started);
      if (left > 0) await sleep(left);
    }
    client.type(0, '\x15');
    histogram.disable();
    await attack.catch(() => {});
    if (attackError) throw attackError;
    return {
      samples,
      p95Ms: Math.round(percentile(rtts, 95) * 10) / 10,
      p99Ms: Math.round(percentile(rtts, 99) * 10) / 10,
      maxMs: Math.round(Math.max(...rtts)),
      errors,
      lagP99Ms: Math.round((histogram.percentile(99) / 1e6) * 10) / 10,
      rssGrowthMiB: Math.round(((rssMax - rss0) / 2 ** 20) * 10) / 10,
    };
  }

  async close(): Promise<void> {
    await this.learner.close();
  }
}

export function describeCanary(r: CanaryReport): string {
  return `canary echo p95 ${r.p95Ms} ms (max ${r.maxMs}, ${r.errors} errors, ${r.samples} samples), loop lag p99 ${r.lagP99Ms} ms, RSS +${r.rssGrowthMiB} MiB`;
}

/** Throws unless the canary SLOs hold. */
export function assertCanary(r: CanaryReport): string {
  const text = describeCanary(r);
  const bad: string[] = [];
  if (r.p95Ms > canarySlo.echoP95Ms) bad.push(`echo p95 > ${canarySlo.echoP95Ms} ms`);
  if (r.lagP99Ms > canarySlo.lagP99Ms) bad.push(`loop lag p99 > ${canarySlo.lagP99Ms} ms`);
  if (r.rssGrowthMiB > canarySlo.rssGrowthMiB) bad.push(`RSS growth > ${canarySlo.rssGrowthMiB} MiB`);
  if (r.errors > 0) bad.push('canary errors');
  if (bad.length) throw new Error(`canary SLO broken (${bad.join('; ')}): ${text}`);
  return text;
}

/** Host-side counts used for "back to baseline" checks. */
export function hostCounts(cgroupName: string): { cgroups: number; mounts: number; netns: number; fds: number } {
  let cgroups = 0;
  for (const dir of cgroupParents(cgroupName)) {
    try {
      cgroups += fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).length;
    } catch {
      /* none */
    }
  }
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').length;
  const netns = new Set<string>();
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      netns.add(fs.readlinkSync(`/proc/${p}/ns/net`));
    } catch {
      /* gone */
    }
  }
  const fds = fs.readdirSync('/proc/self/fd').length;
  return { cgroups, mounts, netns: netns.size, fds };
}

// ---------- the fair-share SLO of issue 12 (fairness.slo.test.ts, admission.slo.test.ts) ----------

/** The fair-share SLOs of issue 12 (tighter than the battery's general canary SLO). */
export const fairSlo = { echoP99Ms: 50, healthzMaxMs: 100 };
/** Samples GET /healthz every 200 ms until stopped; returns the slowest and the count. */
export function watchHealthz(baseUrl: string): { stop(): Promise<{ maxMs: number; n: number; failures: number }> } {
  let running = true;
  let maxMs = 0;
  let n = 0;
  let failures = 0;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      try {
        const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(5_000) });
        await res.text();
        if (!res.ok) failures++;
      } catch {
        failures++;
      }
      maxMs = Math.max(maxMs, performance.now() - t0);
      n++;
      await sleep(200);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { maxMs: Math.round(maxMs * 10) / 10, n, failures };
    },
  };
}

/** The canary's figures and /healthz's, measured while `attack` runs (assertFair checks the SLOs). */
export async function measureFairShare(agent: { readonly h: Harness; readonly canary: Canary }, attack: () => Promise<unknown>): Promise<{ report: CanaryReport; healthz: { maxMs: number; n: number; failures: number }; text: string; load: string }> {
  const watch = watchHealthz(agent.h.baseUrl);
  let healthz = { maxMs: 0, n: 0, failures: 0 };
  let report: CanaryReport;
  try {
    report = await agent.canary.measure(100, 100, attack);
  } finally {
    await watch.stop().then((r) => (healthz = r));
  }
  const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const text = `canary echo p99 ${report.p99Ms} ms (p95 ${report.p95Ms}, max ${report.maxMs}), /healthz max ${healthz.maxMs} ms over ${healthz.n} requests; load average ${load}`;
  process.stdout.write(`# ${text}\n`);
  return { report, healthz, text, load };
}

export function assertFair(m: { report: CanaryReport; healthz: { maxMs: number; failures: number }; text: string }): string {
  const bad: string[] = [];
  if (m.report.p99Ms >= fairSlo.echoP99Ms) bad.push(`canary echo p99 >= ${fairSlo.echoP99Ms} ms`);
  if (m.healthz.maxMs >= fairSlo.healthzMaxMs) bad.push(`/healthz >= ${fairSlo.healthzMaxMs} ms`);
  if (m.healthz.failures > 0) bad.push('/healthz failed');
  if (bad.length) throw new Error(`fair-share SLO broken (${bad.join('; ')}): ${m.text}`);
  return `${m.text}; ${assertCanary(m.report)}`;
}
