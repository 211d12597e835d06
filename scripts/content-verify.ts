// content:verify — every lesson under content/ is complete and agrees with its lab:
// - both en.mdx and zh.mdx exist, and each loads with the app's own loader (frontmatter schema,
//   allowed components, <Answer> inside its <Step>: app/_lib/lessons.ts);
// - the frontmatter `lab` exists in labs/index.ts; every <Step id> is a step of that lab and every
//   lab step appears in the lesson; <Answer step> exactly where the lab step takes an answer;
//   <Command terminal={N}> within the lab's terminals;
// - both locales have the same lab, order, step ids in the same order, and the same Answer steps;
// - zh text (lessons outside code, and the labs' titles, hints and answer labels) uses the terms of
//   content/glossary.json, never a forbidden variant;
// - rendered zh lessons have no stray gap between CJK characters (a soft line break the pipeline
//   did not drop, or a typed space): the lesson is rendered to HTML as the app renders it.
// Problems print as `file:line: message`; exit status 1 when there is any.
//   node --import tsx scripts/content-verify.ts [content-dir]
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { getMDXComponent } from 'mdx-bundler/client';
import { createElement, type ReactNode } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { z } from 'zod';
import { cjkGap } from '../app/_lib/cjk-line-breaks';
import {
  clearLessonCache,
  getLesson,
  lessonLocales,
  lessonSlugPattern,
  LessonNotFoundError,
  LessonSourceError,
  type Lesson,
  type LessonLocale,
} from '../app/_lib/lessons';
import type { LabDef } from '../labs/core/model';

export interface ContentProblem {
  file: string;
  line: number;
  message: string;
}

export interface VerifyOptions {
  contentDir: string;
  labs: Record<string, LabDef>;
  /** Defaults to <contentDir>/glossary.json when that file exists. */
  glossary?: Glossary;
}

export const glossarySchema = z.object({
  about: z.string().optional(),
  terms: z.array(z.strictObject({ en: z.string().min(1), zh: z.string().min(1), forbidden: z.array(z.string().min(1)) })),
});
export type Glossary = z.infer<typeof glossarySchema>;

export async function loadGlossary(file: string): Promise<Glossary> {
  return glossarySchema.parse(JSON.parse(await fs.readFile(file, 'utf8')));
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Forbidden variants found in one piece of zh text: [variant, preferred term, en]. */
export function glossaryViolations(text: string, glossary: Glossary): { variant: string; zh: string; en: string; index: number }[] {
  const found: { variant: string; zh: string; en: string; index: number }[] = [];
  for (const term of glossary.terms) {
    // A variant as a gloss right after its term is fine: 能力（capability）.
    const unglossed = text.replace(new RegExp(`${escapeRe(term.zh)}（[^）\n]*）`, 'g'), (m) => term.zh + ' '.repeat(m.length - term.zh.length));
    for (const variant of term.forbidden) {
      const before = /^[A-Za-z0-9]/.test(variant) ? '(?<![A-Za-z0-9_])' : '';
      const after = /[A-Za-z0-9]$/.test(variant) ? '(?![A-Za-z0-9_])' : '';
      for (const m of unglossed.matchAll(new RegExp(`${before}${escapeRe(variant)}${after}`, 'g'))) found.push({ variant, zh: term.zh, en: term.en, index: m.index ?? 0 });
    }
  }
  return found.sort((a, b) => a.index - b.index);
}

/** The source with code (fenced, inline) and <Command> contents blanked, line numbers kept. */
function proseOf(source: string): string {
  const blank = (m: string) => m.replace(/[^\n]/g, ' ');
  return source
    .replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, blank)
    .replace(/`[^`\n]*`/g, blank)
    .replace(/<Command\b[^>]*>[\s\S]*?<\/Command>/g, blank);
}

function lineAt(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}

function checkGlossaryInLesson(loaded: Loaded, glossary: Glossary): ContentProblem[] {
  const prose = proseOf(loaded.source);
  return glossaryViolations(prose, glossary).map((v) => ({
    file: shown(loaded.file),
    line: lineAt(prose, v.index),
    message: `"${v.variant}": the glossary's term for ${v.en} is "${v.zh}" (content/glossary.json)`,
  }));
}

