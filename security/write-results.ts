// Writes docs/security-results.md from the battery's results file (the test files also do this
// after every case). Usage: node --import tsx security/write-results.ts
import { resultsFile, tableFile } from './battery';
import { renderResults } from './results-table';

const table = renderResults(resultsFile, tableFile);
process.stdout.write(`${tableFile}: ${table.split('\n').filter((l) => /^\| [A-Z]\d/.test(l)).length} cases\n`);
