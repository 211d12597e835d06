// The bench's WebSocket client, run in its own process (like a browser) so that the client's work
// never competes with the server's event loop, for nslab's agent and for the bare baselines alike.
//   node --import tsx bench/ws-client.ts '<json ClientJob>'
// Prints one JSON line on stdout: { mbPerS, bytes, seconds } (bulk) or { samples, sentAtMs } (echo, ms).
// nslab: speaks the agent protocol the way the browser does (auth, binary output frames, an ack
// every limits.ackEveryBytes / 2 rendered bytes). bare: raw bytes both ways, no flow control.
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { OUTPUT_HEADER_BYTES, encodeInputFrame, limits } from '../sandbox-agent/protocol/index';

export interface ClientJob {
  mode: 'bulk' | 'echo';
  protocol: 'nslab' | 'bare';
  url: string;
  origin?: string;
  /** nslab: the session token. */
  token?: string;
  /** bulk: the command line typed (nslab) or sent as the first message (bare). */
  command?: string;
  /** bulk: printed after the command's output; the measurement ends when it arrives. */
  endMarker?: string;
  /** echo: keystrokes. */
  count?: number;
  /** Wait after connecting (nslab: after the first prompt) before measuring; default 1000 ms. */
  settleMs?: number;
}

const job = JSON.parse(process.argv[2] ?? '{}') as ClientJob;
const ws = new WebSocket(job.url, job.origin ? { origin: job.origin } : {});
ws.binaryType = 'nodebuffer';
const nslab = job.protocol === 'nslab';

/** Terminal 0's payload bytes, whatever the protocol. */
let onPayload: (data: Buffer) => void = () => {};
let acked = 0;
let finished = false;
// A socket closed before the job is done (rate limit, slow consumer...) fails the run at once.
ws.on('close', (code, reason) => {
  if (finished) return;
  process.stderr.write(`bench client: socket closed ${code} ${reason.toString('utf8')}\n`);
  process.exit(1);
});
ws.on('message', (data: Buffer, isBinary: boolean) => {
  if (!nslab) return onPayload(data);
  if (!isBinary || data[0] !== 0x01 || data[1] !== 0) return;
  const payload = data.subarray(OUTPUT_HEADER_BYTES);
  const end = data.readDoubleBE(2) + payload.length;
  onPayload(payload);
  if (end - acked >= limits.ackEveryBytes / 2) {
    acked = end;
    ws.send(JSON.stringify({ type: 'ack', terminal: 0, offset: end }));
  }
});

const send = (text: string): void => {
  if (nslab) ws.send(encodeInputFrame(0, Buffer.from(text, 'utf8')));
  else ws.send(text);
};

/** Resolves when `needle` appears in terminal 0's output (also across frame boundaries). */
function waitFor(needle: string, onBytes: (n: number) => void = () => {}): Promise<void> {
  let tail = '';
  return new Promise((resolve) => {
    onPayload = (data) => {
      onBytes(data.length);
      const text = tail + data.toString('latin1');
      if (text.includes(needle)) {
        onPayload = () => {};
        resolve();
        return;
      }
      tail = text.slice(-needle.length);
    };
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  if (nslab) {
    const prompt = waitFor('# ');
    ws.send(JSON.stringify({ type: 'auth', token: job.token, resume: [], size: { cols: 120, rows: 40 } }));
    await prompt;
  }
  // Both servers settle first (nslab grades the sandbox once when a browser attaches; the client's
  // own start-up, tsx compiling, is over): the figure is the steady state, not the attach.
  await sleep(job.settleMs ?? 1000);
  if (job.mode === 'bulk') {
    let bytes = 0;
    const done = waitFor(job.endMarker!, (n) => (bytes += n));
    const t0 = performance.now();
    send(nslab ? `${job.command!}\r` : job.command!);
    await done;
    const seconds = (performance.now() - t0) / 1000;
    process.stdout.write(`${JSON.stringify({ mbPerS: bytes / seconds / 1e6, bytes, seconds })}\n`);
    return;
  }
  const samples: number[] = [];
  /** When each keystroke was sent (ms since the epoch), to line samples up with the server's events. */
  const sentAtMs: number[] = [];
  const alphabet = 'abcdefghijklmnopqrstuvwxyz';
  for (let i = 0; i < job.count!; i++) {
    const ch = alphabet[i % alphabet.length]!;
    const echoed = waitFor(ch);
    const t0 = performance.now();
    sentAtMs.push(performance.timeOrigin + t0);
    send(ch);
    await echoed;
    samples.push(performance.now() - t0);
    // Paced like fast typing (100 keys/s): the agent closes a socket sending over 400 messages/s.
    await sleep(10);
    if (i % 40 === 39) {
      send('\x15'); // Ctrl-U: clear the line
      await sleep(30);
    }
  }
  process.stdout.write(`${JSON.stringify({ samples, sentAtMs })}\n`);
}

main().then(
  () => {
    finished = true;
    ws.close();
    process.exit(0);
  },
  (error: unknown) => {
    process.stderr.write(`bench client failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
