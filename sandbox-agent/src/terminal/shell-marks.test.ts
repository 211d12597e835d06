import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ShellMarkParser, stripAnsi, type ParsedCommand } from './shell-marks';

const ESC = '\x1b';
const BEL = '\x07';
const mark = (body: string) => `${ESC}]${body}${BEL}`;

function parse(chunks: string[]): ParsedCommand[] {
  const out: ParsedCommand[] = [];
  const parser = new ShellMarkParser((c) => out.push(c), () => 1000);
  for (const chunk of chunks) parser.push(Buffer.from(chunk, 'utf8'));
  return out;
}

test('records command, exit status and output between C and D', () => {
  const stream =
    mark('133;A') + 'root@nslab:~# ip a\r\n' + mark('133;C') + '1: lo: <LOOPBACK> mtu 65536\r\n' +
    mark('133;D;0') + mark('633;E;ip a') + mark('133;A') + 'root@nslab:~# ';
  const [record, ...rest] = parse([stream]);
  assert.equal(rest.length, 0);
  assert.equal(record?.command, 'ip a');
  assert.equal(record?.exitCode, 0);
  assert.equal(record?.output, '1: lo: <LOOPBACK> mtu 65536\n');
});

test('marks split across chunks at every position still parse', () => {
  const stream = mark('133;C') + 'hello\r\n' + mark('133;D;130') + mark('633;E;sleep 60 \\x3b echo a\\\\b');
  for (let cut = 1; cut < stream.length; cut++) {
    const [record] = parse([stream.slice(0, cut), stream.slice(cut)]);
    assert.equal(record?.command, 'sleep 60 ; echo a\\b', `cut at ${cut}`);
    assert.equal(record?.exitCode, 130);
    assert.equal(record?.output, 'hello\n');
  }
});

test('ST terminator and colours are handled; ANSI is stripped from output', () => {
  const stream = `${ESC}]133;C${ESC}\\` + `${ESC}[1;32mgreen${ESC}[0m\r\n` + `${ESC}]133;D;1${ESC}\\` + `${ESC}]633;E;ls --color${ESC}\\`;
  const [record] = parse([stream]);
  assert.equal(record?.output, 'green\n');
  assert.equal(record?.exitCode, 1);
});

test('an E mark without a finished command is ignored (no forged empty records)', () => {
  assert.equal(parse([mark('633;E;nsenter -t 1 -n ip a')]).length, 0);
});

test('output capture is bounded', () => {
  const big = 'x'.repeat(100_000);
  const [record] = parse([mark('133;C'), big, mark('133;D;0') + mark('633;E;yes')]);
  assert.ok((record?.output.length ?? 0) <= 16 * 1024);
});

test('stripAnsi removes CSI, OSC and carriage returns', () => {
  assert.equal(stripAnsi(`a${ESC}[31mb${ESC}[0m\r\n${ESC}]0;title${BEL}c`), 'ab\nc');
});

test('long plain text around marks, cut at random places, gives the same records as one chunk', () => {
  // The parser jumps over plain text to the next ESC: bytes right before and after an escape, and
  // escapes at chunk edges, must still land in the captured output exactly.
  const text = (n: number) => Array.from({ length: n }, (_, i) => `line ${i}\r\n`).join('');
  const stream =
    mark('133;A') + '# ' + text(50) + mark('133;C') + text(200) + `${ESC}[31mred${ESC}[0m` + text(1800) + `${ESC}[31mred${ESC}[0m` + text(3) + `${ESC}${ESC}[1mx` +
    mark('133;D;0') + mark('633;E;seq 1 2000') + mark('133;A') + '# ' + mark('133;C') + 'tail\r\n' + mark('133;D;2') + mark('633;E;false');
  const whole = parse([stream]);
  assert.equal(whole.length, 2);
  assert.equal(whole[0]?.output, stripAnsi((text(200) + `${ESC}[31mred${ESC}[0m` + text(1800)).slice(0, 16 * 1024)));
  assert.equal(whole[1]?.output, 'tail\n');
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let round = 0; round < 50; round++) {
    const chunks: string[] = [];
    for (let at = 0; at < stream.length; ) {
      const size = 1 + Math.floor(random() * (round % 2 ? 40 : 5000));
      chunks.push(stream.slice(at, at + size));
      at += size;
    }
    assert.deepEqual(parse(chunks), whole, `round ${round}`);
  }
});
