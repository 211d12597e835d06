// The agent's HTTP routes: the control API for the app server (`/v1/*`, Bearer secret), and the
// unauthenticated /healthz and /metrics (keep the agent's port private). Every /v1 body is read
// and zod-checked by one readJson; errors are HttpError, answered `{ error }` with their status.
import { createHash, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import type { z } from 'zod';
import {
  createSessionRequestSchema,
  endSessionsRequestSchema,
  noticeRequestSchema,
  sessionQueryRequestSchema,
  type SessionInfo,
} from '../../protocol/index';
import type { AgentConfig } from '../config';
import { log } from '../log';
import { renderMetrics } from '../metrics';
import { HttpError, type Session, type SessionManager } from '../session';
import type { TokenIssuer } from '../tokens';

const MAX_BODY_BYTES = 16 * 1024;

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(text);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        // Answer 413 and close the connection; the rest of the body is read and dropped.
        req.removeAllListeners('data');
        req.resume();
        reject(new HttpError(413, `request body larger than ${MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A POST's JSON body, checked against the schema (400 naming the first problem). */
async function readJson<S extends z.ZodType>(req: http.IncomingMessage, schema: S): Promise<z.infer<S>> {
  if (req.method !== 'POST') throw new HttpError(405, 'use POST');
  let raw: unknown;
  try {
    raw = JSON.parse(await readBody(req));
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw new HttpError(400, 'request body is not valid JSON');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HttpError(400, `invalid request${issue?.path.length ? ` at ${issue.path.join('.')}` : ''}: ${issue?.message ?? ''}`);
  }
  return parsed.data;
}

/** The request handler of the agent's HTTP server (the WebSocket upgrade is terminal-socket.ts). */
export function createControlApi(
  config: AgentConfig,
  sessions: SessionManager,
  tokens: TokenIssuer,
): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const secretDigest = createHash('sha256').update(config.AGENT_SECRET).digest();

  const authorized = (req: http.IncomingMessage): boolean => {
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Bearer ')) return false;
    const given = createHash('sha256').update(header.slice('Bearer '.length)).digest();
    return timingSafeEqual(given, secretDigest);
  };

  const sessionInfo = (session: Session, created: boolean): SessionInfo => {
    const { token, expiresAtMs } = tokens.issue(session.id, session.learnerId);
    return {
      sessionId: session.id,
      learnerId: session.learnerId,
      labId: session.labId,
      createdAtMs: session.createdAtMs,
      state: session.state,
      terminals: session.terminals.length,
      steps: session.stepResults,
      token,
      tokenExpiresAtMs: expiresAtMs,
      created,
    };
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://agent.invalid');
    if (url.pathname === '/metrics') {
      // Prometheus text format. Like /healthz it needs no secret: keep the agent's port private.
      if (req.method !== 'GET') throw new HttpError(405, 'use GET');
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' });
      res.end(renderMetrics());
      return;
    }
    if (url.pathname === '/healthz') {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'use GET');
      sendJson(res, 200, { ok: true, sessions: sessions.size });
      return;
    }
    if (!url.pathname.startsWith('/v1/')) throw new HttpError(404, `no route ${url.pathname}`);
    if (!authorized(req)) throw new HttpError(401, 'missing or wrong Authorization: Bearer secret');
    if (url.pathname === '/v1/sessions') {
      const request = await readJson(req, createSessionRequestSchema);
      const { session, created } = await sessions.getOrCreate(request.learnerId, request.labId, request.progress);
      sendJson(res, created ? 201 : 200, sessionInfo(session, created));
      return;
    }
    // Workshop calls: the instructor dashboard's status, read-only viewer tokens, notices, ending.
    if (url.pathname === '/v1/sessions/query') {
      const query = await readJson(req, sessionQueryRequestSchema);
      sendJson(res, 200, { atMs: Date.now(), sessions: sessions.forLearners(query.learnerIds, query.labIds).map((s) => s.status()) });
      return;
    }
    if (url.pathname === '/v1/sessions/end') {
      const request = await readJson(req, endSessionsRequestSchema);
      sendJson(res, 200, { ended: await sessions.endForLearners(request.learnerIds, request.reason, request.closeReason) });
      return;
    }
    if (url.pathname === '/v1/notices') {
      const notice = await readJson(req, noticeRequestSchema);
      let delivered = 0;
      for (const s of sessions.forLearners(notice.learnerIds)) if (s.notify({ level: notice.level, code: notice.code, message: notice.message })) delivered++;
      sendJson(res, 200, { delivered });
      return;
    }
    const viewerMatch = /^\/v1\/sessions\/([A-Za-z0-9_-]{1,64})\/viewer-token$/.exec(url.pathname);
    if (viewerMatch) {
      if (req.method !== 'POST') throw new HttpError(405, 'use POST');
      const session = sessions.get(viewerMatch[1]!);
      if (!session || session.state !== 'running') throw new HttpError(404, `no session ${viewerMatch[1]!}`);
      const { token, expiresAtMs } = tokens.issue(session.id, session.learnerId, 'viewer');
      sendJson(res, 200, { sessionId: session.id, token, tokenExpiresAtMs: expiresAtMs });
      return;
    }
    const match = /^\/v1\/sessions\/([A-Za-z0-9_-]{1,64})$/.exec(url.pathname);
    if (match) {
      const id = match[1]!;
      if (req.method === 'GET') {
        const session = sessions.get(id);
        if (!session) throw new HttpError(404, `no session ${id}`);
        sendJson(res, 200, sessionInfo(session, false));
        return;
      }
      if (req.method === 'DELETE') {
        if (!(await sessions.delete(id))) throw new HttpError(404, `no session ${id}`);
        res.writeHead(204).end();
        return;
      }
      throw new HttpError(405, 'use GET or DELETE');
    }
    throw new HttpError(404, `no route ${url.pathname}`);
  };

  return (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof HttpError) {
        const headers: Record<string, string> = error.retryAfterS ? { 'retry-after': String(error.retryAfterS) } : {};
        if (error.status === 413) headers.connection = 'close';
        if (!res.headersSent) sendJson(res, error.status, { error: error.message }, headers);
        return;
      }
      log('error', 'control API error', { error, path: req.url });
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
    });
  };
}
