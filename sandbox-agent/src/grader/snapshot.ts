// The ONLY module of the agent that reads /proc (and, through the host's own `ip`, netlink) to
// build a sandbox's snapshot. Everything is read from the HOST side: /proc/<host-pid>/... of the
// processes the sandbox's cgroup lists (never a scan of all of /proc, never the sandbox's own /proc),
// and the host's /usr/sbin/ip run inside each network namespace with nsenter. The learner controls
// everything inside the sandbox, so every read is bounded (counts, bytes, time) and a process that
// vanishes mid-read is skipped silently.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import type { Sandbox } from '../sandbox/driver';
import { metrics } from '../metrics';
import { nsReader, releaseReader, type NetCounts, type ReadResult } from './ns-reader';
import { readIpcns, readTimens } from './ipc-time';
import {
  namespaceTypes,
  type IdMapEntry,
  type InterfaceInfo,
  type MntnsInfo,
  type MountInfo,
  type NamedNetns,
  type NamespaceInodes,
  type PidnsInfo,
  type UsernsInfo,
  type NetnsInfo,
  type ProcessInfo,
  type Snapshot,
  type UtsInfo,
} from '../../../labs/core/snapshot';
import { t, type Localized } from '../../../labs/core/model';

/** Namespace counts past a read cap are truncated; past this many times the cap, too much state. */
const TOO_MANY_FACTOR = 8;

export const snapshotLimits = {
  maxProcesses: 1000,
  maxNetns: 64,
  maxUts: 64,
  maxMntns: 64,
  maxMountsPerNs: 256,
  maxMountinfoBytes: 256 * 1024,
  maxUserns: 64,
  maxIdMapLines: 340,
  maxNamedNetns: 32,
  maxInterfacesPerNetns: 256,
  maxAddressesPerInterface: 32,
  maxCmdlineBytes: 4096,
  maxCmdlineArgs: 64,
  /** All mount tables of one snapshot together (each is also capped at maxMountinfoBytes). */
  maxMountinfoTotalBytes: 1024 * 1024,
  /** Routes in one network namespace (nsread counts them up to this many; more is "too much state"). */
  maxRoutesPerNetns: 10_000,
  /** Parallel nsenter runs. */
  concurrency: 8,
  ipMaxBufferBytes: 8 * 1024 * 1024,
} as const;

const NSENTER = '/usr/bin/nsenter';
const IP = '/usr/sbin/ip';
const HOSTNAME = '/usr/bin/hostname';
const PERL = '/usr/bin/perl';
/** open(2) O_PATH (Linux): a handle to the file itself, nothing is opened (no FIFO, no device). */
const O_PATH = 0o10000000;
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
  capEff: string | undefined;
  exe: ExeIdentity | null;
}

type ExeIdentity = { path: string; dev: number; ino: number };

/** /proc/PID/exe read here (the path exec fallback): the target and the file's device and inode. */
function readExe(pid: number): ExeIdentity | null {
  try {
    const target = fs.readlinkSync(`/proc/${pid}/exe`);
    const st = fs.statSync(`/proc/${pid}/exe`);
    return { path: target.slice(0, 256), dev: st.dev, ino: st.ino };
  } catch {
    return null;
  }
}

/** The programs a lab recognises by their file (see the snapshot's sandbox.programs). */
export const identifiedPrograms = ['sleep', 'bash'] as const;
let programIdentities: Record<string, { dev: number; ino: number }> | null = null;

/**
 * Device and inode of /usr/bin/<name> for the identified programs, stat'ed once in the agent's own
 * mount namespace: a sandbox's /usr is this /usr bound read-only, so the same files, and nothing a
 * learner mounts inside a sandbox can change what the host sees here.
 */
export function sandboxPrograms(): Record<string, { dev: number; ino: number }> {
  if (programIdentities) return programIdentities;
  const out: Record<string, { dev: number; ino: number }> = {};
  for (const name of identifiedPrograms) {
    try {
      const st = fs.statSync(`/usr/bin/${name}`);
      out[name] = { dev: st.dev, ino: st.ino };
    } catch {
      /* not installed: no process can be recognised as it */
    }
  }
  programIdentities = out;
  return out;
}

function readStatus(pid: number): Map<string, string> | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  return parseStatus(text);
}

function parseStatus(text: string): Map<string, string> {
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
  return splitCmdline(buf);
}

function splitCmdline(buf: Buffer): string[] {
  const parts = buf.subarray(0, snapshotLimits.maxCmdlineBytes).toString('utf8').split('\0');
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts.slice(0, snapshotLimits.maxCmdlineArgs);
}

