// Lesson loader: reads content/<slug>/<locale>.mdx, validates its frontmatter and its use of the
// lesson components, and bundles it with mdx-bundler. Server-only in spirit (fs + esbuild); the app
// imports it through lessons.server.ts, which adds `import 'server-only'`. This file has no such
// import so that node:test can load it directly with tsx.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { bundleMDX } from 'mdx-bundler';
import { z } from 'zod';
import remarkGfm from 'remark-gfm';
import { remarkCjkLineBreaks } from './cjk-line-breaks';
import { rehypeHighlight } from './highlight';

export const lessonLocales = ['en', 'zh'] as const;
export const lessonLocaleSchema = z.enum(lessonLocales);
export type LessonLocale = z.infer<typeof lessonLocaleSchema>;

export const lessonSlugPattern = /^[a-z0-9-]+$/;
export const lessonSlugSchema = z.string().regex(lessonSlugPattern);

export const lessonFrontmatterSchema = z.strictObject({
  title: z.string().trim().min(1),
  summary: z.string().trim().min(1),
  /** The lab (labs/<id>) whose terminals and checks accompany the lesson; absent for reading-only lessons. */
  lab: lessonSlugSchema.optional(),
  order: z.number().int().nonnegative(),
  minutes: z.number().int().positive().max(240),
  locale: lessonLocaleSchema,
});
export type LessonFrontmatter = z.infer<typeof lessonFrontmatterSchema>;

/** The components the UI provides to lessons; any other capitalised JSX name is an error. */
export const lessonComponentNames = [
  'Step',
  'Command',
  'Answer',
  'Callout',
  'Hint',
  'Quiz',
  'Choice',
  'Explain',
  'Terminal',
  'NamespaceMap',
  'Diagram',
] as const;
export const calloutKinds = ['info', 'warning', 'tip'] as const;
export const diagramNames = ['nsproxy', 'bridge'] as const;
export const namespaceMapViews = ['network', 'namespaces', 'table'] as const;

export interface LessonCommand {
  /** 1-based terminal index. */
  terminal: number;
  text: string;
  placeholder?: string;
}

export interface LessonStepOutline {
  id: string;
  /** 1-based line of the <Step> tag in the source. */
  line: number;
  /** Steps referenced by <Answer step="..."> inside this step. */
  answers: string[];
  commands: LessonCommand[];
}

export interface LessonOutline {
  steps: LessonStepOutline[];
  /** Commands outside any <Step>. */
  commands: LessonCommand[];
}

export interface Lesson {
  slug: string;
  locale: LessonLocale;
  frontmatter: LessonFrontmatter;
  /** mdx-bundler output: pass to getMDXComponent from 'mdx-bundler/client'. */
  code: string;
  /** Steps, answers and commands as parsed from the MDX tree (used to cross-check the lab). */
  outline: LessonOutline;
}

export interface LessonMeta {
  slug: string;
  locale: LessonLocale;
  frontmatter: LessonFrontmatter;
}

/** No such lesson: bad slug, bad locale or missing file. Routes turn it into a 404. */
export class LessonNotFoundError extends Error {
  readonly code = 'LESSON_NOT_FOUND';
  constructor(
    readonly slug: string,
    readonly locale: string,
  ) {
    super(`lesson not found: ${JSON.stringify(slug)} (${JSON.stringify(locale)})`);
    this.name = 'LessonNotFoundError';
  }
}

/** The lesson file exists but is invalid; the message starts with `file:line:column:`. */
export class LessonSourceError extends Error {
  readonly code = 'LESSON_INVALID';
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}:${column}: ${reason}`);
    this.name = 'LessonSourceError';
  }
}

export function contentDir(): string {
  return path.resolve(process.env.NSLAB_CONTENT_DIR ?? path.join(process.cwd(), 'content'));
}

function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
}

// ---------------------------------------------------------------------------------------------
// Cheap source scanning (no MDX parse): used by tests and tooling. Code (fenced and inline) is
// ignored so that examples of the syntax do not count.

function stripCode(source: string): string {
  const blank = (s: string) => s.replace(/[^\n]/g, ' ');
  return source
    .replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, blank)
    .replace(/`[^`\n]*`/g, blank);
}

/** Ids of every <Step id="..."> in source order. */
export function lessonStepIds(source: string): string[] {
  return [...stripCode(source).matchAll(/<Step\s+[^>]*?\bid=["']([^"']+)["']/g)].map(
    (m) => m[1] ?? '',
  );
}

