// The whole test suite, as `npm test` (and so CI) runs it:
//   1. typecheck   tsc --noEmit over the whole repo
//   2. unit        node:test over every *.test.ts that is not an integration test (with a
//                  throwaway PostgreSQL server on loopback for the data-layer suite)
//   3. integration node:test over *.integration.test.ts (real sandboxes; root; one file at a time)
//   4. security-slo the security battery's load cases (resource abuse, floods, start storms, churn)
//                  with a canary learner's echo and the agent's event-loop lag measured under attack
//   5. e2e         Playwright in Debian's Chromium against the product started by scripts/start.mjs
//   6. stock-kernel the cgroup-v2 sandbox tests inside Debian's own kernel (user-mode-linux) with a
//                  cgroup2-only hierarchy (scripts/stock-kernel.mjs; ~1.5 min)
//   7. image       the Dockerfile built with podman and run; the seed exercise in Chromium against
//                  the container (scripts/test-image.mjs)
// Prints one closing line "N passed, N failed[, N skipped]" summed over every stage.
//   --only unit|integration|security-slo|e2e|typecheck|image|stock-kernel   run one stage
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { playwrightCounts } from './playwright-stats.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const onlyIndex = process.argv.indexOf('--only');
const only = onlyIndex >= 0 ? process.argv[onlyIndex + 1] : null;
const stages = ['typecheck', 'unit', 'integration', 'e2e', 'security-slo', 'image', 'stock-kernel'];
if (only && !stages.includes(only)) {
  process.stderr.write(`--only takes one of ${stages.join(', ')}\n`);
  process.exit(2);
}

function findTests(dir, out = []) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.') || entry.name === 'e2e') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) findTests(full, out);
    else if (/\.test\.tsx?$/.test(entry.name)) out.push(path.relative(root, full));
  }
  return out.sort();
}