function readProcess(pid: number): RawProcess | null {
  const st = readStatus(pid);
  if (!st) return null;
  let comm: string;
  try {
    comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8');
  } catch {
    return null;
  }
  return rawProcess(pid, st, comm, readNs(pid), readCmdline(pid), readExe(pid));
}

/** A process from its /proc parts (read here synchronously, or by nsread in one batch). */
function rawProcess(pid: number, st: Map<string, string>, commText: string, ns: NamespaceInodes, cmdline: string[], exe: ExeIdentity | null): RawProcess | null {
  const nsPidsAll = (st.get('NSpid') ?? '').split(/\s+/).filter(Boolean).map(Number);
  const hostPpid = Number(st.get('PPid'));
  const hostUid = Number((st.get('Uid') ?? '').split(/\s+/)[0]);
  const state = (st.get('State') ?? '?').slice(0, 1);
  const comm = commText.replace(/\n$/, '');
  if (nsPidsAll.length === 0 || !Number.isFinite(hostPpid) || !Number.isFinite(hostUid)) return null;
  const capEff = st.get('CapEff');
  return { hostPid: pid, hostPpid, nsPidsAll, hostUid, state, comm, cmdline, ns, capEff: capEff && /^[0-9a-f]{1,16}$/.test(capEff) ? capEff : undefined, exe };
}

/**
 * Reads these host PIDs: in one request to nsread when it runs (no synchronous /proc reads on the
 * agent's event loop), else one by one here. Missing from the map: the process is gone.
 */
async function readProcesses(pids: number[], timeoutMs: number, tag: number): Promise<Map<number, RawProcess>> {
  const out = new Map<number, RawProcess>();
  const reader = nsReader(tag);
  if (reader) {
    const res = await reader.procs(pids, timeoutMs, tag);
    if (res.ok) {
      metrics.snapshotProcesses.inc({}, res.procs.size);
      metrics.snapshotNsReused.inc({}, res.nsReused);
      for (const pid of pids) {
        const parts = res.procs.get(pid);
        if (!parts) continue;
        const ns: NamespaceInodes = {};
        for (const type of namespaceTypes) if (parts.ns[type] !== undefined) ns[type] = parts.ns[type];
        const exe = parts.exe ? { path: parts.exe.path.toString('utf8').slice(0, 256), dev: parts.exe.dev, ino: parts.exe.ino } : null;
        const raw = rawProcess(pid, parseStatus(parts.status), parts.comm.toString('utf8'), ns, splitCmdline(parts.cmdline), exe);
        if (raw) out.set(pid, raw);
      }
      return out;
    }
  }
  for (const pid of pids) {
    const raw = readProcess(pid);
    if (raw) out.set(pid, raw);
  }
  return out;
}

