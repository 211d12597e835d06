import assert from 'node:assert/strict';
import { test } from 'node:test';
import { highlight, highlightShell, rehypeHighlight, type Token } from './highlight';

const kinds = (tokens: Token[]) => tokens.filter((t) => t.kind).map((t) => `${t.kind}:${t.text}`);

test('shell: commands, flags, addresses, variables, operators, comments', () => {
  assert.deepEqual(kinds(highlightShell('ip addr add 172.17.0.1/16 dev br0')), ['cmd:ip', 'addr:172.17.0.1/16']);
  assert.deepEqual(kinds(highlightShell('unshare -n sleep 60')), ['cmd:unshare', 'flag:-n', 'num:60']);
  assert.deepEqual(kinds(highlightShell('ps -ef | grep "sleep 60" # find it')), ['cmd:ps', 'flag:-ef', 'op:|', 'cmd:grep', 'str:"sleep 60"', 'comment:# find it']);
  assert.deepEqual(kinds(highlightShell('ls -la /proc/$PID/ns/')), ['cmd:ls', 'flag:-la', 'str:/proc/', 'var:$PID', 'str:/ns/']);
});

test('every grammar gives back exactly the input text', () => {
  const samples: [string, string][] = [
    ['echo $((6*7)) && ls -la /proc/1/ns/ ; x=1 y', 'sh'],
    ['$ ip a\n1: lo: <LOOPBACK> mtu 65536 state DOWN\n# hostname\nnslab', 'console'],
    ['1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536\n    inet 127.0.0.1/8 scope host lo\nnet -> net:[4026532201]', 'text'],
    ['{ "type": "pid", "n": -1.5e3, "ok": true, "x": null }', 'json'],
    ['anything\tat all', 'unknown-lang'],
  ];
  for (const [code, lang] of samples) assert.equal(highlight(code, lang).map((t) => t.text).join(''), code, lang);
});

test('output: interface headers, addresses, ns links and states', () => {
  const out = kinds(highlight('2: eth0@if9: <UP> state UP\n    inet 172.17.0.2/16 brd 172.17.255.255\nnet:[4026531840]', 'text'));
  assert.ok(out.includes('key:eth0@if9'));
  assert.ok(out.includes('addr:172.17.0.2/16'));
  assert.ok(out.includes('kw:UP'));
  assert.ok(out.includes('ns:net:[4026531840]'));
});

test('the rehype plugin turns a fenced block into spans and labels its language', () => {
  const tree = {
    type: 'root',
    children: [
      { type: 'element', tagName: 'pre', properties: {}, children: [{ type: 'element', tagName: 'code', properties: { className: ['language-json'] }, children: [{ type: 'text', value: '{"a": 1}\n' }] }] },
    ],
  };
  rehypeHighlight()(tree);
  const pre = tree.children[0]!;
  assert.equal((pre.properties as Record<string, unknown>).dataLang, 'json');
  const code = pre.children[0]! as { children: { type: string; properties?: { className: string[] } }[] };
  assert.ok(code.children.some((c) => c.properties?.className[0] === 'tok-key'));
});
