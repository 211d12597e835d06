import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readScreenReaderMode, SCREEN_READER_KEY, scrollsWithoutFocus, trapTabTarget, writeScreenReaderMode } from './a11y';

function memoryStorage(): Storage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    get length() {
      return data.size;
    },
    clear: () => data.clear(),
    key: (i: number) => Array.from(data.keys())[i] ?? null,
    getItem: (k: string) => data.get(k) ?? null,
    setItem: (k: string, v: string) => void data.set(k, v),
    removeItem: (k: string) => void data.delete(k),
  };
}

test('screen-reader mode: off by default, saved on and off, survives a new read', () => {
  const storage = memoryStorage();
  assert.equal(readScreenReaderMode(storage), false);
  assert.equal(writeScreenReaderMode(storage, true), true);
  assert.equal(storage.data.get(SCREEN_READER_KEY), 'on');
  assert.equal(readScreenReaderMode(storage), true);
  writeScreenReaderMode(storage, false);
  assert.equal(readScreenReaderMode(storage), false);
});

test('screen-reader mode: no storage or a throwing one is off, and writing says it was not kept', () => {
  assert.equal(readScreenReaderMode(null), false);
  assert.equal(writeScreenReaderMode(undefined, true), false);
  const throwing = {
    getItem: () => {
      throw new Error('SecurityError');
    },
    setItem: () => {
      throw new Error('QuotaExceededError');
    },
  };
  assert.equal(readScreenReaderMode(throwing), false);
  assert.equal(writeScreenReaderMode(throwing, true), false);
});

test('scrollsWithoutFocus: only boxes that scroll and overflow need a Tab stop', () => {
  const box = { scrollWidth: 800, clientWidth: 600, scrollHeight: 100, clientHeight: 100, overflowX: 'auto', overflowY: 'visible' };
  assert.equal(scrollsWithoutFocus(box), true);
  assert.equal(scrollsWithoutFocus({ ...box, scrollWidth: 600 }), false);
  assert.equal(scrollsWithoutFocus({ ...box, scrollWidth: 601 }), false); // sub-pixel rounding
  assert.equal(scrollsWithoutFocus({ ...box, overflowX: 'hidden' }), false);
  assert.equal(scrollsWithoutFocus({ ...box, scrollWidth: 600, overflowY: 'scroll', scrollHeight: 400 }), true);
});

test('trapTabTarget keeps Tab and Shift+Tab inside the dialog', () => {
  assert.equal(trapTabTarget(3, 2, false), 0); // last -> first
  assert.equal(trapTabTarget(3, 0, true), 2); // first -> last
  assert.equal(trapTabTarget(3, 1, false), null); // the browser moves within
  assert.equal(trapTabTarget(3, -1, false), 0); // focus elsewhere (e.g. inside a terminal) -> first
  assert.equal(trapTabTarget(3, -1, true), 2);
  assert.equal(trapTabTarget(0, -1, false), null);
});