interface RunResult extends NetCounts {
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

/**
 * Per-sandbox cache of the per-namespace reads. A learner who creates hundreds of network or UTS
 * namespaces must not make every grading round read them all (battery case D06). With at most
 * `refreshPerSnapshot` namespaces everything is read fresh each time (the normal case for every
 * lab); beyond that, a namespace is re-read when its fingerprint changed, then the stalest first,
 * within the budget; the rest reuse their last read.
 *
 * The fingerprint never costs the agent's event loop work a learner controls (issue 12: it used to
 * read /proc/PID/net/fib_trie whole, synchronously; with 61 000 routes every round stalled every
 * learner's terminal for hundreds of ms). With nsread it is nsread's `netfp`: the same bounded
 * netlink read (links, addresses, a capped route count), answered as a hash. Without nsread, a
 * bounded asynchronous read of /proc/PID/net/{dev,if_inet6} and the first bytes of fib_trie.
 */
interface CachedRead {
  fingerprint: string | null;
  atMs: number;
  res: RunResult;
}
const nsReadCache = new WeakMap<Sandbox, Map<string, CachedRead>>();
export const refreshPerSnapshot = 12;
/** The exec path's fingerprint reads at most this much of each /proc/PID/net file. */
const FINGERPRINT_FILE_BYTES = 64 * 1024;

async function netFingerprint(pid: number, inode: number, owner: number, timeoutMs: number): Promise<{ fp: string | null; counts: NetCounts }> {
  const reader = nsReader(owner);
  if (reader) {
    const res = await reader.fingerprint(`/proc/${pid}/ns/net`, inode, timeoutMs, owner);
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
  /** Peer's name when it is in the same namespace (ip prints no link_index then). */
  link?: string;
  link_netnsid?: number;
  linkinfo?: { info_kind?: string };
  addr_info?: Array<{ family?: string; local?: string; prefixlen?: number }>;
}

interface ParsedIface {
  info: InterfaceInfo;
  linkIndex: number | null;
  linkName: string | null;
  otherNetns: boolean;
}

function parseIpJson(stdout: string, warnings: string[], nsInode: number, total?: number): ParsedIface[] {
  let data: unknown;
  try {
    data = JSON.parse(stdout);
  } catch {
    warnings.push(`net:[${nsInode}]: could not parse ip -j output`);
    return [];
  }
  if (!Array.isArray(data)) return [];
  const count = Math.max(data.length, total ?? 0);
  if (count > snapshotLimits.maxInterfacesPerNetns) {
    warnings.push(
      `net:[${nsInode}] has ${count} interfaces; only the first ${snapshotLimits.maxInterfacesPerNetns} are reported`,
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
      linkName: typeof raw.link === 'string' ? raw.link : null,
      otherNetns: typeof raw.link_netnsid === 'number',
    });
  }
  return out;
}

/** Fill veth peers: same netns when ip says so, else the unique mutual match in another netns. */
function matchPeers(parsed: Map<number, ParsedIface[]>): void {
  for (const [inode, ifaces] of parsed) {
    for (const p of ifaces) {
      if (p.info.kind !== 'veth') continue;
      if (p.linkIndex === null && p.linkName !== null && !p.otherNetns) {
        // Both ends in this namespace: ip names the peer instead of giving its index.
        const peer = ifaces.find((o) => o.info.name === p.linkName && o.info.kind === 'veth');
        if (peer) p.info.peer = { ifindex: peer.info.ifindex, netnsInode: inode };
        continue;
      }
      if (p.linkIndex === null) continue;
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

// ---------------------------------------------------------------- mount, user, PID namespaces

/**
 * Reads a /proc file asynchronously (the kernel generates it on a libuv thread, not on the event
 * loop), at most maxBytes.
 */
async function readBoundedAsync(file: string, maxBytes: number): Promise<{ text: string; cut: boolean } | null> {
  let handle: fs.promises.FileHandle | null = null;
  try {
    handle = await fs.promises.open(file, 'r');
    const buf = Buffer.alloc(Math.min(maxBytes + 1, 64 * 1024));
    const chunks: Buffer[] = [];
    let n = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, maxBytes + 1 - n), null);
      if (bytesRead <= 0) break;
      chunks.push(Buffer.from(buf.subarray(0, bytesRead)));
      n += bytesRead;
      if (n > maxBytes) break;
    }
    return { text: Buffer.concat(chunks).subarray(0, Math.min(n, maxBytes)).toString('utf8'), cut: n > maxBytes };
  } catch {
    return null;
  } finally {
    await handle?.close().catch(() => {});
  }
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescapeMountinfo(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parses /proc/PID/mountinfo: `id parent maj:min root mountpoint opts [optional...] - fstype source superopts`. */
export function parseMountinfo(text: string, max: number): { mounts: MountInfo[]; truncated: boolean } {
  const mounts: MountInfo[] = [];
  let truncated = false;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (mounts.length >= max) {
      truncated = true;
      break;
    }
    const parts = line.split(' ');
    const dash = parts.indexOf('-', 6);
    if (dash < 0 || parts.length < dash + 3) continue;
    const mountId = Number(parts[0]);
    const parentId = Number(parts[1]);
    if (!Number.isInteger(mountId) || !Number.isInteger(parentId) || mountId < 0 || parentId < 0) continue;
    mounts.push({
      mountId,
      parentId,
      root: unescapeMountinfo(parts[3] ?? ''),
      mountPoint: unescapeMountinfo(parts[4] ?? ''),
      fsType: parts[dash + 1] ?? '',
      source: unescapeMountinfo(parts[dash + 2] ?? ''),
    });
  }
  return { mounts, truncated };
}

function nsLink(pid: number, type: string): string | null {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/${type}`);
  } catch {
    return null;
  }
}

async function readMntns(inode: number, pid: number, warnings: string[], budget: { bytes: number }, tooMuch: Localized[]): Promise<MntnsInfo> {
  const label = `mnt:[${inode}]`;
  if (budget.bytes <= 0) {
    return { inode, viaHostPid: pid, mounts: [], complete: false, truncated: true };
  }
  const read = nsLink(pid, 'mnt') === label ? await readBoundedAsync(`/proc/${pid}/mountinfo`, Math.min(snapshotLimits.maxMountinfoBytes, budget.bytes)) : null;
  if (read) budget.bytes -= read.text.length;
  // The member must still be in that namespace after the read (it may have exited or re-unshared).
  if (!read || nsLink(pid, 'mnt') !== label) return { inode, viaHostPid: pid, mounts: [], complete: false, truncated: false };
  const { mounts, truncated } = parseMountinfo(read.text, snapshotLimits.maxMountsPerNs);
  if (truncated || read.cut) {
    warnings.push(`${label} has more mounts than reported`);
    tooMuch.push(
      t(
        `${label} has more than ${Math.min(mounts.length, snapshotLimits.maxMountsPerNs)} mounts (the grader reads at most ${snapshotLimits.maxMountsPerNs} per mount namespace)`,
        `${label} 中的挂载点超过 ${Math.min(mounts.length, snapshotLimits.maxMountsPerNs)} 个（评分程序每个挂载命名空间最多读取 ${snapshotLimits.maxMountsPerNs} 个）`,
      ),
    );
  }
  return { inode, viaHostPid: pid, mounts, complete: true, truncated: truncated || read.cut };
}

function parseIdMap(text: string): IdMapEntry[] {
  const out: IdMapEntry[] = [];
  for (const line of text.split('\n').slice(0, snapshotLimits.maxIdMapLines)) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    if (m) out.push({ inside: Number(m[1]), outside: Number(m[2]), count: Number(m[3]) });
  }
  return out;
}

/** Owner uid and parent of user namespaces, through ioctl(NS_GET_OWNER_UID / NS_GET_PARENT) in perl. */
const nsIoctlScript = [
  'for my $p (@ARGV) {',
  '  open(my $f, "<", $p) or next; my $ino = (stat $f)[1];',
  '  my $u = pack("L", 0); my $owner = ioctl($f, 0xb704, $u) ? unpack("L", $u) : -1;',
  '  my $par = -1; my $fd = ioctl($f, 0xb702, 0);',
  '  if (defined $fd) { $fd = 0 + $fd; if (open(my $pf, "<&=", $fd)) { $par = (stat $pf)[1]; close $pf } }',
  '  print "$ino $owner $par\n"; close $f;',
  '}',
].join('\n');

async function readUserns(targets: Array<[number, number]>, remainingMs: () => number, warnings: string[]): Promise<UsernsInfo[]> {
  const out: UsernsInfo[] = [];
  for (const [inode, pid] of targets) {
    const label = `user:[${inode}]`;
    if (nsLink(pid, 'user') !== label) continue;
    const uid = await readBoundedAsync(`/proc/${pid}/uid_map`, 16 * 1024);
    const gid = await readBoundedAsync(`/proc/${pid}/gid_map`, 16 * 1024);
    if (!uid || !gid || nsLink(pid, 'user') !== label) continue;
    out.push({ inode, viaHostPid: pid, uidMap: parseIdMap(uid.text), gidMap: parseIdMap(gid.text), ownerHostUid: null, parentInode: null });
  }
  // One exec for all of them, and only when the learner made a user namespace (the sandbox's own
  // is known: owner = its uid base, parent = the host's), to keep a plain snapshot exec-free here.
  if (out.length < 2) return out;
  const res = await run(PERL, ['-e', nsIoctlScript, ...out.map((u) => `/proc/${u.viaHostPid}/ns/user`)], Math.min(remainingMs(), 1_000));
  if (!res.ok) warnings.push(`user namespace owners: ${res.error}`);
  for (const line of res.stdout.split('\n')) {
    const m = /^(\d+) (-?\d+) (-?\d+)$/.exec(line);
    if (!m) continue;
    // Only trust lines whose inode is the one we meant (the pid may have been reused meanwhile).
    const u = out.find((x) => x.inode === Number(m[1]));
    if (!u) continue;
    if (Number(m[2]) >= 0) u.ownerHostUid = Number(m[2]);
    if (Number(m[3]) >= 0) u.parentInode = Number(m[3]);
  }
  return out;
}

/** PID namespaces of the snapshot (members and PID 1), plus those only seen as pid_for_children. */
export function pidNamespaces(processes: ProcessInfo[]): PidnsInfo[] {
  const byInode = new Map<number, PidnsInfo>();
  for (const p of processes) {
    const inode = p.ns.pid;
    if (inode === undefined) continue;
    const level = p.nsPids.length - 1;
    let ns = byInode.get(inode);
    if (!ns) byInode.set(inode, (ns = { inode, level, init: null, members: 0 }));
    ns.members++;
    if (p.nsPids[p.nsPids.length - 1] === 1) ns.init = { hostPid: p.hostPid, pid: p.pid };
  }
  for (const p of processes) {
    const child = p.ns.pid_for_children;
    if (child === undefined || byInode.has(child)) continue;
    byInode.set(child, { inode: child, level: p.nsPids.length, init: null, members: 0 });
  }
  return [...byInode.values()];
}

// ---------------------------------------------------------------- network namespace handles

/** How to reach one of the sandbox's network namespaces: through a member, or a /run/netns bind mount. */
export type NetnsHandle = { inode: number; hostPid: number; mountPoint?: string };

/**
 * Opens a handle (O_PATH fd) on a network namespace of the sandbox and PROVES it is the namespace
 * meant: the fd must be an nsfs file with the inode the snapshot found inside the sandbox. A
 * reused PID, a learner's symlink or an overmount can only make this fail, never open another
 * namespace (the host's included). The caller closes the fd.
 */
export function openNetnsFd(handle: NetnsHandle): number | null {
  const file = handle.mountPoint
    ? `/proc/${handle.hostPid}/root${handle.mountPoint}`
    : `/proc/${handle.hostPid}/ns/net`;
  let fd: number;
  try {
    fd = fs.openSync(file, O_PATH);
  } catch {
    return null;
  }
  // fstat, not readlink: a bind-mounted nsfs file's fd link reads its path, not `net:[inode]`.
  let same = false;
  try {
    const st = fs.fstatSync(fd);
    same = st.ino === handle.inode && st.dev === nsfsDev();
  } catch {
    /* closed below */
  }
  if (!same || hostNetInodes().has(handle.inode)) {
    fs.closeSync(fd);
    return null;
  }
  return fd;
}

let nsfsDevCache: number | null = null;
/** The device number of nsfs (every namespace file lives on it). */
function nsfsDev(): number {
  nsfsDevCache ??= fs.statSync('/proc/self/ns/net').dev;
  return nsfsDevCache;
}

let hostNetCache: Set<number> | null = null;
/** The agent's own and the host init's network namespaces: never to be entered. */
export function hostNetInodes(): Set<number> {
  if (hostNetCache) return hostNetCache;
  const set = new Set<number>();
  for (const pid of ['self', '1']) {
    try {
      const m = /^net:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/ns/net`));
      if (m) set.add(Number(m[1]));
    } catch {
      /* unreadable: nothing to add */
    }
  }
  hostNetCache = set;
  return set;
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

