import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { labs } from '../labs/index';
import { formatProblem, verifyContent } from './content-verify';

const root = path.resolve(import.meta.dirname, '..');
const bad = path.join(root, 'scripts/fixtures/content-verify/bad');

test('the real content/ passes: every lesson in both locales agrees with its lab', async () => {
  const { problems, lessons } = await verifyContent({ contentDir: path.join(root, 'content'), labs });
  assert.deepEqual(problems.map(formatProblem), []);
  assert.ok(lessons >= 6);
});

test('bad fixtures: each mistake is reported at its file and line', async () => {
  const { problems } = await verifyContent({ contentDir: bad, labs });
  const lines = problems.map((p) => `${path.relative(bad, path.resolve(root, p.file))}:${p.line}: ${p.message}`);
  const expect = (re: RegExp) => assert.ok(lines.some((l) => re.test(l)), `expected ${re} in:\n${lines.join('\n')}`);
  expect(/^Bad_Dir:1: lesson directory names must be kebab-case/);
  expect(/^missing-zh\/zh\.mdx:1: missing/);
  expect(/^missing-zh\/en\.mdx:4: lab step "find-pid" has no <Step id="find-pid">/);
  expect(/^bad-frontmatter\/en\.mdx:4: invalid frontmatter: order/);
  expect(/^bad-component\/en\.mdx:11: unknown component <Video>/);
  expect(/^unknown-lab\/en\.mdx:4: lab "no-such-lab" does not exist/);
  expect(/^wrong-steps\/en\.mdx:26: <Step id="extra-step"> is not a step of lab "exercise-net-namespace"/);
  expect(/^wrong-steps\/en\.mdx:18: <Command terminal=\{3\}>.*has 2 terminal/);
  expect(/^wrong-steps\/zh\.mdx:18: <Step id="find-pid"> needs <Answer/);
  expect(/^wrong-steps\/zh\.mdx:14: step 2 is "inspect-ns" but in .*en\.mdx it is "find-pid"/);
  expect(/^wrong-steps\/zh\.mdx:18: step "find-pid" has an <Answer> in .*en\.mdx but not here/);
  // Nothing is reported for the files that are fine.
  assert.ok(!lines.some((l) => l.startsWith('bad-component/zh.mdx') || l.startsWith('bad-frontmatter/zh.mdx')), lines.join('\n'));
});

test('the CLI prints file:line: message and exits 1 on bad content, 0 on good', async () => {
  const run = promisify(execFile);
  const script = path.join(root, 'scripts/content-verify.ts');
  await assert.rejects(run(process.execPath, ['--import', 'tsx', script, bad], { cwd: root }), (err: { code?: number; stderr?: string }) => {
    assert.equal(err.code, 1);
    assert.match(err.stderr ?? '', /^scripts\/fixtures\/content-verify\/bad\/wrong-steps\/en\.mdx:26: /m);
    return true;
  });
  const ok = await run(process.execPath, ['--import', 'tsx', script], { cwd: root });
  assert.match(ok.stdout, /lessons × 2 locales OK/);
});
