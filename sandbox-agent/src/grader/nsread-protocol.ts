// The line protocol of nsread (sandbox-agent/native/nsread.c): what the grader asks and how its
// JSON answers are checked and decoded. The reader process itself is managed by ns-reader.ts.

/**
 * `total`: how many links the namespace has (nsread sends at most 256 of them; it stops counting at
 * 1024: `linksCapped`); `routes`: how many routes it holds (counted up to 10 000: `routesCapped`);
 * `fp`: a hash of the links and addresses read (equal fp, equal links).
 */
export type NetCounts = { total?: number; routes?: number; routesCapped?: boolean; linksCapped?: boolean; fp?: string };
export type ReadResult = ({ ok: true; stdout: string; nsOwner?: number } & NetCounts) | { ok: false; stdout: ''; error: string };
/** A network namespace's fingerprint and counts, without its links (netfp). */
export type FingerprintResult = ({ ok: true } & NetCounts) | { ok: false; error: string };

/** A user namespace's owner uid and parent inode (null: the kernel would not say). */
export type UsernsResult = { ok: true; ownerUid: number | null; parentInode: number | null } | { ok: false; error: string };

/** A request names an nsfs file under /proc (nsread proves its inode itself). */
export const validNsRequest = (nsPath: string, inode: number): boolean =>
  /^\/proc\/[0-9a-z/]+$/.test(nsPath) && Number.isSafeInteger(inode) && inode > 0;

/** One process as nsread read it: status lines, comm and cmdline bytes, namespace inodes; null: gone. */
export interface ProcParts {
  pid: number;
  status: string;
  comm: Buffer;
  cmdline: Buffer;
  ns: Record<string, number>;
  /** /proc/PID/exe: target path bytes, device and inode of the file; null when unreadable. */
  exe: { path: Buffer; dev: number; ino: number } | null;
}
/** `nsReused`: processes whose namespace links nsread reused instead of reading (nsread.c). */
export type ProcsResult = { ok: true; procs: Map<number, ProcParts | null>; nsReused: number } | { ok: false; error: string };

/** One line nsread answered (the fields the requests below read). */
export interface Reply {
  id?: unknown;
  ok?: unknown;
  links?: unknown;
  total?: unknown;
  routes?: unknown;
  routesCapped?: unknown;
  linksCapped?: unknown;
  fp?: unknown;
  hostname?: unknown;
  owner?: unknown;
  ownerUid?: unknown;
  parent?: unknown;
  error?: unknown;
  procs?: unknown;
  nsReused?: unknown;
}

export const replyError = (msg: Reply): string => (typeof msg.error === 'string' ? msg.error : 'nsread: bad reply');

export function netCounts(msg: Reply): NetCounts {
  return {
    ...(typeof msg.total === 'number' ? { total: msg.total } : {}),
    ...(typeof msg.routes === 'number' ? { routes: msg.routes } : {}),
    ...(msg.routesCapped === true ? { routesCapped: true } : {}),
    ...(msg.linksCapped === true ? { linksCapped: true } : {}),
    ...(typeof msg.fp === 'string' && /^[0-9a-f]{16}$/.test(msg.fp) ? { fp: msg.fp } : {}),
  };
}

const idOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : null);

export function usernsReply(msg: Reply): UsernsResult {
  return msg.ok === true ? { ok: true, ownerUid: idOrNull(msg.ownerUid), parentInode: idOrNull(msg.parent) } : { ok: false, error: replyError(msg) };
}

export function procParts(raw: unknown[]): Map<number, ProcParts | null> {
  const out = new Map<number, ProcParts | null>();
  for (const item of raw) {
    if (typeof item !== 'object' || item === null) continue;
    const p = item as { pid?: unknown; status?: unknown; comm?: unknown; cmdline?: unknown; ns?: unknown; exe?: unknown };
    if (typeof p.pid !== 'number' || typeof p.status !== 'string' || typeof p.comm !== 'string' || typeof p.cmdline !== 'string') continue;
    const ns: Record<string, number> = {};
    if (typeof p.ns === 'object' && p.ns !== null) {
      for (const [k, v] of Object.entries(p.ns)) if (typeof v === 'number' && Number.isSafeInteger(v)) ns[k] = v;
    }
    const e = p.exe as { path?: unknown; dev?: unknown; ino?: unknown } | null | undefined;
    const exe =
      e && typeof e.path === 'string' && Number.isSafeInteger(e.dev) && Number.isSafeInteger(e.ino)
        ? { path: Buffer.from(e.path, 'hex'), dev: e.dev as number, ino: e.ino as number }
        : null;
    out.set(p.pid, { pid: p.pid, status: p.status, comm: Buffer.from(p.comm, 'hex'), cmdline: Buffer.from(p.cmdline, 'hex'), ns, exe });
  }
  return out;
}

