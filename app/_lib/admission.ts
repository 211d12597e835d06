// Admission control for sandbox creation (POST /api/sessions): who may start a new sandbox, and how
// often. Pure logic with its dependencies injected (the agent's list of running sessions), so it is
// unit-tested here and driven against a real agent by security/admission.integration.test.ts; the
// route wires it in app/_lib/admission.server.ts. Settings: admission-config.mjs.
//
// The quotas:
// - per learner (every learner, workshop members included): running sandboxes
//   (learnerMaxSandboxes; a learner has at most one per lab) and new sandboxes per minute
//   (learnerStartsPerMin, a token bucket whose burst is the per-minute figure);
// - per client address, only for learners outside a running workshop with that lesson (the
//   "anonymous" ones, including every request without a cookie): running sandboxes of the learners
//   who started them from that address (clientMaxSandboxes) and new sandboxes per minute
//   (clientStartsPerMin), and at most clientMaxStarting of them being started at once, so one
//   address can never drive many concurrent starts (each start costs the agent's event loop some
//   milliseconds: 30 at once from a flood took a fellow learner's echo p99 past 100 ms; H01).
//   Workshop members are counted per learner only, so a class of 100 behind
//   one school NAT address all get sandboxes (the workshop's capacity bounds them instead);
// - `workshop-only` mode: learners outside a running workshop get no sandbox at all.
// Fetching the session a learner already runs for a lab (a reload) is never refused or charged.
// A refusal is 429 + Retry-After (403 workshop_required in workshop-only mode).
//
// Where the state lives: running counts come from the agent (POST /v1/sessions/query), so they are
// right for any number of app processes. The token buckets, the in-flight reservations and the
// list of which learners started sandboxes from which address live in this process's memory
// (globalThis, see admission.server.ts). With several app replicas behind a load balancer (a later
// issue), each replica keeps its own: a client spread over N replicas gets up to N times the
// per-minute rates, and a replica counts against clientMaxSandboxes only the anonymous learners it
// admitted itself (per-learner counts stay exact: they come from the agent). To keep the client
// quotas exact there, move `TokenBuckets` and the address -> learners map into PostgreSQL (one row
// per key with a conditional UPDATE, like workshop capacity) or pin clients to a replica.
import net from 'node:net';
import type { AdmissionConfig } from './admission-config.mjs';

/** Set by scripts/start.mjs on every request to the TCP peer's address (any copy a client sends is replaced). */
export const PEER_HEADER = 'x-nslab-peer';

// ---------- client addresses ----------
// normalizeAddress, TrustedProxies and clientAddress live in client-address.mjs, plain JavaScript,
// because scripts/start.mjs uses them too (the terminal WebSocket it proxies to the agent).
export { clientAddress, normalizeAddress, TrustedProxies } from './client-address.mjs';

/** Expands an IPv6 address to its 8 groups. */
function ipv6Groups(address: string): string[] {
  let text = address;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => Number.parseInt(g || '0', 16).toString(16));
}

/** The key a client is counted under: its IPv4 address, or its IPv6 /64 (one subscriber's whole prefix). */
export function clientKey(address: string): string {
  if (net.isIP(address) !== 6) return address;
  return `${ipv6Groups(address).slice(0, 4).join(':')}::/64`;
}

// ---------- counters ----------

