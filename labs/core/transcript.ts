// The command transcript (soft evidence): finding commands, stripping ANSI, and reading
// /proc/<PID>/ns listings and the namespace inodes an output shows.
// Pure functions: no DOM, no Node APIs (imported by the agent, the app and tests).
import type { CommandRecord } from './model';
import { type ConceptNsType, conceptNsTypes } from './ns-types';
import { programOf, simpleCommands, soleCommand } from './shell';
import type { NamespaceType } from './snapshot';

// CSI (including private modes), OSC (terminated by BEL or ST), and single-character escapes.
const ansiPattern =
  /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]|\u009b[0-?]*[ -/]*[@-~]/g;

/** Removes ANSI escape sequences (colours, OSC marks) and folds \r\n to \n. */
export function stripAnsi(text: string): string {
  return text.replace(ansiPattern, '').replace(/\r\n/g, '\n');
}

/** Every inode of links of this type an output mentions: `net:[4026532201]` or `'net:[...]'`. */
export function nsInodesInText(text: string, type: NamespaceType | string): number[] {
  const shown = type.replace(/_for_children$/, '');
  const re = new RegExp(`(?<![A-Za-z_])${shown}:\\[(\\d+)\\]`, 'g');
  const found: number[] = [];
  for (const m of stripAnsi(text).matchAll(re)) found.push(Number(m[1]));
  return found;
}

/** Parses a PID the learner typed: trimmed, digits only (a leading '#' or 'PID' is tolerated). */
export function parsePid(value: string): number | undefined {
  const trimmed = value.trim().replace(/^(?:pid\s*[:=]?\s*|#)/i, '');
  if (!/^\d{1,10}$/.test(trimmed)) return undefined;
  const n = Number(trimmed);
  return n > 0 && Number.isSafeInteger(n) ? n : undefined;
}

export interface FindCommandsOptions {
  /** Only commands that ended with this exit status (e.g. 0). */
  exitCode?: number;
  /** Only commands from this terminal. */
  terminal?: number;
  /** Only commands that have ended (exitCode known). */
  ended?: boolean;
}

/** Commands whose command line matches the regex, newest first. */
export function findCommands(transcript: CommandRecord[], regex: RegExp, opts: FindCommandsOptions = {}): CommandRecord[] {
  const out: CommandRecord[] = [];
  for (let i = transcript.length - 1; i >= 0; i--) {
    const record = transcript[i];
    if (!record) continue;
    if (opts.terminal !== undefined && record.terminal !== opts.terminal) continue;
    if (opts.exitCode !== undefined && record.exitCode !== opts.exitCode) continue;
    if (opts.ended === true && record.exitCode === null) continue;
    regex.lastIndex = 0;
    if (regex.test(record.command)) out.push(record);
  }
  return out;
}

/** Simple commands (words) of the transcript whose program is one of these, newest first. */
export function commandsRunning(transcript: CommandRecord[], programs: string[]): Array<{ record: CommandRecord; words: string[] }> {
  const out: Array<{ record: CommandRecord; words: string[] }> = [];
  for (let i = transcript.length - 1; i >= 0; i--) {
    const record = transcript[i];
    if (!record) continue;
    for (const words of simpleCommands(record.command)) {
      if (programs.includes(programOf(words))) out.push({ record, words });
    }
  }
  return out;
}

/** Which PID a path like /proc/42/ns, /proc/42/ns/, /proc/42/ns/net or /proc/$PID/ns/ names. */
export function procNsPathPid(path: string): { pid: number } | { dynamic: string } | null {
  const m = /^\/proc\/([^/]+)\/ns(?:\/(?:net|\*)?)?\/?$/.exec(path);
  if (!m?.[1]) return null;
  const part = m[1];
  if (/^\d+$/.test(part)) return { pid: Number(part) };
  if (part.startsWith('$') || part.startsWith('`')) {
    // $$ and $BASHPID are the shell itself, never the sleep.
    if (part === '$$' || part === '$BASHPID' || part === '${BASHPID}') return null;
    return { dynamic: part };
  }
  return null;
}

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
