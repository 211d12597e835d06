import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bundleMDX } from 'mdx-bundler';
import { getMDXComponent } from 'mdx-bundler/client';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { cjkGap, remarkCjkLineBreaks } from './cjk-line-breaks';

type N = { type: string; value?: string; children?: N[] };
const text = (value: string): N => ({ type: 'text', value });
const para = (...children: N[]): N => ({ type: 'paragraph', children });
const run = (tree: N): N => {
  remarkCjkLineBreaks()(tree);
  return tree;
};
const values = (node: N): string[] => (node.children ?? []).flatMap((c) => (c.children ? values(c) : [c.value ?? '']));

test('a soft break between two CJK characters is dropped; between words it stays', () => {
  assert.deepEqual(values(run(para(text('终端看起来像\n卡住了')))), ['终端看起来像卡住了']);
  assert.deepEqual(values(run(para(text('a soft\nbreak')))), ['a soft\nbreak']);
  // Chinese next to a Latin word: the break stays, and renders as the usual space.
  assert.deepEqual(values(run(para(text('你的\nshell 的 PID')))), ['你的\nshell 的 PID']);
});

test('beside full-width punctuation the break goes whatever the neighbour', () => {
  assert.deepEqual(values(run(para(text('（pid、mount、\ncgroup）')))), ['（pid、mount、cgroup）']);
  assert.deepEqual(values(run(para(text('失败：\n'), { type: 'inlineCode', value: 'fork: Cannot allocate memory' }))), [
    '失败：',
    'fork: Cannot allocate memory',
  ]);
});

test('across inline formatting, but not next to inline code or between blocks', () => {
  const strong = (v: string): N => ({ type: 'strong', children: [text(v)] });
  assert.deepEqual(values(run(para(text('在\n'), strong('终端'), text('\n里运行')))), ['在', '终端', '里运行']);
  // `**终端 2**\n中`: a digit before the break, so it stays (终端 2 中, the usual spacing).
  assert.deepEqual(values(run(para(strong('终端 2'), text('\n中运行')))), ['终端 2', '\n中运行']);
  assert.deepEqual(values(run(para(strong('共享'), text('\n'), strong('哪些')))), ['共享', '', '哪些']);
  assert.deepEqual(values(run(para(text('运行\n'), { type: 'inlineCode', value: 'ls' }))), ['运行\n', 'ls']);
  const root: N = { type: 'root', children: [para(text('第一段。')), para(text('第二段'))] };
  assert.deepEqual(values(run(root)), ['第一段。', '第二段']);
});

test('through the real MDX pipeline: rendered zh text has no gap, English keeps its spaces', async () => {
  const source =
    '<Callout kind="info">\n一个没有特权的\n普通用户，在沙箱\n外部。\n</Callout>\n\nA soft\nbreak **在\n终端**里。\n';
  const { code } = await bundleMDX({
    source,
    mdxOptions(options) {
      options.remarkPlugins = [...(options.remarkPlugins ?? []), remarkCjkLineBreaks];
      return options;
    },
  });
  const Callout = ({ children }: { children?: unknown }) => createElement('div', null, children as never);
  const html = renderToStaticMarkup(createElement(getMDXComponent(code), { components: { Callout } }));
  const plain = html.replace(/<[^>]*>/g, '');
  assert.match(plain, /一个没有特权的普通用户，在沙箱外部。/);
  assert.match(plain, /A soft\nbreak 在终端里。/);
  const blocks = html.split(/<\/?(?:p|div)>/).map((b) => b.replace(/<[^>]*>/g, ''));
  for (const block of blocks) assert.ok(!cjkGap.test(block), JSON.stringify(block));
});

test('cjkGap: stray gaps only, not spacing around Latin words or code', () => {
  for (const gap of ['看起来像 卡住了', '沙箱 外部', '嵌套的。 每个', '、 cgroup']) assert.ok(cjkGap.test(gap), gap);
  for (const fine of ['你的 shell 的 PID', '终端 1 中', '（`exit` 会）', '| 挂载（mnt） | 挂载点 |'])
    assert.ok(!cjkGap.test(fine), fine);
});