/** Step ids referenced by every <Answer step="..."> in source order. */
export function lessonAnswerSteps(source: string): string[] {
  return [...stripCode(source).matchAll(/<Answer\s+[^>]*?\bstep=["']([^"']+)["']/g)].map(
    (m) => m[1] ?? '',
  );
}

// ---------------------------------------------------------------------------------------------
// MDX tree validation (runs as a remark plugin inside the real MDX parse).

interface Point {
  line: number;
  column: number;
}
interface MdNode {
  type: string;
  name?: string | null;
  value?: unknown;
  attributes?: MdAttribute[];
  children?: MdNode[];
  position?: { start: Point; end: Point };
}
interface MdAttribute {
  type: string;
  name?: string;
  value?: string | { type: string; value: string } | null;
  position?: { start: Point; end: Point };
}
interface VFileLike {
  fail(reason: string, place?: unknown): never;
}

function isJsx(node: MdNode): boolean {
  return node.type === 'mdxJsxFlowElement' || node.type === 'mdxJsxTextElement';
}

function attr(node: MdNode, name: string): MdAttribute | undefined {
  return node.attributes?.find((a) => a.type === 'mdxJsxAttribute' && a.name === name);
}

function textOf(node: MdNode): string {
  if (node.type === 'text' || node.type === 'inlineCode') return String(node.value ?? '');
  return (node.children ?? []).map(textOf).join('');
}

function outlinePlugin(outline: LessonOutline) {
  return () => (tree: MdNode, file: VFileLike) => {
    const fail = (reason: string, node: MdNode | MdAttribute): never =>
      file.fail(reason, node.position);
    const stringAttr = (node: MdNode, name: string, required: boolean): string | undefined => {
      const a = attr(node, name);
      if (!a) {
        if (required) fail(`<${node.name}> needs a ${name}="..." attribute`, node);
        return undefined;
      }
      if (typeof a.value !== 'string') fail(`<${node.name}> ${name} must be a plain string`, a);
      return a.value as string;
    };
    const seen = new Set<string>();

    const visit = (node: MdNode, step: LessonStepOutline | undefined): void => {
      let inner = step;
      if (isJsx(node) && node.name && /^[A-Z]/.test(node.name)) {
        switch (node.name) {
          case 'Step': {
            if (step) fail(`<Step id="${step.id}"> cannot contain another <Step>`, node);
            const id = stringAttr(node, 'id', true) ?? '';
            if (!lessonSlugPattern.test(id)) fail(`step id "${id}" must be kebab-case`, node);
            if (seen.has(id)) fail(`duplicate step id "${id}"`, node);
            seen.add(id);
            inner = { id, line: node.position?.start.line ?? 0, answers: [], commands: [] };
            outline.steps.push(inner);
            break;
          }
          case 'Answer': {
            const target = stringAttr(node, 'step', true) ?? '';
            if (!step || step.id !== target)
              fail(`<Answer step="${target}"> must sit inside <Step id="${target}">`, node);
            step?.answers.push(target);
            break;
          }
          case 'Command': {
            const a = attr(node, 'terminal');
            const raw =
              a && a.value && typeof a.value === 'object' ? a.value.value.trim() : undefined;
            if (!a || raw === undefined || !/^[1-9]$/.test(raw))
              fail('<Command> needs terminal={N} with N a terminal number from 1', a ?? node);
            const placeholder = stringAttr(node, 'placeholder', false);
            const text = textOf(node).trim();
            if (!text) fail('<Command> is empty', node);
            if (placeholder !== undefined && !text.includes(placeholder))
              fail(`<Command> placeholder "${placeholder}" does not occur in "${text}"`, node);
            const command: LessonCommand = { terminal: Number(raw), text };
            if (placeholder !== undefined) command.placeholder = placeholder;
            (step ? step.commands : outline.commands).push(command);
            return; // its children are the command text
          }
          case 'Hint': {
            if (!step) fail('<Hint> must sit inside a <Step> (it unlocks with time on that step)', node);
            const a = attr(node, 'after');
            const raw = a && a.value && typeof a.value === 'object' ? a.value.value.trim() : undefined;
            if (a && (raw === undefined || !/^\d{1,4}$/.test(raw)))
              fail('<Hint after={N}>: N is the number of seconds on the step before it unlocks', a);
            break;
          }
          case 'Quiz': {
            const choices = (node.children ?? []).filter((c) => isJsx(c) && c.name === 'Choice');
            if (choices.length < 2) fail('<Quiz> needs at least two <Choice> children', node);
            if (!choices.some((c) => attr(c, 'correct'))) fail('<Quiz>: mark the right <Choice> with `correct`', node);
            stringAttr(node, 'id', false);
            break;
          }
          case 'Choice':
          case 'Explain':
            // Checked where their <Quiz> is; outside one they mean nothing.
            break;
          case 'Terminal': {
            const a = attr(node, 'n');
            const raw = a && a.value && typeof a.value === 'object' ? a.value.value.trim() : undefined;
            if (!a || raw === undefined || !/^[1-3]$/.test(raw)) fail('<Terminal n={N}> needs N from 1 to 3', a ?? node);
            break;
          }
          case 'NamespaceMap': {
            const view = stringAttr(node, 'view', false);
            if (view !== undefined && !(namespaceMapViews as readonly string[]).includes(view))
              fail(`<NamespaceMap view="${view}">: view must be one of ${namespaceMapViews.join('|')}`, node);
            stringAttr(node, 'focus', false);
            stringAttr(node, 'highlight', false);
            break;
          }
          case 'Diagram': {
            const name = stringAttr(node, 'name', true) ?? '';
            if (!(diagramNames as readonly string[]).includes(name))
              fail(`<Diagram name="${name}">: name must be one of ${diagramNames.join('|')}`, node);
            break;
          }
          case 'Callout': {
            const kind = stringAttr(node, 'kind', true) ?? '';
            if (!(calloutKinds as readonly string[]).includes(kind))
              fail(`<Callout kind="${kind}">: kind must be one of ${calloutKinds.join('|')}`, node);
            break;
          }
          default:
            fail(
              `unknown component <${node.name}>; lessons may use ${lessonComponentNames.map((n) => `<${n}>`).join(', ')}`,
              node,
            );
        }
      }
      for (const child of node.children ?? []) visit(child, inner);
    };
    visit(tree, undefined);
  };
}

