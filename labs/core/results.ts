// Check results and the small texts their messages are made of: passed/failed, evidence kept across
// steps, quoting commands and outputs, bilingual lists.
// Pure functions: no DOM, no Node APIs (imported by the agent, the app and tests).
import type { CheckResult, Evidence, Localized, Observation } from './model';
import { stripAnsi } from './transcript';

/** A passing CheckResult. */
export function passed(message: Localized, evidence: Evidence): CheckResult {
  return { status: 'passed', message, evidence };
}

/** A failing CheckResult with its hint. */
export function failed(message: Localized, hint?: Localized, evidence: Evidence = {}): CheckResult {
  return hint ? { status: 'failed', message, hint, evidence } : { status: 'failed', message, evidence };
}

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

/** Evidence a passed step kept, if any. */
export function passedEvidence(observation: Observation, stepId: string): Evidence | undefined {
  return observation.passed[stepId];
}

/** A number a passed step kept, or a live value. */
export function keptNumber(observation: Observation, stepId: string, key: string): number | undefined {
  const v = observation.passed[stepId]?.[key];
  return typeof v === 'number' ? v : undefined;
}

/** Joins localized fragments with a separator (both languages at once). */
export function joinLocalized(parts: Localized[], sep: Localized = { en: ' ', zh: '' }): Localized {
  return { en: parts.map((p) => p.en).join(sep.en), zh: parts.map((p) => p.zh).join(sep.zh) };
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

/** Truncated command line for quoting in messages. */
export function quoteCommand(command: string, maxChars = 80): string {
  const c = command.trim();
  return c.length > maxChars ? `${c.slice(0, maxChars - 1)}…` : c;
}

/** Joins type names for messages: `uts, ipc`. */
export function typeList(types: readonly string[]): string {
  return types.length > 0 ? types.join(', ') : '-';
}

/** Joins type names for Chinese messages: `uts、ipc`. */
export function typeListZh(types: readonly string[]): string {
  return types.length > 0 ? types.join('、') : '无';
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