/** Token buckets: `perMin` tokens a minute, at most `perMin` saved up (the burst). */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();
  constructor(private readonly perMin: number) {}

  private level(key: string, now: number): { tokens: number; atMs: number } {
    const b = this.buckets.get(key);
    if (!b) return { tokens: this.perMin, atMs: now };
    return { tokens: Math.min(this.perMin, b.tokens + ((now - b.atMs) * this.perMin) / 60_000), atMs: now };
  }

  /** Takes one token; when there is none, says how many seconds until there is. */
  take(key: string, now = Date.now()): { ok: true } | { ok: false; retryAfterS: number } {
    if (this.buckets.size > 10_000) this.prune(now);
    const b = this.level(key, now);
    if (b.tokens < 1) {
      this.buckets.set(key, b);
      return { ok: false, retryAfterS: Math.max(1, Math.ceil(((1 - b.tokens) * 60) / this.perMin)) };
    }
    b.tokens -= 1;
    this.buckets.set(key, b);
    return { ok: true };
  }

  /** Gives a token back (the request did not make a sandbox after all). */
  refund(key: string, now = Date.now()): void {
    const b = this.level(key, now);
    this.buckets.set(key, { tokens: Math.min(this.perMin, b.tokens + 1), atMs: now });
  }

  private prune(now: number): void {
    for (const [key] of this.buckets) if (this.level(key, now).tokens >= this.perMin) this.buckets.delete(key);
  }
}

class InFlight {
  private readonly counts = new Map<string, number>();
  add(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  release(key: string): void {
    const n = (this.counts.get(key) ?? 0) - 1;
    if (n > 0) this.counts.set(key, n);
    else this.counts.delete(key);
  }
  count(key: string): number {
    return this.counts.get(key) ?? 0;
  }
}

// ---------- the gate ----------

export interface RunningSession {
  learnerId: string;
  labId: string;
}

export interface AdmissionDeps {
  /** The running sessions of these learners (the agent's view); null when it cannot be asked. */
  runningSessions(learnerIds: string[]): Promise<RunningSession[] | null>;
  now?(): number;
}

export interface AdmissionRequest {
  learnerId: string;
  labId: string;
  /** The client's address (clientAddress). */
  client: string;
  /** A member of a running workshop whose lessons include this lab: counted per learner only. */
  member: boolean;
}

export type RefusalCode = 'workshop_required' | 'learner_sandbox_limit' | 'client_sandbox_limit' | 'sandbox_rate_limited';

export interface AdmissionTicket {
  readonly learnerId: string;
  readonly clientKey: string | null;
  /** False when the learner already runs this lab's session (nothing reserved or charged). */
  readonly charged: boolean;
  settled: boolean;
}

export type Admission =
  | { ok: true; ticket: AdmissionTicket }
  | { ok: false; status: 403 | 429; code: RefusalCode; retryAfterS: number; limit: number };

/** How long a refused client is told to wait when it is at a running-sandbox limit (sandboxes end on idle). */
export const AT_LIMIT_RETRY_AFTER_S = 30;
/** How long a client is told to wait when its starts are all in progress (a start takes ~0.1-0.3 s). */
export const STARTING_RETRY_AFTER_S = 1;
/** Learners remembered per address (the agent's query takes at most 2000). */
const MAX_LEARNERS_PER_CLIENT = 1000;

export class AdmissionGate {
  private readonly learnerRate: TokenBuckets;
  private readonly clientRate: TokenBuckets;
  private readonly learnerInFlight = new InFlight();
  private readonly clientInFlight = new InFlight();
  /** client key -> anonymous learners who started sandboxes from it -> when last admitted. */
  private readonly clientLearners = new Map<string, Map<string, number>>();

