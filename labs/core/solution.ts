// Shorthand for reference solutions: lines typed into one terminal, each followed by a wait.
import type { Observation, SolutionAction } from './model';

/** One line to type (Enter is added) and how long to wait after it (ms, default 500). */
export type Line = string | ((obs: Observation) => string) | [text: string | ((obs: Observation) => string), waitMs: number];

export function typed(terminal: number, ...lines: Line[]): SolutionAction[] {
  return lines.flatMap((line): SolutionAction[] => {
    const [text, ms] = Array.isArray(line) ? line : [line, 500];
    return [
      { type: 'type', terminal, text: typeof text === 'function' ? (obs: Observation) => `${text(obs)}\r` : `${text}\r` },
      { type: 'wait', ms },
    ];
  });
}

/** An answer the reference solution types into a step's input box. */
export function answer(stepId: string, value: string | ((obs: Observation) => string)): SolutionAction {
  return { type: 'answer', stepId, value };
}

/**
 * For an answer: the inode of `type` (`net:[4026531840]`) that the newest command `matches` picked
 * printed, read from its output the way the learner reads it; throws `missing` until it did.
 */
export function inodeShownBy(matches: (command: string) => boolean, type: string, missing: string): (obs: Observation) => string {
  return (obs) => {
    const out = [...obs.transcript].reverse().find((r) => matches(r.command))?.output ?? '';
    const m = new RegExp(`${type}:\\[(\\d+)\\]`).exec(out);
    if (!m?.[1]) throw new Error(missing);
    return m[1];
  };
}
