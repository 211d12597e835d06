// Pure helpers shared by the conceptual labs (containers-and-oci, what-is-a-namespace,
// clone-setns-unshare, namespace-types, namespace-tools): reading namespace listings, lsns and
// nsenter invocations from the transcript, parsing learner answers, and cross-checking them with
// the snapshot. Built on labs/core/helpers.ts (which this file must not duplicate).
// No DOM and no Node APIs: imported by the agent, the app and tests.
import {
  baseNs,
  findCommands,
  nsInodesInText,
  programOf,
  runsProgram,
  soleCommand,
  stripAnsi,
} from './helpers';
import type { CheckResult, CommandRecord, Evidence, Localized, Observation } from './model';
import type { ProcessInfo, Snapshot } from './snapshot';

// ---------------------------------------------------------------- results

export const pass = (message: Localized, evidence: Evidence): CheckResult => ({ status: 'passed', message, evidence });
export const fail = (message: Localized, hint?: Localized, evidence: Evidence = {}): CheckResult => ({
  status: 'failed',
  message,
  ...(hint ? { hint } : {}),
  evidence,
});

/** A command line bounded for quoting in messages. */
export function quoted(command: string, maxChars = 80): string {
  const c = command.trim();
  return c.length > maxChars ? `${c.slice(0, maxChars - 1)}…` : c;
}

// ---------------------------------------------------------------- namespace types

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

// ---------------------------------------------------------------- processes

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

/** The hostname the agent read for this UTS namespace (from outside), if any. */
export function hostnameOf(snapshot: Snapshot, utsInode: number | undefined): string | undefined {
  if (utsInode === undefined) return undefined;
  return snapshot.uts.find((u) => u.inode === utsInode)?.hostname;
}

// ---------------------------------------------------------------- /proc/PID/ns listings

/** Who a /proc/<ref>/ns path names: a PID, the shell itself ($$, self), or a variable ($!, $PID). */
export type ProcRef = { pid: number } | { self: true } | { dynamic: string };

const selfRefs = new Set(['$$', '${$}', 'self', 'thread-self', '$BASHPID', '${BASHPID}']);

/** Parses /proc/42/ns, /proc/$$/ns/, /proc/self/ns/uts, /proc/$!/ns/* ... and the link named, if any. */
export function procNsRef(path: string): { ref: ProcRef; link: string | null } | null {
  const m = /^\/proc\/([^/]+)\/ns(?:\/([a-z_*]*))?\/?$/.exec(path);
  if (!m?.[1]) return null;
  const part = m[1];
  const link = m[2] && m[2] !== '*' ? m[2] : null;
  if (/^\d+$/.test(part)) return { ref: { pid: Number(part) }, link };
  if (selfRefs.has(part)) return { ref: { self: true }, link };
  if (part.startsWith('$') || part.startsWith('`')) return { ref: { dynamic: part }, link };
  return null;
}

const listingTools = new Set(['ls', 'll', 'readlink', 'stat', 'realpath', 'file']);

export interface NsListing {
  record: CommandRecord;
  ref: ProcRef;
  /** Inodes the output shows, per concept type (the *_for_children links fold into pid/time). */
  shown: Partial<Record<ConceptNsType, number[]>>;
}

/** Namespace links an output shows: `net -> 'net:[4026532184]'` or `uts:[4026532180]`. */
export function nsLinksInText(text: string): Partial<Record<ConceptNsType, number[]>> {
  const out: Partial<Record<ConceptNsType, number[]>> = {};
  for (const t of conceptNsTypes) {
    const found = [...new Set(nsInodesInText(text, t))];
    if (found.length > 0) out[t] = found;
  }
  return out;
}

/**
 * Commands that list or readlink /proc/<ref>/ns (or links of it), newest first. Only a command
 * line whose output is that listing alone counts (see soleCommand), and every path it names is of
 * the same /proc/<ref>/ns: `ls /proc/$!/ns; ls -l /proc/1/ns/` shows PID 1's links, and
 * `ls -l /proc/$!/ns /tmp/links` could show symlinks the learner made. The kernel keeps no trace of
 * a readlink, so the checks also compare the inodes shown with the snapshot's.
 */
export function nsListingCommands(transcript: CommandRecord[]): NsListing[] {
  const out: NsListing[] = [];
  for (const record of findCommands(transcript, /\/proc\/.+?\/ns/)) {
    const words = soleCommand(record.command);
    if (!words || !listingTools.has(programOf(words))) continue;
    const paths = words.slice(1).filter((w) => !w.startsWith('-') && !/^\d*>/.test(w));
    const refs = paths.map(procNsRef);
    const first = refs[0];
    if (!first || refs.some((r) => r === null || JSON.stringify(r.ref) !== JSON.stringify(first.ref))) continue;
    out.push({ record, ref: first.ref, shown: nsLinksInText(record.output) });
  }
  return out;
}

