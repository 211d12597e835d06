// How the grader (and the probes) reach one of a sandbox's network namespaces: through a member
// process, or a /run/netns bind mount; the handle is opened and PROVEN before anything enters it.
import * as fs from 'node:fs';
import { hostNetInodes, nsfsDev } from '../procfs';

export { hostNetInodes };

/** open(2) O_PATH (Linux): a handle to the file itself, nothing is opened (no FIFO, no device). */
const O_PATH = 0o10000000;

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
