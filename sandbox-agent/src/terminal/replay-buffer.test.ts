import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReplayBuffer } from './replay-buffer';

test('keeps everything below capacity with absolute offsets', () => {
  const buffer = new ReplayBuffer(10);
  buffer.append(Buffer.from('abc'));
  buffer.append(Buffer.from('def'));
  assert.equal(buffer.start, 0);
  assert.equal(buffer.end, 6);
  assert.deepEqual(buffer.readFrom(0), { offset: 0, data: Buffer.from('abcdef') });
  assert.deepEqual(buffer.readFrom(4), { offset: 4, data: Buffer.from('ef') });
  assert.equal(buffer.readFrom(6).data.length, 0);
  assert.equal(buffer.readFrom(99).offset, 6);
});

test('drops the oldest bytes beyond capacity and moves start forward', () => {
  const buffer = new ReplayBuffer(5);
  buffer.append(Buffer.from('abc'));
  buffer.append(Buffer.from('defg'));
  assert.equal(buffer.start, 2);
  assert.equal(buffer.end, 7);
  assert.deepEqual(buffer.readFrom(0), { offset: 2, data: Buffer.from('cdefg') });
});

test('a single chunk larger than capacity keeps only its tail', () => {
  const buffer = new ReplayBuffer(4);
  buffer.append(Buffer.from('xy'));
  buffer.append(Buffer.from('0123456789'));
  assert.equal(buffer.end, 12);
  assert.deepEqual(buffer.readFrom(0), { offset: 8, data: Buffer.from('6789') });
});

test('memory stays bounded under a flood', () => {
  const buffer = new ReplayBuffer(1024);
  for (let i = 0; i < 10_000; i++) buffer.append(Buffer.alloc(100, i % 256));
  assert.equal(buffer.end, 1_000_000);
  assert.equal(buffer.readFrom(0).data.length, 1024);
});

test('rejects a bad capacity', () => {
  assert.throws(() => new ReplayBuffer(0), RangeError);
});
