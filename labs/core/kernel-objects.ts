// The non-network namespaces of a Snapshot: UTS hostnames, mount tables, user namespace ID maps and
// capabilities, nested PID namespaces.
// Pure functions: no DOM, no Node APIs (imported by the agent, the app and tests).
import { baseNs, processByHostPid } from './procs';
import type { IdMapEntry, MntnsInfo, MountInfo, PidnsInfo, ProcessInfo, Snapshot, UsernsInfo } from './snapshot';

/** The hostname the agent read for this UTS namespace (from outside), if any. */
export function hostnameOf(snapshot: Snapshot, utsInode: number | undefined): string | undefined {
  if (utsInode === undefined) return undefined;
  return snapshot.uts.find((u) => u.inode === utsInode)?.hostname;
}

export function mntnsOf(snapshot: Snapshot, inode: number | undefined): MntnsInfo | undefined {
  if (inode === undefined) return undefined;
  return snapshot.mntns?.find((m) => m.inode === inode);
}

/** The topmost mount at this mount point in a mount namespace (what a path lookup finds). */
export function mountAt(mntns: MntnsInfo | undefined, mountPoint: string): MountInfo | undefined {
  if (!mntns) return undefined;
  let found: MountInfo | undefined;
  for (const m of mntns.mounts) if (m.mountPoint === mountPoint) found = m;
  return found;
}

/** Same mount point, type and source: "the same mount" as a learner would compare them. */
export function sameMount(a: MountInfo, b: MountInfo): boolean {
  return a.mountPoint === b.mountPoint && a.fsType === b.fsType && a.source === b.source;
}

export interface PrivateMount {
  mount: MountInfo;
  mntns: MntnsInfo;
}

/**
 * Mounts matching the predicate that exist in a mount namespace other than the sandbox's and that
 * the sandbox's own mount namespace (where the neighbour terminal lives) does not have.
 */
export function privateMounts(snapshot: Snapshot, match: (m: MountInfo) => boolean): PrivateMount[] {
  const baseInode = baseNs(snapshot, 'mnt');
  const base = mntnsOf(snapshot, baseInode);
  if (!base?.complete) return [];
  const out: PrivateMount[] = [];
  for (const ns of snapshot.mntns ?? []) {
    if (ns.inode === baseInode || !ns.complete) continue;
    for (const m of ns.mounts) {
      if (match(m) && !base.mounts.some((b) => sameMount(b, m))) out.push({ mount: m, mntns: ns });
    }
  }
  return out;
}

export function usernsOf(snapshot: Snapshot, inode: number | undefined): UsernsInfo | undefined {
  if (inode === undefined) return undefined;
  return snapshot.userns?.find((u) => u.inode === inode);
}

/** Maps a host id through an id map; 65534 (the overflow id) when unmapped, as the kernel shows it. */
export function idInside(map: IdMapEntry[], hostId: number): number {
  const e = map.find((x) => hostId >= x.outside && hostId < x.outside + x.count);
  return e ? e.inside + (hostId - e.outside) : 65534;
}

/** The real uid of a process as its OWN user namespace sees it (what `id -u` prints there). */
export function uidInOwnUserns(snapshot: Snapshot, process: ProcessInfo): number | undefined {
  const userns = usernsOf(snapshot, process.ns.user);
  if (!userns) return undefined;
  return idInside(userns.uidMap, process.uid + snapshot.sandbox.uidBase);
}

/**
 * An id map as a process INSIDE the sandbox reads it in /proc/PID/uid_map (outside ids relative to
 * the sandbox's user namespace): `0 0 1` for `unshare -U -r` run by the sandbox's root.
 */
export function idMapAsSandboxSees(snapshot: Snapshot, map: IdMapEntry[]): IdMapEntry[] {
  return map.map((e) => ({ ...e, outside: e.outside - snapshot.sandbox.uidBase }));
}

/** `0 0 1` lines, the way /proc/PID/uid_map prints them (compact). */
export function formatIdMap(map: IdMapEntry[]): string {
  return map.length === 0 ? '(empty)' : map.map((e) => `${e.inside} ${e.outside} ${e.count}`).join('; ');
}

/** True when every capability bit (0..40) is set in a CapEff hex string. */
export function hasFullCaps(capEff: string | undefined): boolean {
  if (!capEff) return false;
  const v = BigInt(`0x${capEff}`);
  const full = (1n << 41n) - 1n;
  return (v & full) === full;
}

export function pidnsOf(snapshot: Snapshot, inode: number | undefined): PidnsInfo | undefined {
  if (inode === undefined) return undefined;
  return snapshot.pidns?.find((p) => p.inode === inode);
}

/** PID namespaces nested in the sandbox's own that have a PID 1, with that process. */
export function nestedPidInits(snapshot: Snapshot): Array<{ pidns: PidnsInfo; init: ProcessInfo }> {
  const out: Array<{ pidns: PidnsInfo; init: ProcessInfo }> = [];
  for (const ns of snapshot.pidns ?? []) {
    if (ns.level === 0 || !ns.init) continue;
    const init = processByHostPid(snapshot, ns.init.hostPid);
    if (init) out.push({ pidns: ns, init });
  }
  return out;
}

/**
 * Processes that unshared a PID namespace for their children but have no child in it yet: the
 * kernel hides their pid_for_children link until the new namespace has a PID 1 (`unshare -p`
 * without -f execs the command itself, in the OLD namespace).
 */
export function pendingPidUnshares(snapshot: Snapshot): ProcessInfo[] {
  return snapshot.processes.filter((p) => p.ns.pid !== undefined && p.ns.pid_for_children === undefined);
}

// ---------------------------------------------------------------- nsenter / unshare in the transcript

// nsenter's own options are parsed once, in ns-tools.ts (parseNsenterWords, nsenterInvocations).
