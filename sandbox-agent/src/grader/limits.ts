// What the grader reads at most of a sandbox, and why a snapshot is "too much state to check".
// The learner controls everything inside the sandbox, so every read is bounded (counts, bytes,
// time); past a bound the read is cut (warnings) and, far past it, the snapshot is flagged.
import type { Snapshot } from '../../../labs/core/snapshot';
import { t, type Localized } from '../../../labs/core/model';
import type { NetCounts } from './ns-reader';

/** Namespace counts past a read cap are truncated; past this many times the cap, too much state. */
export const TOO_MANY_FACTOR = 8;

export const snapshotLimits = {
  maxProcesses: 1000,
  maxNetns: 64,
  maxUts: 64,
  maxMntns: 64,
  maxMountsPerNs: 256,
  maxMountinfoBytes: 256 * 1024,
  maxUserns: 64,
  maxIdMapLines: 340,
  maxNamedNetns: 32,
  maxInterfacesPerNetns: 256,
  maxAddressesPerInterface: 32,
  maxCmdlineBytes: 4096,
  maxCmdlineArgs: 64,
  /** All mount tables of one snapshot together (each is also capped at maxMountinfoBytes). */
  maxMountinfoTotalBytes: 1024 * 1024,
  /** Routes in one network namespace (nsread counts them up to this many; more is "too much state"). */
  maxRoutesPerNetns: 10_000,
  /** Parallel nsenter runs. */
  concurrency: 8,
  ipMaxBufferBytes: 8 * 1024 * 1024,
} as const;

/** What one snapshot's readers found over the limits: warnings (cut reads) and too-much reasons. */
export interface Findings {
  warnings: string[];
  tooMuch: Localized[];
}

/**
 * Why a snapshot is not a complete picture of the sandbox: it holds more than the grader reads
 * (routes, interfaces, namespaces, mounts, processes) or a read of it took too long. Checks are not
 * run on such a snapshot; the learner gets "too much state to check" with these reasons (session.ts).
 * Kept beside the snapshot object (and gone with it), not in the snapshot's schema.
 */
const tooMuchBySnapshot = new WeakMap<Snapshot, Localized[]>();

/** The reasons this snapshot is over the grader's limits (empty: it is complete). */
export function tooMuchState(snapshot: Snapshot): Localized[] {
  return tooMuchBySnapshot.get(snapshot) ?? [];
}

export function markTooMuch(snapshot: Snapshot, reasons: Localized[]): void {
  if (reasons.length > 0) tooMuchBySnapshot.set(snapshot, reasons);
}

export type NsKind = 'net' | 'uts' | 'mnt' | 'user';

const NS_WHAT: Record<NsKind, Localized> = {
  net: t('network namespaces', '个网络命名空间'),
  uts: t('UTS namespaces', '个 UTS 命名空间'),
  mnt: t('mount namespaces', '个挂载命名空间'),
  user: t('user namespaces', '个用户命名空间'),
};

/** Past `max` distinct namespaces: a warning; past TOO_MANY_FACTOR x max: too much state. */
export function countNamespaces(type: NsKind, count: number, max: number, what: string, found: Findings): void {
  if (count > max) found.warnings.push(`more than ${max} ${what}; the rest are not reported`);
  if (count > max * TOO_MANY_FACTOR) {
    const limit = max * TOO_MANY_FACTOR;
    found.tooMuch.push(t(`more than ${limit} ${NS_WHAT[type].en} (the grader reads at most ${max})`, `超过 ${limit} ${NS_WHAT[type].zh}（评分程序最多读取 ${max} 个）`));
  }
}

/** A network namespace read's outcome as the limits see it. */
export type NetReadOutcome = NetCounts & { ok: boolean; error?: string };

/** Reasons a network namespace read says the namespace is over the grader's limits. */
export function netTooMuch(inode: number, res: NetReadOutcome): Localized[] {
  const label = `net:[${inode}]`;
  const out: Localized[] = [];
  if (res.routesCapped) {
    const max = snapshotLimits.maxRoutesPerNetns;
    out.push(t(`${label} holds more than ${max} routes (the grader reads at most ${max})`, `${label} 中的路由超过 ${max} 条（评分程序最多读取 ${max} 条）`));
  }
  if (res.linksCapped || (res.total ?? 0) > snapshotLimits.maxInterfacesPerNetns) {
    const max = snapshotLimits.maxInterfacesPerNetns;
    const count = res.linksCapped ? `more than ${res.total ?? max}` : String(res.total);
    const countZh = res.linksCapped ? `超过 ${res.total ?? max}` : String(res.total);
    out.push(t(`${label} has ${count} interfaces (the grader reads at most ${max})`, `${label} 中有 ${countZh} 个网络接口（评分程序最多读取 ${max} 个）`));
  }
  if (!res.ok && /took too long|timed out|timeout/.test(res.error ?? '')) {
    out.push(t(`reading ${label} took too long (${res.error})`, `读取 ${label} 耗时过长（${res.error}）`));
  }
  return out;
}
