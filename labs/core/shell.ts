// Reading a command line the way bash would, enough for checks: words, simple commands, the program
// run, and whether an output can be attributed to one command alone (soleCommand, readFileOf).
// Pure functions: no DOM, no Node APIs (imported by the agent, the app and tests).
import { basename } from './procs';

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
