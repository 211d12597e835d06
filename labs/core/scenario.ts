// Recording scenarios: each lab declares, in its own scenarios.ts, the sessions whose real kernel
// state its unit tests replay (the reference solution done right, the mistakes learners make,
// forgeries). The one recorder (sandbox-agent/src/record-fixtures.ts) runs them in real sandboxes
// behind a real agent and writes labs/<lab>/fixtures/recorded-<scenario>.json.
// Pure data and types: no Node APIs (the recorder supplies the context).
import type { Observation } from './model';

/** What a scenario can do in its sandbox: the learner's keyboard and answer box. */
export interface RecordingContext {
  /** Types a command line (Enter added) and waits for the next prompt; returns what it printed. */
  run(terminal: number, command: string): Promise<string>;
  /** Types raw keystrokes without waiting for a prompt (a command that keeps running), then waits. */
  type(terminal: number, keys: string, waitMs?: number): Promise<void>;
  /** Submits an answer, as the step's input box does. */
  answer(stepId: string, value: string): void;
  /** The Observation the grader would see now. */
  observe(): Promise<Observation>;
}

/**
 * 'solution': the lab's reference solution, one fixture at the end;
 * 'stages': the reference solution, one fixture after each step (recorded-<name>-<n>-<step>.json),
 *   for labs whose earlier state is gone by the end (a namespace left, a process killed);
 * a function: these keystrokes and answers.
 */
export type Scenario = 'solution' | 'stages' | ((ctx: RecordingContext) => Promise<void>);

/** A lab's scenarios by name (the fixture is recorded-<name>.json). */
export type Scenarios = Record<string, Scenario>;

/** A line typed in a terminal (Enter added), then a pause for it to take effect. */
export interface TypedLine {
  terminal: number;
  text: string;
  waitMs: number;
}

export const line = (terminal: number, text: string, waitMs = 500): TypedLine => ({ terminal, text, waitMs });

/** A scenario that types these lines, one after the other, without waiting for prompts. */
export function lines(...typed: TypedLine[]): Scenario {
  return async (ctx) => {
    for (const l of typed) await ctx.type(l.terminal, `${l.text}\r`, l.waitMs);
  };
}

/** The first line of an output that is a number alone (a PID from pgrep). */
export function firstNumber(text: string): string {
  const m = /^\s*(\d+)\s*$/m.exec(text);
  if (!m?.[1]) throw new Error(`no number in ${JSON.stringify(text)}`);
  return m[1];
}

/** A printf of forged shell-integration marks: a record claiming `command` printed `output` and exited 0. */
export const forgedMarks = (command: string, output: string): string => `printf '\\e]133;C\\a${output}\\n\\e]133;D;0\\a\\e]633;E;${command}\\a'`;

/** A command line run at the prompt; a function builds it from what the earlier lines printed. */
export type RunLine = [terminal: number, command: string | ((printed: string[]) => string)];

/** A scenario that runs these command lines in order, each waiting for the prompt. */
export function runs(...commands: RunLine[]): Scenario {
  return async (ctx) => {
    const printed: string[] = [];
    for (const [terminal, command] of commands) printed.push(await ctx.run(terminal, typeof command === 'function' ? command(printed) : command));
  };
}