/** nsread's cache tag of each sandbox (its held /proc files, reusable namespace links). */
const procTags = new WeakMap<Sandbox, number>();
let nextProcTag = 1;

/** nsread's tag for this sandbox; what nsread holds for it is released when its init exits. */
function procTagOf(sandbox: Sandbox): number {
  let tag = procTags.get(sandbox);
  if (tag === undefined) {
    procTags.set(sandbox, (tag = nextProcTag++));
    void sandbox.exited.then(() => releaseSnapshotState(sandbox));
  }
  return tag;
}

/** Releases what nsread holds for this sandbox: its next snapshot reads everything afresh. */
export function releaseSnapshotState(sandbox: Sandbox): void {
  const tag = procTags.get(sandbox);
  if (tag === undefined) return;
  procTags.delete(sandbox);
  releaseReader(tag);
}

/**
 * Why a snapshot is not a complete picture of the sandbox: it holds more than the grader reads
 * (routes, interfaces, namespaces, mounts, processes) or a read of it took too long. Checks are not
 * run on such a snapshot; the learner gets "too much state to check" with these reasons (session.ts).
 */
const tooMuchBySnapshot = new WeakMap<Snapshot, Localized[]>();

/** The reasons this snapshot is over the grader's limits (empty: it is complete). */
export function tooMuchState(snapshot: Snapshot): Localized[] {
  return tooMuchBySnapshot.get(snapshot) ?? [];
}

