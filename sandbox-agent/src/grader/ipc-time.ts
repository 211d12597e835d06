// Two small snapshot facts for the `ipc-cgroup-time` lab, kept apart from snapshot.ts:
//  - time namespaces' offsets: the host's /proc/PID/timens_offsets (one bounded read per time
//    namespace other than the sandbox's own; no exec);
//  - SysV IPC objects per IPC namespace: /proc/sysvipc/* reflects the READER's IPC namespace, so a
//    host `tail` joins only that IPC namespace (nsenter --ipc) to read them. Only when the sandbox
//    has an IPC namespace besides its own (a plain snapshot stays exec-free), at most maxIpcns.
// Every read re-checks afterwards that the member still holds the namespace meant (PID reuse).
import type { IpcnsInfo, ProcessInfo, TimensInfo } from '../../../labs/core/snapshot';
import { nsLink as link, readBoundedAsync } from '../procfs';
import { NSENTER, run } from './exec';

export const ipcTimeLimits = { maxTimens: 16, maxIpcns: 4, maxQueuesListed: 32, maxBytes: 256 * 1024 } as const;

const TAIL = '/usr/bin/tail';

/** `monotonic 0 0` / `boottime 86400 0` (older kernels print clock ids 1 and 7). */
export function parseTimensOffsets(text: string): { monotonicSec: number; boottimeSec: number } | null {
  let monotonicSec: number | null = null;
  let boottimeSec: number | null = null;
  for (const line of text.split('\n')) {
    const m = /^\s*(monotonic|boottime|1|7)\s+(-?\d+)\s+(\d+)\s*$/.exec(line);
    if (!m) continue;
    const v = Number(m[2]) + (Number(m[2]) < 0 ? -1 : 1) * (Number(m[3]) / 1e9);
    if (m[1] === 'monotonic' || m[1] === '1') monotonicSec = v;
    else boottimeSec = v;
  }
  return monotonicSec === null || boottimeSec === null ? null : { monotonicSec, boottimeSec };
}

/** Offsets of every time namespace (as time or time_for_children) other than the sandbox's own. */
export async function readTimens(processes: ProcessInfo[], baseTime: number | undefined, warnings: string[]): Promise<TimensInfo[]> {
  const targets = new Map<number, number>();
  for (const p of processes) {
    const inode = p.ns.time_for_children;
    if (inode === undefined || inode === baseTime || targets.has(inode)) continue;
    if (targets.size >= ipcTimeLimits.maxTimens) {
      warnings.push(`more than ${ipcTimeLimits.maxTimens} time namespaces; the rest are not reported`);
      break;
    }
    targets.set(inode, p.hostPid);
  }
  const out: TimensInfo[] = [];
  for (const [inode, pid] of targets) {
    const label = `time:[${inode}]`;
    if (link(pid, 'time_for_children') !== label) continue;
    const text = (await readBoundedAsync(`/proc/${pid}/timens_offsets`, 4096))?.text ?? null;
    if (text === null || link(pid, 'time_for_children') !== label) continue;
    const offsets = parseTimensOffsets(text);
    if (offsets) out.push({ inode, viaHostPid: pid, ...offsets });
    else warnings.push(`${label}: unreadable timens_offsets`);
  }
  return out;
}

/** `tail -n +1` of /proc/sysvipc/{msg,shm,sem}: each file under a `==> name <==` header. */
export function parseSysvipc(text: string): Omit<IpcnsInfo, 'inode' | 'viaHostPid'> {
  const sections = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const line of text.split('\n')) {
    const h = /^==> \/proc\/sysvipc\/(msg|shm|sem) <==$/.exec(line);
    if (h) {
      sections.set(h[1]!, (current = []));
      continue;
    }
    if (current && line.trim() !== '' && !/^\s*key\s/.test(line)) current.push(line);
  }
  const msgQueues: IpcnsInfo['msgQueues'] = [];
  for (const line of sections.get('msg') ?? []) {
    const m = /^\s*(-?\d+)\s+(\d+)\s/.exec(line);
    if (m && msgQueues.length < ipcTimeLimits.maxQueuesListed) msgQueues.push({ key: Number(m[1]), id: Number(m[2]) });
  }
  return { msgQueues, shmSegments: (sections.get('shm') ?? []).length, semSets: (sections.get('sem') ?? []).length };
}

/** SysV IPC objects of the sandbox's IPC namespaces, when it has more than its own. */
export async function readIpcns(processes: ProcessInfo[], baseIpc: number | undefined, initHostPid: number, remainingMs: () => number, warnings: string[]): Promise<IpcnsInfo[] | undefined> {
  if (baseIpc === undefined || !processes.some((p) => p.ns.ipc !== undefined && p.ns.ipc !== baseIpc)) return undefined;
  const targets = new Map<number, number>([[baseIpc, initHostPid]]);
  for (const p of processes) {
    const inode = p.ns.ipc;
    if (inode === undefined || targets.has(inode)) continue;
    if (targets.size >= ipcTimeLimits.maxIpcns) {
      warnings.push(`more than ${ipcTimeLimits.maxIpcns} IPC namespaces; the rest are not read`);
      break;
    }
    targets.set(inode, p.hostPid);
  }
  const out: IpcnsInfo[] = [];
  for (const [inode, pid] of targets) {
    const label = `ipc:[${inode}]`;
    if (link(pid, 'ipc') !== label) continue;
    const res = await run(NSENTER, [`--ipc=/proc/${pid}/ns/ipc`, '--', TAIL, '-n', '+1', '/proc/sysvipc/msg', '/proc/sysvipc/shm', '/proc/sysvipc/sem'], Math.min(remainingMs(), 1_000), ipcTimeLimits.maxBytes);
    const text = res.ok ? res.stdout : null;
    if (text === null) {
      warnings.push(`${label}: SysV IPC objects not read`);
      continue;
    }
    if (link(pid, 'ipc') !== label) continue;
    out.push({ inode, viaHostPid: pid, ...parseSysvipc(text) });
  }
  return out;
}