/**
 * Types whose inodes an output shows that all agree with `expected` (a process's ns), and the
 * types it shows with a different inode.
 */
export function compareShown(
  shown: Partial<Record<ConceptNsType, number[]>>,
  expected: Partial<Record<string, number>>,
): { matching: ConceptNsType[]; mismatching: ConceptNsType[] } {
  const matching: ConceptNsType[] = [];
  const mismatching: ConceptNsType[] = [];
  for (const t of conceptNsTypes) {
    const inodes = shown[t];
    if (!inodes) continue;
    if (inodes.every((i) => i === expected[t])) matching.push(t);
    else mismatching.push(t);
  }
  return { matching, mismatching };
}

// ---------------------------------------------------------------- nsenter

export interface NsenterInvocation {
  record: CommandRecord;
  /** -t/--target as a number, or the PID of a /proc/<PID>/ns/... path given to a namespace option. */
  targetPid: number | null;
  /** The target as written when it is not a plain number ($PID, $(pgrep ...)). */
  targetText: string | null;
  /** Namespace types entered (-a/--all: every one). */
  types: ConceptNsType[];
  /** The command nsenter runs (empty: a shell). */
  inner: string[];
}

const nsenterShort: Record<string, ConceptNsType> = { m: 'mnt', u: 'uts', i: 'ipc', n: 'net', p: 'pid', C: 'cgroup', U: 'user', T: 'time' };
const nsenterLong: Record<string, ConceptNsType> = {
  '--mount': 'mnt',
  '--uts': 'uts',
  '--ipc': 'ipc',
  '--net': 'net',
  '--pid': 'pid',
  '--cgroup': 'cgroup',
  '--user': 'user',
  '--time': 'time',
};
const nsenterWithArg = new Set(['t', 'S', 'G']);
const nsenterOptionalArg = new Set(['r', 'w']);

/** Parses nsenter's options the way its getopt would (close enough for grading). */
export function parseNsenterWords(words: string[]): Omit<NsenterInvocation, 'record'> | null {
  if (programOf(words) !== 'nsenter') return null;
  let target: string | null = null;
  let pathTarget: string | null = null;
  const types = new Set<ConceptNsType>();
  let k = 1;
  const notePath = (value: string) => {
    pathTarget ??= value;
  };
  for (; k < words.length; k++) {
    const w = words[k] as string;
    if (w === '--') {
      k++;
      break;
    }
    if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      const name = eq >= 0 ? w.slice(0, eq) : w;
      const value = eq >= 0 ? w.slice(eq + 1) : null;
      if (name === '--target') target = value ?? words[++k] ?? null;
      else if (name === '--all') for (const t of conceptNsTypes) types.add(t);
      else if (nsenterLong[name]) {
        types.add(nsenterLong[name]);
        if (value) notePath(value);
      } else if ((name === '--setuid' || name === '--setgid') && value === null) k++;
      continue;
    }
    if (w.startsWith('-') && w.length > 1) {
      for (let c = 1; c < w.length; c++) {
        const ch = w[c] as string;
        const rest = w.slice(c + 1);
        if (nsenterWithArg.has(ch)) {
          const value = rest !== '' ? rest : (words[++k] ?? null);
          if (ch === 't') target = value;
          break;
        }
        const type = nsenterShort[ch];
        if (type) {
          types.add(type);
          if (rest !== '') {
            notePath(rest); // -n/proc/42/ns/net: the rest is the optional file argument
            break;
          }
          continue;
        }
        if (ch === 'a') for (const t of conceptNsTypes) types.add(t);
        if (nsenterOptionalArg.has(ch)) break;
      }
      continue;
    }
    break;
  }
  let targetPid: number | null = null;
  let targetText: string | null = target;
  if (pathTarget !== null) {
    const ref = procNsRef(pathTarget);
    targetText = pathTarget;
    targetPid = ref && 'pid' in ref.ref ? ref.ref.pid : null;
  } else if (target !== null && /^\d+$/.test(target)) targetPid = Number(target);
  return {
    targetPid,
    targetText: targetPid === null ? targetText : null,
    types: conceptNsTypes.filter((t) => types.has(t)),
    inner: words.slice(k),
  };
}

/**
 * nsenter invocations of the transcript, newest first: only command lines whose output is
 * nsenter's (and so its inner command's) alone (soleCommand): `nsenter -t 42 -u true; hostname`
 * prints the caller's hostname, not the target's.
 */
