// nsenter and lsns as the transcript shows them: which namespaces an nsenter entered and of which
// target, and what an lsns listed.
// Pure functions: no DOM, no Node APIs (imported by the agent, the app and tests).
import type { CommandRecord } from './model';
import { type ConceptNsType, conceptNsTypes } from './ns-types';
import { programOf, soleCommand } from './shell';
import { findCommands, procNsRef, stripAnsi } from './transcript';

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
