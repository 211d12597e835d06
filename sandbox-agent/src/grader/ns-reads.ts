// The per-namespace reads of a snapshot: the links and addresses of each network namespace and the
// hostname of each UTS namespace, through nsread (one line each to the persistent reader) or the
// exec path (nsenter + ip / hostname), with the budgeted refresh below; then the results as the
// snapshot's netns and uts lists.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { nsLink, readBoundedAsync } from '../procfs';
import type { NamedNetns, NetnsInfo, UtsInfo } from '../../../labs/core/snapshot';
import { HOSTNAME, IP, NSENTER, pool, run, runInNetnsFd, type RunResult } from './exec';
import { matchPeers, parseIpJson, type ParsedIface } from './interfaces';
import { netTooMuch, snapshotLimits, type Findings } from './limits';
import { openNetnsFd, type NetnsHandle } from './netns-handle';
import type { NetCounts } from './ns-reader';
import type { CachedRead, ReaderSource } from './read-state';

/**
 * Per-sandbox budget of the per-namespace reads. A learner who creates hundreds of network or UTS
 * namespaces must not make every grading round read them all (battery case D06). With at most
 * `refreshPerSnapshot` namespaces everything is read fresh each time (the normal case for every
 * lab); beyond that, a namespace is re-read when its fingerprint changed, then the stalest first,
 * within the budget; the rest reuse their last read (SandboxReadState.nsCache).
 *
 * The fingerprint never costs the agent's event loop work a learner controls (issue 12: it used to
 * read /proc/PID/net/fib_trie whole, synchronously; with 61 000 routes every round stalled every
 * learner's terminal for hundreds of ms). With nsread it is nsread's `netfp`: the same bounded
 * netlink read (links, addresses, a capped route count), answered as a hash. Without nsread, a
 * bounded asynchronous read of /proc/PID/net/{dev,if_inet6} and the first bytes of fib_trie.
 */
export const refreshPerSnapshot = 12;
/** The exec path's fingerprint reads at most this much of each /proc/PID/net file. */
const FINGERPRINT_FILE_BYTES = 64 * 1024;

/** One namespace to read: held by a member process (`pid`), or named only (`handle`: its bind mount). */
export type NsJob = { kind: 'net' | 'uts' | 'named'; inode: number; pid: number; handle?: NetnsHandle };
type JobResult = { job: NsJob; res: RunResult };

const ended = (): RunResult => ({ ok: false, stdout: '', error: 'reader process ended' });

async function netFingerprint(pid: number, inode: number, reads: ReaderSource, timeoutMs: number): Promise<{ fp: string | null; counts: NetCounts }> {
  const reader = reads.reader();
  if (reader) {
    const res = await reader.fingerprint(`/proc/${pid}/ns/net`, inode, timeoutMs, reads.tag);
    if (res.ok) {
      const { ok: _ok, ...counts } = res;
      return { fp: res.fp ?? null, counts };
    }
    if (res.error !== 'nsread unavailable') return { fp: null, counts: {} };
  }
  const hash = createHash('sha1');
  for (const file of ['dev', 'fib_trie', 'if_inet6']) {
    const read = await readBoundedAsync(`/proc/${pid}/net/${file}`, FINGERPRINT_FILE_BYTES);
    if (!read) return { fp: null, counts: {} };
    hash.update(read.text);
  }
  return { fp: hash.digest('base64'), counts: {} };
}

/** A namespace held only by a /run/netns bind mount: entered through it, proven by inode (openNetnsFd). */
async function readNamed(handle: NetnsHandle, reads: ReaderSource, remaining: () => number): Promise<RunResult> {
  const fd = openNetnsFd(handle);
  if (fd === null) return ended();
  try {
    const reader = reads.reader();
    if (reader) {
      // nsread reopens our proven fd through /proc and checks the inode again itself.
      const res = await reader.read('net', `/proc/${process.pid}/fd/${fd}`, handle.inode, remaining(), reads.tag);
      if (res.ok || res.error !== 'nsread unavailable') return res;
    }
    return await runInNetnsFd(fd, IP, ['-j', '-d', 'addr', 'show'], remaining());
  } finally {
    fs.closeSync(fd);
  }
}

async function readJob(job: NsJob, reads: ReaderSource, remaining: () => number): Promise<RunResult> {
  if (job.kind === 'named' && job.handle) return readNamed(job.handle, reads, remaining);
  const kind = job.kind === 'uts' ? 'uts' : 'net';
  // The reader process must still hold the namespace we meant (it may have exited or re-unshared).
  const check = (): boolean => nsLink(job.pid, kind) === `${kind}:[${job.inode}]`;
  if (!check()) return ended();
  let res: RunResult | null = null;
  const reader = reads.reader();
  if (reader) {
    // One line to the persistent reader (it proves the inode itself) instead of an exec.
    const read = await reader.read(kind, `/proc/${job.pid}/ns/${kind}`, job.inode, remaining(), reads.tag);
    if (read.ok || read.error !== 'nsread unavailable') res = read;
  }
  res ??=
    job.kind === 'net'
      ? await run(NSENTER, [`--net=/proc/${job.pid}/ns/net`, '--', IP, '-j', '-d', 'addr', 'show'], remaining())
      : await run(NSENTER, [`--uts=/proc/${job.pid}/ns/uts`, '--', HOSTNAME], remaining());
  if (res.ok && !check()) return ended();
  return res;
}