function run(cmd, args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const totals = { passed: 0, failed: 0, skipped: 0 };
const stageResults = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nslab-test-'));

function countTap(file) {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const pick = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  return { passed: pick('pass'), failed: pick('fail') + pick('cancelled'), skipped: pick('skipped') + pick('todo') };
}

async function nodeTests(stage, files, extraArgs, wrapper = []) {
  if (files.length === 0) {
    stageResults.push(`${stage}: no test files`);
    return 0;
  }
  const tap = path.join(tmp, `${stage}.tap`);
  const [cmd, ...pre] = wrapper.length > 0 ? [...wrapper, process.execPath] : [process.execPath];
  const code = await run(cmd, [
    ...pre,
    '--import',
    'tsx',
    // `server-only` resolves to an empty module, as Next does on the server (see the hook).
    '--import',
    './scripts/server-only-hook.mjs',
    '--test',
    ...extraArgs,
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tap}`,
    ...files,
  ]);
  const counts = countTap(tap);
  if (code !== 0 && counts.failed === 0) counts.failed = 1; // crashed before reporting
  totals.passed += counts.passed;
  totals.failed += counts.failed;
  totals.skipped += counts.skipped;
  stageResults.push(`${stage}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
  return code;
}

let exitCode = 0;
const all = findTests(root);

if (!only || only === 'typecheck') {
  process.stdout.write('\n== typecheck ==\n');
  const code = await run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', root]);
  stageResults.push(`typecheck: ${code === 0 ? 'ok' : 'FAILED'}`);
  if (code !== 0) {
    totals.failed += 1;
    exitCode = 1;
  } else totals.passed += 1;
}
if (!only || only === 'unit') {
  process.stdout.write('\n== unit tests ==\n');
  // The data-layer suite runs against SQLite and, through with-postgres.sh, a real PostgreSQL server.
  const code = await nodeTests(
    'unit',
    all.filter((f) => !/\.(integration|slo|stock-kernel)\.test\.ts$/.test(f)),
    [],
    ['bash', 'scripts/with-postgres.sh'],
  );
  if (code !== 0) exitCode = 1;
}
if (!only || only === 'integration') {
  process.stdout.write('\n== integration tests (real sandboxes) ==\n');
  const code = await nodeTests(
    'integration',
    all.filter((f) => f.endsWith('.integration.test.ts')),
    ['--test-concurrency=1'],
  );
  if (code !== 0) exitCode = 1;
}
// The security battery's SLO cases (resource abuse, WebSocket floods, session-start storms and churn:
// canary echo p95 <= 150 ms and event-loop lag p99 <= 100 ms under attack; ~5 min). They measure
// latency, so they run alone, after the integration stage (nothing else of the suite runs beside
// them). On the 2-core CI machine the canary's p95 was 2.6-6.4 ms. `npm run test:security` runs
// them on their own. The escape, isolation, grading-integrity and crash/database-outage cases
// (security/*.integration.test.ts) run in the integration stage above.
if (!only || only === 'security-slo') {
  process.stdout.write('\n== security battery: SLO cases ==\n');
  const code = await nodeTests(
    'security-slo',
    all.filter((f) => f.endsWith('.slo.test.ts')),
    ['--test-concurrency=1', '--expose-gc'],
  );
  if (code !== 0) exitCode = 1;
}
if (!only || only === 'e2e') {
  process.stdout.write('\n== e2e (Playwright, Debian Chromium) ==\n');
  const json = path.join(tmp, 'e2e.json');
  const code = await run(
    process.execPath,
    [path.join(root, 'node_modules/@playwright/test/cli.js'), 'test', '--reporter=list,json'],
    {
      PLAYWRIGHT_JSON_OUTPUT_NAME: json,
    },
  );
  const counts = playwrightCounts(json, code);
  totals.passed += counts.passed;
  totals.failed += counts.failed;
  totals.skipped += counts.skipped;
  stageResults.push(`e2e: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
  if (code !== 0) exitCode = 1;
}
// The container image: built with podman from the Dockerfile (base image from Debian packages),
// run as the Dockerfile's "Run with podman" line says, the seed exercise done in Chromium against
// it, the host's network settings checked unchanged (scripts/test-image.mjs; ~30 s when nothing changed, ~5 min cold).
if (!only || only === 'image') {
  process.stdout.write('\n== image (podman build + run, Playwright against the container) ==\n');
  const resultFile = path.join(tmp, 'image.json');
  const code = await run(process.execPath, [path.join(root, 'scripts/test-image.mjs')], { NSLAB_IMAGE_RESULT: resultFile });
  let counts = { passed: 0, failed: 0 };
  try {
    counts = JSON.parse(fs.readFileSync(resultFile, 'utf8'));
  } catch {
    // no result file: counted as a failure below
  }
  if (code !== 0 && counts.failed === 0) counts.failed = 1;
  totals.passed += counts.passed;
  totals.failed += counts.failed;
  stageResults.push(`image: ${counts.passed} passed, ${counts.failed} failed`);
  if (code !== 0) exitCode = 1;
}

// Last, because it needs nothing the others leave: the kernel our users have (cgroup v2 only).
if (!only || only === 'stock-kernel') {
  process.stdout.write('\n== stock kernel (Debian 6.1 under user-mode-linux, cgroup v2 only) ==\n');
  const t = performance.now();
  const text = await new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'scripts/stock-kernel.mjs')], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    child.stdout.on('data', (d) => {
      process.stdout.write(d);
      buf += d.toString();
    });
    child.on('exit', (code) => resolve({ buf, code }));
  });
  const m = /^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$/m.exec(text.buf);
  const counts = m ? { passed: Number(m[1]), failed: Number(m[2]), skipped: Number(m[3] ?? 0) } : { passed: 0, failed: 1, skipped: 0 };
  if (text.code !== 0 && counts.failed === 0) counts.failed = 1;
  totals.passed += counts.passed;
  totals.failed += counts.failed;
  totals.skipped += counts.skipped;
  stageResults.push(`stock-kernel: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped (${((performance.now() - t) / 1000).toFixed(0)} s)`);
  if (text.code !== 0) exitCode = 1;
}

process.stdout.write(`\n== summary ==\n${stageResults.join('\n')}\n`);
process.stdout.write(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`);
process.exit(exitCode);
