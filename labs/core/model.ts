// The lab model: labs, steps, checks and their results. Pure data and pure functions:
// imported by the agent (runs checks), the app (titles, hints) and tests. No DOM, no Node APIs.
import { z } from 'zod';
import { probeResultSchema, snapshotSchema } from './snapshot';

export const locales = ['en', 'zh'] as const;
export const localeSchema = z.enum(locales);
export type Locale = z.infer<typeof localeSchema>;

/** Learner-facing text in every language the course ships. */
export const localizedSchema = z.object({ en: z.string().min(1), zh: z.string().min(1) });
export type Localized = z.infer<typeof localizedSchema>;
export const t = (en: string, zh: string): Localized => ({ en, zh });

/** One command the learner ran, recovered from shell-integration marks (soft evidence). */
export const commandRecordSchema = z.object({
  terminal: z.number().int().nonnegative(),
  /** The command line as the shell reported it. */
  command: z.string(),
  /** Exit status; null while still running or when unknown. */
  exitCode: z.number().int().nullable(),
  /** What it printed, ANSI escapes removed, \r\n folded to \n, bounded in size. */
  output: z.string(),
  startedAtMs: z.number(),
  endedAtMs: z.number().nullable(),
});
export type CommandRecord = z.infer<typeof commandRecordSchema>;

export const answerSchema = z.object({ value: z.string().max(200), atMs: z.number() });
export type Answer = z.infer<typeof answerSchema>;

/** Evidence is a flat bag of small values that messages cite and later steps may reuse. */
export const evidenceSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));
export type Evidence = z.infer<typeof evidenceSchema>;

/**
 * What a check sees. Everything in here comes from the host side except transcript and answers.
 * The one schema of it: recorded fixtures are validated against it, and the agent's observe()
 * returns its type.
 */
export const observationSchema = z.object({
  snapshot: snapshotSchema,
  /** Recent commands, oldest first, across all terminals. */
  transcript: z.array(commandRecordSchema),
  /** Latest answer the learner typed for each step id. */
  answers: z.record(z.string(), answerSchema),
  /** Evidence kept from steps that already passed (a passed step stays passed). */
  passed: z.record(z.string(), evidenceSchema),
  /** Results of the host-side probes the lab's steps declare, run just before the checks. */
  probes: z.array(probeResultSchema).optional(),
});
export type Observation = z.infer<typeof observationSchema>;

/**
 * Which of the sandbox's network namespaces a probe runs in. Always one of the SANDBOX's own
 * namespaces (never the host's): the agent resolves it against the snapshot.
 *  - base: the sandbox's own network namespace (where its shells live);
 *  - holdingAddress: the namespace, other than the base, where an interface holds this IPv4 address;
 *  - named: the namespace bind-mounted at /run/netns/<name> (`ip netns add <name>`).
 */
export type NetnsSelector = { base: true } | { holdingAddress: string } | { named: string };

/**
 * A host-side probe, pure data: the agent runs the host's ping inside a namespace of the sandbox,
 * bounded in count and time, and ONLY to an address some interface of the sandbox's own namespaces
 * holds (the lab's topology). Its result reaches checks in Observation.probes, under this id.
 */
export interface PingProbeSpec {
  kind: 'ping';
  /** Unique within the lab, kebab-case. */
  id: string;
  from: NetnsSelector;
  /** A literal IPv4 address (no names: nothing is resolved). */
  to: string;
  /** Echo requests to send, 1-3. */
  count: number;
  /** Upper bound for the whole probe, 200-3000 ms. */
  timeoutMs: number;
}
export type ProbeSpec = PingProbeSpec;

export const stepStatusSchema = z.enum(['pending', 'passed', 'failed']);
export type StepStatus = z.infer<typeof stepStatusSchema>;

export interface CheckResult {
  status: 'passed' | 'failed';
  /** One line that cites kernel evidence (PIDs, inodes, interface names). */
  message: Localized;
  /** A hint for this particular failure (e.g. "your sleep is in the sandbox's own net namespace"). */
  hint?: Localized;
  evidence: Evidence;
}

export type Check = (observation: Observation) => CheckResult;

export type CheckKind = 'state' | 'command' | 'answer' | 'output';

export type MapConcealment = 'pids' | 'inodes';

export interface StepDef {
  /** Stable id, kebab-case; lessons reference it with <Step id="...">. */
  id: string;
  title: Localized;
  /** What kind of evidence the check relies on (documentation and UI badges). */
  kinds: CheckKind[];
  check: Check;
  /** Progressive hints: hints[i] unlocks after hintAfterMs[i] on the step (or on failure). */
  hints: Localized[];
  /** When set, the lesson shows an input for this step; its value reaches the check in answers. */
  answer?: { label: Localized; placeholder?: string; pattern?: string };
  /**
   * What the live namespace map must not show while this step is not passed, because it is the
   * step's answer (issue 13: the map said "sleep · PID 42" above "find the sleep's PID"):
   * 'pids' hides process IDs, 'inodes' hides namespace inode numbers (the agent leaves them out of
   * what it sends, so the browser never has them).
   */
  conceals?: MapConcealment[];
  /**
   * Host-side probes the agent runs before checks; results in Observation.probes. They run only
   * while this step is open (not passed), so only this step's check may rely on them.
   */
  probes?: ProbeSpec[];
}

/** One action of the reference solution. */
export type SolutionAction =
  /** Keystrokes for a terminal; a function when they depend on the state (e.g. the sleep's PID). */
  | { type: 'type'; terminal: number; text: string | ((obs: Observation) => string) }
  | { type: 'wait'; ms: number }
  | { type: 'answer'; stepId: string; value: string | ((obs: Observation) => string) };

export interface SolutionStep {
  stepId: string;
  actions: SolutionAction[];
}

export interface LabDef {
  id: string;
  title: Localized;
  /** How many terminals (root shells in the same sandbox) the lab shows, 1-3. */
  terminals: number;
  limits?: { pidsMax?: number; memoryMaxBytes?: number; cpuMaxPercent?: number };
  steps: StepDef[];
  /** The reference solution: every check must fail before its step and pass after it. */
  solution: SolutionStep[];
}

/** The status of one step as the agent pushes it to the browser. */
export const stepResultSchema = z.object({
  stepId: z.string(),
  status: stepStatusSchema,
  message: localizedSchema.nullable(),
  hint: localizedSchema.nullable(),
  evidence: evidenceSchema,
  /** When the status last changed (ms since epoch). */
  atMs: z.number(),
  /** For a passed step: whether the progress database has stored it yet ("not saved yet" in the UI). */
  saved: z.boolean().optional(),
});
export type StepResult = z.infer<typeof stepResultSchema>;

export const hintAfterMs = [30_000, 90_000, 180_000] as const;
