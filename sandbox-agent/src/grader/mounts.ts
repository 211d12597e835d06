// The sandbox's mount namespaces (each mount table read through one member, bounded: each table
// and all together) and, from them, its named network namespaces (`ip netns add`: an nsfs bind
// mount at /run/netns/<name>), which may be held by no process at all.
import { nsLink, readBoundedAsync } from '../procfs';
import { t } from '../../../labs/core/model';
import type { MntnsInfo, MountInfo, NamedNetns } from '../../../labs/core/snapshot';
import { snapshotLimits, TOO_MANY_FACTOR, type Findings } from './limits';
import type { NetnsHandle } from './netns-handle';

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

async function readMntns(inode: number, pid: number, budget: { bytes: number }, found: Findings): Promise<MntnsInfo> {
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
    found.warnings.push(`${label} has more mounts than reported`);
    found.tooMuch.push(
      t(
        `${label} has more than ${Math.min(mounts.length, snapshotLimits.maxMountsPerNs)} mounts (the grader reads at most ${snapshotLimits.maxMountsPerNs} per mount namespace)`,
        `${label} 中的挂载点超过 ${Math.min(mounts.length, snapshotLimits.maxMountsPerNs)} 个（评分程序每个挂载命名空间最多读取 ${snapshotLimits.maxMountsPerNs} 个）`,
      ),
    );
  }
  return { inode, viaHostPid: pid, mounts, complete: true, truncated: truncated || read.cut };
}

/** Every mount namespace in `targets` (inode -> a member's host pid), within the byte budget. */
export async function readMountTables(targets: Map<number, number>, found: Findings): Promise<MntnsInfo[]> {
  const budget = { bytes: snapshotLimits.maxMountinfoTotalBytes };
  const mntns: MntnsInfo[] = [];
  for (const [inode, pid] of targets) mntns.push(await readMntns(inode, pid, budget, found));
  if (budget.bytes <= 0) {
    const kib = snapshotLimits.maxMountinfoTotalBytes >> 10;
    found.tooMuch.push(t(`the mount tables together are longer than ${kib} KiB (the grader reads at most that)`, `所有挂载表合计超过 ${kib} KiB（评分程序最多读取这么多）`));
  }
  return mntns;
}

/**
 * The named network namespaces the mount tables show (the topmost nsfs mount at
 * /run/netns/<name>), and for each one a handle to enter it through its mount (`via`).
 */
export function namedNetnsOf(mntns: MntnsInfo[], found: Findings): { named: NamedNetns[]; via: Map<number, NetnsHandle> } {
  const named: NamedNetns[] = [];
  const via = new Map<number, NetnsHandle>();
  let total = 0;
  for (const m of mntns) {
    // The topmost mount at a path is the one a lookup finds: later lines cover earlier ones.
    const top = new Map<string, MountInfo>();
    for (const mount of m.mounts) top.set(mount.mountPoint, mount);
    for (const mount of top.values()) {
      const name = /^\/run\/netns\/([^/]+)$/.exec(mount.mountPoint)?.[1];
      const inode = /^net:\[(\d+)\]$/.exec(mount.root)?.[1];
      if (!name || !inode || mount.fsType !== 'nsfs') continue;
      total++;
      if (named.length >= snapshotLimits.maxNamedNetns) continue; // counted, not read
      named.push({ name, inode: Number(inode), mntInode: m.inode });
      if (!via.has(Number(inode))) via.set(Number(inode), { inode: Number(inode), hostPid: m.viaHostPid, mountPoint: mount.mountPoint });
    }
  }
  const max = snapshotLimits.maxNamedNetns;
  if (total > max) found.warnings.push(`more than ${max} named network namespaces; the rest are not reported`);
  if (total > max * TOO_MANY_FACTOR) {
    const limit = max * TOO_MANY_FACTOR;
    found.tooMuch.push(t(`more than ${limit} named network namespaces (ip netns add; the grader reads at most ${max})`, `超过 ${limit} 个命名的网络命名空间（ip netns add；评分程序最多读取 ${max} 个）`));
  }
  return { named, via };
}
