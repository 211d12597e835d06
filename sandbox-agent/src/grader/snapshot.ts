// The ONLY module of the agent that reads /proc (and, through the host's own `ip`, netlink) to
// build a sandbox's snapshot. Everything is read from the HOST side: /proc/<host-pid>/... of the
// processes the sandbox's cgroup lists (never a scan of all of /proc, never the sandbox's own /proc),
// and the host's /usr/sbin/ip run inside each network namespace with nsenter. The learner controls
// everything inside the sandbox, so every read is bounded (counts, bytes, time) and a process that
// vanishes mid-read is skipped silently.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import type { Sandbox } from '../sandbox/driver';
import {
  namespaceTypes,
  type InterfaceInfo,
  type NamespaceInodes,
  type NetnsInfo,
  type ProcessInfo,
  type Snapshot,
  type UtsInfo,
} from '../../../labs/core/snapshot';

export const snapshotLimits = {
  maxProcesses: 1000,
  maxNetns: 64,
  maxUts: 64,
  maxInterfacesPerNetns: 256,
  maxAddressesPerInterface: 32,
  maxCmdlineBytes: 4096,
  maxCmdlineArgs: 64,
  /** Parallel nsenter runs. */
  concurrency: 8,
  ipMaxBufferBytes: 8 * 1024 * 1024,
} as const;

const NSENTER = '/usr/bin/nsenter';
const IP = '/usr/sbin/ip';
const HOSTNAME = '/usr/bin/hostname';
const CLEAN_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' } as Record<string, string> as unknown as NodeJS.ProcessEnv; // exactly these: nothing of the agent's env

interface RawProcess {
  hostPid: number;
  hostPpid: number;
  nsPidsAll: number[];
  hostUid: number;
  state: string;
  comm: string;
  cmdline: string[];
  ns: NamespaceInodes;
}

function readStatus(pid: number): Map<string, string> | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) fields.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return fields;
}

