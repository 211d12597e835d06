// Namespace types as learners name them: parsing a typed list of types or an inode, and comparing a
// process's namespaces with the sandbox's own.
// Pure functions: no DOM, no Node APIs (imported by the agent, the app and tests).
import { baseNs } from './procs';
import type { ProcessInfo, Snapshot } from './snapshot';

/** The types a learner compares (the *_for_children links are variants of pid/time). */
export const conceptNsTypes = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts'] as const;

export type ConceptNsType = (typeof conceptNsTypes)[number];

const typeAliases: Record<string, ConceptNsType> = {
  cgroup: 'cgroup',
  cgroups: 'cgroup',
  ipc: 'ipc',
  mnt: 'mnt',
  mount: 'mnt',
  mounts: 'mnt',
  ns: 'mnt',
  net: 'net',
  network: 'net',
  netns: 'net',
  pid: 'pid',
  pids: 'pid',
  time: 'time',
  user: 'user',
  userns: 'user',
  uts: 'uts',
};

/**
 * Parses a list of namespace types the learner typed: `uts, ipc`, `UTS IPC`, `mount/net`.
 * Returns null when a word is not a namespace type (the unknown words are reported).
 */
export function parseNsTypeList(value: string): { types: ConceptNsType[] } | { unknown: string[] } {
  const words = value
    .toLowerCase()
    .split(/[\s,;/|、，；+&]+|\band\b|和|与/)
    .map((w) => w.trim())
    .filter((w) => w !== '');
  const types = new Set<ConceptNsType>();
  const unknown: string[] = [];
  for (const w of words) {
    const t = typeAliases[w.replace(/^clone_new/, '')];
    if (t) types.add(t);
    else unknown.push(w);
  }
  if (unknown.length > 0) return { unknown };
  return { types: conceptNsTypes.filter((t) => types.has(t)) };
}

/**
 * Parses an inode the learner typed: `4026531840`, `[4026531840]` or `net:[4026531840]`.
 * Returns the inode and, when written, the type prefix.
 */
export function parseNsInode(value: string): { inode: number; type?: string } | undefined {
  const m = /^\s*(?:'?([a-z_]+):)?\[?(\d{1,12})\]?'?\s*$/i.exec(value);
  if (!m?.[2]) return undefined;
  const inode = Number(m[2]);
  if (!Number.isSafeInteger(inode) || inode <= 0) return undefined;
  return m[1] ? { inode, type: m[1].toLowerCase() } : { inode };
}

/** The concept types in which a process's namespace differs from the sandbox's base one. */
export function differingTypes(snapshot: Snapshot, process: ProcessInfo): ConceptNsType[] {
  return conceptNsTypes.filter((t) => {
    const mine = process.ns[t];
    const base = baseNs(snapshot, t);
    return mine !== undefined && base !== undefined && mine !== base;
  });
}

/** True when every concept type is known and equal to the sandbox's base. */
export function sharesAllBase(snapshot: Snapshot, process: ProcessInfo): boolean {
  return conceptNsTypes.every((t) => {
    const base = baseNs(snapshot, t);
    return base === undefined || process.ns[t] === base;
  });
}

/** Which base namespace type owns this inode (user typed the wrong link), if any. */
export function baseTypeOfInode(snapshot: Snapshot, inode: number): ConceptNsType | undefined {
  return conceptNsTypes.find((t) => baseNs(snapshot, t) === inode);
}

/** Every (type, inode) pair any process of the snapshot lives in. */
export function knownNamespaces(snapshot: Snapshot): Map<number, ConceptNsType> {
  const out = new Map<number, ConceptNsType>();
  for (const p of snapshot.processes)
    for (const t of conceptNsTypes) {
      const inode = p.ns[t];
      if (inode !== undefined) out.set(inode, t);
    }
  return out;
}