  constructor(
    readonly config: AdmissionConfig,
    private readonly deps: AdmissionDeps,
  ) {
    this.learnerRate = new TokenBuckets(config.learnerStartsPerMin);
    this.clientRate = new TokenBuckets(config.clientStartsPerMin);
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  /** Decides whether this request may make a sandbox; an ok answer must be settled (settle) once the agent has answered. */
  async admit(req: AdmissionRequest): Promise<Admission> {
    const { config } = this;
    if (config.mode === 'workshop-only' && !req.member) {
      return { ok: false, status: 403, code: 'workshop_required', retryAfterS: 0, limit: 0 };
    }
    const ck = req.member ? null : clientKey(req.client);
    // Reserve before the first await, so parallel requests see each other.
    this.learnerInFlight.add(req.learnerId);
    if (ck !== null) this.clientInFlight.add(ck);
    const ticket: AdmissionTicket = { learnerId: req.learnerId, clientKey: ck, charged: true, settled: false };
    const refuse = (code: RefusalCode, retryAfterS: number, limit: number): Admission => {
      this.release(ticket);
      return { ok: false, status: 429, code, retryAfterS, limit };
    };

    if (ck !== null && this.clientInFlight.count(ck) > config.clientMaxStarting) {
      return refuse('sandbox_rate_limited', STARTING_RETRY_AFTER_S, config.clientMaxStarting);
    }
    const known = ck !== null ? [...(this.clientLearners.get(ck)?.keys() ?? [])] : [];
    const asked = [...new Set([req.learnerId, ...known])];
    let running: RunningSession[] | null = null;
    try {
      running = await this.deps.runningSessions(asked);
    } catch {
      running = null; // the agent call itself will say what is wrong
    }
    if (running !== null) {
      if (running.some((s) => s.learnerId === req.learnerId && s.labId === req.labId)) {
        this.release(ticket);
        return { ok: true, ticket: { ...ticket, charged: false, settled: true } };
      }
      const mine = running.filter((s) => s.learnerId === req.learnerId).length;
      if (mine + this.learnerInFlight.count(req.learnerId) > config.learnerMaxSandboxes) {
        return refuse('learner_sandbox_limit', AT_LIMIT_RETRY_AFTER_S, config.learnerMaxSandboxes);
      }
      if (ck !== null) {
        const fromClient = running.filter((s) => s.learnerId !== req.learnerId || known.includes(req.learnerId)).length;
        if (fromClient + this.clientInFlight.count(ck) > config.clientMaxSandboxes) {
          return refuse('client_sandbox_limit', AT_LIMIT_RETRY_AFTER_S, config.clientMaxSandboxes);
        }
        this.forgetEnded(ck, running);
      }
    }
    const now = this.now();
    const byLearner = this.learnerRate.take(req.learnerId, now);
    if (!byLearner.ok) return refuse('sandbox_rate_limited', byLearner.retryAfterS, config.learnerStartsPerMin);
    if (ck !== null) {
      const byClient = this.clientRate.take(ck, now);
      if (!byClient.ok) {
        this.learnerRate.refund(req.learnerId, now);
        return refuse('sandbox_rate_limited', byClient.retryAfterS, config.clientStartsPerMin);
      }
    }
    return { ok: true, ticket };
  }

  /** After the agent answered: `created` false (an existing session, or an error) gives the tokens back. */
  settle(ticket: AdmissionTicket, created: boolean): void {
    if (ticket.settled) return;
    this.release(ticket);
    if (!ticket.charged) return;
    const now = this.now();
    if (!created) {
      this.learnerRate.refund(ticket.learnerId, now);
      if (ticket.clientKey !== null) this.clientRate.refund(ticket.clientKey, now);
      return;
    }
    if (ticket.clientKey !== null) {
      let learners = this.clientLearners.get(ticket.clientKey);
      if (!learners) this.clientLearners.set(ticket.clientKey, (learners = new Map()));
      learners.delete(ticket.learnerId);
      learners.set(ticket.learnerId, now);
      if (learners.size > MAX_LEARNERS_PER_CLIENT) learners.delete(learners.keys().next().value!);
    }
  }

  private release(ticket: AdmissionTicket): void {
    if (ticket.settled) return;
    ticket.settled = true;
    this.learnerInFlight.release(ticket.learnerId);
    if (ticket.clientKey !== null) this.clientInFlight.release(ticket.clientKey);
  }

  /** Drops learners of an address whose sandboxes are all gone (admitted over a minute ago, so none is still starting). */
  private forgetEnded(ck: string, running: RunningSession[]): void {
    const learners = this.clientLearners.get(ck);
    if (!learners) return;
    const alive = new Set(running.map((s) => s.learnerId));
    const cutoff = this.now() - 60_000;
    for (const [learner, atMs] of learners) if (!alive.has(learner) && atMs < cutoff) learners.delete(learner);
    if (learners.size === 0) this.clientLearners.delete(ck);
  }
}
