// Completion records as files for instructors: CSV (spreadsheets) and JSON. Pure functions over
// what completionRecords (repositories/progress.ts) returns.
import type { CompletionRecord } from './repositories/progress';

export const completionCsvColumns = [
  'learner_id',
  'display_name',
  'lab_id',
  'step_id',
  'status',
  'passed_at',
  'message_en',
  'message_zh',
  'evidence',
] as const;

/** One CSV field per RFC 4180: quoted when it holds a comma, quote, CR or LF; quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * Text a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a leading apostrophe
 * (OWASP "CSV injection"); only for free text people typed, never for ids or numbers.
 */
function defuseFormula(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/**
 * Completion records as CSV (RFC 4180: CRLF line ends, header row, UTF-8; a BOM so spreadsheet
 * programs read Chinese correctly): one row per passed step, passed_at in ISO 8601 UTC, evidence
 * as JSON.
 */
export function toCsv(records: CompletionRecord[], options: { bom?: boolean } = {}): string {
  const lines = [completionCsvColumns.join(',')];
  for (const record of records) {
    for (const step of record.steps) {
      lines.push(
        [
          record.learnerId,
          defuseFormula(record.displayName ?? ''),
          record.labId,
          step.stepId,
          step.status,
          new Date(step.passedAt).toISOString(),
          step.message?.en ?? '',
          step.message?.zh ?? '',
          JSON.stringify(step.evidence),
        ]
          .map(csvField)
          .join(','),
      );
    }
  }
  return (options.bom === false ? '' : '\uFEFF') + lines.join('\r\n') + '\r\n';
}

/** Completion records as JSON (ISO times beside the ms ones, for people reading the file). */
export function toJson(records: CompletionRecord[]): string {
  return JSON.stringify(
    {
      format: 'nslab-completion-records',
      version: 1,
      records: records.map((r) => ({
        ...r,
        firstPassedAtIso: new Date(r.firstPassedAt).toISOString(),
        lastPassedAtIso: new Date(r.lastPassedAt).toISOString(),
        steps: r.steps.map((s) => ({ ...s, passedAtIso: new Date(s.passedAt).toISOString() })),
      })),
    },
    null,
    2,
  );
}
