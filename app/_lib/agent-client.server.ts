// The ONE module of the app that talks to the sandbox agent's control API (HTTP, bearer secret),
// and reshapes its replies into app types. Server-only: it reads AGENT_SECRET. Never import it
// from client components (`server-only` makes that a build error).
import 'server-only';
import { z } from 'zod';
import {
  endSessionsReplySchema,
  noticeReplySchema,
  sessionInfoSchema,
  sessionQueryReplySchema,
  viewerTokenReplySchema,
  type CreateSessionRequest,
  type EndSessionsRequest,
  type NoticeRequest,
  type SessionQueryReply,
  type ViewerTokenReply,
} from '../../sandbox-agent/protocol';
import type { LabSessionResponse } from './session-api';

const agentEnvSchema = z.object({
  AGENT_URL: z.url({ error: 'AGENT_URL must be an http(s) URL, e.g. http://127.0.0.1:7071' }).default('http://127.0.0.1:7071'),
  AGENT_SECRET: z
    .string({ error: 'AGENT_SECRET must be set (the bearer secret shared with the sandbox agent)' })
    .min(1, { error: 'AGENT_SECRET must not be empty' }),
});
export type AgentEnv = z.infer<typeof agentEnvSchema>;

/** Reads and validates the agent's env; throws an error naming the variable. */
export function agentEnv(env: Record<string, string | undefined> = process.env): AgentEnv {
  const parsed = agentEnvSchema.safeParse({ AGENT_URL: env.AGENT_URL || undefined, AGENT_SECRET: env.AGENT_SECRET || undefined });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? 'AGENT_*');
    throw new Error(`Invalid environment variable ${name}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

let cachedEnv: AgentEnv | null = null;

export type CreateSessionResult =
  | { ok: true; session: LabSessionResponse; created: boolean }
  /** The agent is at capacity or starting (429/503): try again later. */
  | { ok: false; kind: 'busy'; retryAfterS: number; message: string }
  | { ok: false; kind: 'unreachable'; message: string }
  /** The agent refused the request (4xx) or answered something we cannot read. */
  | { ok: false; kind: 'rejected' | 'bad-reply'; status: number; message: string };

export interface AgentClientOptions {
  env?: AgentEnv;
  timeoutMs?: number;
}

/** Creates (or returns the learner's existing) session for a lab, with a fresh browser token. */
export async function createAgentSession(
  request: CreateSessionRequest,
  options: AgentClientOptions = {},
): Promise<CreateSessionResult> {
  const env = options.env ?? (cachedEnv ??= agentEnv());
  const url = new URL('/v1/sessions', env.AGENT_URL);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${env.AGENT_SECRET}` },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
      cache: 'no-store',
    });
  } catch {
    return { ok: false, kind: 'unreachable', message: 'The sandbox service is not reachable' };
  }
  const body: unknown = await response.json().catch(() => null);
  const agentMessage =
    body && typeof body === 'object' && 'error' in body && typeof body.error === 'string' ? body.error : null;
  if (response.status === 429 || response.status === 503) {
    const retryAfter = Number(response.headers.get('retry-after'));
    return {
      ok: false,
      kind: 'busy',
      retryAfterS: Number.isFinite(retryAfter) && retryAfter > 0 ? Math.ceil(retryAfter) : 5,
      message: agentMessage ?? 'The sandbox service is busy; try again in a moment',
    };
  }
  if (!response.ok) {
    return {
      ok: false,
      kind: response.status >= 500 ? 'bad-reply' : 'rejected',
      status: response.status,
      message: agentMessage ?? `The sandbox service answered ${response.status}`,
    };
  }
  const parsed = sessionInfoSchema.safeParse(body);
  if (!parsed.success) {
    return { ok: false, kind: 'bad-reply', status: response.status, message: 'The sandbox service sent an unexpected reply' };
  }
  const info = parsed.data;
  return {
    ok: true,
    created: info.created,
    session: {
      sessionId: info.sessionId,
      token: info.token,
      tokenExpiresAtMs: info.tokenExpiresAtMs,
      terminals: info.terminals,
      steps: info.steps,
    },
  };
}

