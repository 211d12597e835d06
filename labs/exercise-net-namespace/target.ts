// exercise-net-namespace: the sleep the later steps are about (live, or kept when isolate-sleep
// passed), the failures they share, and the step ids (a contract with the lesson: do not rename).
import { evidenceNumber, evidenceString, failed } from '../core/results';
import { baseNs, isSleep, newest } from '../core/procs';
import { ifaceState, loopbackOf, netnsOf, onlyLoopback } from '../core/net';
import { type CheckResult, type Evidence, type Observation, t } from '../core/model';
import type { ProcessInfo, Snapshot } from '../core/snapshot';

export const stepIds = {
  isolateSleep: 'isolate-sleep',
  findPid: 'find-pid',
  inspectNs: 'inspect-ns',
  nsenterIp: 'nsenter-ip',
} as const;

export function requireBaseNet(snapshot: Snapshot): number {
  const base = baseNs(snapshot, 'net');
  if (base === undefined) throw new Error('snapshot has no base net namespace inode');
  return base;
}

// ---------------------------------------------------------------- the sleep we are after

/** Real sleeps (see isSleep) whose network namespace is not the sandbox's. */
export function isolatedSleeps(snapshot: Snapshot): ProcessInfo[] {
  const base = baseNs(snapshot, 'net');
  if (base === undefined) return [];
  return snapshot.processes.filter((p) => isSleep(p, snapshot) && p.ns.net !== undefined && p.ns.net !== base);
}

/** A sleep the later steps may target: alive now, or recorded when isolate-sleep passed. */
export interface SleepTarget {
  pid: number;
  netInode: number;
  hostPid: number | null;
  live: boolean;
  /** Whether its namespace holds only lo (null: unknown, e.g. not read yet). */
  onlyLo: boolean | null;
  /** State of its lo as `ip a` would print it (DOWN...), when known. */
  loState: string | null;
}

export function sleepTargets(observation: Observation): SleepTarget[] {
  const { snapshot } = observation;
  const targets: SleepTarget[] = [];
  for (const p of isolatedSleeps(snapshot)) {
    const netns = netnsOf(snapshot, p.ns.net);
    const lo = loopbackOf(netns);
    targets.push({
      pid: p.pid,
      netInode: p.ns.net as number,
      hostPid: p.hostPid,
      live: true,
      onlyLo: netns?.complete ? onlyLoopback(netns) : null,
      loState: lo ? ifaceState(lo) : null,
    });
  }
  const kept = observation.passed[stepIds.isolateSleep];
  const pid = evidenceNumber(kept, 'pid');
  const netInode = evidenceNumber(kept, 'netInode');
  if (pid !== undefined && netInode !== undefined) {
    const same = targets.find((x) => x.pid === pid && x.netInode === netInode);
    const keptOnlyLo = evidenceString(kept, 'interfaces') === 'lo';
    if (same) same.onlyLo ??= keptOnlyLo;
    else
      targets.push({
        pid,
        netInode,
        hostPid: evidenceNumber(kept, 'hostPid') ?? null,
        live: false,
        onlyLo: keptOnlyLo,
        loState: evidenceString(kept, 'loState') ?? null,
      });
  }
  return targets;
}

/** For the reference solution: the PID of the newest sleep in its own network namespace. */
export function isolatedSleepPid(observation: Observation): string {
  const live = newest(isolatedSleeps(observation.snapshot));
  const pid = live?.pid ?? evidenceNumber(observation.passed[stepIds.isolateSleep], 'pid');
  if (pid === undefined) throw new Error('no sleep in its own network namespace found');
  return String(pid);
}

export const noTargetFailure = (): CheckResult =>
  failed(
    t(
      'No sleep is running in its own network namespace, and none was recorded earlier.',
      '没有 sleep 进程运行在它自己的网络命名空间中，之前也没有记录到。',
    ),
    t(
      'Do the first step first: run `unshare -n sleep 60` in terminal 1, then come back here within 60 seconds.',
      '请先完成第一步：在终端 1 运行 `unshare -n sleep 60`，然后在 60 秒内回到这里。',
    ),
  );

export const stillRunning = (cmd: string, ev: Evidence): CheckResult =>
  failed(
    t(`\`${cmd}\` has not finished yet.`, `\`${cmd}\` 还没有运行结束。`),
    t('Wait for it to finish (or press Ctrl+C), then press Check again.', '等它运行结束（或按 Ctrl+C），然后再点一次“检查”。'),
    ev,
  );
