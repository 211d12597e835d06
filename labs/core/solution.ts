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
