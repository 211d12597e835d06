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