// ---------------------------------------------------------------------------------------------
// Frontmatter validation with line numbers.

function frontmatterLine(source: string, key: string | undefined): number {
  if (key === undefined) return 1;
  const lines = source.split('\n');
  for (let i = 1; i < lines.length && lines[i]?.trim() !== '---'; i++) {
    if (new RegExp(`^${key.replace(/[^\w-]/g, '')}\\s*:`).test(lines[i] ?? '')) return i + 1;
  }
  return 1;
}

function validateFrontmatter(
  data: unknown,
  source: string,
  file: string,
  locale: LessonLocale,
): LessonFrontmatter {
  const parsed = lessonFrontmatterSchema.safeParse(data);
  if (!parsed.success) {
    // Report every issue; the error's position is the first one's key.
    const issues = parsed.error.issues.map((issue) => {
      const key = issue.code === 'unrecognized_keys' ? issue.keys[0] : issue.path[0]?.toString();
      const name = issue.path.length ? issue.path.join('.') : (key ?? '(root)');
      return { line: frontmatterLine(source, key), text: `${name}: ${issue.message}` };
    });
    throw new LessonSourceError(
      displayPath(file),
      issues[0]?.line ?? 1,
      1,
      `invalid frontmatter: ${issues.map((i) => i.text).join('; ')}`,
    );
  }
  if (parsed.data.locale !== locale) {
    throw new LessonSourceError(
      displayPath(file),
      frontmatterLine(source, 'locale'),
      1,
      `invalid frontmatter: locale is "${parsed.data.locale}" but the file is ${locale}.mdx`,
    );
  }
  return parsed.data;
}

// ---------------------------------------------------------------------------------------------
// Bundling.

interface EsbuildLocation {
  file?: string;
  line?: number;
  column?: number;
}
interface EsbuildMessage {
  text?: string;
  location?: EsbuildLocation | null;
  notes?: { text?: string }[];
}

