// One sandbox's stalled read must not cost the others (issue 12): the stuck reader is replaced, the
// requests queued behind it are answered by the new one, the stall is charged to its sandbox, and
// nsread is never turned off for everyone because of it. A stand-in reader (python) plays nsread:
// it answers every `procs` request at once, except one naming PID 999999, which it never answers.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { NsReader } from './ns-reader';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsread-stand-in-'));
const binary = path.join(dir, 'nsread');
fs.writeFileSync(
  binary,
  [
    '#!/usr/bin/python3',
    'import sys, time',
    'print(\'{"ready":true}\', flush=True)',
    'for line in sys.stdin:',
    '    parts = line.split()',
    '    if len(parts) >= 3 and parts[1] == "procs" and "999999" in parts[2].split(","):',
    '        time.sleep(3600)',
    '    print(\'{"id":%s,"ok":true,"nsReused":0,"procs":[]}\' % parts[0], flush=True)',
    '',
  ].join('\n'),
  { mode: 0o755 },
);
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('a stalled read retires only the reader: queued requests of others are answered, the stall is charged to its owner', async () => {
  const reader = new NsReader('test', binary);
  const stalls: number[] = [];
  reader.onStall = (owner) => stalls.push(owner);
  try {
    for (let round = 0; round < 5; round++) {
      const stuck = reader.procs([999999], 300, 7);
      // Sent after the stuck one, with more time: it waits behind it, then goes to the new reader.
      const innocent = reader.procs([1], 5_000, 8);
      const [a, b] = await Promise.all([stuck, innocent]);
      assert.deepEqual(a, { ok: false, error: 'nsread timed out' });
      assert.equal(b.ok, true, `round ${round}: the other sandbox's request failed: ${JSON.stringify(b)}`);
    }
    assert.deepEqual(stalls, [7, 7, 7, 7, 7], 'each stall is charged to sandbox 7 only');
    assert.equal(reader.disabled, false, 'five stalls in a minute did not turn the reader off (they are not crashes)');
    const later = await reader.procs([2], 5_000, 8);
    assert.equal(later.ok, true);
  } finally {
    reader.stop();
  }
});

test('a request that times out while waiting behind another fails alone, without retiring the reader', async () => {
  const reader = new NsReader('test', binary);
  const stalls: number[] = [];
  reader.onStall = (owner) => stalls.push(owner);
  try {
    const stuck = reader.procs([999999], 600, 7);
    const behind = reader.procs([1], 200, 8);
    assert.deepEqual(await behind, { ok: false, error: 'nsread timed out (behind another read)' });
    assert.deepEqual(stalls, [], 'the waiting request is not blamed');
    assert.deepEqual(await stuck, { ok: false, error: 'nsread timed out' });
    assert.deepEqual(stalls, [7]);
  } finally {
    reader.stop();
  }
});
