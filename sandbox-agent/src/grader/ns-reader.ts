// The grader's persistent reader of network and UTS namespaces (sandbox-agent/native/nsread.c):
// one long-lived child process that answers "links and addresses of net:[X]" and "hostname of
// uts:[Y]" over a pipe, instead of one `nsenter … ip -j addr` / `nsenter … hostname` exec per
// namespace and grading round (a fork of the agent per exec: tens of ms per snapshot, and event-loop
// stalls while learners type). Built from source with the host's C compiler the first time the
// agent needs it; when that is impossible (no compiler) or NSLAB_NSREAD=off, the grader keeps using
// the exec path, which gives the same results (user namespace owners and UTS owners, which need an
// ioctl, stay unknown there). This file runs the reader process(es); what a request and its answer
// look like is nsread-protocol.ts.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as path from 'node:path';
import { log } from '../log';
import { nativeDir, buildNative } from '../native';
import {
  netCounts,
  procParts,
  replyError,
  validNsRequest,
  type FingerprintResult,
  type ProcsResult,
  type ReadResult,
  type Reply,
  type UsernsResult,
  usernsReply,
} from './nsread-protocol';

export const nsreadBinary = path.join(nativeDir, 'build', 'nsread');

export type { FingerprintResult, NetCounts, ProcParts, ProcsResult, ReadResult, UsernsResult } from './nsread-protocol';

/** Builds nsread when its binary is missing or older than its source; false when it cannot. */
export function ensureNsreadBuilt(): boolean {
  const built = buildNative('nsread');
  if (!built) log('warn', 'the grader uses one nsenter exec per namespace instead of nsread');
  return built !== null;
}

interface Pending {
  timer: NodeJS.Timeout;
  reply: (msg: Reply) => void;
  fail: (error: string) => void;
  /** Whose request (a sandbox's cache tag; 0: nobody's) and its line, to send again after a restart. */
  owner: number;
  line: string;
  resent: boolean;
}

/** No single nsread request may take longer (nsread itself gives up a network read after 1 s). */
export const MAX_REQUEST_MS = 2_000;

export class NsReader {
  private child: ChildProcessWithoutNullStreams | null = null;
  private ready: Promise<boolean> | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private buffered = '';
  private readonly crashes: number[] = [];
  /** Starts and requests in flight: while any, the reader's stdout keeps the event loop alive. */
  private inFlight = 0;
  disabled = false;
  /** Requests of other sandboxes caught in a reader killed for one sandbox's stalled read: sent again. */
  private resend: Pending[] = [];
  /** Called with the owner of a request that timed out (its sandbox gets a reader of its own). */
  onStall: (owner: number) => void = () => {};

  constructor(
    private readonly label = 'shared',
    /** The reader program (nsread; tests pass a stand-in). */
    private readonly binary = nsreadBinary,
  ) {}

  private hold(): void {
    if (this.inFlight++ === 0) (this.child?.stdout as unknown as { ref?: () => void } | undefined)?.ref?.();
  }

  private release(): void {
    if (--this.inFlight === 0) (this.child?.stdout as unknown as { unref?: () => void } | undefined)?.unref?.();
  }

  private start(): Promise<boolean> {
    if (this.ready) return this.ready;
    this.ready = new Promise<boolean>((done) => {
      this.inFlight++;
      const resolve = (ok: boolean) => {
        if (ok) this.release();
        else this.inFlight--;
        done(ok);
      };
      const child = spawn(this.binary, [], { env: {} as NodeJS.ProcessEnv, cwd: '/', stdio: ['pipe', 'pipe', 'pipe'] });
      this.child = child;
      // An idle reader never keeps the agent (or a test) alive; a start or read in flight does.
      child.unref();
      for (const stream of [child.stdin, child.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
      let started = false;
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        this.buffered += chunk;
        let nl: number;
        while ((nl = this.buffered.indexOf('\n')) >= 0) {
          const line = this.buffered.slice(0, nl);
          this.buffered = this.buffered.slice(nl + 1);
          if (!started) {
            started = true;
            resolve(line.startsWith('{"ready":true}'));
            continue;
          }
          this.onLine(line);
        }
      });
      child.stderr.setEncoding('utf8').on('data', (d: string) => log('warn', 'nsread', { stderr: d.trim().slice(0, 500) }));
      child.on('error', (error) => {
        log('warn', 'nsread failed to start', { error });
        if (!started) resolve(false);
      });
      child.on('exit', (code, signal) => {
        if (!started) resolve(false);
        // A reader retired for a stalled read was already replaced: its exit changes nothing.
        if (this.child === child) this.onExit(code, signal);
      });
      child.stdin.on('error', () => {
        /* the exit handler fails what is pending */
      });
    });
    return this.ready;
  }

