import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createElement, type ReactNode } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { getMDXComponent } from 'mdx-bundler/client';
import {
  clearLessonCache,
  getLesson,
  lessonAnswerSteps,
  lessonStepIds,
  listLessons,
  LessonNotFoundError,
  LessonSourceError,
} from './lessons';
import { exerciseNetNamespace } from '../../labs/exercise-net-namespace';

const here = path.dirname(fileURLToPath(import.meta.url));
const realContent = path.resolve(here, '../../content');
const fixtureContent = path.join(here, 'fixtures/content');

function useContent(dir: string): void {
  process.env.NSLAB_CONTENT_DIR = dir;
}

const expectedSteps = ['isolate-sleep', 'find-pid', 'inspect-ns', 'nsenter-ip'];

test('both real lessons bundle, with the same steps, answers and commands in en and zh', async () => {
  useContent(realContent);
  const slug = 'exercise-net-namespace';
  const [en, zh] = await Promise.all([getLesson(slug, 'en'), getLesson(slug, 'zh')]);
  const sources = await Promise.all(
    ['en', 'zh'].map((l) => fs.readFile(path.join(realContent, slug, `${l}.mdx`), 'utf8')),
  );

  for (const [lesson, source] of [
    [en, sources[0] ?? ''],
    [zh, sources[1] ?? ''],
  ] as const) {
    assert.equal(lesson.slug, slug);
    assert.equal(lesson.frontmatter.locale, lesson.locale);
    assert.equal(lesson.frontmatter.lab, slug);
    assert.match(lesson.code, /return Component;$/);
    // The quick source scan and the real MDX tree agree.
    assert.deepEqual(lessonStepIds(source), expectedSteps);
    assert.deepEqual(
      lesson.outline.steps.map((s) => s.id),
      expectedSteps,
    );
    assert.deepEqual(lessonAnswerSteps(source), ['find-pid']);
    // The bundle really renders the components the UI provides, with the props it expects.
    assert.match(lesson.code, /terminal:2,placeholder:"PID",children:"nsenter -t PID -n ip a"/);
    console.log(`bundle ${slug}/${lesson.locale}.mdx: ${Buffer.byteLength(lesson.code)} bytes`);
  }

  assert.deepEqual(lessonStepIds(sources[0] ?? ''), lessonStepIds(sources[1] ?? ''));
  assert.deepEqual(lessonAnswerSteps(sources[0] ?? ''), lessonAnswerSteps(sources[1] ?? ''));
  // Same answers and the same clickable commands (terminal, text, placeholder) step by step.
  const shape = (l: typeof en) =>
    l.outline.steps.map(({ id, answers, commands }) => ({ id, answers, commands }));
  assert.deepEqual(shape(zh), shape(en));
  assert.deepEqual(zh.outline.commands, en.outline.commands);
  assert.deepEqual(en.outline.steps.find((s) => s.id === 'nsenter-ip')?.commands, [
    { terminal: 2, text: 'nsenter -t PID -n ip a', placeholder: 'PID' },
  ]);
  assert.equal(en.frontmatter.order, zh.frontmatter.order);
  assert.equal(en.frontmatter.minutes, zh.frontmatter.minutes);
});

test('the lesson matches its lab: step ids, answer inputs, terminal numbers', async () => {
  useContent(realContent);
  const lab = exerciseNetNamespace;
  for (const locale of ['en', 'zh'] as const) {
    const lesson = await getLesson(lab.id, locale);
    assert.equal(lesson.frontmatter.lab, lab.id);
    assert.deepEqual(
      lesson.outline.steps.map((s) => s.id),
      lab.steps.map((s) => s.id),
    );
    for (const step of lab.steps) {
      const outline = lesson.outline.steps.find((s) => s.id === step.id);
      assert.deepEqual(outline?.answers, step.answer ? [step.id] : [], `${locale} ${step.id}`);
    }
    const terminals = [
      ...lesson.outline.commands,
      ...lesson.outline.steps.flatMap((s) => s.commands),
    ].map((c) => c.terminal);
    assert.ok(
      Math.max(...terminals) <= lab.terminals,
      `${locale}: a command targets a missing terminal`,
    );
  }
});

