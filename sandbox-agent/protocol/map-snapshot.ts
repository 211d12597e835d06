// The trimmed view of a sandbox snapshot that the agent pushes to the browser for the live
// namespace map (`snapshot` message). Bounded in size: at most MAP_LIMITS.processes processes,
// MAP_LIMITS.netns network namespaces with MAP_LIMITS.interfaces interfaces each, short strings.
// Pure (no DOM, no Node APIs): the agent builds it, the browser validates and draws it.
import { z } from 'zod';
import type { Snapshot } from '../../labs/core/snapshot';

export const MAP_LIMITS = {
  processes: 120,
  netns: 24,
  interfaces: 24,
  addresses: 8,
  cmdlineChars: 120,
  commChars: 16,
  hostnameChars: 64,
  nameChars: 32,
  uts: 24,
  mntns: 24,
  /** At most this many snapshot messages per second per socket. */
  perSecond: 2,
} as const;

/** The namespace types the map groups processes by (the `*_for_children` links are left out). */
export const mapNamespaceTypes = ['net', 'pid', 'mnt', 'uts', 'ipc', 'user', 'cgroup', 'time'] as const;
export type MapNamespaceType = (typeof mapNamespaceTypes)[number];

const inode = z.number().int().nonnegative();
const short = (max: number) => z.string().max(max);

export const mapProcessSchema = z.object({
  pid: z.number().int().positive(),
  ppid: z.number().int().nonnegative(),
  comm: short(MAP_LIMITS.commChars),
  /** The command line joined with spaces and cut to MAP_LIMITS.cmdlineChars. */
  cmdline: short(MAP_LIMITS.cmdlineChars + 1),
  ns: z.record(z.string(), inode),
});
export type MapProcess = z.infer<typeof mapProcessSchema>;

export const mapInterfaceSchema = z.object({
  name: short(MAP_LIMITS.nameChars),
  ifindex: z.number().int().positive(),
  kind: short(MAP_LIMITS.nameChars).nullable(),
  /** Administratively up (IFF_UP). */
  up: z.boolean(),
  /** Carrier: operstate UP or UNKNOWN (loopback) with the link up. */
  lowerUp: z.boolean(),
  operState: short(MAP_LIMITS.nameChars),
  master: short(MAP_LIMITS.nameChars).nullable(),
  peer: z.object({ ifindex: z.number().int().nonnegative(), netnsInode: inode.nullable() }).nullable(),
  /** "172.17.0.1/16", IPv4 first. */
  addresses: z.array(short(64)).max(MAP_LIMITS.addresses),
});
export type MapInterface = z.infer<typeof mapInterfaceSchema>;

export const mapNetnsSchema = z.object({
  inode,
  names: z.array(short(MAP_LIMITS.nameChars)).max(8),
  interfaces: z.array(mapInterfaceSchema).max(MAP_LIMITS.interfaces),
  complete: z.boolean(),
});
export type MapNetns = z.infer<typeof mapNetnsSchema>;

export const mapSnapshotSchema = z.object({
  takenAtMs: z.number(),
  /** The namespaces of the sandbox's PID 1 (the learner's starting point). */
  baseNs: z.record(z.string(), inode),
  processes: z.array(mapProcessSchema).max(MAP_LIMITS.processes),
  /** How many processes the sandbox had (more than `processes` when cut). */
  processCount: z.number().int().nonnegative(),
  netns: z.array(mapNetnsSchema).max(MAP_LIMITS.netns),
  uts: z.array(z.object({ inode, hostname: short(MAP_LIMITS.hostnameChars) })).max(MAP_LIMITS.uts),
  mntns: z.array(z.object({ inode, mounts: z.number().int().nonnegative() })).max(MAP_LIMITS.mntns),
  /**
   * What an open step asks for and the map therefore leaves out: with 'pids', every pid/ppid is a
   * stand-in (1, 2, 3... in PID order, 0 for "outside"); with 'inodes', every inode is a stand-in
   * (1, 2, 3... in order of first appearance), consistent within this message so the drawing keeps
   * its shape. The view shows "?" in their place.
   */
  concealed: z.array(z.enum(['pids', 'inodes'])).optional(),
});
export type MapSnapshot = z.infer<typeof mapSnapshotSchema>;

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Replaces the numbers an open step asks for with stand-ins (see mapSnapshotSchema.concealed). */
function conceal(map: MapSnapshot, what: ReadonlySet<'pids' | 'inodes'>): MapSnapshot {
  if (what.size === 0) return map;
  let out = map;
  if (what.has('pids')) {
    const alias = new Map(out.processes.map((p, i) => [p.pid, i + 1]));
    out = { ...out, processes: out.processes.map((p) => ({ ...p, pid: alias.get(p.pid)!, ppid: alias.get(p.ppid) ?? 0, cmdline: p.cmdline.replace(/\d+/g, '?') })) };
  }
  if (what.has('inodes')) {
    const alias = new Map<number, number>();
    const a = (inode: number) => {
      if (!alias.has(inode)) alias.set(inode, alias.size + 1);
      return alias.get(inode)!;
    };
    const nsOf = (ns: Record<string, number>) => Object.fromEntries(Object.entries(ns).map(([k, v]) => [k, a(v)]));
    out = {
      ...out,
      baseNs: nsOf(out.baseNs),
      processes: out.processes.map((p) => ({ ...p, ns: nsOf(p.ns) })),
      netns: out.netns.map((n) => ({
        ...n,
        inode: a(n.inode),
        interfaces: n.interfaces.map((i) => ({ ...i, peer: i.peer && { ...i.peer, netnsInode: i.peer.netnsInode === null ? null : a(i.peer.netnsInode) } })),
      })),
      uts: out.uts.map((u) => ({ ...u, inode: a(u.inode) })),
      mntns: out.mntns.map((m) => ({ ...m, inode: a(m.inode) })),
    };
  }
  return { ...out, concealed: [...what].sort() };
}

