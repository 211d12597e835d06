// The sandbox's user namespaces: uid/gid maps (read through a member, bounded) and, through nsread,
// each one's owner uid and parent (ioctl NS_GET_OWNER_UID / NS_GET_PARENT, which only a native
// program can make; the exec path without nsread leaves them null).
import { nsLink, readBoundedAsync } from '../procfs';
import type { IdMapEntry, UsernsInfo } from '../../../labs/core/snapshot';
import { snapshotLimits } from './limits';
import type { ReaderSource } from './read-state';

function parseIdMap(text: string): IdMapEntry[] {
  const out: IdMapEntry[] = [];
  for (const line of text.split('\n').slice(0, snapshotLimits.maxIdMapLines)) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    if (m) out.push({ inside: Number(m[1]), outside: Number(m[2]), count: Number(m[3]) });
  }
  return out;
}

/** `targets`: inode -> a member's host pid. */
export async function readUserns(
  targets: Array<[number, number]>,
  reads: ReaderSource,
  remainingMs: () => number,
  warnings: string[],
): Promise<UsernsInfo[]> {
  const out: UsernsInfo[] = [];
  for (const [inode, pid] of targets) {
    const label = `user:[${inode}]`;
    if (nsLink(pid, 'user') !== label) continue;
    const uid = await readBoundedAsync(`/proc/${pid}/uid_map`, 16 * 1024);
    const gid = await readBoundedAsync(`/proc/${pid}/gid_map`, 16 * 1024);
    if (!uid || !gid || nsLink(pid, 'user') !== label) continue;
    out.push({ inode, viaHostPid: pid, uidMap: parseIdMap(uid.text), gidMap: parseIdMap(gid.text), ownerHostUid: null, parentInode: null });
  }
  // Only when the learner made a user namespace (the sandbox's own is known: owner = its uid base,
  // parent = the host's): a plain snapshot asks nothing more.
  if (out.length < 2) return out;
  const nsread = reads.reader();
  if (!nsread) return out;
  const timeoutMs = Math.min(remainingMs(), 1_000);
  // nsread proves each inode (a reused pid can only fail the request) and answers in order.
  const answers = await Promise.all(out.map((u) => nsread.userns(`/proc/${u.viaHostPid}/ns/user`, u.inode, timeoutMs, reads.tag)));
  let failed: string | null = null;
  answers.forEach((res, i) => {
    const u = out[i]!;
    if (!res.ok) {
      if (res.error !== 'reader process ended') failed ??= res.error;
      return;
    }
    u.ownerHostUid = res.ownerUid;
    u.parentInode = res.parentInode;
  });
  if (failed !== null) warnings.push(`user namespace owners: ${failed}`);
  return out;
}
