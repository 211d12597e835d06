// Each controller the sandboxes need (pids, memory, cpu), written and read in cgroup v1 or v2: one
// implementation per controller and version, chosen per controller by the layout (cgroups.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SandboxLimits } from './driver';
import type { SandboxesCeiling } from './cgroup-ceiling';
import { CgroupLayoutError, readKey, readNumber, readOr, words, write } from './cgroup-files';

export type ControllerName = 'pids' | 'memory' | 'cpu';
export const REQUIRED_CONTROLLERS: readonly ControllerName[] = ['pids', 'memory', 'cpu'];
/** cgroup v1 cpu.shares of the parent of all sandboxes (a nice-0 process weighs 1024). */
export const SANDBOXES_CPU_SHARES = 256;
/** The same weight in cgroup v2 terms (a sibling cgroup weighs 100 by default): a quarter. */
export const SANDBOXES_CPU_WEIGHT = 25;
const CPU_PERIOD_US = 100_000;

/** What the kernel holds for a sandbox, read back from its cgroup files. */
export interface CgroupStats {
  memoryBytes: number | null;
  pids: number | null;
  oomKills: number | null;
  /** Forks refused at pids.max (pids.events "max"). */
  pidsLimitHits: number | null;
  /** CPU time used, from the cgroup2 cpu.stat (there on every kernel >= 4.15, with or without the cpu controller). */
  cpuUsageUsec: number | null;
}

export interface AppliedLimits {
  pidsMax: number | null;
  memoryMaxBytes: number | null;
  /** 0: no swap; null: swap is not accounted on this host (no memsw / memory.swap.max). */
  swapMaxBytes: number | null;
  cpuMaxPercent: number | null;
}

export interface Placement {
  version: 1 | 2;
  /** The directory the parent of all sandboxes is made in. */
  baseDir: string;
}

/** How one controller's files are written and read; one implementation per cgroup version. */
interface ControllerOps {
  apply(dir: string, limits: SandboxLimits): void;
  /** On the parent of all sandboxes (CPU weight; memory and pids ceiling). */
  applyParent?(dir: string, ceiling: SandboxesCeiling): void;
}

export const OPS: Record<`${ControllerName}${1 | 2}`, ControllerOps> = {
  pids1: {
    apply: (d, l) => write(path.join(d, 'pids.max'), String(l.pidsMax)),
    applyParent: (d, c) => write(path.join(d, 'pids.max'), String(c.pidsMax)),
  },
  pids2: {
    apply: (d, l) => write(path.join(d, 'pids.max'), String(l.pidsMax)),
    applyParent: (d, c) => write(path.join(d, 'pids.max'), String(c.pidsMax)),
  },
  memory1: {
    apply: (d, l) => writeV1Memory(d, l.memoryMaxBytes),
    applyParent: (d, c) => writeV1Memory(d, c.memoryMaxBytes),
  },
  memory2: {
    apply: (d, l) => writeV2Memory(d, l.memoryMaxBytes),
    applyParent: (d, c) => writeV2Memory(d, c.memoryMaxBytes),
  },
  cpu1: {
    apply: (d, l) => {
      write(path.join(d, 'cpu.cfs_period_us'), String(CPU_PERIOD_US));
      write(path.join(d, 'cpu.cfs_quota_us'), String(cpuQuotaUs(l.cpuMaxPercent)));
    },
    applyParent: (d) => write(path.join(d, 'cpu.shares'), String(SANDBOXES_CPU_SHARES)),
  },
  cpu2: {
    apply: (d, l) => write(path.join(d, 'cpu.max'), `${cpuQuotaUs(l.cpuMaxPercent)} ${CPU_PERIOD_US}`),
    applyParent: (d) => write(path.join(d, 'cpu.weight'), String(SANDBOXES_CPU_WEIGHT)),
  },
};

/** v1: memory and memory+swap equal (no swap); memsw must stay >= the memory limit, so the order depends on the old value. */
function writeV1Memory(d: string, bytes: number): void {
  const memsw = path.join(d, 'memory.memsw.limit_in_bytes');
  const hasMemsw = fs.existsSync(memsw);
  if (hasMemsw) {
    try {
      write(memsw, String(bytes)); // raising: memsw first
    } catch {
      /* lowering: after the memory limit, below */
    }
  }
  write(path.join(d, 'memory.limit_in_bytes'), String(bytes));
  if (hasMemsw) write(memsw, String(bytes));
}