export function nsenterInvocations(transcript: CommandRecord[]): NsenterInvocation[] {
  const out: NsenterInvocation[] = [];
  for (const record of findCommands(transcript, /nsenter/)) {
    const words = soleCommand(record.command);
    const parsed = words ? parseNsenterWords(words) : null;
    if (parsed) out.push({ record, ...parsed });
  }
  return out;
}

// ---------------------------------------------------------------- lsns

export interface LsnsRow {
  inode: number;
  type: string;
  nprocs: number;
  pid: number;
  /** The COMMAND column, tree drawing removed. */
  command: string;
}

/**
 * Rows of `lsns` output in its default, raw (-r), no-heading (-n) and tree formats:
 * `4026532184 net 8 1 root [NETNSID NSFS] /bin/bash ...`. JSON (-J) and custom -o columns give none.
 */
export function parseLsnsOutput(output: string): LsnsRow[] {
  const rows: LsnsRow[] = [];
  const re = /^\s*(\d{4,})\s+([a-z]+)\s+(\d+)\s+(\d+)\s+\S+\s+(.*)$/;
  // The heading tells where COMMAND starts (`lsns -t net` adds NETNSID and NSFS before it).
  let commandAt: number | null = null;
  for (const line of stripAnsi(output).split('\n')) {
    if (/^\s*NS\s+TYPE\s/.test(line)) {
      const at = line.indexOf('COMMAND');
      commandAt = at > 0 ? at : null;
      continue;
    }
    const m = re.exec(line);
    if (!m) continue;
    const command = commandAt !== null && line.length > commandAt && /\s/.test(line[commandAt - 1] ?? '') ? line.slice(commandAt) : (m[5] ?? '');
    rows.push({
      inode: Number(m[1]),
      type: m[2] as string,
      nprocs: Number(m[3]),
      pid: Number(m[4]),
      command: command.replace(/^[\s│├└─`|-]+/u, '').trim(),
    });
  }
  return rows;
}

export interface LsnsCall {
  record: CommandRecord;
  /** -t/--type filters (empty: all types). */
  types: string[];
  rows: LsnsRow[];
}

/** Parses the -t/--type filters of an lsns command, or null if the words are not lsns. */
export function lsnsTypeFilters(words: string[]): string[] | null {
  if (programOf(words) !== 'lsns') return null;
  const types: string[] = [];
  for (let k = 1; k < words.length; k++) {
    const w = words[k] as string;
    if (w === '--type' || w === '-t') {
      const v = words[++k];
      if (v) types.push(v);
    } else if (w.startsWith('--type=')) types.push(w.slice('--type='.length));
    else if (/^-[a-zA-Z]*t./.test(w) && !w.startsWith('--')) types.push(w.slice(w.indexOf('t') + 1));
    else if (/^-[a-zA-Z]*t$/.test(w)) {
      const v = words[++k];
      if (v) types.push(v);
    }
  }
  return types;
}

/** lsns invocations of the transcript whose output is lsns's alone (soleCommand), newest first. */
export function lsnsCalls(transcript: CommandRecord[]): LsnsCall[] {
  const out: LsnsCall[] = [];
  for (const record of findCommands(transcript, /lsns/)) {
    const words = soleCommand(record.command);
    const types = words ? lsnsTypeFilters(words) : null;
    if (types) out.push({ record, types, rows: parseLsnsOutput(record.output) });
  }
  return out;
}

// ---------------------------------------------------------------- evidence kept across steps

/** A number a passed step kept, or a live value. */
export function keptNumber(observation: Observation, stepId: string, key: string): number | undefined {
  const v = observation.passed[stepId]?.[key];
  return typeof v === 'number' ? v : undefined;
}

/** Joins type names for messages: `uts, ipc`. */
export function typeList(types: readonly string[]): string {
  return types.length > 0 ? types.join(', ') : '-';
}

/** The glossary's Chinese name of a namespace type, to put before 命名空间: 网络, 挂载, 用户, 时间, UTS... */
export function nsTypeZh(type: string): string {
  const names: Record<string, string> = { cgroup: 'cgroup', ipc: 'IPC', mnt: '挂载', net: '网络', pid: 'PID', time: '时间', user: '用户', uts: 'UTS' };
  return names[type] ?? type;
}

/** `text` to set between Chinese words: a space on each side that is a Latin letter or digit (的 IPC 命名空间, 的网络命名空间). */
export function zhInline(text: string): string {
  return `${/^[A-Za-z0-9]/.test(text) ? ' ' : ''}${text}${/[A-Za-z0-9]$/.test(text) ? ' ' : ''}`;
}

/** Joins type names for Chinese messages: `uts、ipc`. */
export function typeListZh(types: readonly string[]): string {
  return types.length > 0 ? types.join('、') : '无';
}