/** Reads the jobs within the refresh budget; the rest come from `cache` (see refreshPerSnapshot). */
export async function readNamespaces(
  jobs: NsJob[],
  reads: ReaderSource,
  cache: Map<string, CachedRead>,
  remaining: () => number,
  found: Findings,
): Promise<JobResult[]> {
  const keyOf = (job: NsJob) => `${job.kind === 'uts' ? 'uts' : 'net'}:${job.inode}`;
  const fingerprints = new Map<NsJob, string | null>();
  const budgeted = jobs.length > refreshPerSnapshot;
  let toRun = jobs;
  const reused: JobResult[] = [];
  if (budgeted) {
    // Fingerprints off the event loop (nsread, or async reads), a few at a time.
    const fps = await pool(jobs, snapshotLimits.concurrency, async (job) =>
      job.kind === 'net' ? await netFingerprint(job.pid, job.inode, reads, remaining()) : { fp: null, counts: {} as NetCounts },
    );
    const ranked = jobs.map((job, i) => {
      const fp = fps[i]!.fp;
      fingerprints.set(job, fp);
      for (const reason of netTooMuch(job.inode, { ok: true, ...fps[i]!.counts })) found.tooMuch.push(reason);
      const cached = cache.get(keyOf(job));
      // First what changed since we last read it, then what was never read, then the stalest.
      const rank = !cached ? -1 : fp !== null && cached.fingerprint !== fp ? -2 : cached.atMs;
      return { job, cached, rank };
    });
    ranked.sort((a, b) => a.rank - b.rank);
    toRun = ranked.slice(0, refreshPerSnapshot).map((r) => r.job);
    for (const r of ranked.slice(refreshPerSnapshot)) {
      if (r.cached) reused.push({ job: r.job, res: r.cached.res });
      else reused.push({ job: r.job, res: { ok: false, stdout: '', error: 'not read in this round (too many namespaces)' } });
    }
    const live = new Set(jobs.map(keyOf));
    for (const key of cache.keys()) if (!live.has(key)) cache.delete(key);
  }
  const fresh = await pool(toRun, snapshotLimits.concurrency, async (job): Promise<JobResult> => ({ job, res: await readJob(job, reads, remaining) }));
  for (const { job, res } of fresh) {
    if (!res.ok) continue;
    // nsread's read carries the fingerprint netfp gives; the exec path's costs a bounded async read,
    // and only when there are enough namespaces for fingerprints to be compared at all.
    let fingerprint = res.fp ?? fingerprints.get(job) ?? null;
    if (fingerprint === null && job.kind === 'net' && budgeted) fingerprint = (await netFingerprint(job.pid, job.inode, reads, remaining())).fp;
    cache.set(keyOf(job), { fingerprint, atMs: Date.now(), res });
  }
  if (reused.length > 0) found.warnings.push(`${jobs.length} namespaces to read: ${toRun.length} read fresh this round, ${reused.length} from an earlier round`);
  return [...fresh, ...reused];
}

/** The reads as the snapshot's network namespaces (veth peers matched) and UTS namespaces. */
export function netAndUts(results: JobResult[], namedNetns: NamedNetns[], found: Findings): { netns: NetnsInfo[]; uts: UtsInfo[] } {
  const parsed = new Map<number, ParsedIface[]>();
  const netns: NetnsInfo[] = [];
  const uts: UtsInfo[] = [];
  const seenTooMuch = new Set(found.tooMuch.map((r) => r.en));
  for (const { job, res } of results) {
    if (job.kind === 'net' || job.kind === 'named') {
      for (const reason of netTooMuch(job.inode, res)) {
        if (seenTooMuch.has(reason.en)) continue;
        seenTooMuch.add(reason.en);
        found.tooMuch.push(reason);
      }
      if (!res.ok && res.error !== 'reader process ended') found.warnings.push(`net:[${job.inode}]: ${res.error}`);
      const ifaces = res.ok ? parseIpJson(res.stdout, found.warnings, job.inode, res.total) : [];
      parsed.set(job.inode, ifaces);
      const names = [...new Set(namedNetns.filter((n) => n.inode === job.inode).map((n) => n.name))];
      netns.push({
        inode: job.inode,
        viaHostPid: job.pid,
        interfaces: ifaces.map((i) => i.info),
        complete: res.ok,
        ...(names.length > 0 ? { names } : {}),
      });
    } else if (res.ok) {
      const owner = res.nsOwner;
      uts.push({ inode: job.inode, hostname: res.stdout.trim().slice(0, 64), ...(owner !== undefined ? { ownerUserns: owner } : {}) });
    } else if (res.error !== 'reader process ended') {
      found.warnings.push(`uts:[${job.inode}]: ${res.error}`);
    }
  }
  matchPeers(parsed);
  return { netns, uts };
}
