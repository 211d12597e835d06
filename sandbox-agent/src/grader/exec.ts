// The grader's exec path: host programs (ip, hostname, nsenter) run with a clean environment,
// bounded in time and output. Used when nsread is not running (no compiler, NSLAB_NSREAD=off) and
// by the probes, which run ping inside one proven network namespace of the sandbox.
import { execFile, spawn } from 'node:child_process';
import { snapshotLimits } from './limits';
import type { NetCounts } from './ns-reader';

export const NSENTER = '/usr/bin/nsenter';
export const IP = '/usr/sbin/ip';
export const HOSTNAME = '/usr/bin/hostname';
/** Exactly these: nothing of the agent's env reaches a program run on a sandbox's behalf. */
const CLEAN_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' } as Record<string, string> as unknown as NodeJS.ProcessEnv;

/** One read of a namespace: exec output, or nsread's answer in the same shape. */
export interface RunResult extends NetCounts {
  ok: boolean;
  stdout: string;
  error?: string;
  /** nsread's uts answer: the inode of the user namespace owning it. */
  nsOwner?: number;
}

export function run(file: string, args: string[], timeoutMs: number, maxBuffer: number = snapshotLimits.ipMaxBufferBytes): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      {
        env: CLEAN_ENV,
        cwd: '/',
        timeout: Math.max(1, Math.ceil(timeoutMs)),
        killSignal: 'SIGKILL',
        maxBuffer,
        encoding: 'utf8',
      },
      (err, stdout) => {
        if (err) resolve({ ok: false, stdout: String(stdout ?? ''), error: err.message.split('\n')[0] });
        else resolve({ ok: true, stdout: String(stdout) });
      },
    );
  });
}

/**
 * Runs a host program inside the network namespace behind an fd from openNetnsFd (passed as the
 * child's fd 3, so nsenter joins exactly that namespace), with a clean environment, bounded in
 * time and output.
 */
export function runInNetnsFd(fd: number, file: string, args: string[], timeoutMs: number): Promise<RunResult & { exitCode: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(NSENTER, ['--net=/proc/self/fd/3', '--', file, ...args], {
      env: CLEAN_ENV,
      cwd: '/',
      stdio: ['ignore', 'pipe', 'pipe', fd],
    });
    let stdout = '';
    let stderr = '';
    const cap = snapshotLimits.ipMaxBufferBytes;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < cap) stdout += d;
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 4096) stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), Math.max(1, Math.ceil(timeoutMs)));
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, stdout, error: err.message, exitCode: null });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const ok = code === 0;
      const why = signal ? `killed by ${signal} (timeout)` : (stderr.trim().split('\n')[0] ?? `exit status ${code}`);
      resolve(ok ? { ok, stdout, exitCode: 0 } : { ok, stdout, error: why || `exit status ${code}`, exitCode: code });
    });
  });
}

/** Runs fn over items, at most `limit` at a time, results in the items' order. */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return out;
}
