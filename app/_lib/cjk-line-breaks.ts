// A remark plugin that drops a soft line break between two CJK characters. Markdown turns a line
// break inside a paragraph into whitespace, which a browser shows as a space: fine between English
// words, a stray gap in Chinese ("看起来像 卡住了"). Lesson sources wrap lines at ~100 columns, so
// without this every wrapped zh sentence gets one. The break is dropped inside a text node and across
// the edges of inline formatting (`像\n**卡住**了`), never next to inline code, a hard break or
// anything that is not text, and never between blocks.
// Written here rather than taken from npm: the only package for it (remark-join-cjk-lines) is built
// on unist-util-visit 2 (CommonJS, 2020) and a new dependency would need a shared node_modules.
// Pure: no DOM and no Node APIs.

/** CJK ideographs, kana, Hangul, CJK punctuation (、。「」) and full-width forms (，：（）). */
const cjk = '\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Hangul}\\u3000-\\u303f\\uff00-\\uffef';
/** Full-width punctuation carries its own spacing: no gap after `、` or before `（`, whatever the neighbour. */
const punct = '\\u3000-\\u303f\\uff00-\\uff0f\\uff1a-\\uff20\\uff3b-\\uff40\\uff5b-\\uff65';
const ws = '[ \\t]*\\r?\\n[ \\t]*';
const breakInside = new RegExp(`(?<=[${cjk}])${ws}(?=[${cjk}])|(?<=[${punct}])${ws}(?=\\S)|(?<=\\S)${ws}(?=[${punct}])`, 'gu');
const trailingBreak = new RegExp(`(?<=\\S)${ws}$`, 'u');
const leadingBreak = new RegExp(`^${ws}(?=\\S)`, 'u');
const isCjk = new RegExp(`^[${cjk}]$`, 'u');
const isPunct = new RegExp(`^[${punct}]$`, 'u');

/**
 * A stray gap in rendered Chinese: whitespace between two CJK characters, or beside full-width
 * punctuation when the other side is a letter or digit (`、 cgroup`). ASCII punctuation, markup
 * and code chips on the other side are not gaps.
 */
export const cjkGap = new RegExp(`[${cjk}]\\s+[${cjk}]|[${punct}]\\s+[\\p{L}\\p{N}]|[\\p{L}\\p{N}]\\s+[${punct}]`, 'u');

interface Node {
  type: string;
  value?: unknown;
  children?: Node[];
}

/** Inline containers whose text runs on from their neighbours' (`像**卡住**了`). */
const transparent = new Set(['strong', 'emphasis', 'delete', 'link', 'linkReference', 'mdxJsxTextElement']);
/** Nodes whose children are inline content: each starts a new run of text. */
const phrasingParents = new Set(['paragraph', 'heading', 'tableCell']);

type Item = { text: Node } | { other: Node };

function collect(node: Node, out: Item[]): void {
  for (const child of node.children ?? []) {
    if (child.type === 'text' && typeof child.value === 'string') out.push({ text: child });
    else if (transparent.has(child.type)) collect(child, out);
    else out.push({ other: child }); // inline code, a hard break, an expression...
  }
}

/** The visible character at one edge of an item: text's own, a code chip's first/last, none for the rest. */
function edge(item: Item | undefined, side: 'first' | 'last'): string | undefined {
  if (!item) return undefined;
  const node = 'text' in item ? item.text : item.other;
  if (node.type !== 'text' && node.type !== 'inlineCode') return undefined;
  const chars = [...String(node.value ?? '').trim()];
  return side === 'first' ? chars[0] : chars[chars.length - 1];
}

/** Drop the break between `left` and `right` characters? */
function joins(left: string | undefined, right: string | undefined): boolean {
  if (left === undefined || right === undefined) return false;
  return (isCjk.test(left) && isCjk.test(right)) || isPunct.test(left) || isPunct.test(right);
}

function joinRun(items: Item[]): void {
  items.forEach((item, i) => {
    if (!('text' in item)) return;
    const node = item.text;
    let value = (node.value as string).replace(breakInside, '');
    const trimmed = value.trim();
    if (trimmed !== '') {
      const chars = [...trimmed];
      if (trailingBreak.test(value) && joins(chars[chars.length - 1], edge(items[i + 1], 'first')))
        value = value.replace(trailingBreak, '');
      if (leadingBreak.test(value) && joins(edge(items[i - 1], 'last'), chars[0])) value = value.replace(leadingBreak, '');
    } else if (/\n/.test(value) && joins(edge(items[i - 1], 'last'), edge(items[i + 1], 'first'))) {
      value = ''; // a text node that is only the break, between `**像**` and `**卡住**`
    }
    node.value = value;
  });
}

function walk(node: Node): void {
  // Text straight inside a JSX element written on one line (`<Explain>…</Explain>`) runs too.
  if (phrasingParents.has(node.type) || (node.children ?? []).some((c) => c.type === 'text')) {
    const items: Item[] = [];
    collect(node, items);
    joinRun(items);
    return;
  }
  for (const child of node.children ?? []) walk(child);
}

/** The remark plugin (unified attacher): `remarkPlugins: [remarkCjkLineBreaks]`. */
export function remarkCjkLineBreaks() {
  return (tree: Node): void => walk(tree);
}