// Stand-ins for the UI's components: just enough to see the props reach them.
const stubComponents = {
  Step: ({ id, children }: { id: string; children?: ReactNode }) =>
    createElement('section', { 'data-step-id': id }, children),
  Command: (p: { terminal: number; placeholder?: string; children?: ReactNode }) =>
    createElement(
      'code',
      { 'data-terminal': p.terminal, 'data-placeholder': p.placeholder },
      p.children,
    ),
  Answer: ({ step }: { step: string }) => createElement('input', { 'data-answer': step }),
  Callout: ({ kind, children }: { kind: string; children?: ReactNode }) =>
    createElement('aside', { 'data-kind': kind }, children),
  Hint: ({ children }: { children?: ReactNode }) => createElement('p', { 'data-hint': '' }, children),
  NamespaceMap: () => createElement('figure', { 'data-namespace-map': '' }),
  Diagram: ({ name }: { name: string }) => createElement('figure', { 'data-diagram': name }),
};

test('the bundles run and render with React (server side)', async () => {
  useContent(realContent);
  for (const locale of ['en', 'zh'] as const) {
    const lesson = await getLesson('exercise-net-namespace', locale);
    const Content = getMDXComponent(lesson.code);
    const html = renderToStaticMarkup(createElement(Content, { components: stubComponents }));
    assert.deepEqual(
      [...html.matchAll(/data-step-id="([^"]+)"/g)].map((m) => m[1]),
      expectedSteps,
    );
    assert.match(html, /<input data-answer="find-pid"\/>/);
    assert.match(html, /<code data-terminal="1">unshare -n sleep 60<\/code>/);
    assert.match(
      html,
      /<code data-terminal="2" data-placeholder="PID">nsenter -t PID -n ip a<\/code>/,
    );
    assert.match(html, /<code data-terminal="2">ls -la \/proc\/\$\$\/ns\/net<\/code>/);
    assert.match(html, /<aside data-kind="warning">/);
    assert.match(html, /<pre data-lang="text" class="code-block"><code class="language-text"><span class="tok-num">1: <\/span><span class="tok-key">lo<\/span>: &lt;LOOPBACK&gt;/);
    // No Markdown left unrendered (e.g. CJK emphasis that failed to close).
    assert.doesNotMatch(html.replace(/<pre>[\s\S]*?<\/pre>/g, ''), /\*\*/);
  }
});

test('listLessons returns the real lessons sorted by order', async () => {
  useContent(realContent);
  for (const locale of ['en', 'zh'] as const) {
    const list = await listLessons(locale);
    assert.ok(list.some((l) => l.slug === 'exercise-net-namespace'));
    assert.ok(list.every((l) => l.locale === locale && l.frontmatter.locale === locale));
    const orders = list.map((l) => l.frontmatter.order);
    assert.deepEqual(
      orders,
      [...orders].sort((a, b) => a - b),
    );
  }
});

async function rejectsWith(
  promise: Promise<unknown>,
  file: string,
  line: number,
  reason: RegExp,
): Promise<LessonSourceError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(
    caught instanceof LessonSourceError,
    `expected LessonSourceError, got ${String(caught)}`,
  );
  assert.ok(caught.message.includes(`${file}:${line}:`), caught.message);
  assert.match(caught.message, reason);
  assert.equal(caught.line, line);
  return caught;
}

test('bad frontmatter fails with the file name and the line of the bad key', async () => {
  useContent(fixtureContent);
  await rejectsWith(
    getLesson('bad-frontmatter', 'en'),
    path.join('bad-frontmatter', 'en.mdx'),
    4,
    /invalid frontmatter: order/,
  );
});

test('a locale that does not match the file name is rejected', async () => {
  useContent(fixtureContent);
  await rejectsWith(getLesson('good', 'zh'), path.join('good', 'zh.mdx'), 6, /locale is "en"/);
});

test('broken YAML fails with file:line', async () => {
  useContent(fixtureContent);
  // The unclosed `[` opens on line 3; js-yaml notices on line 4, where the next key starts.
  await rejectsWith(
    getLesson('bad-yaml', 'en'),
    path.join('bad-yaml', 'en.mdx'),
    4,
    /invalid frontmatter YAML: missed comma/,
  );
});