function readNs(pid: number): NamespaceInodes {
  const ns: NamespaceInodes = {};
  for (const type of namespaceTypes) {
    try {
      const m = /^[a-z_]+:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/ns/${type}`));
      if (m) ns[type] = Number(m[1]);
    } catch {
      /* not supported by this kernel, or the process ended */
    }
  }
  return ns;
}

function readCmdline(pid: number): string[] {
  let buf: Buffer;
  try {
    const fd = fs.openSync(`/proc/${pid}/cmdline`, 'r');
    try {
      buf = Buffer.alloc(snapshotLimits.maxCmdlineBytes);
      buf = buf.subarray(0, fs.readSync(fd, buf, 0, buf.length, 0));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return [];
  }
  const parts = buf.toString('utf8').split('\0');
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts.slice(0, snapshotLimits.maxCmdlineArgs);
}

function readProcess(pid: number): RawProcess | null {
  const st = readStatus(pid);
  if (!st) return null;
  const nsPidsAll = (st.get('NSpid') ?? '').split(/\s+/).filter(Boolean).map(Number);
  const hostPpid = Number(st.get('PPid'));
  const hostUid = Number((st.get('Uid') ?? '').split(/\s+/)[0]);
  const state = (st.get('State') ?? '?').slice(0, 1);
  let comm = '';
  try {
    comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').replace(/\n$/, '');
  } catch {
    return null;
  }
  const ns = readNs(pid);
  const cmdline = readCmdline(pid);
  if (nsPidsAll.length === 0 || !Number.isFinite(hostPpid) || !Number.isFinite(hostUid)) return null;
  return { hostPid: pid, hostPpid, nsPidsAll, hostUid, state, comm, cmdline, ns };
}

interface RunResult {
  ok: boolean;
  stdout: string;
  error?: string;
}

function run(file: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      {
        env: CLEAN_ENV,
        cwd: '/',
        timeout: Math.max(1, Math.ceil(timeoutMs)),
        killSignal: 'SIGKILL',
        maxBuffer: snapshotLimits.ipMaxBufferBytes,
        encoding: 'utf8',
      },
      (err, stdout) => {
        if (err) resolve({ ok: false, stdout: String(stdout ?? ''), error: err.message.split('\n')[0] });
        else resolve({ ok: true, stdout: String(stdout) });
      },
    );
  });
}

async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
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

/** The subset of `ip -j -d addr show` output we read. */
interface IpLink {
  ifindex?: number;
  ifname?: string;
  flags?: string[];
  mtu?: number;
  operstate?: string;
  address?: string;
  master?: string;
  link_index?: number;
  link_netnsid?: number;
  linkinfo?: { info_kind?: string };
  addr_info?: Array<{ family?: string; local?: string; prefixlen?: number }>;
}

interface ParsedIface {
  info: InterfaceInfo;
  linkIndex: number | null;
  otherNetns: boolean;
}

function parseIpJson(stdout: string, warnings: string[], nsInode: number): ParsedIface[] {
  let data: unknown;
  try {
    data = JSON.parse(stdout);
  } catch {
    warnings.push(`net:[${nsInode}]: could not parse ip -j output`);
    return [];
  }
  if (!Array.isArray(data)) return [];
  if (data.length > snapshotLimits.maxInterfacesPerNetns) {
    warnings.push(
      `net:[${nsInode}] has ${data.length} interfaces; only the first ${snapshotLimits.maxInterfacesPerNetns} are reported`,
    );
  }
  const out: ParsedIface[] = [];
  for (const raw of data.slice(0, snapshotLimits.maxInterfacesPerNetns) as IpLink[]) {
    if (typeof raw !== 'object' || raw === null) continue;
    if (typeof raw.ifindex !== 'number' || raw.ifindex < 1 || typeof raw.ifname !== 'string') continue;
    const kind = typeof raw.linkinfo?.info_kind === 'string' ? raw.linkinfo.info_kind : null;
    const addresses = (Array.isArray(raw.addr_info) ? raw.addr_info : [])
      .filter(
        (a) =>
          (a.family === 'inet' || a.family === 'inet6') &&
          typeof a.local === 'string' &&
          typeof a.prefixlen === 'number' &&
          a.prefixlen >= 0 &&
          a.prefixlen <= 128,
      )
      .slice(0, snapshotLimits.maxAddressesPerInterface)
      .map((a) => ({ family: a.family as 'inet' | 'inet6', address: a.local!, prefixLen: a.prefixlen! }));
    out.push({
      info: {
        name: raw.ifname,
        ifindex: raw.ifindex,
        kind,
        operState: typeof raw.operstate === 'string' ? raw.operstate : 'UNKNOWN',
        flags: Array.isArray(raw.flags) ? raw.flags.filter((f): f is string => typeof f === 'string') : [],
        mac: typeof raw.address === 'string' ? raw.address : null,
        mtu: typeof raw.mtu === 'number' && raw.mtu >= 0 ? raw.mtu : 0,
        master: typeof raw.master === 'string' ? raw.master : null,
        peer: null,
        addresses,
      },
      linkIndex: typeof raw.link_index === 'number' ? raw.link_index : null,
      otherNetns: typeof raw.link_netnsid === 'number',
    });
  }
  return out;
}

/** Fill veth peers: same netns when ip says so, else the unique mutual match in another netns. */
function matchPeers(parsed: Map<number, ParsedIface[]>): void {
  for (const [inode, ifaces] of parsed) {
    for (const p of ifaces) {
      if (p.info.kind !== 'veth' || p.linkIndex === null) continue;
      if (!p.otherNetns) {
        p.info.peer = { ifindex: p.linkIndex, netnsInode: inode };
        continue;
      }
      const candidates: number[] = [];
      for (const [otherInode, others] of parsed) {
        if (otherInode === inode) continue;
        if (others.some((o) => o.info.kind === 'veth' && o.info.ifindex === p.linkIndex && o.linkIndex === p.info.ifindex)) {
          candidates.push(otherInode);
        }
      }
      p.info.peer = { ifindex: p.linkIndex, netnsInode: candidates.length === 1 ? candidates[0]! : null };
    }
  }
}

export async function buildSnapshot(sandbox: Sandbox, opts: { timeoutMs?: number } = {}): Promise<Snapshot> {
  const takenAtMs = Date.now();
  const t0 = performance.now();
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const deadline = t0 + timeoutMs;
  const warnings: string[] = [];

  const init = readProcess(sandbox.initHostPid);
  if (!init) throw new Error(`sandbox ${sandbox.id}: its init (host pid ${sandbox.initHostPid}) is gone`);
  const depth = init.nsPidsAll.length; // NSpid length of the sandbox's top-level PID namespace

  let hostPids = [...new Set(sandbox.listHostPids())].sort((a, b) => a - b);
  if (hostPids.length > snapshotLimits.maxProcesses) {
    warnings.push(
      `${hostPids.length} processes in the sandbox; only the first ${snapshotLimits.maxProcesses} are reported`,
    );
    hostPids = hostPids.slice(0, snapshotLimits.maxProcesses);
  }
  const raws: RawProcess[] = [];
  for (const pid of hostPids) {
    const r = pid === init.hostPid ? init : readProcess(pid);
    // Skip vanished processes and those outside the sandbox's PID namespace (the nsenter parent of
    // a shell, the outer unshare): their NSpid is shorter than the init's.
    if (!r || r.nsPidsAll.length < depth) continue;
    raws.push(r);
  }
  const sandboxPidOf = new Map(raws.map((r) => [r.hostPid, r.nsPidsAll[depth - 1]!]));
  const processes: ProcessInfo[] = raws.map((r) => {
    const nsPids = r.nsPidsAll.slice(depth - 1);
    return {
      hostPid: r.hostPid,
      pid: nsPids[0]!,
      nsPids,
      ppid: sandboxPidOf.get(r.hostPpid) ?? 0,
      comm: r.comm,
      cmdline: r.cmdline,
      uid: r.hostUid - sandbox.uidBase,
      state: r.state,
      ns: r.ns,
    };
  });

  // One reader process per distinct namespace: the lowest host pid holding it.
  const byNs = (type: 'net' | 'uts', max: number, what: string): Map<number, number> => {
    const m = new Map<number, number>();
    for (const p of processes) {
      const inode = p.ns[type];
      if (inode === undefined || m.has(inode)) continue;
      if (m.size >= max) {
        warnings.push(`more than ${max} ${what}; the rest are not reported`);
        break;
      }
      m.set(inode, p.hostPid);
    }
    return m;
  };
  const netTargets = [...byNs('net', snapshotLimits.maxNetns, 'network namespaces')];
  const utsTargets = [...byNs('uts', snapshotLimits.maxUts, 'UTS namespaces')];
  const remaining = () => Math.max(1, deadline - performance.now());

  type Job = { kind: 'net' | 'uts'; inode: number; pid: number };
  const jobs: Job[] = [
    ...netTargets.map(([inode, pid]): Job => ({ kind: 'net', inode, pid })),
    ...utsTargets.map(([inode, pid]): Job => ({ kind: 'uts', inode, pid })),
  ];
  const results = await pool(jobs, snapshotLimits.concurrency, async (job) => {
    // The reader process must still hold the namespace we meant (it may have exited or re-unshared).
    const check = (): boolean => {
      try {
        return fs.readlinkSync(`/proc/${job.pid}/ns/${job.kind}`) === `${job.kind}:[${job.inode}]`;
      } catch {
        return false;
      }
    };
    if (!check()) return { job, res: { ok: false, stdout: '', error: 'reader process ended' } as RunResult };
    const res =
      job.kind === 'net'
        ? await run(NSENTER, [`--net=/proc/${job.pid}/ns/net`, '--', IP, '-j', '-d', 'addr', 'show'], remaining())
        : await run(NSENTER, [`--uts=/proc/${job.pid}/ns/uts`, '--', HOSTNAME], remaining());
    if (res.ok && !check()) return { job, res: { ok: false, stdout: '', error: 'reader process ended' } };
    return { job, res };
  });

  const parsed = new Map<number, ParsedIface[]>();
  const netns: NetnsInfo[] = [];
  const uts: UtsInfo[] = [];
  for (const { job, res } of results) {
    if (job.kind === 'net') {
      if (!res.ok && res.error !== 'reader process ended') warnings.push(`net:[${job.inode}]: ${res.error}`);
      const ifaces = res.ok ? parseIpJson(res.stdout, warnings, job.inode) : [];
      parsed.set(job.inode, ifaces);
      netns.push({ inode: job.inode, viaHostPid: job.pid, interfaces: ifaces.map((i) => i.info), complete: res.ok });
    } else if (res.ok) {
      uts.push({ inode: job.inode, hostname: res.stdout.trim().slice(0, 64) });
    } else if (res.error !== 'reader process ended') {
      warnings.push(`uts:[${job.inode}]: ${res.error}`);
    }
  }
  matchPeers(parsed);

  return {
    takenAtMs,
    durationMs: performance.now() - t0,
    sandbox: { id: sandbox.id, initHostPid: sandbox.initHostPid, baseNs: init.ns, uidBase: sandbox.uidBase },
    processes,
    netns,
    uts,
    warnings,
  };
}
