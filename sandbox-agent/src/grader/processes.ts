// The snapshot's processes: the host PIDs the sandbox's cgroup lists, read in one nsread request
// (no synchronous /proc reads on the agent's event loop) or, without nsread, one by one through
// procfs.ts; then seen from the sandbox's top PID namespace (its PIDs, its uids). Also the PID
// namespaces they form, and the identity of the programs a lab recognises by their file.
import * as fs from 'node:fs';
import type { Sandbox } from '../sandbox/driver';
import { metrics } from '../metrics';
import { parseStatus, readCmdline, readComm, readExe, readNsInodes, readStatus, splitCmdline, type ExeIdentity } from '../procfs';
import { t } from '../../../labs/core/model';
import { namespaceTypes, type NamespaceInodes, type PidnsInfo, type ProcessInfo } from '../../../labs/core/snapshot';
import { snapshotLimits, type Findings } from './limits';
import type { NsReader, ProcParts } from './ns-reader';

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

const cmdline = (buf: Buffer) => splitCmdline(buf, snapshotLimits.maxCmdlineBytes, snapshotLimits.maxCmdlineArgs);

/** A process from its /proc parts (read here synchronously, or by nsread in one batch). */
function rawProcess(pid: number, st: Map<string, string>, commText: string, ns: NamespaceInodes, argv: string[], exe: ExeIdentity | null): RawProcess | null {
  const nsPidsAll = (st.get('NSpid') ?? '').split(/\s+/).filter(Boolean).map(Number);
  const hostPpid = Number(st.get('PPid'));
  const hostUid = Number((st.get('Uid') ?? '').split(/\s+/)[0]);
  const state = (st.get('State') ?? '?').slice(0, 1);
  const comm = commText.replace(/\n$/, '');
  if (nsPidsAll.length === 0 || !Number.isFinite(hostPpid) || !Number.isFinite(hostUid)) return null;
  const capEff = st.get('CapEff');
  return { hostPid: pid, hostPpid, nsPidsAll, hostUid, state, comm, cmdline: argv, ns, capEff: capEff && /^[0-9a-f]{1,16}$/.test(capEff) ? capEff : undefined, exe };
}

function fromProcfs(pid: number): RawProcess | null {
  const st = readStatus(pid);
  if (!st) return null;
  const comm = readComm(pid);
  if (comm === null) return null;
  return rawProcess(pid, st, comm, readNsInodes(pid), readCmdline(pid, snapshotLimits.maxCmdlineBytes, snapshotLimits.maxCmdlineArgs), readExe(pid));
}

function fromNsread(pid: number, parts: ProcParts): RawProcess | null {
  const ns: NamespaceInodes = {};
  for (const type of namespaceTypes) if (parts.ns[type] !== undefined) ns[type] = parts.ns[type];
  const exe = parts.exe ? { path: parts.exe.path.toString('utf8').slice(0, 256), dev: parts.exe.dev, ino: parts.exe.ino } : null;
  return rawProcess(pid, parseStatus(parts.status), parts.comm.toString('utf8'), ns, cmdline(parts.cmdline), exe);
}

/** Reads these host PIDs (nsread when it runs, else procfs). Missing from the map: the process is gone. */
async function readProcesses(pids: number[], reader: NsReader | null, timeoutMs: number, tag: number): Promise<Map<number, RawProcess>> {
  const out = new Map<number, RawProcess>();
  if (reader) {
    const res = await reader.procs(pids, timeoutMs, tag);
    if (res.ok) {
      metrics.snapshotProcesses.inc({}, res.procs.size);
      metrics.snapshotNsReused.inc({}, res.nsReused);
      for (const pid of pids) {
        const parts = res.procs.get(pid);
        const raw = parts ? fromNsread(pid, parts) : null;
        if (raw) out.set(pid, raw);
      }
      return out;
    }
  }
  for (const pid of pids) {
    const raw = fromProcfs(pid);
    if (raw) out.set(pid, raw);
  }
  return out;
}

/**
 * The sandbox's processes as its top PID namespace sees them, and its init's namespaces. At most
 * maxProcesses (the rest: a warning and too much state). Throws when the init is gone.
 */
export async function readSandboxProcesses(
  sandbox: Sandbox,
  reader: NsReader | null,
  tag: number,
  timeoutMs: number,
  found: Findings,
): Promise<{ processes: ProcessInfo[]; initNs: NamespaceInodes }> {
  let hostPids = [...new Set(sandbox.listHostPids())].sort((a, b) => a - b);
  const max = snapshotLimits.maxProcesses;
  if (hostPids.length > max) {
    found.warnings.push(`${hostPids.length} processes in the sandbox; only the first ${max} are reported`);
    found.tooMuch.push(t(`${hostPids.length} processes (the grader reads at most ${max})`, `${hostPids.length} 个进程（评分程序最多读取 ${max} 个）`));
    hostPids = hostPids.slice(0, max);
  }
  const read = await readProcesses(hostPids.includes(sandbox.initHostPid) ? hostPids : [sandbox.initHostPid, ...hostPids], reader, timeoutMs, tag);
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
  const processes = raws.map((r): ProcessInfo => {
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
  return { processes, initNs: init.ns };
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
