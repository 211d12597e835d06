import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffMs, commandInput, unseenPart, utf8Chunks } from './output-offsets';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

test('unseenPart writes a fresh frame whole', () => {
  const part = unseenPart(0, bytes('hello'), 0);
  assert.ok(part);
  assert.equal(text(part.bytes), 'hello');
  assert.equal(part.end, 5);
  assert.equal(part.gapBytes, 0);
});

test('unseenPart skips a replayed frame already rendered', () => {
  assert.equal(unseenPart(0, bytes('hello'), 5), null);
  assert.equal(unseenPart(2, bytes('llo'), 10), null);
});

test('unseenPart keeps only the new tail of an overlapping replay', () => {
  const part = unseenPart(3, bytes('lo world'), 5);
  assert.ok(part);
  assert.equal(text(part.bytes), ' world');
  assert.equal(part.end, 11);
});

test('unseenPart reports a gap when the replay buffer no longer reaches back', () => {
  const part = unseenPart(100, bytes('abc'), 40);
  assert.ok(part);
  assert.equal(part.gapBytes, 60);
  assert.equal(text(part.bytes), 'abc');
});

test('backoffMs grows from 0.5 s to a 10 s cap', () => {
  assert.equal(backoffMs(0, 0.5), 500);
  assert.equal(backoffMs(1, 0.5), 1000);
  assert.equal(backoffMs(3, 0.5), 4000);
  assert.equal(backoffMs(10, 0.5), 10_000);
  assert.equal(backoffMs(30, 0.99), 10_000);
  assert.ok(backoffMs(2, 0) >= 1600 && backoffMs(2, 0) <= 2000);
});

test('utf8Chunks never splits a character', () => {
  const input = '命名空间'.repeat(10); // 3 bytes per character
  const chunks = utf8Chunks(input, 10);
  for (const chunk of chunks) assert.ok(chunk.length <= 10);
  assert.equal(chunks.map(text).join(''), input);
  assert.deepEqual(utf8Chunks('', 10), []);
});

test('commandInput submits with a carriage return, or pastes without', () => {
  assert.equal(commandInput('unshare -n sleep 60\n', true), 'unshare -n sleep 60\r');
  assert.equal(commandInput('ls -la /proc/PID/ns/', false), 'ls -la /proc/PID/ns/');
});