test('an MDX syntax error fails with file:line:column', async () => {
  useContent(fixtureContent);
  const error = await rejectsWith(
    getLesson('bad-syntax', 'en'),
    path.join('bad-syntax', 'en.mdx'),
    10,
    /closing brace/,
  );
  assert.ok(error.column > 1);
});

test('an unknown component fails at load time, not at render time', async () => {
  useContent(fixtureContent);
  await rejectsWith(
    getLesson('unknown-component', 'en'),
    path.join('unknown-component', 'en.mdx'),
    12,
    /unknown component <Shell>/,
  );
});

test('code examples are not steps; answers must sit in their step', async () => {
  useContent(fixtureContent);
  const lesson = await getLesson('good', 'en');
  assert.deepEqual(lesson.outline.steps, [
    { id: 'first', line: 13, answers: ['first'], commands: [{ terminal: 1, text: 'echo hi' }] },
  ]);
  const source = await fs.readFile(path.join(fixtureContent, 'good/en.mdx'), 'utf8');
  assert.deepEqual(lessonStepIds(source), ['first']);
  assert.deepEqual(lessonAnswerSteps(source), ['first']);
});

test('bad slugs, bad locales and missing files are NotFound, never read outside content/', async () => {
  useContent(path.join(fixtureContent, 'good'));
  // content/../bad-syntax/en.mdx exists relative to this content dir: it must still be refused.
  for (const slug of [
    '../bad-syntax',
    '../etc',
    '..',
    '.',
    '',
    'a/b',
    'Good',
    '%2e%2e',
    'good\0',
  ]) {
    await assert.rejects(getLesson(slug, 'en'), LessonNotFoundError, slug);
  }
  useContent(fixtureContent);
  await assert.rejects(getLesson('no-such-lesson', 'en'), LessonNotFoundError);
  await assert.rejects(getLesson('good', 'fr' as 'en'), LessonNotFoundError);
  await assert.rejects(getLesson('good', '../good/en' as 'en'), LessonNotFoundError);
  const error = await getLesson('../etc', 'en').catch((e: unknown) => e);
  assert.ok(error instanceof LessonNotFoundError);
  assert.equal(error.code, 'LESSON_NOT_FOUND');
});

test('a symlink that leaves the content directory is NotFound', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nslab-lessons-'));
  try {
    await fs.mkdir(path.join(dir, 'content'));
    await fs.symlink(path.join(fixtureContent, 'good'), path.join(dir, 'content', 'escape'));
    useContent(path.join(dir, 'content'));
    await assert.rejects(getLesson('escape', 'en'), LessonNotFoundError);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('the cache serves the same bundle until the file changes, then reloads', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nslab-lessons-'));
  try {
    clearLessonCache();
    await fs.cp(path.join(fixtureContent, 'good'), path.join(dir, 'lesson'), { recursive: true });
    useContent(dir);
    const first = await getLesson('lesson', 'en');
    assert.equal(await getLesson('lesson', 'en'), first, 'second call is served from the cache');

    const file = path.join(dir, 'lesson', 'en.mdx');
    const source = await fs.readFile(file, 'utf8');
    await fs.writeFile(file, source.replace('title: "Good"', 'title: "Edited"'));
    const later = new Date(Date.now() + 5_000);
    await fs.utimes(file, later, later);
    const edited = await getLesson('lesson', 'en');
    assert.notEqual(edited, first);
    assert.equal(edited.frontmatter.title, 'Edited');

    // A broken edit throws, and fixing it recovers without a restart.
    await fs.writeFile(file, source.replace('order: 2', 'order: two'));
    await fs.utimes(file, new Date(Date.now() + 10_000), new Date(Date.now() + 10_000));
    await assert.rejects(getLesson('lesson', 'en'), LessonSourceError);
    await fs.writeFile(file, source);
    await fs.utimes(file, new Date(Date.now() + 15_000), new Date(Date.now() + 15_000));
    assert.equal((await getLesson('lesson', 'en')).frontmatter.title, 'Good');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