function writeV2Memory(d: string, bytes: number): void {
  write(path.join(d, 'memory.max'), String(bytes));
  const swap = path.join(d, 'memory.swap.max');
  if (fs.existsSync(swap)) write(swap, '0');
}

const cpuQuotaUs = (percent: number) => Math.max(1000, Math.round((CPU_PERIOD_US * percent) / 100));

/** The directory holding a controller's files for one sandbox. */
export type ControllerDir = (controller: ControllerName) => string;

/** What the kernel holds for a sandbox; `v2Dir`: its cgroup2 directory (cpu.stat is always there). */
export function readStats(placements: Record<ControllerName, Placement>, dirOf: ControllerDir, v2Dir: string): CgroupStats {
  const mem = dirOf('memory');
  const pids = dirOf('pids');
  const v1mem = placements.memory.version === 1;
  return {
    memoryBytes: readNumber(path.join(mem, v1mem ? 'memory.usage_in_bytes' : 'memory.current')),
    pids: readNumber(path.join(pids, 'pids.current')),
    oomKills: readKey(path.join(mem, v1mem ? 'memory.oom_control' : 'memory.events'), 'oom_kill'),
    pidsLimitHits: readKey(path.join(pids, 'pids.events'), 'max'),
    cpuUsageUsec: readKey(path.join(v2Dir, 'cpu.stat'), 'usage_usec'),
  };
}

/** The limits a sandbox's cgroup files hold, read back. */
export function readAppliedLimits(placements: Record<ControllerName, Placement>, dirOf: ControllerDir): AppliedLimits {
  const mem = dirOf('memory');
  const cpu = dirOf('cpu');
  const finite = (n: number | null) => (n === null || !Number.isFinite(n) ? null : n);
  let memoryMaxBytes: number | null;
  let swapMaxBytes: number | null;
  let cpuMaxPercent: number | null = null;
  if (placements.memory.version === 1) {
    memoryMaxBytes = finite(readNumber(path.join(mem, 'memory.limit_in_bytes')));
    const memsw = finite(readNumber(path.join(mem, 'memory.memsw.limit_in_bytes')));
    swapMaxBytes = memsw === null || memoryMaxBytes === null ? null : memsw - memoryMaxBytes;
  } else {
    memoryMaxBytes = finite(readNumber(path.join(mem, 'memory.max')));
    swapMaxBytes = fs.existsSync(path.join(mem, 'memory.swap.max')) ? readNumber(path.join(mem, 'memory.swap.max')) : null;
  }
  if (placements.cpu.version === 1) {
    const quota = readNumber(path.join(cpu, 'cpu.cfs_quota_us'));
    const period = readNumber(path.join(cpu, 'cpu.cfs_period_us'));
    if (quota !== null && period && quota > 0) cpuMaxPercent = (quota * 100) / period;
  } else {
    const [quota, period] = words(readOr(path.join(cpu, 'cpu.max')));
    if (quota && quota !== 'max' && period) cpuMaxPercent = (Number(quota) * 100) / Number(period);
  }
  return {
    pidsMax: finite(readNumber(path.join(dirOf('pids'), 'pids.max'))),
    memoryMaxBytes,
    swapMaxBytes,
    cpuMaxPercent,
  };
}

export function enableControllers(dir: string, ctrls: ControllerName[]): void {
  const file = path.join(dir, 'cgroup.subtree_control');
  const enabled = new Set(words(readOr(file)));
  const missing = ctrls.filter((c) => !enabled.has(c));
  if (missing.length === 0) return;
  try {
    fs.writeFileSync(file, missing.map((c) => `+${c}`).join(' '));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CgroupLayoutError(
      `cannot enable ${missing.join(', ')} in ${file}: ${(e as Error).message}` +
        (code === 'EBUSY'
          ? ' (the cgroup holds processes: the "no internal processes" rule; run the agent in a delegated cgroup of its own, e.g. a systemd unit with Delegate=yes, or set AGENT_CGROUP_PARENT)'
          : code === 'ENOENT' || code === 'EINVAL'
            ? ' (the controller is not offered here: see cgroup.controllers of this directory and its parent)'
            : ''),
    );
  }
}
