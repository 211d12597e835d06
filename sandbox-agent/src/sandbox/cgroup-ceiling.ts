// The ceiling on all sandboxes together, sized from the host (cgroups.ts writes it on the parent of
// all sandboxes).
import * as path from 'node:path';
import { defaultSandboxLimits, type SandboxLimits } from './driver';
import { CgroupLayoutError, readNumber, readOr } from './cgroup-files';

// Each sandbox has its own memory and pids limits, but AGENT_MAX_SESSIONS of them (200 x 256 MiB =
// 50 GiB) can exceed the host. The parent of all sandboxes therefore gets a ceiling of its own,
// sized from the host with headroom for the agent, the app and the system, so that learners
// together hit an OOM kill or "fork: Resource temporarily unavailable" inside the sandboxes, never
// the host's OOM killer or pid exhaustion. Overridable: AGENT_SANDBOXES_MEMORY_MAX (bytes, or with
// a K/M/G suffix) and AGENT_SANDBOXES_PIDS_MAX (see sandbox-agent/README.md).

/** Memory kept outside the sandboxes: at least this much, or HEADROOM_FRACTION of the host if more. */
export const MEMORY_HEADROOM_MIN_BYTES = 1024 * 1024 * 1024;
export const MEMORY_HEADROOM_FRACTION = 0.1;
/** Share of the host's pid space (min of kernel.pid_max and kernel.threads-max) sandboxes may use. */
export const PIDS_HOST_FRACTION = 0.75;
const MIN_CEILING_MEMORY_BYTES = 64 * 1024 * 1024;
const MIN_CEILING_PIDS = 64;

export interface SandboxesCeiling {
  memoryMaxBytes: number;
  pidsMax: number;
  /** How each figure was chosen, for the start-up log. */
  reason: string;
}

export interface CeilingInput {
  /** Memory the agent's host (or its container's cgroup) has. */
  hostMemoryBytes: number;
  /** min(kernel.pid_max, kernel.threads-max). */
  hostPidsMax: number;
  /** AGENT_MAX_SESSIONS. */
  maxSessions: number;
  perSandbox?: Pick<SandboxLimits, 'memoryMaxBytes' | 'pidsMax'>;
  env?: Record<string, string | undefined>;
}

function parseBytes(raw: string): number | null {
  const m = /^(\d+)\s*([KMGT]i?B?)?$/i.exec(raw.trim());
  if (!m) return null;
  const unit = (m[2] ?? '').toUpperCase()[0];
  const mult = unit === 'K' ? 2 ** 10 : unit === 'M' ? 2 ** 20 : unit === 'G' ? 2 ** 30 : unit === 'T' ? 2 ** 40 : 1;
  const n = Number(m[1]) * mult;
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * The memory and pids ceiling of the parent of all sandboxes: what AGENT_MAX_SESSIONS full
 * sandboxes would use, but never more than the host minus headroom (memory: max(1 GiB, 10%);
 * pids: a quarter of the pid space), never less than one sandbox. Env overrides win; a bad one
 * throws CgroupLayoutError naming the variable.
 */
export function sandboxesCeiling(input: CeilingInput): SandboxesCeiling {
  const per = input.perSandbox ?? defaultSandboxLimits;
  const env = input.env ?? process.env;
  const headroom = Math.max(MEMORY_HEADROOM_MIN_BYTES, Math.round(input.hostMemoryBytes * MEMORY_HEADROOM_FRACTION));
  const allFull = input.maxSessions * per.memoryMaxBytes;
  const hostLeft = input.hostMemoryBytes - headroom;
  let memoryMaxBytes = Math.max(per.memoryMaxBytes, Math.min(allFull, hostLeft));
  let memReason = allFull <= hostLeft ? `${input.maxSessions} sandboxes x ${per.memoryMaxBytes} bytes` : `host ${input.hostMemoryBytes} bytes - ${headroom} headroom`;
  const pidsAll = input.maxSessions * per.pidsMax;
  const pidsHost = Math.floor(input.hostPidsMax * PIDS_HOST_FRACTION);
  let pidsMax = Math.max(per.pidsMax, Math.min(pidsAll, pidsHost));
  let pidsReason = pidsAll <= pidsHost ? `${input.maxSessions} sandboxes x ${per.pidsMax}` : `${PIDS_HOST_FRACTION} of the host's ${input.hostPidsMax}`;
  const memRaw = env.AGENT_SANDBOXES_MEMORY_MAX;
  if (memRaw !== undefined && memRaw.trim() !== '') {
    const n = parseBytes(memRaw);
    if (n === null || n < MIN_CEILING_MEMORY_BYTES) {
      throw new CgroupLayoutError(`AGENT_SANDBOXES_MEMORY_MAX must be a size of at least 64M (bytes, or with a K/M/G suffix, e.g. 12G), got ${JSON.stringify(memRaw)}`);
    }
    memoryMaxBytes = n;
    memReason = 'AGENT_SANDBOXES_MEMORY_MAX';
  }
  const pidsRaw = env.AGENT_SANDBOXES_PIDS_MAX;
  if (pidsRaw !== undefined && pidsRaw.trim() !== '') {
    const n = /^\d+$/.test(pidsRaw.trim()) ? Number(pidsRaw.trim()) : NaN;
    if (!Number.isSafeInteger(n) || n < MIN_CEILING_PIDS) {
      throw new CgroupLayoutError(`AGENT_SANDBOXES_PIDS_MAX must be a whole number of at least ${MIN_CEILING_PIDS}, got ${JSON.stringify(pidsRaw)}`);
    }
    pidsMax = n;
    pidsReason = 'AGENT_SANDBOXES_PIDS_MAX';
  }
  return { memoryMaxBytes, pidsMax, reason: `memory.max ${memoryMaxBytes} (${memReason}), pids.max ${pidsMax} (${pidsReason})` };
}

/** The host's figures for sandboxesCeiling: MemTotal (or a smaller memory.max of the base cgroup), the pid space. */
export function hostCeilingInput(memoryBase: string | null, env: Record<string, string | undefined> = process.env): CeilingInput {
  const memTotalKb = Number(/^MemTotal:\s+(\d+) kB/m.exec(readOr('/proc/meminfo') ?? '')?.[1] ?? NaN);
  let hostMemoryBytes = Number.isFinite(memTotalKb) ? memTotalKb * 1024 : 2 ** 31;
  if (memoryBase !== null) {
    for (const f of ['memory.max', 'memory.limit_in_bytes']) {
      const limit = readNumber(path.join(memoryBase, f));
      if (limit !== null && Number.isFinite(limit) && limit > 0 && limit < hostMemoryBytes) hostMemoryBytes = limit;
    }
  }
  const pidMax = readNumber('/proc/sys/kernel/pid_max') ?? 32768;
  const threadsMax = readNumber('/proc/sys/kernel/threads-max') ?? pidMax;
  const sessions = Number(env.AGENT_MAX_SESSIONS);
  return {
    hostMemoryBytes,
    hostPidsMax: Math.min(pidMax, threadsMax),
    maxSessions: Number.isSafeInteger(sessions) && sessions > 0 ? sessions : 200,
    env,
  };
}