function checkGlossaryInLabs(labs: Record<string, LabDef>, glossary: Glossary): ContentProblem[] {
  const problems: ContentProblem[] = [];
  for (const [id, lab] of Object.entries(labs)) {
    const texts: [string, string][] = [['title', lab.title.zh]];
    for (const step of lab.steps) {
      texts.push([`step "${step.id}" title`, step.title.zh]);
      step.hints.forEach((h, i) => texts.push([`step "${step.id}" hint ${i + 1}`, h.zh]));
      if (step.answer) texts.push([`step "${step.id}" answer label`, step.answer.label.zh]);
    }
    for (const [where, text] of texts)
      for (const v of glossaryViolations(text.replace(/`[^`]*`/g, (m) => ' '.repeat(m.length)), glossary))
        problems.push({ file: `labs/${id}/index.ts`, line: 1, message: `${where}: "${v.variant}": the glossary's term for ${v.en} is "${v.zh}"` });
  }
  return problems;
}

// ---------------------------------------------------------------- rendered text

const blockTags = /<\/?(?:p|h[1-6]|li|ul|ol|table|thead|tbody|tr|td|th|pre|div|blockquote|section|aside|figure|hr|br)\b[^>]*>/g;

/** The lesson as a reader sees it: rendered to HTML like the app does, one string per block. */
export function renderedBlocks(code: string): string[] {
  const block = ({ children }: { children?: ReactNode }) => createElement('div', null, children);
  const inline = ({ children }: { children?: ReactNode }) => createElement('code', null, children);
  const none = () => null;
  const components = { Step: block, Callout: block, Hint: block, Quiz: block, Choice: block, Explain: block, Terminal: block, Command: inline, Answer: none, NamespaceMap: none, Diagram: none };
  const Content = getMDXComponent(code);
  const html = renderToStaticMarkup(createElement(Content, { components }));
  const decode = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#x27;/g, "'").replace(/&amp;/g, '&');
  return html
    .split(blockTags)
    // A code chip stands apart from the text around it: keep it, in backticks, so no gap is seen
    // between its first character and the text before it.
    .map((b) => decode(b.replace(/<code>([\s\S]*?)<\/code>/g, '`$1`').replace(/<[^>]*>/g, '')))
    .filter((b) => b.trim() !== '');
}

function checkRenderedGaps(loaded: Loaded): ContentProblem[] {
  const problems: ContentProblem[] = [];
  const lines = loaded.source.split('\n');
  for (const text of renderedBlocks(loaded.lesson.code)) {
    const global = new RegExp(cjkGap.source, 'gu');
    for (const m of text.matchAll(global)) {
      const at = m.index ?? 0;
      const context = text.slice(Math.max(0, at - 8), at + m[0].length + 8).replace(/\s+/g, ' ');
      // Best effort: the source line holding the characters left of the gap.
      const left = text.slice(Math.max(0, at - 3), at + 1).trim();
      const idx = lines.findIndex((l) => left !== '' && l.includes(left));
      problems.push({ file: shown(loaded.file), line: idx >= 0 ? idx + 1 : 1, message: `rendered text has a gap inside Chinese text: "${context}" (a typed space, or a line break the pipeline keeps)` });
    }
  }
  return problems;
}

export function formatProblem(p: ContentProblem): string {
  return `${p.file}:${p.line}: ${p.message}`;
}

function shown(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
}

/** 1-based line of a frontmatter key (1 when absent). */
function keyLine(source: string, key: string): number {
  const lines = source.split('\n');
  for (let i = 1; i < lines.length && lines[i]?.trim() !== '---'; i++) {
    if (new RegExp(`^${key}\\s*:`).test(lines[i] ?? '')) return i + 1;
  }
  return 1;
}

interface Loaded {
  lesson: Lesson;
  file: string;
  source: string;
}

/** Loads one lesson with the app's loader, reading from `contentDir`. */
async function load(contentDir: string, slug: string, locale: LessonLocale): Promise<Loaded | ContentProblem> {
  const file = path.join(contentDir, slug, `${locale}.mdx`);
  const previous = process.env.NSLAB_CONTENT_DIR;
  process.env.NSLAB_CONTENT_DIR = contentDir;
  try {
    const lesson = await getLesson(slug, locale);
    return { lesson, file, source: await fs.readFile(file, 'utf8') };
  } catch (error) {
    if (error instanceof LessonNotFoundError) {
      return { file: shown(file), line: 1, message: `missing: every lesson needs ${lessonLocales.map((l) => `${l}.mdx`).join(' and ')}` };
    }
    if (error instanceof LessonSourceError) return { file: error.file, line: error.line, message: error.reason };
    return { file: shown(file), line: 1, message: error instanceof Error ? error.message : String(error) };
  } finally {
    if (previous === undefined) delete process.env.NSLAB_CONTENT_DIR;
    else process.env.NSLAB_CONTENT_DIR = previous;
  }
}

function checkAgainstLab(loaded: Loaded, labs: Record<string, LabDef>): ContentProblem[] {
  const { lesson, source } = loaded;
  const file = shown(loaded.file);
  const labId = lesson.frontmatter.lab;
  if (labId === undefined) return [];
  const labLine = keyLine(source, 'lab');
  const lab = Object.hasOwn(labs, labId) ? labs[labId] : undefined;
  if (!lab) return [{ file, line: labLine, message: `lab "${labId}" does not exist in labs/index.ts (labs: ${Object.keys(labs).join(', ')})` }];
  const problems: ContentProblem[] = [];
  const labSteps = new Map(lab.steps.map((s) => [s.id, s]));
  const lessonIds = new Set(lesson.outline.steps.map((s) => s.id));
  for (const step of lesson.outline.steps) {
    const def = labSteps.get(step.id);
    if (!def) {
      problems.push({ file, line: step.line, message: `<Step id="${step.id}"> is not a step of lab "${labId}" (its steps: ${lab.steps.map((s) => s.id).join(', ')})` });
      continue;
    }
    if (def.answer && step.answers.length === 0)
      problems.push({ file, line: step.line, message: `<Step id="${step.id}"> needs <Answer step="${step.id}" />: the lab step takes an answer` });
    if (!def.answer && step.answers.length > 0)
      problems.push({ file, line: step.line, message: `<Step id="${step.id}"> has an <Answer>, but the lab step takes none` });
    for (const c of step.commands)
      if (c.terminal > lab.terminals)
        problems.push({ file, line: step.line, message: `<Command terminal={${c.terminal}}> in step "${step.id}": lab "${labId}" has ${lab.terminals} terminal(s)` });
  }
  for (const c of lesson.outline.commands)
    if (c.terminal > lab.terminals) problems.push({ file, line: 1, message: `<Command terminal={${c.terminal}}> (${c.text}): lab "${labId}" has ${lab.terminals} terminal(s)` });
  for (const s of lab.steps)
    if (!lessonIds.has(s.id)) problems.push({ file, line: labLine, message: `lab step "${s.id}" has no <Step id="${s.id}"> in this lesson` });
  // Same order as the lab (the UI shows the lab's steps in that order).
  const inLab = lesson.outline.steps.filter((s) => labSteps.has(s.id));
  const labOrder = lab.steps.map((s) => s.id).filter((id) => lessonIds.has(id));
  const firstOff = inLab.findIndex((s, i) => s.id !== labOrder[i]);
  if (firstOff >= 0) {
    const s = inLab[firstOff]!;
    problems.push({ file, line: s.line, message: `steps are out of the lab's order: expected "${labOrder[firstOff]}" here, found "${s.id}"` });
  }
  return problems;
}

/** Compares a translation with the first locale (en): lab, order, step ids and Answer steps. */
function checkLocalesAgree(reference: Loaded, other: Loaded): ContentProblem[] {
  const a = reference.lesson;
  const b = other.lesson;
  const file = shown(other.file);
  const ref = shown(reference.file);
  const problems: ContentProblem[] = [];
  if (a.frontmatter.lab !== b.frontmatter.lab)
    problems.push({ file, line: keyLine(other.source, 'lab'), message: `lab is "${b.frontmatter.lab ?? '(none)'}" but ${ref} says "${a.frontmatter.lab ?? '(none)'}"` });
  if (a.frontmatter.order !== b.frontmatter.order)
    problems.push({ file, line: keyLine(other.source, 'order'), message: `order is ${b.frontmatter.order} but ${ref} says ${a.frontmatter.order}` });
  const ids = (l: Lesson) => l.outline.steps.map((s) => s.id);
  const ai = ids(a);
  const bi = ids(b);
  const n = Math.max(ai.length, bi.length);
  for (let i = 0; i < n; i++) {
    if (ai[i] === bi[i]) continue;
    const line = b.outline.steps[i]?.line ?? b.outline.steps[b.outline.steps.length - 1]?.line ?? 1;
    problems.push({
      file,
      line,
      message: `step ${i + 1} is ${bi[i] ? `"${bi[i]}"` : 'missing'} but in ${ref} it is ${ai[i] ? `"${ai[i]}"` : 'absent'} (both locales need the same step ids in the same order)`,
    });
    break;
  }
  const answers = (l: Lesson) => l.outline.steps.filter((s) => s.answers.length > 0).map((s) => s.id);
  const aa = answers(a);
  const ba = answers(b);
  for (const id of aa.filter((x) => !ba.includes(x))) {
    const line = b.outline.steps.find((s) => s.id === id)?.line ?? 1;
    problems.push({ file, line, message: `step "${id}" has an <Answer> in ${ref} but not here` });
  }
  for (const id of ba.filter((x) => !aa.includes(x))) {
    const line = b.outline.steps.find((s) => s.id === id)?.line ?? 1;
    problems.push({ file, line, message: `step "${id}" has an <Answer> here but not in ${ref}` });
  }
  return problems;
}

export async function verifyContent(opts: VerifyOptions): Promise<{ problems: ContentProblem[]; lessons: number }> {
  const contentDir = path.resolve(opts.contentDir);
  clearLessonCache();
  const problems: ContentProblem[] = [];
  let entries;
  try {
    entries = await fs.readdir(contentDir, { withFileTypes: true });
  } catch {
    return { problems: [{ file: shown(contentDir), line: 1, message: 'content directory not found' }], lessons: 0 };
  }
  let glossary = opts.glossary;
  if (!glossary) {
    const file = path.join(contentDir, 'glossary.json');
    try {
      glossary = await loadGlossary(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        problems.push({ file: shown(file), line: 1, message: `invalid glossary: ${error instanceof Error ? error.message : String(error)}` });
    }
  }
  if (glossary) problems.push(...checkGlossaryInLabs(opts.labs, glossary));
  const dirs = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  let lessons = 0;
  for (const slug of dirs) {
    if (!lessonSlugPattern.test(slug)) {
      problems.push({ file: shown(path.join(contentDir, slug)), line: 1, message: 'lesson directory names must be kebab-case ([a-z0-9-])' });
      continue;
    }
    lessons++;
    const loaded: Loaded[] = [];
    for (const locale of lessonLocales) {
      const result = await load(contentDir, slug, locale);
      if ('lesson' in result) {
        loaded.push(result);
        problems.push(...checkAgainstLab(result, opts.labs));
        if (locale === 'zh') {
          if (glossary) problems.push(...checkGlossaryInLesson(result, glossary));
          problems.push(...checkRenderedGaps(result));
        }
      } else problems.push(result);
    }
    const [reference, ...others] = loaded;
    if (reference && reference.lesson.locale === lessonLocales[0]) for (const other of others) problems.push(...checkLocalesAgree(reference, other));
  }
  return { problems, lessons };
}

async function main(): Promise<void> {
  const { labs } = await import('../labs/index');
  const contentDir = process.argv[2] ?? path.join(process.cwd(), 'content');
  const { problems, lessons } = await verifyContent({ contentDir, labs });
  for (const p of problems) process.stderr.write(`${formatProblem(p)}\n`);
  if (problems.length > 0) {
    process.stderr.write(`content:verify: ${problems.length} problem(s) in ${lessons} lesson(s)\n`);
    process.exit(1);
  }
  process.stdout.write(`content:verify: ${lessons} lessons × ${lessonLocales.length} locales OK\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
