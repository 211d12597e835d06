// Start latency of sandbox tools on this machine: start -> first exec of /bin/true (process exit),
// N starts each, p50/p99. Run as root: node --import tsx bench/sandbox-tools.ts [--runs 50]
// Results and the reasoning behind the choice: sandbox-agent/SANDBOX.md.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { defaultSandboxLimits } from '../sandbox-agent/src/sandbox/driver';
import { UnshareDriver } from '../sandbox-agent/src/sandbox/unshare-driver';

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 50;
const ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } as Record<string, string> as unknown as NodeJS.ProcessEnv;

function runToExit(file: string, args: string[], opts: { cwd?: string } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'], env: ENV, cwd: opts.cwd ?? '/' });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(performance.now() - t0);
      else reject(new Error(`${path.basename(file)} exited ${code}: ${err.trim().slice(0, 300)}`));
    });
  });
}

function pct(samples: number[], p: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

interface Row {
  tool: string;
  what: string;
  p50?: number;
  p99?: number;
  note: string;
}

async function measure(runs: number, fn: () => Promise<number>): Promise<number[]> {
  await fn(); // warm-up (page cache, template)
  const out: number[] = [];
  for (let i = 0; i < runs; i++) out.push(await fn());
  return out;
}

function makeRuncBundle(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nslab-runc-'));
  const rootfs = path.join(dir, 'rootfs');
  fs.mkdirSync(rootfs);
  for (const d of ['usr', 'proc', 'dev', 'sys', 'tmp']) fs.mkdirSync(path.join(rootfs, d));
  for (const [l, t] of [
    ['bin', 'usr/bin'],
    ['lib', 'usr/lib'],
    ['lib64', 'usr/lib64'],
    ['sbin', 'usr/sbin'],
  ]) fs.symlinkSync(t!, path.join(rootfs, l!));
  const spec = spawnSync('/usr/sbin/runc', ['spec'], { cwd: dir, env: ENV, encoding: 'utf8' });
  if (spec.status !== 0) throw new Error(`runc spec failed: ${spec.stderr}`);
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  cfg.process.terminal = false;
  cfg.process.args = ['/bin/true'];
  cfg.root = { path: 'rootfs', readonly: true };
  cfg.mounts.push({ destination: '/usr', type: 'bind', source: '/usr', options: ['rbind', 'ro', 'nosuid', 'nodev'] });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg, null, 2));
  return dir;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root');
  const rows: Row[] = [];
  const add = async (tool: string, what: string, note: string, fn: () => Promise<number>) => {
    try {
      const s = await measure(RUNS, fn);
      rows.push({ tool, what, p50: pct(s, 50), p99: pct(s, 99), note });
    } catch (e) {
      rows.push({ tool, what, note: `skipped: ${(e as Error).message}` });
    }
    process.stderr.write(`done: ${tool} ${what}\n`);
  };

  await add(
    'util-linux unshare 2.38 (bare)',
    'start -> /bin/true exits',
    'all namespaces, --map-root-user (host root = sandbox root: not a sandbox by itself)',
    () =>
      runToExit('/usr/bin/unshare', [
        '--user', '--map-root-user', '--pid', '--fork', '--mount', '--uts', '--ipc', '--net', '--cgroup', '/bin/true',
      ]),
  );
  await add('bubblewrap', 'start -> /bin/true exits', '--unshare-all, ro /usr, --proc, --dev; no cgroups', () =>
    runToExit('/usr/bin/bwrap', [
      '--unshare-all', '--die-with-parent', '--ro-bind', '/usr', '/usr', '--symlink', 'usr/bin', '/bin',
      '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64', '--proc', '/proc', '--dev', '/dev',
      '--tmpfs', '/run', '/bin/true',
    ]),
  );
  let bundle: string | null = null;
  try {
    bundle = makeRuncBundle();
    const b = bundle;
    await add('runc', 'start -> /bin/true exits', 'default `runc spec` + ro /usr bind; rootfs dir; cgroups v1', () =>
      runToExit('/usr/sbin/runc', ['run', '--bundle', b, `nslab-bench-${randomBytes(4).toString('hex')}`]),
    );
  } catch (e) {
    rows.push({ tool: 'runc', what: 'start -> /bin/true exits', note: `skipped: ${(e as Error).message}` });
  } finally {
    if (bundle) fs.rmSync(bundle, { recursive: true, force: true });
  }

  const driver = new UnshareDriver({ cgroupName: `nslab-bench-${randomBytes(3).toString('hex')}` });
  await driver.preflight();
  const destroyMs: number[] = [];
  let n = 0;
  await add('nslab UnshareDriver', 'create -> ready', 'full sandbox: 65536-uid map, cgroups, tmpfs root, pivot_root', async () => {
    const sb = await driver.create({ id: `b-${n++}`, hostname: 'bench', limits: defaultSandboxLimits });
    const ms = sb.startMs;
    const t = performance.now();
    await sb.destroy();
    destroyMs.push(performance.now() - t);
    return ms;
  });
  await add('nslab UnshareDriver', 'create -> shell ran', 'create + `bash -l` (via shellCommand) runs and exits', async () => {
    const t0 = performance.now();
    const sb = await driver.create({ id: `b-${n++}`, hostname: 'bench', limits: defaultSandboxLimits });
    const cmd = sb.shellCommand({ cols: 80, rows: 24, terminal: 0 });
    await runToExit(cmd.file, cmd.args);
    const ms = performance.now() - t0;
    await sb.destroy();
    return ms;
  });
  rows.push({ tool: 'nslab UnshareDriver', what: 'destroy', p50: pct(destroyMs, 50), p99: pct(destroyMs, 99), note: 'kill init, cgroup.kill, rmdir' });
  await driver.reapLeftovers(new Set());
  driver.removeCgroupParents();

  const f = (x?: number) => (x === undefined ? '-' : x.toFixed(1));
  const lines = [
    `| tool | measured | p50 ms | p99 ms | notes |`,
    `| --- | --- | --- | --- | --- |`,
    ...rows.map((r) => `| ${r.tool} | ${r.what} | ${f(r.p50)} | ${f(r.p99)} | ${r.note} |`),
  ];
  console.log(`${RUNS} runs each, ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, kernel ${os.release()}`);
  console.log(lines.join('\n'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
