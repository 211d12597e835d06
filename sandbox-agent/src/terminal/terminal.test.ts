// A Terminal on a real PTY (a host shell, no sandbox): output coalescing must keep offsets exact,
// frames identical to the stream, the replay buffer offset-exact and shell marks parsed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeFrame, limits } from '../../protocol/index';
import { INPUT_QUEUE_BYTES, OUTPUT_FRAME_BYTES, Terminal } from './terminal';
import type { ParsedCommand } from './shell-marks';

function startTerminal(script: string, onInputDropped?: (terminal: number, bytes: number) => void) {
  const frames: { offset: number; data: Buffer }[] = [];
  const commands: ParsedCommand[] = [];
  let exited: () => void = () => {};
  const exit = new Promise<void>((resolve) => (exited = resolve));
  const terminal = new Terminal(
    1,
    () => ({ file: '/bin/bash', args: ['--noprofile', '--norc', '-c', script], env: { PATH: '/usr/bin:/bin', TERM: 'xterm-256color' }, cwd: '/' }),
    {
      onOutput: (index, offset, data, frame) => {
        const decoded = decodeFrame(frame);
        assert.ok(!('error' in decoded) && decoded.kind === 'output', 'a valid output frame');
        assert.equal(decoded.terminal, index);
        assert.equal(decoded.offset, offset);
        assert.ok(Buffer.from(decoded.data).equals(data), 'the frame carries exactly the data');
        frames.push({ offset, data: Buffer.from(data) });
      },
      onCommand: (_index, command) => commands.push(command),
      onExit: () => exited(),
      ...(onInputDropped ? { onInputDropped } : {}),
    },
  );
  terminal.start({ cols: 120, rows: 40 });
  return { terminal, frames, commands, exit };
}

test('bulk output: contiguous offsets, bounded frames, replay exact, marks still parsed', async () => {
  const mark = (body: string) => `printf '\\033]${body}\\007'`;
  const script = `${mark('133;C')}; seq 1 200000; ${mark('133;D;0')}; ${mark('633;E;seq 1 200000')}; sleep 0.3`;
  const { terminal, frames, commands, exit } = startTerminal(script);
  await exit;
  assert.ok(frames.length > 0);
  let expected = 0;
  for (const frame of frames) {
    assert.equal(frame.offset, expected, 'each frame starts where the previous one ended');
    // A frame is sent once pending output reaches OUTPUT_FRAME_BYTES; one PTY read can add at most 64 KiB.
    assert.ok(frame.data.length < OUTPUT_FRAME_BYTES + 64 * 1024, `frame of ${frame.data.length} bytes`);
    expected += frame.data.length;
  }
  assert.equal(terminal.offset, expected);
  const stream = Buffer.concat(frames.map((f) => f.data));
  const text = stream.toString('latin1');
  assert.ok(text.includes('\r\n199999\r\n200000\r\n'), 'the whole sequence arrived');
  assert.ok(frames.length < 200_000 / 100, `output coalesced into ${frames.length} frames`);
  // The replay buffer holds exactly the last bytes of the stream, at their absolute offsets.
  const replay = terminal.readFrom(0);
  assert.equal(replay.offset, expected - limits.replayBytes);
  assert.ok(replay.data.equals(stream.subarray(replay.offset)));
  const middle = terminal.readFrom(expected - 1000);
  assert.ok(middle.data.equals(stream.subarray(expected - 1000)));
  assert.equal(commands.length, 1);
  assert.equal(commands[0]?.command, 'seq 1 200000');
  assert.equal(commands[0]?.exitCode, 0);
  assert.ok(commands[0]?.output.startsWith('1\n2\n3\n'));
  terminal.kill();
});

test('input reaches the shell and its answer comes back as output', async () => {
  const { terminal, frames, exit } = startTerminal('read -r line; echo "got $line"; sleep 0.3');
  await new Promise((r) => setTimeout(r, 300));
  const before = frames.length;
  const t0 = performance.now();
  terminal.write('hello\r');
  while (!Buffer.concat(frames.slice(before).map((f) => f.data)).toString('latin1').includes('got hello')) {
    assert.ok(performance.now() - t0 < 2_000, 'echo arrived');
    await new Promise((r) => setImmediate(r));
  }
  await exit;
  terminal.kill();
});

const outputText = (frames: { data: Buffer }[]) => Buffer.concat(frames.map((f) => f.data)).toString('latin1');

test('input to a program that does not read: bounded queue, dropped with a report, no busy retry', async () => {
  let dropped = 0;
  const { terminal, frames } = startTerminal('stty -icanon -echo; echo ready; sleep 30', (_t, bytes) => (dropped += bytes));
  const t0 = performance.now();
  while (!outputText(frames).includes('ready')) {
    assert.ok(performance.now() - t0 < 3_000, 'shell started');
    await new Promise((r) => setTimeout(r, 10));
  }
  const chunk = 'x'.repeat(16_000);
  for (let i = 0; i < 40; i++) terminal.write(chunk); // 640 KB: far more than the kernel and the queue hold
  assert.ok(terminal.inputQueuedBytes <= INPUT_QUEUE_BYTES, `queued ${terminal.inputQueuedBytes}`);
  assert.ok(terminal.inputQueuedBytes > 0, 'the kernel took everything: the test did not fill the PTY');
  assert.ok(dropped > 0 && dropped === terminal.inputDroppedBytes, `dropped ${dropped}`);
  // While it stays blocked the retries back off: little CPU over a second.
  const cpu0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, 1_000));
  const cpu = process.cpuUsage(cpu0);
  assert.ok((cpu.user + cpu.system) / 1000 < 100, `${(cpu.user + cpu.system) / 1000} ms of CPU in 1 s while input waits`);
  // Ctrl-C is not dropped: it replaces the backlog.
  assert.equal(terminal.write('\x03'), true);
  terminal.kill();
  assert.equal(terminal.inputQueuedBytes, 0);
});

test('a program that reads gets every byte of a big paste, in order', async () => {
  const { terminal, frames, exit } = startTerminal('stty raw -echo; echo ready; head -c 200000 | md5sum; sleep 0.3');
  const t0 = performance.now();
  while (!outputText(frames).includes('ready')) {
    assert.ok(performance.now() - t0 < 3_000, 'shell started');
    await new Promise((r) => setTimeout(r, 10));
  }
  let all = '';
  for (let i = 0; i < 20; i++) {
    const part = String(i % 10).repeat(10_000);
    all += part;
    while (!terminal.write(part)) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 5));
  }
  const { createHash } = await import('node:crypto');
  const sum = createHash('md5').update(all).digest('hex');
  await exit;
  assert.ok(outputText(frames).includes(sum), `md5 ${sum} not in ${outputText(frames).slice(-200)}`);
  terminal.kill();
});
