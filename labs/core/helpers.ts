// Reusable, pure helpers for checks: reading a Snapshot, reading the command transcript, parsing
// the text of common commands (ls -l /proc/PID/ns, ip addr/link), and formatting evidence.
// No DOM and no Node APIs: imported by the agent, the app and tests.
import type { CheckResult, CommandRecord, Evidence, Localized, Observation } from './model';
import type {
  IdMapEntry,
  InterfaceInfo,
  MntnsInfo,
  MountInfo,
  NamespaceType,
  NetnsInfo,
  PidnsInfo,
  ProbeResult,
  ProcessInfo,
  Snapshot,
  UsernsInfo,
} from './snapshot';

// ---------------------------------------------------------------- snapshot

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

/** The network namespace with this inode, as the agent read it. */
export function netnsOf(snapshot: Snapshot, inode: number | undefined): NetnsInfo | undefined {
  if (inode === undefined) return undefined;
  return snapshot.netns.find((n) => n.inode === inode);
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

export function isLoopback(iface: InterfaceInfo): boolean {
  return iface.name === 'lo' || iface.flags.includes('LOOPBACK');
}

/** True when the namespace was fully read and holds exactly one interface: its loopback `lo`. */
export function onlyLoopback(netns: NetnsInfo | undefined): boolean {
  if (!netns || !netns.complete) return false;
  const [only, ...rest] = netns.interfaces;
  return only !== undefined && rest.length === 0 && only.name === 'lo' && isLoopback(only);
}

export function loopbackOf(netns: NetnsInfo | undefined): InterfaceInfo | undefined {
  return netns?.interfaces.find((i) => i.name === 'lo');
}

/** True when the interface is administratively up (IFF_UP). */
export function isUp(iface: InterfaceInfo): boolean {
  return iface.flags.includes('UP');
}

/** The state a learner would read in `ip a` for this interface: UP, DOWN, UNKNOWN... */
export function ifaceState(iface: InterfaceInfo): string {
  if (iface.operState && iface.operState !== 'UNKNOWN') return iface.operState;
  return isUp(iface) ? 'UNKNOWN' : 'DOWN';
}

/** Names of the interfaces of a namespace, e.g. 'lo, veth1'. */
export function interfaceNames(netns: NetnsInfo | undefined): string[] {
  return netns ? netns.interfaces.map((i) => i.name) : [];
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

// ---------------------------------------------------------------- text

/** Namespace label as the kernel prints it in /proc/PID/ns links: `net:[4026532201]`. */
export function nsLabel(type: NamespaceType | string, inode: number | string | undefined): string {
  // pid_for_children links read `pid:[...]`, time_for_children `time:[...]`.
  const shown = type.replace(/_for_children$/, '');
  return `${shown}:[${inode ?? '?'}]`;
}

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

// ---------------------------------------------------------------- transcript

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

const operators = ['&&', '||', ';;', '|&', ';', '|', '&', '\n'] as const;

/**
 * Splits a command line into words the way a shell would, close enough for grading: quotes and
 * backslashes are honoured, `$(...)`, `${...}` and backticks stay inside one word, and control
 * operators (`;`, `&&`, `||`, `|`, `&`) become their own tokens.
 */
export function shellWords(command: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  const push = () => {
    if (inWord) words.push(word);
    word = '';
    inWord = false;
  };
  while (i < command.length) {
    const c = command[i] as string;
    if (c === '\\' && i + 1 < command.length) {
      word += command[i + 1];
      inWord = true;
      i += 2;
      continue;
    }
    if (c === "'") {
      const end = command.indexOf("'", i + 1);
      const stop = end < 0 ? command.length : end;
      word += command.slice(i + 1, stop);
      inWord = true;
      i = stop + 1;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < command.length && command[j] !== '"') {
        if (command[j] === '\\' && j + 1 < command.length) j++;
        j++;
      }
      word += command.slice(i + 1, j).replace(/\\(["\\$`])/g, '$1');
      inWord = true;
      i = j + 1;
      continue;
    }
    if (c === '$' && (command[i + 1] === '(' || command[i + 1] === '{')) {
      const open = command[i + 1] as string;
      const close = open === '(' ? ')' : '}';
      let depth = 0;
      let j = i + 1;
      for (; j < command.length; j++) {
        if (command[j] === open) depth++;
        else if (command[j] === close && --depth === 0) break;
      }
      word += command.slice(i, j + 1);
      inWord = true;
      i = j + 1;
      continue;
    }
    if (c === '`') {
      const end = command.indexOf('`', i + 1);
      const stop = end < 0 ? command.length : end;
      word += command.slice(i, stop + 1);
      inWord = true;
      i = stop + 1;
      continue;
    }
    if (c === '#' && !inWord) break; // comment to end of line
    if (c === ' ' || c === '\t') {
      push();
      i++;
      continue;
    }
    const op = operators.find((o) => command.startsWith(o, i));
    if (op) {
      push();
      words.push(op === '\n' ? ';' : op);
      i += op.length;
      continue;
    }
    word += c;
    inWord = true;
    i++;
  }
  push();
  return words;
}

const wrappers = new Set(['sudo', 'command', 'exec', 'time', 'builtin', 'nohup']);

/**
 * The simple commands of a command line (split on control operators), each as its words, with
 * leading `VAR=value` assignments and wrappers such as `sudo`/`time` removed.
 */
export function simpleCommands(command: string): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  for (const w of shellWords(command)) {
    if ((operators as readonly string[]).includes(w)) {
      if (current.length > 0) out.push(current);
      current = [];
    } else current.push(w);
  }
  if (current.length > 0) out.push(current);
  return out.map((words) => {
    let k = 0;
    while (k < words.length) {
      const w = words[k] as string;
      if (
        /^[A-Za-z_][A-Za-z0-9_]*=/.test(w) ||
        wrappers.has(w) ||
        (w.startsWith('-') && k > 0 && wrappers.has(words[k - 1] ?? ''))
      )
        k++;
      else break;
    }
    return words.slice(k);
  });
}

/** The program a simple command runs, as a basename: `/usr/bin/ls` -> `ls`. */
export function programOf(words: string[]): string {
  return basename(words[0]);
}

// ---------------------------------------------------------------- command output parsing

export interface ListedInterface {
  name: string;
  /** `state DOWN` from `ip a`/`ip link`, or the brief state column; null when not shown. */
  state: string | null;
}

const operStates = 'UP|DOWN|UNKNOWN|LOWERLAYERDOWN|DORMANT|NOTPRESENT|TESTING';

/**
 * Interfaces an `ip addr` / `ip link` output lists, in any of its formats: normal
 * (`1: lo: <LOOPBACK> ... state DOWN`), one-line (`-o`), brief (`-br`) and JSON (`-j`).
 */
export function interfacesInIpOutput(output: string): ListedInterface[] {
  const text = stripAnsi(output);
  const found = new Map<string, ListedInterface>();
  const add = (name: string, state: string | null) => {
    const existing = found.get(name);
    if (!existing) found.set(name, { name, state });
    else if (existing.state === null && state !== null) existing.state = state;
  };
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (Array.isArray(parsed)) {
        for (const item of parsed) {
          if (item && typeof item === 'object' && 'ifname' in item && typeof item.ifname === 'string') {
            const state = 'operstate' in item && typeof item.operstate === 'string' ? item.operstate : null;
            add(item.ifname, state);
          }
        }
        return [...found.values()];
      }
    } catch {
      // not JSON after all: fall through to the text formats
    }
  }
  const full = /^\d+:\s+([^\s:@]+)(?:@[^\s:]+)?:\s+</;
  const oneLineAddr = /^\d+:\s+([^\s:@]+)(?:@\S+)?\s+inet6?\s/;
  const brief = new RegExp(`^([^\\s@]+)(?:@\\S+)?\\s+(${operStates})(?:\\s|$)`);
  for (const line of text.split('\n')) {
    const f = full.exec(line);
    if (f?.[1]) {
      const state = new RegExp(`\\bstate (${operStates})\\b`).exec(line);
      add(f[1], state?.[1] ?? null);
      continue;
    }
    const o = oneLineAddr.exec(line);
    if (o?.[1]) {
      add(o[1], null);
      continue;
    }
    const b = brief.exec(line);
    if (b?.[1]) add(b[1], b[2] ?? null);
  }
  return [...found.values()];
}

/**
 * If these words are an `ip` invocation that lists interfaces of the current namespace without
 * filtering them (`ip a`, `ip addr show`, `ip -br a`, `ip link`, `ip -c l s`...), returns which
 * object it shows; otherwise null. `ip -n NAME ...`, `ip a show dev X` and changes are rejected.
 */
export function ipListingObject(words: string[]): 'address' | 'link' | null {
  if (programOf(words) !== 'ip') return null;
  let k = 1;
  for (; k < words.length; k++) {
    const w = words[k] as string;
    if (!w.startsWith('-')) break;
    // -n/-netns/-b/-batch switch namespace or read commands from elsewhere: not a plain listing.
    if (/^-(n|ne|net|netn|netns|b|ba|bat|batch|force)$/.test(w)) return null;
    if (/^-(f|fa|fam|family|rc|rcvbuf)$/.test(w)) k++; // options that take an argument
  }
  const object = words[k];
  if (object === undefined) return null;
  const isPrefix = (full: string) => object.length > 0 && full.startsWith(object);
  const kind = isPrefix('address') ? 'address' : isPrefix('link') ? 'link' : null;
  if (!kind) return null;
  const rest = words.slice(k + 1);
  if (rest.length === 0) return kind;
  const verb = rest[0] as string;
  const verbOk = ['show', 'list', 'lst', 'ls'].some((v) => v.startsWith(verb)) && verb.length > 0;
  return verbOk && rest.length === 1 ? kind : null;
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

// ---------------------------------------------------------------- evidence

/** A compact, stable rendering of evidence for logs and messages: `pid=42 netInode=4026532201`. */
export function formatEvidence(evidence: Evidence): string {
  return Object.keys(evidence)
    .sort()
    .map((k) => {
      const v = evidence[k];
      const text = typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : String(v);
      return `${k}=${text}`;
    })
    .join(' ');
}

export function evidenceNumber(evidence: Evidence | undefined, key: string): number | undefined {
  const v = evidence?.[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function evidenceString(evidence: Evidence | undefined, key: string): string | undefined {
  const v = evidence?.[key];
  return typeof v === 'string' ? v : undefined;
}

/** First line of an output, bounded, for quoting in messages. */
export function firstLine(text: string, maxChars = 100): string {
  const line =
    stripAnsi(text)
      .split('\n')
      .find((l) => l.trim() !== '') ?? '';
  const t = line.trim();
  return t.length > maxChars ? `${t.slice(0, maxChars - 1)}…` : t;
}

/** Evidence a passed step kept, if any. */
export function passedEvidence(observation: Observation, stepId: string): Evidence | undefined {
  return observation.passed[stepId];
}

/** Joins localized fragments with a separator (both languages at once). */
export function joinLocalized(parts: Localized[], sep: Localized = { en: ' ', zh: '' }): Localized {
  return { en: parts.map((p) => p.en).join(sep.en), zh: parts.map((p) => p.zh).join(sep.zh) };
}

// ---------------------------------------------------------------- results

/** A passing CheckResult. */
export function passed(message: Localized, evidence: Evidence): CheckResult {
  return { status: 'passed', message, evidence };
}

/** A failing CheckResult with its hint. */
export function failed(message: Localized, hint: Localized | undefined, evidence: Evidence = {}): CheckResult {
  return hint ? { status: 'failed', message, hint, evidence } : { status: 'failed', message, evidence };
}

// ---------------------------------------------------------------- network topology

/** Every network namespace of the sandbox other than its own (held by a process or named). */
export function otherNetns(snapshot: Snapshot): NetnsInfo[] {
  const base = baseNs(snapshot, 'net');
  return snapshot.netns.filter((n) => n.inode !== base);
}

export function interfaceNamed(netns: NetnsInfo | undefined, name: string): InterfaceInfo | undefined {
  return netns?.interfaces.find((i) => i.name === name);
}

/** The IPv4 addresses of an interface as `a.b.c.d/len`. */
export function inetAddresses(iface: InterfaceInfo | undefined): string[] {
  return iface ? iface.addresses.filter((a) => a.family === 'inet').map((a) => `${a.address}/${a.prefixLen}`) : [];
}

/** True when the interface holds exactly this IPv4 address with this prefix length. */
export function hasInetAddress(iface: InterfaceInfo | undefined, address: string, prefixLen: number): boolean {
  return !!iface?.addresses.some((a) => a.family === 'inet' && a.address === address && a.prefixLen === prefixLen);
}

/** Interfaces of a namespace enslaved to the bridge with this name (its ports). */
export function bridgePorts(netns: NetnsInfo | undefined, bridge: string): InterfaceInfo[] {
  return netns ? netns.interfaces.filter((i) => i.master === bridge) : [];
}

/** The other end of a veth, wherever it lives in the sandbox (undefined when unknown). */
export function vethPeer(snapshot: Snapshot, iface: InterfaceInfo): { netns: NetnsInfo; iface: InterfaceInfo } | undefined {
  if (iface.kind !== 'veth' || !iface.peer || iface.peer.netnsInode === null) return undefined;
  const netns = netnsOf(snapshot, iface.peer.netnsInode);
  const peer = netns?.interfaces.find((i) => i.ifindex === iface.peer?.ifindex);
  return netns && peer ? { netns, iface: peer } : undefined;
}

/** `net:[4026532201]` or `net:[4026532201] (ns1)` when it is a named namespace. */
export function netnsLabel(netns: NetnsInfo): string {
  return netns.names && netns.names.length > 0 ? `${nsLabel('net', netns.inode)} (${netns.names.join(', ')})` : nsLabel('net', netns.inode);
}

/** The result of the host-side probe with this id, if the agent ran or skipped it. */
export function probeResult(observation: Observation, id: string): ProbeResult | undefined {
  return observation.probes?.find((p) => p.id === id);
}

// ---------------------------------------------------------------- UTS

/** The hostname of a UTS namespace, as the agent read it. */
export function hostnameOf(snapshot: Snapshot, utsInode: number | undefined): string | undefined {
  if (utsInode === undefined) return undefined;
  return snapshot.uts.find((u) => u.inode === utsInode)?.hostname;
}

// ---------------------------------------------------------------- mounts

export function mntnsOf(snapshot: Snapshot, inode: number | undefined): MntnsInfo | undefined {
  if (inode === undefined) return undefined;
  return snapshot.mntns?.find((m) => m.inode === inode);
}

/** The topmost mount at this mount point in a mount namespace (what a path lookup finds). */
export function mountAt(mntns: MntnsInfo | undefined, mountPoint: string): MountInfo | undefined {
  if (!mntns) return undefined;
  let found: MountInfo | undefined;
  for (const m of mntns.mounts) if (m.mountPoint === mountPoint) found = m;
  return found;
}

/** Same mount point, type and source: "the same mount" as a learner would compare them. */
export function sameMount(a: MountInfo, b: MountInfo): boolean {
  return a.mountPoint === b.mountPoint && a.fsType === b.fsType && a.source === b.source;
}

export interface PrivateMount {
  mount: MountInfo;
  mntns: MntnsInfo;
}

/**
 * Mounts matching the predicate that exist in a mount namespace other than the sandbox's and that
 * the sandbox's own mount namespace (where the neighbour terminal lives) does not have.
 */
export function privateMounts(snapshot: Snapshot, match: (m: MountInfo) => boolean): PrivateMount[] {
  const baseInode = baseNs(snapshot, 'mnt');
  const base = mntnsOf(snapshot, baseInode);
  if (!base?.complete) return [];
  const out: PrivateMount[] = [];
  for (const ns of snapshot.mntns ?? []) {
    if (ns.inode === baseInode || !ns.complete) continue;
    for (const m of ns.mounts) {
      if (match(m) && !base.mounts.some((b) => sameMount(b, m))) out.push({ mount: m, mntns: ns });
    }
  }
  return out;
}

// ---------------------------------------------------------------- user namespaces

export function usernsOf(snapshot: Snapshot, inode: number | undefined): UsernsInfo | undefined {
  if (inode === undefined) return undefined;
  return snapshot.userns?.find((u) => u.inode === inode);
}

/** Maps a host id through an id map; 65534 (the overflow id) when unmapped, as the kernel shows it. */
export function idInside(map: IdMapEntry[], hostId: number): number {
  const e = map.find((x) => hostId >= x.outside && hostId < x.outside + x.count);
  return e ? e.inside + (hostId - e.outside) : 65534;
}

/** The real uid of a process as its OWN user namespace sees it (what `id -u` prints there). */
export function uidInOwnUserns(snapshot: Snapshot, process: ProcessInfo): number | undefined {
  const userns = usernsOf(snapshot, process.ns.user);
  if (!userns) return undefined;
  return idInside(userns.uidMap, process.uid + snapshot.sandbox.uidBase);
}

/**
 * An id map as a process INSIDE the sandbox reads it in /proc/PID/uid_map (outside ids relative to
 * the sandbox's user namespace): `0 0 1` for `unshare -U -r` run by the sandbox's root.
 */
export function idMapAsSandboxSees(snapshot: Snapshot, map: IdMapEntry[]): IdMapEntry[] {
  return map.map((e) => ({ ...e, outside: e.outside - snapshot.sandbox.uidBase }));
}

/** `0 0 1` lines, the way /proc/PID/uid_map prints them (compact). */
export function formatIdMap(map: IdMapEntry[]): string {
  return map.length === 0 ? '(empty)' : map.map((e) => `${e.inside} ${e.outside} ${e.count}`).join('; ');
}

/** True when every capability bit (0..40) is set in a CapEff hex string. */
export function hasFullCaps(capEff: string | undefined): boolean {
  if (!capEff) return false;
  const v = BigInt(`0x${capEff}`);
  const full = (1n << 41n) - 1n;
  return (v & full) === full;
}

// ---------------------------------------------------------------- PID namespaces

export function pidnsOf(snapshot: Snapshot, inode: number | undefined): PidnsInfo | undefined {
  if (inode === undefined) return undefined;
  return snapshot.pidns?.find((p) => p.inode === inode);
}

/** PID namespaces nested in the sandbox's own that have a PID 1, with that process. */
export function nestedPidInits(snapshot: Snapshot): Array<{ pidns: PidnsInfo; init: ProcessInfo }> {
  const out: Array<{ pidns: PidnsInfo; init: ProcessInfo }> = [];
  for (const ns of snapshot.pidns ?? []) {
    if (ns.level === 0 || !ns.init) continue;
    const init = processByHostPid(snapshot, ns.init.hostPid);
    if (init) out.push({ pidns: ns, init });
  }
  return out;
}

/**
 * Processes that unshared a PID namespace for their children but have no child in it yet: the
 * kernel hides their pid_for_children link until the new namespace has a PID 1 (`unshare -p`
 * without -f execs the command itself, in the OLD namespace).
 */
export function pendingPidUnshares(snapshot: Snapshot): ProcessInfo[] {
  return snapshot.processes.filter((p) => p.ns.pid !== undefined && p.ns.pid_for_children === undefined);
}

// ---------------------------------------------------------------- nsenter / unshare in the transcript

// nsenter's own options are parsed once, in concept-helpers.ts (parseNsenterWords, nsenterInvocations).

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

/** Truncated command line for quoting in messages. */
export function quoteCommand(command: string, maxChars = 80): string {
  const c = command.trim();
  return c.length > maxChars ? `${c.slice(0, maxChars - 1)}…` : c;
}

// ---------------------------------------------------------------- output a check may attribute

/**
 * Programs that only select or reorder the lines they are given: piped after a command, its output
 * stays that command's output. Each takes options and the values below only, never a file (a file
 * argument would add that file's text: `grep x /tmp/forged`).
 */
const lineFilters: Record<string, { maxOperands: number; valueOptions?: RegExp }> = {
  grep: { maxOperands: 1, valueOptions: /^-[ABCm]$/ },
  egrep: { maxOperands: 1, valueOptions: /^-[ABCm]$/ },
  fgrep: { maxOperands: 1, valueOptions: /^-[ABCm]$/ },
  head: { maxOperands: 0, valueOptions: /^-[nc]$/ },
  tail: { maxOperands: 0, valueOptions: /^-[nc]$/ },
  sort: { maxOperands: 0, valueOptions: /^-[kt]$/ },
  uniq: { maxOperands: 0 },
  less: { maxOperands: 0 },
  more: { maxOperands: 0 },
  cat: { maxOperands: 0 },
  column: { maxOperands: 0, valueOptions: /^-[st]$/ },
};

/** Non-option words of a simple command (after its program); `valueOptions` consume the next word. */
export function operandsOf(words: string[], valueOptions?: RegExp): string[] {
  const out: string[] = [];
  let options = true;
  for (let k = 1; k < words.length; k++) {
    const w = words[k] as string;
    if (options && w === '--') {
      options = false;
      continue;
    }
    if (options && w.startsWith('-') && w !== '-') {
      if (valueOptions?.test(w)) k++;
      continue;
    }
    out.push(w);
  }
  return out;
}

/** `$(...)` or backticks that may print by themselves (`$(echo forged >&2; echo 14)`). */
const printingSubstitution = /(\$\(|`)[^)`]*(;|&|>|\becho\b|\bprintf\b|\bcat\b)/;

/**
 * The words of the one command whose output a command record shows, or null when the output
 * cannot be attributed to a single command. The grading rule (issue 13): a check never reads a
 * program's output off a command line that could have printed it some other way. Accepted:
 *   - one simple command (`grep NSpid /proc/14/status`),
 *   - followed by line filters that cannot add text (`ls -l /proc/14/ns | sort`),
 *   - after background sleeps only (`sleep 1000 & ls -l /proc/$!/ns`: `$!` needs them).
 * Refused: `;`, `&&`, `||`, other background jobs, `|&`, a redirected input (`grep x < forged`),
 * command substitutions that print (`$(echo x >&2)`), a filter with a file argument, and a
 * comment never counts (`echo 'NSpid: 14 1' # /proc/14/status` is an echo).
 * A shell function or alias can still stand in for a program: the kernel keeps no record of what
 * was read, so every check that uses this also compares what was printed with kernel state the
 * learner can only know by reading it (inodes, NSpid, maps, hostnames, mounts).
 */
export function soleCommand(command: string): string[] | null {
  // `2>&1` and `&>` redirect output; they are not background operators.
  const line = command.replace(/\d*>&\d*-?|&>>?/g, ' >');
  if (printingSubstitution.test(line)) return null;
  const words = shellWords(line);
  if (words.length === 0) return null;
  // Leading `sleep N &` jobs.
  let k = 0;
  for (;;) {
    const amp = words.indexOf('&', k);
    if (amp < 0) break;
    const job = words.slice(k, amp);
    if (job.length !== 2 || basename(job[0]) !== 'sleep' || !/^\d+[smhd]?$/.test(job[1] ?? '')) return null;
    k = amp + 1;
  }
  const rest = words.slice(k);
  if (rest.some((w) => w === '&&' || w === '||' || w === ';' || w === ';;' || w === '|&')) return null;
  if (rest.some((w) => /^\d*<|^<</.test(w))) return null;
  const stages = simpleCommands(rest.join(' ') === '' ? '' : rest.map((w) => (w === '|' ? '|' : shellQuote(w))).join(' '));
  if (stages.length === 0) return null;
  for (const filter of stages.slice(1)) {
    const spec = lineFilters[programOf(filter)];
    if (!spec) return null;
    const operands = operandsOf(filter, spec.valueOptions).filter((w) => !/^\d*>/.test(w));
    if (operands.length > spec.maxOperands) return null;
  }
  return stages[0] ?? null;
}

/** Quotes a word for shellWords again (so `a b` stays one word). */
function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./$-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Readers that print a file's lines as they are (grep only those that match). */
export const fileReaders = new Set(['cat', 'grep', 'egrep', 'head', 'tail', 'less', 'more']);

/**
 * The one file a sole reader command prints (`cat F`, `grep NSpid F`, `head -n 20 F`), or null.
 * Exactly one file: `cat /proc/14/status /tmp/forged` shows a second file's text as well.
 */
export function readFileOf(command: string): string | null {
  const words = soleCommand(command);
  if (!words) return null;
  const program = programOf(words);
  if (!fileReaders.has(program)) return null;
  const grep = program.endsWith('grep');
  // grep's -e/-f take a value; with -e, no positional pattern comes first.
  let pattern = grep;
  const operands: string[] = [];
  for (let k = 1; k < words.length; k++) {
    const w = words[k] as string;
    if (/^\d*>/.test(w)) continue;
    if (w.startsWith('-') && w !== '-') {
      if (grep && (w === '-e' || w === '-f' || w === '--regexp' || w === '--file')) {
        if (w === '-f' || w === '--file') return null; // patterns read from a file of the learner's
        pattern = false;
        k++;
      } else if (/^-[ABCmnc]$/.test(w)) k++;
      continue;
    }
    operands.push(w);
  }
  const files = pattern ? operands.slice(1) : operands;
  return files.length === 1 ? (files[0] as string) : null;
}
