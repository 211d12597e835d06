// The bench's WebSocket client, run in its own process (like a browser) so that the client's work
// never competes with the server's event loop, for nslab's agent and for the bare baselines alike.
//   node --import tsx bench/ws-client.ts '<json ClientJob>'
// Prints one JSON line on stdout: { mbPerS, bytes, seconds } (bulk), { samples, sentAtMs } (echo, ms),
// or { samples, bareSamples } (echo with `bareUrl`: nslab and the bare baseline keystroke by keystroke,
// alternating, so both see the same moments of this machine's scheduling noise).
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
  /** echo: also measure the bare baseline at this URL, alternating keystrokes with the nslab one. */
  bareUrl?: string;
  /** Wait after connecting (nslab: after the first prompt) before measuring; default 1000 ms. */
  settleMs?: number;
}

const job = JSON.parse(process.argv[2] ?? '{}') as ClientJob;
let finished = false;

/** One connection to a terminal: nslab's agent protocol or raw bytes (bare). */
interface Conn {
  send(text: string): void;
  /** Resolves when `needle` appears in terminal 0's output (also across frame boundaries). */
  waitFor(needle: string, onBytes?: (n: number) => void): Promise<void>;
}

async function connect(protocol: 'nslab' | 'bare', url: string): Promise<Conn> {
  const nslab = protocol === 'nslab';
  const ws = new WebSocket(url, nslab && job.origin ? { origin: job.origin } : {});
  ws.binaryType = 'nodebuffer';
  /** Terminal 0's payload bytes, whatever the protocol. */
  let onPayload: (data: Buffer) => void = () => {};
  let acked = 0;
  // A socket closed before the job is done (rate limit, slow consumer...) fails the run at once.
  ws.on('close', (code, reason) => {
    if (finished) return;
    process.stderr.write(`bench client: ${protocol} socket closed ${code} ${reason.toString('utf8')}\n`);
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
  const conn: Conn = {
    send: (text) => (nslab ? ws.send(encodeInputFrame(0, Buffer.from(text, 'utf8'))) : ws.send(text)),
    waitFor: (needle, onBytes = () => {}) => {
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
    },
  };
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  if (nslab) {
    const prompt = conn.waitFor('# ');
    ws.send(JSON.stringify({ type: 'auth', token: job.token, resume: [], size: { cols: 120, rows: 40 } }));
    await prompt;
  }
  return conn;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const alphabet = 'abcdefghijklmnopqrstuvwxyz';

/** One keystroke: send it, wait for its echo; ms. */
async function keystroke(conn: Conn, i: number, sentAtMs?: number[]): Promise<number> {
  const ch = alphabet[i % alphabet.length]!;
  const echoed = conn.waitFor(ch);
  const t0 = performance.now();
  sentAtMs?.push(performance.timeOrigin + t0);
  conn.send(ch);
  await echoed;
  return performance.now() - t0;
}

/** After each keystroke: paced like fast typing (100 keys/s; the agent closes a socket sending over
 * 400 messages/s), and the line cleared every 40 keys. */
async function pace(conns: Conn[], i: number): Promise<void> {
  await sleep(10);
  if (i % 40 === 39) {
    for (const c of conns) c.send('\x15'); // Ctrl-U: clear the line
    await sleep(30);
  }
}

async function main(): Promise<void> {
  const conn = await connect(job.protocol, job.url);
  const bare = job.mode === 'echo' && job.bareUrl ? await connect('bare', job.bareUrl) : null;
  const conns = bare ? [conn, bare] : [conn];
  // Both servers settle first (nslab grades the sandbox once when a browser attaches; the client's
  // own start-up, tsx compiling, is over): the figure is the steady state, not the attach.
  await sleep(job.settleMs ?? 1000);
  if (job.mode === 'bulk') {
    let bytes = 0;
    const done = conn.waitFor(job.endMarker!, (n) => (bytes += n));
    const t0 = performance.now();
    conn.send(job.protocol === 'nslab' ? `${job.command!}\r` : job.command!);
    await done;
    const seconds = (performance.now() - t0) / 1000;
    process.stdout.write(`${JSON.stringify({ mbPerS: bytes / seconds / 1e6, bytes, seconds })}\n`);
    return;
  }
  const samples: number[] = [];
  const bareSamples: number[] = [];
  /** When each keystroke was sent (ms since the epoch), to line samples up with the server's events. */
  const sentAtMs: number[] = [];
  for (let i = 0; i < job.count!; i++) {
    // With a baseline, which of the two goes first alternates too.
    if (bare && i % 2 === 1) {
      bareSamples.push(await keystroke(bare, i));
      await sleep(5);
    }
    samples.push(await keystroke(conn, i, sentAtMs));
    if (bare && i % 2 === 0) {
      await sleep(5);
      bareSamples.push(await keystroke(bare, i));
    }
    await pace(conns, i);
  }
  process.stdout.write(`${JSON.stringify(bare ? { samples, bareSamples, sentAtMs } : { samples, sentAtMs })}\n`);
}

main().then(
  () => {
    finished = true;
    process.exit(0);
  },
  (error: unknown) => {
    process.stderr.write(`bench client failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
