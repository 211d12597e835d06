import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeParam } from './url-param';

test('malformed percent-encoding is null, not a URIError', () => {
  assert.equal(decodeParam('%E0'), null);
  assert.equal(decodeParam('%'), null);
  assert.equal(decodeParam('K7P-3QX'), 'K7P-3QX');
  assert.equal(decodeParam('%E4%B8%AD'), '中');
});
