import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeFrame, encodeInputFrame, encodeOutputFrame, encodeOutputFrameFromChunks, limits, parseClientMessage } from './index';

test('valid client messages parse', () => {
  for (const message of [
    { type: 'auth', token: 't', resume: [{ terminal: 0, offset: 10 }], size: { cols: 80, rows: 24 } },
    { type: 'input', terminal: 1, data: 'ls\r' },
    { type: 'resize', terminal: 0, cols: 120, rows: 40 },
    { type: 'ack', terminal: 0, offset: 65536 },
    { type: 'check' },
    { type: 'answer', stepId: 'find-pid', value: '42' },
    { type: 'restart', terminal: 0 },
    { type: 'ping', id: 1 },
  ]) {
    const parsed = parseClientMessage(JSON.stringify(message));
    assert.equal(parsed.ok, true, JSON.stringify(message));
  }
});

test('bad messages are rejected with a clear reason', () => {
  const cases: [string, RegExp][] = [
    ['{not json', /not valid JSON/],
    ['{"type":"nope"}', /invalid message/],
    ['{"type":"input","terminal":0}', /data/],
    ['{"type":"input","terminal":7,"data":"x"}', /terminal/],
    ['{"type":"input","terminal":"0","data":"x"}', /terminal/],
    ['{"type":"input","terminal":0,"data":""}', /data/],
    [JSON.stringify({ type: 'input', terminal: 0, data: 'x'.repeat(limits.maxInputBytes + 1) }), /data/],
    ['[1,2,3]', /invalid message/],
    ['null', /invalid message/],
    ['{"type":"answer","stepId":"","value":"1"}', /stepId/],
  ];
  for (const [text, reason] of cases) {
    const parsed = parseClientMessage(text);
    assert.equal(parsed.ok, false, text);
    if (!parsed.ok) assert.match(parsed.error, reason, text);
  }
});

test('resize values are bounded: 0, -1, NaN, Infinity, 1e9, "80", 80.5 and missing all fail', () => {
  for (const cols of [0, -1, 'NaN', 1e9, '80', 80.5, null, undefined]) {
    const parsed = parseClientMessage(JSON.stringify({ type: 'resize', terminal: 0, cols, rows: 24 }));
    assert.equal(parsed.ok, false, String(cols));
  }
  // JSON has no Infinity/NaN literals: they arrive as invalid JSON.
  assert.equal(parseClientMessage('{"type":"resize","terminal":0,"cols":Infinity,"rows":24}').ok, false);
});

test('deeply nested JSON is rejected without crashing', () => {
  const deep = '['.repeat(10_000) + ']'.repeat(10_000);
  assert.equal(parseClientMessage(deep).ok, false);
});

test('binary frames round-trip and malformed ones are refused', () => {
  const out = encodeOutputFrame(1, 123456, new Uint8Array([104, 105]));
  const decoded = decodeFrame(out);
  assert.ok(!('error' in decoded) && decoded.kind === 'output');
  if (!('error' in decoded) && decoded.kind === 'output') {
    assert.equal(decoded.terminal, 1);
    assert.equal(decoded.offset, 123456);
    assert.deepEqual([...decoded.data], [104, 105]);
  }
  const input = decodeFrame(encodeInputFrame(0, new TextEncoder().encode('ls')));
  assert.ok(!('error' in input) && input.kind === 'input');
  for (const bad of [new Uint8Array([]), new Uint8Array([2]), new Uint8Array([2, 0]), new Uint8Array([9, 0, 1]), new Uint8Array([2, 9, 1]), new Uint8Array([1, 0, 1, 2])]) {
    assert.ok('error' in decodeFrame(bad), `[${[...bad]}]`);
  }
});

test('an output frame from several chunks is the same frame as from their concatenation', () => {
  const chunks = [new Uint8Array([1, 2, 3]), new Uint8Array([]), new Uint8Array([4]), new Uint8Array([5, 6])];
  const joined = encodeOutputFrameFromChunks(2, 2 ** 40 + 7, chunks);
  assert.deepEqual([...joined], [...encodeOutputFrame(2, 2 ** 40 + 7, new Uint8Array([1, 2, 3, 4, 5, 6]))]);
  const decoded = decodeFrame(joined);
  assert.ok(!('error' in decoded) && decoded.kind === 'output' && decoded.offset === 2 ** 40 + 7 && decoded.data.length === 6);
});