  private onLine(line: string): void {
    let msg: Reply;
    try {
      msg = JSON.parse(line) as Reply;
    } catch {
      log('warn', 'nsread: unparsable reply', { line: line.slice(0, 200) });
      return;
    }
    if (typeof msg.id !== 'number') return;
    const waiting = this.pending.get(msg.id);
    if (!waiting) return;
    this.pending.delete(msg.id);
    clearTimeout(waiting.timer);
    waiting.reply(msg);
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.child = null;
    this.ready = null;
    this.buffered = '';
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.fail(`nsread exited (${signal ?? code})`);
    }
    const now = Date.now();
    this.crashes.push(now);
    while (this.crashes.length > 0 && now - this.crashes[0]! > 60_000) this.crashes.shift();
    if (this.crashes.length > 3) {
      this.disabled = true;
      log('warn', 'nsread keeps exiting; the grader falls back to nsenter execs', { reader: this.label, code, signal });
    }
  }

  /**
   * The reader is stuck in one read (the oldest request, which just timed out): it is killed and
   * forgotten at once (not waited for: a read can sit in the kernel), the requests queued behind
   * it are sent again to a fresh reader, and the stalled read is charged to its sandbox (onStall),
   * never counted as a crash: one learner cannot turn nsread off for everyone.
   */
  private retire(child: ChildProcessWithoutNullStreams): void {
    if (this.child !== child) return;
    this.child = null;
    this.ready = null;
    this.buffered = '';
    child.kill('SIGKILL');
    const again = [...this.pending.values()];
    this.pending.clear();
    const resend: Pending[] = [];
    for (const p of again) {
      if (p.resent) {
        clearTimeout(p.timer);
        p.fail('nsread restarted');
      } else resend.push(p);
    }
    if (resend.length > 0) void this.sendAgain(resend);
  }

  private async sendAgain(list: Pending[]): Promise<void> {
    const ok = await this.start();
    for (const p of list) {
      if (!ok || !this.child) {
        clearTimeout(p.timer);
        p.fail('nsread unavailable');
        continue;
      }
      const id = this.nextId++;
      p.resent = true;
      this.pending.set(id, p);
      this.child.stdin.write(p.line.replace(/^\d+ /, `${id} `));
    }
  }

  /**
   * Sends one request line and settles with `reply` on its answer, or with `failed` when nsread
   * exits or does not answer in time (a stuck reader is killed and replaced, never waited on).
   * The caller has started the reader.
   */
  private request<T>(
    child: ChildProcessWithoutNullStreams,
    line: (id: number) => string,
    timeoutMs: number,
    reply: (msg: Reply) => T,
    failed: (error: string) => T,
    owner = 0,
  ): Promise<T> {
    const id = this.nextId++;
    this.hold();
    return new Promise<T>((done) => {
      let settled = false;
      const settle = (result: T) => {
        if (settled) return;
        settled = true;
        this.release();
        done(result);
      };
      const text = line(id);
      const pending: Pending = {
        timer: setTimeout(() => {
          // nsread answers in order: the oldest request waiting is the one it is working on.
          const oldest = this.pending.values().next().value;
          for (const [key, p] of this.pending) if (p === pending) this.pending.delete(key);
          if (oldest !== pending) {
            // Waiting behind another read: that one is charged when its own time is up.
            settle(failed('nsread timed out (behind another read)'));
            return;
          }
          settle(failed('nsread timed out'));
          this.retire(child);
          this.onStall(owner);
        }, Math.max(1, Math.ceil(Math.min(timeoutMs, MAX_REQUEST_MS)))),
        reply: (msg) => settle(reply(msg)),
        fail: (error) => settle(failed(error)),
        owner,
        line: text,
        resent: false,
      };
      this.pending.set(id, pending);
      child.stdin.write(text);
    });
  }

  /** Reads one namespace; `path` must name an nsfs file whose inode is `inode` (nsread proves it). */
  async read(kind: 'net' | 'uts', nsPath: string, inode: number, timeoutMs: number, owner = 0): Promise<ReadResult> {
    if (!validNsRequest(nsPath, inode)) return { ok: false, stdout: '', error: 'nsread: bad request' };
    if (!(await this.start()) || !this.child) return { ok: false, stdout: '', error: 'nsread unavailable' };
    return this.request<ReadResult>(
      this.child,
      (id) => `${id} ${kind} ${nsPath} ${inode}\n`,
      timeoutMs,
      (msg) => {
        if (msg.ok === true && Array.isArray(msg.links)) return { ok: true, stdout: JSON.stringify(msg.links), ...netCounts(msg) };
        if (msg.ok === true && typeof msg.hostname === 'string') {
          const owner = typeof msg.owner === 'number' && Number.isSafeInteger(msg.owner) && msg.owner > 0 ? msg.owner : undefined;
          return { ok: true, stdout: msg.hostname, ...(owner !== undefined ? { nsOwner: owner } : {}) };
        }
        return { ok: false, stdout: '', error: replyError(msg) };
      },
      (error) => ({ ok: false, stdout: '', error }),
      owner,
    );
  }

  /** A network namespace's fingerprint and counts (the same bounded read, without the links). */
  async fingerprint(nsPath: string, inode: number, timeoutMs: number, owner = 0): Promise<FingerprintResult> {
    if (!validNsRequest(nsPath, inode)) return { ok: false, error: 'nsread: bad request' };
    if (!(await this.start()) || !this.child) return { ok: false, error: 'nsread unavailable' };
    return this.request<FingerprintResult>(
      this.child,
      (id) => `${id} netfp ${nsPath} ${inode}\n`,
      timeoutMs,
      (msg) => (msg.ok === true && typeof msg.fp === 'string' ? { ok: true, ...netCounts(msg) } : { ok: false, error: replyError(msg) }),
      (error) => ({ ok: false, error }),
      owner,
    );
  }

  /**
   * A user namespace's owner (its creator's uid as the host sees it) and parent (the inode of the
   * user namespace it was made in): ioctl NS_GET_OWNER_UID / NS_GET_PARENT on the proven nsfs file.
   */
  async userns(nsPath: string, inode: number, timeoutMs: number, owner = 0): Promise<UsernsResult> {
    if (!validNsRequest(nsPath, inode)) return { ok: false, error: 'nsread: bad request' };
    if (!(await this.start()) || !this.child) return { ok: false, error: 'nsread unavailable' };
    return this.request<UsernsResult>(
      this.child,
      (id) => `${id} userns ${nsPath} ${inode}\n`,
      timeoutMs,
      usernsReply,
      (error) => ({ ok: false, error }),
      owner,
    );
  }

  /**
   * Reads /proc/<pid>/{status,comm,cmdline,ns/*} of many host PIDs in one request. With a cache
   * `tag` (one per sandbox, > 0), nsread keeps these processes' /proc files open for the next
   * round and reuses namespace links of processes that provably have not run since (nsread.c);
   * `dropTag` releases all of it.
   */
  async procs(pids: number[], timeoutMs: number, tag = 0): Promise<ProcsResult> {
    const list = pids.filter((p) => Number.isSafeInteger(p) && p > 0);
    if (list.length === 0) return { ok: true, procs: new Map(), nsReused: 0 };
    if (!(await this.start()) || !this.child) return { ok: false, error: 'nsread unavailable' };
    return this.request<ProcsResult>(
      this.child,
      (id) => `${id} procs ${list.join(',')} ${Number.isSafeInteger(tag) && tag > 0 ? tag : 0}\n`,
      timeoutMs,
      (msg) =>
        msg.ok === true && Array.isArray(msg.procs)
          ? { ok: true, procs: procParts(msg.procs), nsReused: typeof msg.nsReused === 'number' ? msg.nsReused : 0 }
          : { ok: false, error: replyError(msg) },
      (error) => ({ ok: false, error }),
      tag,
    );
  }

  /** Closes what nsread holds for this tag (its sandbox is gone). No reply is awaited. */
  dropTag(tag: number): void {
    if (!this.child || !Number.isSafeInteger(tag) || tag <= 0) return;
    this.child.stdin.write(`${this.nextId++} drop - ${tag}\n`);
  }

  stop(): void {
    this.disabled = true;
    this.child?.kill('SIGKILL');
  }
}

