import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Gauge, Histogram } from './metrics';

test('histogram renders cumulative buckets, sum and count', () => {
  const h = new Histogram('x_seconds', 'help', [0.01, 0.1, 1]);
  for (const v of [0.005, 0.05, 0.5, 5, NaN]) h.observe(v);
  const text = h.render();
  assert.match(text, /x_seconds_bucket\{le="0.01"\} 1/);
  assert.match(text, /x_seconds_bucket\{le="0.1"\} 2/);
  assert.match(text, /x_seconds_bucket\{le="1"\} 3/);
  assert.match(text, /x_seconds_bucket\{le="\+Inf"\} 4/);
  assert.match(text, /x_seconds_count 4/);
  assert.match(text, /x_seconds_sum 5.555/);
});

test('counter labels are escaped; gauges read live values', () => {
  const c = new Counter('y_total', 'help');
  c.inc({ reason: 'a"b\\c' });
  c.inc({ reason: 'a"b\\c' }, 2);
  assert.match(c.render(), /y_total\{reason="a\\"b\\\\c"\} 3/);
  let n = 1;
  const g = new Gauge('z', 'help', () => n);
  n = 7;
  assert.match(g.render(), /^z 7$/m);
});