function toSourceError(error: unknown, file: string): LessonSourceError {
  const shown = displayPath(file);
  const e = error as {
    errors?: EsbuildMessage[];
    mark?: { line?: number; column?: number };
    reason?: string;
    message?: string;
  };
  const first = Array.isArray(e?.errors) ? e.errors[0] : undefined;
  if (first) {
    // @mdx-js/esbuild puts "line:col: reason" of the vfile message in text; keep the reason only.
    const text = (first.text ?? 'build failed')
      .replace(/^Cannot process MDX file with esbuild:\s*/, '')
      .replace(/^(?:[^\n]*?:)?\d+:\d+(?:-\d+:\d+)?:\s*/, '')
      .trim();
    const line = first.location?.line ?? 1;
    const column = (first.location?.column ?? 0) + 1; // esbuild columns are 0-based
    return new LessonSourceError(shown, line, column, text);
  }
  if (e?.mark && typeof e.mark.line === 'number') {
    // js-yaml (via gray-matter): 0-based line in a buffer that starts with the newline ending the
    // opening `---`, so buffer line n is file line n + 1.
    return new LessonSourceError(
      shown,
      e.mark.line + 1,
      (e.mark.column ?? 0) + 1,
      `invalid frontmatter YAML: ${e.reason ?? e.message ?? 'parse error'}`,
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new LessonSourceError(shown, 1, 1, message);
}

async function compileLesson(
  slug: string,
  locale: LessonLocale,
  file: string,
  source: string,
): Promise<Lesson> {
  const outline: LessonOutline = { steps: [], commands: [] };
  let result: Awaited<ReturnType<typeof bundleMDX>>;
  try {
    result = await bundleMDX({
      source: { value: source, path: file },
      cwd: path.dirname(file),
      mdxOptions(options) {
        // GitHub-flavoured Markdown: the lessons' tables (namespace-types, clone-setns-unshare) are pipe tables.
        options.remarkPlugins = [...(options.remarkPlugins ?? []), remarkGfm, remarkCjkLineBreaks, outlinePlugin(outline)];
        options.rehypePlugins = [...(options.rehypePlugins ?? []), rehypeHighlight];
        return options;
      },
      esbuildOptions(options) {
        options.logLevel = 'silent'; // errors are rethrown below with file:line
        options.charset = 'utf8'; // keep Chinese text as text, not \uXXXX escapes
        return options;
      },
    });
  } catch (error) {
    throw toSourceError(error, file);
  }
  const frontmatter = validateFrontmatter(result.frontmatter, source, file, locale);
  return { slug, locale, frontmatter, code: result.code, outline };
}

interface CacheEntry {
  stamp: string;
  lesson: Promise<Lesson>;
}
const cache = new Map<string, CacheEntry>();

async function lessonFile(slug: string, locale: string): Promise<string> {
  if (!lessonSlugPattern.test(slug) || !lessonLocaleSchema.safeParse(locale).success) {
    throw new LessonNotFoundError(slug, locale);
  }
  const root = contentDir();
  const file = path.join(root, slug, `${locale}.mdx`);
  // Belt and braces: the slug regex already excludes separators and dots; also refuse symlinks
  // that leave the content directory.
  try {
    const [realRoot, realFile] = await Promise.all([fs.realpath(root), fs.realpath(file)]);
    if (!realFile.startsWith(realRoot + path.sep)) throw new LessonNotFoundError(slug, locale);
  } catch (error) {
    if (error instanceof LessonNotFoundError) throw error;
    throw new LessonNotFoundError(slug, locale);
  }
  return file;
}

/** Load and bundle one lesson; cached in memory by file until its mtime or size changes. */
export async function getLesson(slug: string, locale: LessonLocale): Promise<Lesson> {
  const file = await lessonFile(slug, locale);
  let stat;
  try {
    stat = await fs.stat(file);
  } catch {
    throw new LessonNotFoundError(slug, locale);
  }
  if (!stat.isFile()) throw new LessonNotFoundError(slug, locale);
  const key = file;
  const stamp = `${stat.mtimeMs}:${stat.size}`;
  const hit = cache.get(key);
  if (hit && hit.stamp === stamp) return hit.lesson;

  const lesson = fs
    .readFile(file, 'utf8')
    .then((source) => compileLesson(slug, locale, file, source));
  cache.set(key, { stamp, lesson });
  // Failures are not kept: the next request retries (after the author fixes the file).
  lesson.catch(() => {
    if (cache.get(key)?.lesson === lesson) cache.delete(key);
  });
  return lesson;
}

/** Frontmatter of every lesson available in `locale`, sorted by order (then slug). */
export async function listLessons(locale: LessonLocale): Promise<LessonMeta[]> {
  if (!lessonLocaleSchema.safeParse(locale).success) return [];
  let entries;
  try {
    entries = await fs.readdir(contentDir(), { withFileTypes: true });
  } catch {
    return [];
  }
  const slugs = entries
    .filter((e) => e.isDirectory() && lessonSlugPattern.test(e.name))
    .map((e) => e.name);
  const lessons = await Promise.all(
    slugs.map(async (slug) => {
      try {
        const { frontmatter } = await getLesson(slug, locale);
        return { slug, locale, frontmatter } satisfies LessonMeta;
      } catch (error) {
        if (error instanceof LessonNotFoundError) return undefined; // not translated yet
        throw error;
      }
    }),
  );
  return lessons
    .filter((l): l is LessonMeta => l !== undefined)
    .sort((a, b) => a.frontmatter.order - b.frontmatter.order || a.slug.localeCompare(b.slug));
}

/** For tests: forget every cached bundle. */
export function clearLessonCache(): void {
  cache.clear();
}
