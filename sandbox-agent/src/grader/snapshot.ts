// A sandbox's snapshot: what the labs' checks read, built from the HOST side by the readers below
// over the processes the sandbox's cgroup lists (never a scan of all of /proc, never the sandbox's
// own /proc). The learner controls everything inside the sandbox, so every read is bounded
// (counts, bytes, time: limits.ts) and a process that vanishes mid-read is skipped silently.
//
// The data flow, one reader each:
//   processes.ts   the cgroup's PIDs -> processes (nsread's batch, or procfs.ts), PID namespaces
//   mounts.ts      one member per mount namespace -> mount tables -> named network namespaces
//   userns.ts      one member per user namespace -> id maps, owner and parent (nsread ioctls)
//   ns-reads.ts    one member (or bind mount) per network / UTS namespace -> links, hostnames,
//                  within a refresh budget kept in the sandbox's SandboxReadState (read-state.ts)
//   ipc-time.ts    the time and IPC namespaces the labs look at
import type { Sandbox } from '../sandbox/driver';
import type { ProcessInfo, Snapshot } from '../../../labs/core/snapshot';
import type { Localized } from '../../../labs/core/model';
import { readIpcns, readTimens } from './ipc-time';
import { countNamespaces, markTooMuch, snapshotLimits, type Findings, type NsKind } from './limits';
import { namedNetnsOf, readMountTables } from './mounts';
import { netAndUts, readNamespaces, type NsJob } from './ns-reads';
import { pidNamespaces, readSandboxProcesses, sandboxPrograms } from './processes';
import { readStateOf, transientReads } from './read-state';
import { readUserns } from './userns';

export { tooMuchState, snapshotLimits } from './limits';
export { refreshPerSnapshot } from './ns-reads';
export { releaseSnapshotState } from './read-state';
export { identifiedPrograms, pidNamespaces, sandboxPrograms } from './processes';
export { parseMountinfo } from './mounts';

/**
 * One member per distinct namespace of a type: the lowest host pid holding it. Past `max` the rest
 * are not read (the read stays bounded) but grading goes on with what was read (the processes and
 * their namespace inodes are all there); only far past it (TOO_MANY_FACTOR x, "thousands") is the
 * sandbox "too much state to check".
 */
function membersOf(processes: ProcessInfo[], type: NsKind, max: number, what: string, found: Findings): Map<number, number> {
  const members = new Map<number, number>();
  const all = new Set<number>();
  for (const p of processes) {
    const inode = p.ns[type];
    if (inode === undefined) continue;
    all.add(inode);
    if (!members.has(inode) && members.size < max) members.set(inode, p.hostPid);
  }
  countNamespaces(type, all.size, max, what, found);
  return members;
}

export async function buildSnapshot(sandbox: Sandbox, opts: { timeoutMs?: number } = {}): Promise<Snapshot> {
  const takenAtMs = Date.now();
  const t0 = performance.now();
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const deadline = t0 + timeoutMs;
  const remaining = () => Math.max(1, deadline - performance.now());
  const found: Findings = { warnings: [], tooMuch: [] as Localized[] };
  // What is kept between this sandbox's rounds lives as long as the sandbox (read-state.ts).
  const state = sandbox.isAlive() ? readStateOf(sandbox) : null;
  const reads = state ?? transientReads;

  const { processes, initNs } = await readSandboxProcesses(sandbox, reads.reader(), reads.tag, timeoutMs, found);
  const netTargets = [...membersOf(processes, 'net', snapshotLimits.maxNetns, 'network namespaces', found)];
  const utsTargets = [...membersOf(processes, 'uts', snapshotLimits.maxUts, 'UTS namespaces', found)];

  const mntns = await readMountTables(membersOf(processes, 'mnt', snapshotLimits.maxMntns, 'mount namespaces', found), found);
  const named = namedNetnsOf(mntns, found);
  const heldNet = new Set(netTargets.map(([inode]) => inode));
  const namedOnly = [...named.via.values()].filter((h) => !heldNet.has(h.inode)).slice(0, Math.max(0, snapshotLimits.maxNetns - netTargets.length));
  const usernsPromise = readUserns([...membersOf(processes, 'user', snapshotLimits.maxUserns, 'user namespaces', found)], reads, remaining, found.warnings);

  const jobs: NsJob[] = [
    ...netTargets.map(([inode, pid]): NsJob => ({ kind: 'net', inode, pid })),
    ...namedOnly.map((handle): NsJob => ({ kind: 'named', inode: handle.inode, pid: handle.hostPid, handle })),
    ...utsTargets.map(([inode, pid]): NsJob => ({ kind: 'uts', inode, pid })),
  ];
  const results = await readNamespaces(jobs, reads, state?.nsCache ?? new Map(), remaining, found);
  const { netns, uts } = netAndUts(results, named.named, found);
  const userns = await usernsPromise;
  const timens = await readTimens(processes, initNs.time, found.warnings);
  const ipcns = await readIpcns(processes, initNs.ipc, sandbox.initHostPid, remaining, found.warnings);

  const snapshot: Snapshot = {
    takenAtMs,
    durationMs: performance.now() - t0,
    sandbox: { id: sandbox.id, initHostPid: sandbox.initHostPid, baseNs: initNs, uidBase: sandbox.uidBase, programs: sandboxPrograms() },
    processes,
    netns,
    uts,
    mntns,
    userns,
    pidns: pidNamespaces(processes),
    namedNetns: named.named,
    ...(timens.length > 0 ? { timens } : {}),
    ...(ipcns ? { ipcns } : {}),
    warnings: found.warnings,
  };
  markTooMuch(snapshot, found.tooMuch);
  return snapshot;
}