let reader: NsReader | null = null;
let available: boolean | null = null;
/**
 * Sandboxes whose read once stalled (a request timed out) read on a reader of their own from then
 * on, so a learner who can make a read hang (a process stuck holding its mm lock, a namespace whose
 * dump never ends) delays only their own grading, and never makes nsread restart or turn off for
 * the other sandboxes. Keyed by the sandbox's cache tag; closed when the sandbox ends (dropTag).
 */
const isolated = new Map<number, NsReader>();
export const MAX_ISOLATED_READERS = 64;

/** The reader for this sandbox (its cache tag; 0: anyone's), or null when the exec path must be used. */
export function nsReader(owner = 0): NsReader | null {
  if (process.env.NSLAB_NSREAD === 'off') return null;
  available ??= ensureNsreadBuilt();
  if (!available) return null;
  const own = owner > 0 ? isolated.get(owner) : undefined;
  if (own) return own.disabled ? null : own;
  if (!reader) {
    reader = new NsReader();
    reader.onStall = isolate;
  }
  return reader.disabled ? null : reader;
}

/** Gives this sandbox a reader of its own (its read stalled). */
function isolate(owner: number): void {
  if (owner <= 0 || isolated.has(owner)) return;
  if (isolated.size >= MAX_ISOLATED_READERS) {
    log('warn', 'nsread: too many sandboxes with stalled reads; this one stays on the shared reader', { owner });
    return;
  }
  log('info', 'nsread: a read stalled; this sandbox reads on a reader of its own from now on', { owner });
  isolated.set(owner, new NsReader(`sandbox-${owner}`));
}

/** The sandbox ended: its own reader (if any) stops, and the shared one drops what it held for it. */
export function releaseReader(owner: number): void {
  const own = isolated.get(owner);
  if (own) {
    isolated.delete(owner);
    own.stop();
  }
  reader?.dropTag(owner);
}

/** Stops the readers (agent shutdown, tests). */
export function stopNsReader(): void {
  reader?.stop();
  reader = null;
  for (const own of isolated.values()) own.stop();
  isolated.clear();
}
