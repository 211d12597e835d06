// Playwright's JSON report read into passed/failed/skipped counts (shared by scripts/test.mjs and
// scripts/test-image.mjs). A run that exited non-zero without a failure in its report (a crash, a
// config error) counts as one failure.
import fs from 'node:fs';

export function playwrightCounts(jsonFile, exitCode) {
  let stats = { expected: 0, unexpected: 0, skipped: 0, flaky: 0 };
  try {
    stats = { ...stats, ...JSON.parse(fs.readFileSync(jsonFile, 'utf8')).stats };
  } catch {
    // no report: counted as a failure below
  }
  const failed = stats.unexpected + (exitCode !== 0 && stats.unexpected === 0 ? 1 : 0);
  return { passed: stats.expected + stats.flaky, failed, skipped: stats.skipped };
}