// ---------- workshop calls (instructor dashboard, viewer, notices, ending) ----------

export type AgentCallResult<T> = { ok: true; value: T } | { ok: false; status: number; message: string };

async function agentPost<S extends z.ZodType>(
  path: string,
  body: unknown,
  schema: S,
  options: AgentClientOptions = {},
): Promise<AgentCallResult<z.infer<S>>> {
  const env = options.env ?? (cachedEnv ??= agentEnv());
  let response: Response;
  try {
    response = await fetch(new URL(path, env.AGENT_URL), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${env.AGENT_SECRET}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
      cache: 'no-store',
    });
  } catch {
    return { ok: false, status: 0, message: 'The sandbox service is not reachable' };
  }
  const json: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const message = json && typeof json === 'object' && 'error' in json && typeof json.error === 'string' ? json.error : `The sandbox service answered ${response.status}`;
    return { ok: false, status: response.status, message };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { ok: false, status: response.status, message: 'The sandbox service sent an unexpected reply' };
  return { ok: true, value: parsed.data };
}

/** Ends one session (DELETE /v1/sessions/:id): its sandbox is torn down, its socket closes with 4000. */
export async function deleteSession(sessionId: string, options: AgentClientOptions = {}): Promise<AgentCallResult<null>> {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(sessionId)) return { ok: false, status: 400, message: 'bad session id' };
  const env = options.env ?? (cachedEnv ??= agentEnv());
  try {
    const response = await fetch(new URL(`/v1/sessions/${sessionId}`, env.AGENT_URL), {
      method: 'DELETE',
      headers: { authorization: `Bearer ${env.AGENT_SECRET}` },
      signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
      cache: 'no-store',
    });
    await response.arrayBuffer().catch(() => null);
    return response.ok ? { ok: true, value: null } : { ok: false, status: response.status, message: `The sandbox service answered ${response.status}` };
  } catch {
    return { ok: false, status: 0, message: 'The sandbox service is not reachable' };
  }
}

/** The agent calls endWorkshopSessions (workshop-end.ts) needs. */
export const workshopEndAgent = {
  query: (learnerIds: string[]) => querySessions(learnerIds),
  endLearners: (request: EndSessionsRequest) => endSessions(request),
  endSession: (sessionId: string) => deleteSession(sessionId),
};

/** The running sessions of these learners, with per-step status and the latest failing check message. */
export function querySessions(learnerIds: string[], labIds?: string[], options?: AgentClientOptions): Promise<AgentCallResult<SessionQueryReply>> {
  return agentPost('/v1/sessions/query', { learnerIds, ...(labIds ? { labIds } : {}) }, sessionQueryReplySchema, options);
}

/** A single-use, short-lived read-only token for a learner's session (the instructor's live view). */
export function issueViewerToken(sessionId: string, options?: AgentClientOptions): Promise<AgentCallResult<ViewerTokenReply>> {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(sessionId)) return Promise.resolve({ ok: false, status: 400, message: 'bad session id' });
  return agentPost(`/v1/sessions/${sessionId}/viewer-token`, {}, viewerTokenReplySchema, options);
}

/** A notice to the attached browsers of these learners; resolves to how many got it. */
export function sendNotice(request: NoticeRequest, options?: AgentClientOptions): Promise<AgentCallResult<{ delivered: number }>> {
  return agentPost('/v1/notices', request, noticeReplySchema, options);
}

/** Ends every session of these learners (their sandboxes are torn down; progress is kept). */
export function endSessions(request: EndSessionsRequest, options?: AgentClientOptions): Promise<AgentCallResult<{ ended: number }>> {
  return agentPost('/v1/sessions/end', request, endSessionsReplySchema, { timeoutMs: 30_000, ...options });
}
