// What the host's cgroup file systems look like: the cgroup mounts in mountinfo, the agent's own
// cgroups, and where a cgroup path lies under a mount. Injectable (HostView) so the layout's
// decisions are unit-tested on recorded hosts.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** What detection reads: injectable so the decisions are unit-tested on recorded host layouts. */
export interface HostView {
  mountinfo: string;
  selfCgroup: string;
  exists(p: string): boolean;
  read(p: string): string | null;
}

export const realHost: HostView = {
  get mountinfo() {
    return fs.readFileSync('/proc/self/mountinfo', 'utf8');
  },
  get selfCgroup() {
    return fs.readFileSync('/proc/self/cgroup', 'utf8');
  },
  exists: (p) => fs.existsSync(p),
  read: (p) => {
    try {
      return fs.readFileSync(p, 'utf8');
    } catch {
      return null;
    }
  },
};

export interface CgroupMount {
  point: string;
  /** The cgroup path mounted there (the 4th mountinfo field), "/" for a whole hierarchy. */
  root: string;
  version: 1 | 2;
  /** v1: the controllers bound to this hierarchy. */
  controllers: string[];
}

/** Unescapes mountinfo's octal escapes (\040 for a space). */
const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const out: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(' ');
    const post = line.slice(sep + 3).split(' ');
    const fstype = post[0];
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const root = unescape(pre[3] ?? '/');
    const point = unescape(pre[4] ?? '');
    const superOpts = (post[2] ?? '').split(',');
    out.push({
      point,
      root,
      version: fstype === 'cgroup2' ? 2 : 1,
      controllers: fstype === 'cgroup' ? superOpts.filter((o) => !o.includes('=') && o !== 'rw' && o !== 'ro') : [],
    });
  }
  return out;
}

/** /proc/self/cgroup: the v2 path ("0::/...") and each v1 controller's path. */
export function parseSelfCgroup(text: string): { v2: string | null; v1: Map<string, string> } {
  let v2: string | null = null;
  const v1 = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === '0' && m[2] === '') v2 = m[3]!;
    else for (const c of m[2]!.split(',')) if (c) v1.set(c, m[3]!);
  }
  return { v2, v1 };
}

/** The directory of cgroup path `cg` in a hierarchy mounted at `mount` (which shows cgroup `mountRoot`). */
export function dirOf(mount: CgroupMount, cg: string): string | null {
  const root = mount.root === '/' ? '' : mount.root.replace(/\/$/, '');
  if (cg !== root && !cg.startsWith(`${root}/`) && root !== '') return null;
  const dir = path.join(mount.point, cg.slice(root.length));
  return dir.length > 1 ? dir.replace(/\/+$/, '') : dir;
}