const NS_WHAT: Record<'net' | 'uts' | 'mnt' | 'user', Localized> = {
  net: t('network namespaces', '个网络命名空间'),
  uts: t('UTS namespaces', '个 UTS 命名空间'),
  mnt: t('mount namespaces', '个挂载命名空间'),
  user: t('user namespaces', '个用户命名空间'),
};

/** Reasons a network namespace read says the namespace is over the grader's limits. */
function netTooMuch(inode: number, res: RunResult): Localized[] {
  const label = `net:[${inode}]`;
  const out: Localized[] = [];
  if (res.routesCapped) {
    const max = snapshotLimits.maxRoutesPerNetns;
    out.push(t(`${label} holds more than ${max} routes (the grader reads at most ${max})`, `${label} 中的路由超过 ${max} 条（评分程序最多读取 ${max} 条）`));
  }
  if (res.linksCapped || (res.total ?? 0) > snapshotLimits.maxInterfacesPerNetns) {
    const max = snapshotLimits.maxInterfacesPerNetns;
    const count = res.linksCapped ? `more than ${res.total ?? max}` : String(res.total);
    const countZh = res.linksCapped ? `超过 ${res.total ?? max}` : String(res.total);
    out.push(t(`${label} has ${count} interfaces (the grader reads at most ${max})`, `${label} 中有 ${countZh} 个网络接口（评分程序最多读取 ${max} 个）`));
  }
  if (!res.ok && /took too long|timed out|timeout/.test(res.error ?? '')) {
    out.push(t(`reading ${label} took too long (${res.error})`, `读取 ${label} 耗时过长（${res.error}）`));
  }
  return out;
}

