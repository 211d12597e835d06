// The security battery's reporting: every check prints one line `PASS|FAIL|SKIP <id> <detail>`
// (SECURITY-BATTERY.md harness rules), appends a row to the results file and re-renders
// docs/security-results.md from all rows (latest row per case id wins), so the table always
// matches the last run of each case. Used by the *.integration.test.ts and *.slo.test.ts files beside it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { renderResults } from './results-table';

export type Status = 'PASS' | 'FAIL' | 'SKIP';

export interface ResultRow {
  id: string;
  status: Status;
  detail: string;
  file: string;
  atMs: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..');
/** Rows of every run (JSON lines); override with NSLAB_BATTERY_RESULTS. */
export const resultsFile = process.env.NSLAB_BATTERY_RESULTS ?? path.join(here, '.battery-results.jsonl');
export const tableFile = path.join(repoRoot, 'docs', 'security-results.md');

/** Why a case is skipped: a thrown Skip turns into SKIP (never into a silent pass). */
export class Skip extends Error {}

export function record(id: string, status: Status, detail: string, file = 'unknown'): void {
  const oneLine = detail.replace(/\s+/g, ' ').trim().slice(0, 600);
  process.stdout.write(`${status} ${id} ${oneLine}\n`);
  const row: ResultRow = { id, status, detail: oneLine, file, atMs: Date.now() };
  try {
    fs.mkdirSync(path.dirname(resultsFile), { recursive: true });
    fs.appendFileSync(resultsFile, `${JSON.stringify(row)}\n`);
    renderResults(resultsFile, tableFile);
  } catch (error) {
    process.stderr.write(`battery: could not write results: ${(error as Error).message}\n`);
  }
}

/**
 * Runs one case: `fn` returns the evidence (PASS), throws Skip (SKIP, the test is marked skipped
 * with the reason) or throws anything else (FAIL, the test fails with that error).
 */
export async function runCase(t: TestContext, id: string, file: string, fn: () => Promise<string>): Promise<void> {
  let evidence: string;
  try {
    evidence = await fn();
  } catch (error) {
    if (error instanceof Skip) {
      record(id, 'SKIP', error.message, file);
      t.skip(`${id}: ${error.message}`);
      return;
    }
    record(id, 'FAIL', error instanceof Error ? error.message : String(error), file);
    throw error;
  }
  record(id, 'PASS', evidence, file);
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