/**
 * The map's view of a snapshot: bounded, with no host PIDs or host uids in it, and without what
 * `opts.conceal` names (the answer of a step still open).
 */
export function toMapSnapshot(snapshot: Snapshot, opts: { conceal?: Iterable<'pids' | 'inodes'> } = {}): MapSnapshot {
  return conceal(mapView(snapshot), new Set(opts.conceal ?? []));
}

function mapView(snapshot: Snapshot): MapSnapshot {
  const byPid = [...snapshot.processes].sort((a, b) => a.pid - b.pid);
  const processes = byPid.slice(0, MAP_LIMITS.processes).map((p) => {
    const ns: Record<string, number> = {};
    for (const type of mapNamespaceTypes) {
      const value = p.ns[type];
      if (value !== undefined) ns[type] = value;
    }
    return {
      pid: p.pid,
      ppid: p.ppid,
      comm: cut(p.comm, MAP_LIMITS.commChars),
      cmdline: cut(p.cmdline.join(' ').trim() || `[${p.comm}]`, MAP_LIMITS.cmdlineChars),
      ns,
    };
  });
  const netns = snapshot.netns.slice(0, MAP_LIMITS.netns).map((n) => ({
    inode: n.inode,
    names: (n.names ?? []).slice(0, 8).map((name) => cut(name, MAP_LIMITS.nameChars)),
    complete: n.complete,
    interfaces: [...n.interfaces]
      .sort((a, b) => a.ifindex - b.ifindex)
      .slice(0, MAP_LIMITS.interfaces)
      .map((i) => ({
        name: cut(i.name, MAP_LIMITS.nameChars),
        ifindex: i.ifindex,
        kind: i.kind === null ? null : cut(i.kind, MAP_LIMITS.nameChars),
        up: i.flags.includes('UP'),
        lowerUp: i.flags.includes('UP') && (i.operState === 'UP' || i.operState === 'UNKNOWN'),
        operState: cut(i.operState, MAP_LIMITS.nameChars),
        master: i.master === null ? null : cut(i.master, MAP_LIMITS.nameChars),
        peer: i.peer,
        addresses: [...i.addresses]
          .sort((a, b) => (a.family === b.family ? 0 : a.family === 'inet' ? -1 : 1))
          .slice(0, MAP_LIMITS.addresses)
          .map((a) => `${a.address}/${a.prefixLen}`),
      })),
  }));
  const baseNs: Record<string, number> = {};
  for (const type of mapNamespaceTypes) {
    const value = snapshot.sandbox.baseNs[type];
    if (value !== undefined) baseNs[type] = value;
  }
  return {
    takenAtMs: snapshot.takenAtMs,
    baseNs,
    processes,
    processCount: snapshot.processes.length,
    netns,
    uts: snapshot.uts.slice(0, MAP_LIMITS.uts).map((u) => ({ inode: u.inode, hostname: cut(u.hostname, MAP_LIMITS.hostnameChars) })),
    mntns: (snapshot.mntns ?? []).slice(0, MAP_LIMITS.mntns).map((m) => ({ inode: m.inode, mounts: m.mounts.length })),
  };
}

/** A key that changes exactly when what the map draws changes (the time of reading left out). */
export function mapSnapshotKey(map: MapSnapshot): string {
  return JSON.stringify({ ...map, takenAtMs: 0 });
}
