// Processes of a Snapshot and the namespaces they are in: lookups by PID, which program a process
// runs (by exe identity, not its name), and how messages describe a process.
// Pure functions: no DOM, no Node APIs (imported by the agent, the app and tests).
import type { Localized } from './model';
import type { NamespaceType, ProcessInfo, Snapshot } from './snapshot';

/** The inode of the sandbox's own (base) namespace of this type, i.e. that of its PID 1. */
export function baseNs(snapshot: Snapshot, type: NamespaceType): number | undefined {
  return snapshot.sandbox.baseNs[type];
}

/** The inode of a process's namespace of this type (undefined when the link could not be read). */
export function nsOf(process: ProcessInfo, type: NamespaceType): number | undefined {
  return process.ns[type];
}

/** Processes whose namespace of this type is known and differs from the sandbox's base one. */
export function processesInOwnNs(snapshot: Snapshot, type: NamespaceType): ProcessInfo[] {
  const base = baseNs(snapshot, type);
  if (base === undefined) return [];
  return snapshot.processes.filter((p) => {
    const inode = nsOf(p, type);
    return inode !== undefined && inode !== base;
  });
}

/** Processes that share the namespace of this type with the sandbox's base. */
export function processesInBaseNs(snapshot: Snapshot, type: NamespaceType): ProcessInfo[] {
  const base = baseNs(snapshot, type);
  if (base === undefined) return [];
  return snapshot.processes.filter((p) => nsOf(p, type) === base);
}

/** Processes living in the namespace of this type with this inode. */
export function processesInNs(snapshot: Snapshot, type: NamespaceType, inode: number): ProcessInfo[] {
  return snapshot.processes.filter((p) => nsOf(p, type) === inode);
}

/** The process with this in-sandbox PID (what the learner sees), if it exists. */
export function processByPid(snapshot: Snapshot, pid: number): ProcessInfo | undefined {
  return snapshot.processes.find((p) => p.pid === pid);
}

export function processByHostPid(snapshot: Snapshot, hostPid: number): ProcessInfo | undefined {
  return snapshot.processes.find((p) => p.hostPid === hostPid);
}

/** The parent of a process inside the sandbox (undefined for ppid 0 or when it is gone). */
export function parentOf(snapshot: Snapshot, process: ProcessInfo): ProcessInfo | undefined {
  return process.ppid === 0 ? undefined : processByPid(snapshot, process.ppid);
}

export function basename(path: string | undefined): string {
  if (path === undefined) return '';
  const trimmed = path.replace(/\/+$/, '');
  const slash = trimmed.lastIndexOf('/');
  return slash >= 0 ? trimmed.slice(slash + 1) : trimmed;
}

/**
 * A process runs `program` (a file the snapshot identifies in sandbox.programs): its exe, read
 * from the host, is that very file (device and inode), AND comm and argv[0]'s basename say so.
 * comm and argv[0] are the learner's to choose (`echo sleep > /proc/self/comm`, `exec -a sleep
 * bash`, `ln -s /bin/bash /tmp/sleep; /tmp/sleep`: issue 13), the exe is not: a symlink or a copy
 * runs another inode. Snapshots recorded before the agent read exe (no sandbox.programs) fall back
 * to comm and argv[0] alone.
 */
export function runsProgram(snapshot: Snapshot, process: ProcessInfo, program: string): boolean {
  if (process.comm !== program || basename(process.cmdline[0]).replace(/^-/, '') !== program) return false;
  const programs = snapshot.sandbox.programs;
  if (programs === undefined) return true;
  const want = programs[program];
  const exe = process.exe;
  return !!want && !!exe && exe.dev === want.dev && exe.ino === want.ino;
}

/** A real `sleep` (see runsProgram). */
export function isSleep(process: ProcessInfo, snapshot: Snapshot): boolean {
  return runsProgram(snapshot, process, 'sleep');
}

/** `sleep (PID 42)`. */
export function describeProcess(process: ProcessInfo): string {
  return `${process.comm} (PID ${process.pid})`;
}

/** `sleep（PID 42）` with full-width parentheses, for Chinese text. */
export function describeProcessZh(process: ProcessInfo): string {
  return `${process.comm}（PID ${process.pid}）`;
}

/**
 * How many PIDs a sandbox process has, and where they come from: `nsPids` (NSpid as the sandbox's
 * /proc shows it) starts at the sandbox's PID namespace, which is itself one level below the
 * host's, so there is always one PID more than NSpid lists: the host's, which no /proc inside the
 * sandbox can show.
 */
export function pidLevels(process: ProcessInfo): Localized {
  const n = process.nsPids.length + 1;
  const en = ['', 'one', 'two', 'three', 'four', 'five'][n] ?? String(n);
  const zh = ['', '一', '两', '三', '四', '五'][n] ?? String(n);
  const shown = process.nsPids.join(' ');
  return {
    en: `one process, ${en} PIDs, one per nested PID namespace: one on the host (your sandbox's /proc cannot show it), then NSpid ${shown} from your sandbox inwards`,
    zh: `同一个进程有${zh}个 PID，每层嵌套的 PID 命名空间各一个：宿主机上一个（沙箱里的 /proc 看不到它），其余就是从你的沙箱逐层向内的 NSpid ${shown}`,
  };
}

/** The command line as `ps -o args` would show it (bounded). */
export function commandLineOf(process: ProcessInfo, maxChars = 60): string {
  const text = process.cmdline.length > 0 ? process.cmdline.join(' ') : `[${process.comm}]`;
  return text.length > maxChars ? `${text.slice(0, maxChars - 1)}…` : text;
}

/** The newest process of a list (highest host PID; host PIDs only wrap after millions). */
export function newest(processes: ProcessInfo[]): ProcessInfo | undefined {
  let best: ProcessInfo | undefined;
  for (const p of processes) if (!best || p.hostPid > best.hostPid) best = p;
  return best;
}

/** Namespace label as the kernel prints it in /proc/PID/ns links: `net:[4026532201]`. */
export function nsLabel(type: NamespaceType | string, inode: number | string | undefined): string {
  // pid_for_children links read `pid:[...]`, time_for_children `time:[...]`.
  const shown = type.replace(/_for_children$/, '');
  return `${shown}:[${inode ?? '?'}]`;
}

/** A real run of `program` (a login shell's argv[0] is `-bash`): see runsProgram. */
export function isProgram(snapshot: Snapshot, process: ProcessInfo, program: string): boolean {
  return runsProgram(snapshot, process, program);
}

/** Processes the learner started (not the sandbox's init). */
export function learnerProcesses(snapshot: Snapshot): ProcessInfo[] {
  return snapshot.processes.filter((p) => p.pid !== 1);
}

export function processesOf(snapshot: Snapshot, program: string): ProcessInfo[] {
  return learnerProcesses(snapshot).filter((p) => isProgram(snapshot, p, program));
}
