import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { labs } from '../labs/index';
import { formatProblem, glossaryViolations, loadGlossary, renderedBlocks, verifyContent } from './content-verify';
import { getLesson } from '../app/_lib/lessons';

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

test('zh terms: a forbidden variant in a zh lesson is reported at its line; glosses, code and commands are not', async () => {
  const glossary = await loadGlossary(path.join(root, 'content/glossary.json'));
  const { problems } = await verifyContent({ contentDir: bad, labs, glossary });
  const lines = problems.map((p) => `${path.relative(bad, path.resolve(root, p.file))}:${p.line}: ${p.message}`).filter((l) => l.startsWith('zh-terms/'));
  assert.deepEqual(
    lines.filter((l) => /glossary/.test(l)),
    [
      'zh-terms/zh.mdx:9: "user 命名空间": the glossary\'s term for user namespace is "用户命名空间" (content/glossary.json)',
      'zh-terms/zh.mdx:11: "PID 1": the glossary\'s term for PID 1 is "1 号进程" (content/glossary.json)',
    ],
  );
});

test('zh rendering: a typed gap between CJK characters is reported; a soft line break is dropped by the pipeline', async () => {
  const { problems } = await verifyContent({ contentDir: bad, labs });
  const gaps = problems.filter((p) => p.file.endsWith('zh-terms/zh.mdx') && /gap inside Chinese text/.test(p.message));
  assert.equal(gaps.length, 1, gaps.map(formatProblem).join('\n'));
  assert.equal(gaps[0]!.line, 13);
  assert.match(gaps[0]!.message, /看起来像 卡住了/);
  const previous = process.env.NSLAB_CONTENT_DIR;
  process.env.NSLAB_CONTENT_DIR = bad;
  try {
    const text = renderedBlocks((await getLesson('zh-terms', 'zh')).code).join('\n');
    assert.ok(text.includes('终端看起来像卡住了：这里是软换行'), text);
  } finally {
    if (previous === undefined) delete process.env.NSLAB_CONTENT_DIR;
    else process.env.NSLAB_CONTENT_DIR = previous;
  }
});

test('glossaryViolations: whole ASCII words, glosses allowed, every variant found', () => {
  const glossary = { terms: [{ en: 'PID 1', zh: '1 号进程', forbidden: ['PID 1'] }, { en: 'capability', zh: '能力', forbidden: ['capability', '权能'] }] };
  assert.deepEqual(glossaryViolations('PID 16 和 PID 10 不算', glossary), []);
  assert.deepEqual(glossaryViolations('能力（capability）可以作注释', glossary), []);
  assert.deepEqual(
    glossaryViolations('它是 PID 1，有 capability 和权能', glossary).map((v) => v.variant),
    ['PID 1', 'capability', '权能'],
  );
});

test('the real labs use the glossary in their zh titles, hints and answer labels', async () => {
  const glossary = await loadGlossary(path.join(root, 'content/glossary.json'));
  const bent = { ...labs, 'pid-namespace': { ...labs['pid-namespace']!, title: { en: 'PID 1', zh: '成为 PID 1' } } };
  const { problems } = await verifyContent({ contentDir: path.join(root, 'content'), labs: bent, glossary });
  assert.deepEqual(problems.map(formatProblem), ['labs/pid-namespace/index.ts:1: title: "PID 1": the glossary\'s term for PID 1 is "1 号进程"']);
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