export async function buildSnapshot(sandbox: Sandbox, opts: { timeoutMs?: number } = {}): Promise<Snapshot> {
  const takenAtMs = Date.now();
  const t0 = performance.now();
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const deadline = t0 + timeoutMs;
  const warnings: string[] = [];
  const tooMuch: Localized[] = [];

  let hostPids = [...new Set(sandbox.listHostPids())].sort((a, b) => a - b);
  if (hostPids.length > snapshotLimits.maxProcesses) {
    warnings.push(
      `${hostPids.length} processes in the sandbox; only the first ${snapshotLimits.maxProcesses} are reported`,
    );
    tooMuch.push(
      t(
        `${hostPids.length} processes (the grader reads at most ${snapshotLimits.maxProcesses})`,
        `${hostPids.length} 个进程（评分程序最多读取 ${snapshotLimits.maxProcesses} 个）`,
      ),
    );
    hostPids = hostPids.slice(0, snapshotLimits.maxProcesses);
  }
  const tag = sandbox.isAlive() ? procTagOf(sandbox) : 0;
  const read = await readProcesses(hostPids.includes(sandbox.initHostPid) ? hostPids : [sandbox.initHostPid, ...hostPids], timeoutMs, tag);
  const init = read.get(sandbox.initHostPid);
  if (!init) throw new Error(`sandbox ${sandbox.id}: its init (host pid ${sandbox.initHostPid}) is gone`);
  const depth = init.nsPidsAll.length; // NSpid length of the sandbox's top-level PID namespace

  const raws: RawProcess[] = [];
  for (const pid of hostPids) {
    const r = read.get(pid);
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
      ...(r.capEff !== undefined ? { capEff: r.capEff } : {}),
      exe: r.exe,
    };
  });

  // One reader process per distinct namespace: the lowest host pid holding it. Past `max` the rest
  // are not read (the read stays bounded) but grading goes on with what was read (the processes and
  // their namespace inodes are all there); only far past it (TOO_MANY_FACTOR x, "thousands") is the
  // sandbox "too much state to check".
  const byNs = (type: 'net' | 'uts' | 'mnt' | 'user', max: number, what: string): Map<number, number> => {
    const m = new Map<number, number>();
    const all = new Set<number>();
    for (const p of processes) {
      const inode = p.ns[type];
      if (inode === undefined) continue;
      all.add(inode);
      if (!m.has(inode) && m.size < max) m.set(inode, p.hostPid);
    }
    if (all.size > max) warnings.push(`more than ${max} ${what}; the rest are not reported`);
    if (all.size > max * TOO_MANY_FACTOR) {
      const limit = max * TOO_MANY_FACTOR;
      tooMuch.push(t(`more than ${limit} ${NS_WHAT[type].en} (the grader reads at most ${max})`, `超过 ${limit} ${NS_WHAT[type].zh}（评分程序最多读取 ${max} 个）`));
    }
    return m;
  };
  const netTargets = [...byNs('net', snapshotLimits.maxNetns, 'network namespaces')];
  const utsTargets = [...byNs('uts', snapshotLimits.maxUts, 'UTS namespaces')];
  const remaining = () => Math.max(1, deadline - performance.now());

  // Mount tables (asynchronous, bounded reads: each and all together) and, from them, the named
  // network namespaces.
  const mntBudget = { bytes: snapshotLimits.maxMountinfoTotalBytes };
  const mntns: MntnsInfo[] = [];
  for (const [inode, pid] of byNs('mnt', snapshotLimits.maxMntns, 'mount namespaces')) mntns.push(await readMntns(inode, pid, warnings, mntBudget, tooMuch));
  if (mntBudget.bytes <= 0) {
    const kib = snapshotLimits.maxMountinfoTotalBytes >> 10;
    tooMuch.push(t(`the mount tables together are longer than ${kib} KiB (the grader reads at most that)`, `所有挂载表合计超过 ${kib} KiB（评分程序最多读取这么多）`));
  }
  const namedNetns: NamedNetns[] = [];
  const namedVia = new Map<number, NetnsHandle>();
  let namedTotal = 0;
  for (const m of mntns) {
    // The topmost mount at a path is the one a lookup finds: later lines cover earlier ones.
    const top = new Map<string, MountInfo>();
    for (const mount of m.mounts) top.set(mount.mountPoint, mount);
    for (const mount of top.values()) {
      const name = /^\/run\/netns\/([^/]+)$/.exec(mount.mountPoint)?.[1];
      const inode = /^net:\[(\d+)\]$/.exec(mount.root)?.[1];
      if (!name || !inode || mount.fsType !== 'nsfs') continue;
      namedTotal++;
      if (namedNetns.length >= snapshotLimits.maxNamedNetns) continue; // counted, not read
      namedNetns.push({ name, inode: Number(inode), mntInode: m.inode });
      if (!namedVia.has(Number(inode))) namedVia.set(Number(inode), { inode: Number(inode), hostPid: m.viaHostPid, mountPoint: mount.mountPoint });
    }
  }
  {
    const max = snapshotLimits.maxNamedNetns;
    if (namedTotal > max) warnings.push(`more than ${max} named network namespaces; the rest are not reported`);
    if (namedTotal > max * TOO_MANY_FACTOR) {
      const limit = max * TOO_MANY_FACTOR;
      tooMuch.push(t(`more than ${limit} named network namespaces (ip netns add; the grader reads at most ${max})`, `超过 ${limit} 个命名的网络命名空间（ip netns add；评分程序最多读取 ${max} 个）`));
    }
  }
  const heldNet = new Set(netTargets.map(([inode]) => inode));
  const namedOnly = [...namedVia.values()].filter((h) => !heldNet.has(h.inode)).slice(0, Math.max(0, snapshotLimits.maxNetns - netTargets.length));
  const usernsPromise = readUserns([...byNs('user', snapshotLimits.maxUserns, 'user namespaces')], remaining, warnings);

  type Job = { kind: 'net' | 'uts' | 'named'; inode: number; pid: number; handle?: NetnsHandle };
  const jobs: Job[] = [
    ...netTargets.map(([inode, pid]): Job => ({ kind: 'net', inode, pid })),
    ...namedOnly.map((handle): Job => ({ kind: 'named', inode: handle.inode, pid: handle.hostPid, handle })),
    ...utsTargets.map(([inode, pid]): Job => ({ kind: 'uts', inode, pid })),
  ];
  // Budgeted refresh (see nsReadCache): which jobs run now, which reuse their last read.
  let cache = nsReadCache.get(sandbox);
  if (!cache) nsReadCache.set(sandbox, (cache = new Map()));
  const keyOf = (job: Job) => `${job.kind === 'uts' ? 'uts' : 'net'}:${job.inode}`;
  const fingerprints = new Map<Job, string | null>();
  const owner = tag;
  let toRun = jobs;
  const reused: { job: Job; res: RunResult }[] = [];
  if (jobs.length > refreshPerSnapshot) {
    // Fingerprints off the event loop (nsread, or async reads), a few at a time.
    const fps = await pool(jobs, snapshotLimits.concurrency, async (job) =>
      job.kind === 'net' ? await netFingerprint(job.pid, job.inode, owner, remaining()) : { fp: null, counts: {} as NetCounts },
    );
    const ranked = jobs.map((job, i) => {
      const fp = fps[i]!.fp;
      fingerprints.set(job, fp);
      for (const reason of netTooMuch(job.inode, { ok: true, stdout: '', ...fps[i]!.counts })) tooMuch.push(reason);
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
  const fresh = await pool(toRun, snapshotLimits.concurrency, async (job) => {
    const reader = nsReader(owner);
    if (job.kind === 'named' && job.handle) {
      // Held by no process: entered through its bind mount, proven by inode (openNetnsFd).
      const fd = openNetnsFd(job.handle);
      if (fd === null) return { job, res: { ok: false, stdout: '', error: 'reader process ended' } as RunResult };
      try {
        if (reader) {
          // nsread reopens our proven fd through /proc and checks the inode again itself.
          const res: ReadResult = await reader.read('net', `/proc/${process.pid}/fd/${fd}`, job.inode, remaining(), owner);
          if (res.ok || res.error !== 'nsread unavailable') return { job, res };
        }
        return { job, res: (await runInNetnsFd(fd, IP, ['-j', '-d', 'addr', 'show'], remaining())) as RunResult };
      } finally {
        fs.closeSync(fd);
      }
    }
    const kind = job.kind === 'uts' ? 'uts' : 'net';
    // The reader process must still hold the namespace we meant (it may have exited or re-unshared).
    const check = (): boolean => {
      try {
        return fs.readlinkSync(`/proc/${job.pid}/ns/${kind}`) === `${kind}:[${job.inode}]`;
      } catch {
        return false;
      }
    };
    if (!check()) return { job, res: { ok: false, stdout: '', error: 'reader process ended' } as RunResult };
    let res: RunResult | null = null;
    if (reader) {
      // One line to the persistent reader (it proves the inode itself) instead of an exec.
      const read = await reader.read(kind, `/proc/${job.pid}/ns/${kind}`, job.inode, remaining(), owner);
      if (read.ok || read.error !== 'nsread unavailable') res = read;
    }
    res ??=
      job.kind === 'net'
        ? await run(NSENTER, [`--net=/proc/${job.pid}/ns/net`, '--', IP, '-j', '-d', 'addr', 'show'], remaining())
        : await run(NSENTER, [`--uts=/proc/${job.pid}/ns/uts`, '--', HOSTNAME], remaining());
    if (res.ok && !check()) return { job, res: { ok: false, stdout: '', error: 'reader process ended' } };
    return { job, res };
  });
  for (const { job, res } of fresh) {
    if (!res.ok) continue;
    // nsread's read carries the fingerprint netfp gives; the exec path's costs a bounded async read,
    // and only when there are enough namespaces for fingerprints to be compared at all.
    let fingerprint = res.fp ?? fingerprints.get(job) ?? null;
    if (fingerprint === null && job.kind === 'net' && jobs.length > refreshPerSnapshot) fingerprint = (await netFingerprint(job.pid, job.inode, owner, remaining())).fp;
    cache.set(keyOf(job), { fingerprint, atMs: Date.now(), res });
  }
  if (reused.length > 0) warnings.push(`${jobs.length} namespaces to read: ${toRun.length} read fresh this round, ${reused.length} from an earlier round`);
  const results = [...fresh, ...reused];

  const parsed = new Map<number, ParsedIface[]>();
  const netns: NetnsInfo[] = [];
  const uts: UtsInfo[] = [];
  const seenTooMuch = new Set(tooMuch.map((r) => r.en));
  for (const { job, res } of results) {
    if (job.kind === 'net' || job.kind === 'named') {
      for (const reason of netTooMuch(job.inode, res)) {
        if (seenTooMuch.has(reason.en)) continue;
        seenTooMuch.add(reason.en);
        tooMuch.push(reason);
      }
      if (!res.ok && res.error !== 'reader process ended') warnings.push(`net:[${job.inode}]: ${res.error}`);
      const ifaces = res.ok ? parseIpJson(res.stdout, warnings, job.inode, res.total) : [];
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
      const owner = 'nsOwner' in res ? res.nsOwner : undefined;
      uts.push({ inode: job.inode, hostname: res.stdout.trim().slice(0, 64), ...(owner !== undefined ? { ownerUserns: owner } : {}) });
    } else if (res.error !== 'reader process ended') {
      warnings.push(`uts:[${job.inode}]: ${res.error}`);
    }
  }
  matchPeers(parsed);
  const userns = await usernsPromise;
  const timens = await readTimens(processes, init.ns.time, warnings);
  const ipcns = await readIpcns(processes, init.ns.ipc, sandbox.initHostPid, remaining, warnings);

  const snapshot: Snapshot = {
    takenAtMs,
    durationMs: performance.now() - t0,
    sandbox: { id: sandbox.id, initHostPid: sandbox.initHostPid, baseNs: init.ns, uidBase: sandbox.uidBase, programs: sandboxPrograms() },
    processes,
    netns,
    uts,
    mntns,
    userns,
    pidns: pidNamespaces(processes),
    namedNetns,
    ...(timens.length > 0 ? { timens } : {}),
    ...(ipcns ? { ipcns } : {}),
    warnings,
  };
  if (tooMuch.length > 0) tooMuchBySnapshot.set(snapshot, tooMuch);
  return snapshot;
}
