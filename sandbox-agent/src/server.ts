// The agent's HTTP server: the control API (server-only, Bearer secret), /healthz, and the
// terminal WebSocket at WS_PATH (origin-checked, token-authenticated, zod-validated messages).
import { timingSafeEqual, createHash } from 'node:crypto';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { z } from 'zod';
import {
  closeCodes,
  createSessionRequestSchema,
  endSessionsRequestSchema,
  noticeRequestSchema,
  sessionQueryRequestSchema,
  decodeFrame,
  limits,
  parseClientMessage,
  WS_PATH,
  type ClientMessage,
  type ServerMessage,
  type SessionInfo,
} from '../protocol/index';
import type { AgentConfig } from './config';
import { log } from './log';
import { renderMetrics } from './metrics';
import { HttpError, type ClientConnection, type Session, type SessionManager } from './session';
import { TokenIssuer } from './tokens';

const MAX_BODY_BYTES = 16 * 1024;
/** Keystrokes (typed or pasted) per socket per second; more is dropped with one error a second.
 * A flood of input makes the shell echo and redraw it all, which costs the agent and the machine. */
const MAX_INPUT_BYTES_PER_SECOND = 256 * 1024;

export interface AgentServer {
  server: http.Server;
  counters: Record<string, number>;
  close(): Promise<void>;
}

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

export function createAgentServer(config: AgentConfig, sessions: SessionManager): AgentServer {
  const tokens = new TokenIssuer(config.AGENT_SECRET, config.AGENT_TOKEN_TTL_MS);
  const secretDigest = createHash('sha256').update(config.AGENT_SECRET).digest();
  const counters: Record<string, number> = {
    wsRejected: 0,
    wsBadMessages: 0,
    wsAuthFailures: 0,
    wsConnections: 0,
    wsDeadPeers: 0,
    wsSlowConsumers: 0,
    wsRefusedPerIp: 0,
    wsRefusedTotal: 0,
  };
  /** Open terminal sockets, in total and per client address (see clientAddress). */
  let openSockets = 0;
  const socketsByAddress = new Map<string, number>();
  const allowedOrigins = new Set(config.AGENT_ALLOWED_ORIGINS);

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

  const handleHttp = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
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
      if (req.method !== 'POST') throw new HttpError(405, 'use POST');
      let raw: unknown;
      try {
        raw = JSON.parse(await readBody(req));
      } catch (error) {
        if (error instanceof HttpError) throw error;
        throw new HttpError(400, 'request body is not valid JSON');
      }
      const parsed = createSessionRequestSchema.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new HttpError(400, `invalid request${issue?.path.length ? ` at ${issue.path.join('.')}` : ''}: ${issue?.message ?? ''}`);
      }
      const { session, created } = await sessions.getOrCreate(parsed.data.learnerId, parsed.data.labId, parsed.data.progress);
      sendJson(res, created ? 201 : 200, sessionInfo(session, created));
      return;
    }
    // Workshop calls: the instructor dashboard's status, read-only viewer tokens, notices, ending.
    const readJson = async <S extends z.ZodType>(schema: S): Promise<z.infer<S>> => {
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
    };
    if (url.pathname === '/v1/sessions/query') {
      const query = await readJson(sessionQueryRequestSchema);
      sendJson(res, 200, { atMs: Date.now(), sessions: sessions.forLearners(query.learnerIds, query.labIds).map((s) => s.status()) });
      return;
    }
    if (url.pathname === '/v1/sessions/end') {
      const request = await readJson(endSessionsRequestSchema);
      sendJson(res, 200, { ended: await sessions.endForLearners(request.learnerIds, request.reason, request.closeReason) });
      return;
    }
    if (url.pathname === '/v1/notices') {
      const notice = await readJson(noticeRequestSchema);
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

  const server = http.createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => {
    handleHttp(req, res).catch((error: unknown) => {
      if (error instanceof HttpError) {
        const headers: Record<string, string> = error.retryAfterS ? { 'retry-after': String(error.retryAfterS) } : {};
        if (error.status === 413) headers.connection = 'close';
        if (!res.headersSent) sendJson(res, error.status, { error: error.message }, headers);
        return;
      }
      log('error', 'control API error', { error, path: req.url });
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxMessageBytes, perMessageDeflate: false });

  const reject = (socket: Duplex, status: number, reason: string, extraHeaders = ''): void => {
    counters.wsRejected = (counters.wsRejected ?? 0) + 1;
    socket.write(`HTTP/1.1 ${status} ${reason}\r\n${extraHeaders}Connection: close\r\nContent-Length: 0\r\n\r\n`);
    socket.destroy();
  };

  /**
   * The browser's address: the peer's, or, when the peer is on loopback (the app's proxy in
   * scripts/start.mjs), the LAST X-Forwarded-For entry, which that proxy appends itself (earlier
   * entries come from the client and are not trusted).
   */
  const clientAddress = (req: http.IncomingMessage): string => {
    const peer = req.socket.remoteAddress ?? '?';
    const loopback = peer === '::1' || peer.startsWith('127.') || peer.startsWith('::ffff:127.');
    const forwarded = req.headers['x-forwarded-for'];
    if (!loopback || !forwarded) return peer;
    const last = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded).split(',').at(-1)?.trim();
    return last || peer;
  };

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== WS_PATH) return reject(socket, 404, 'Not Found');
    let origin: string | null = null;
    try {
      origin = req.headers.origin ? new URL(req.headers.origin).origin : null;
    } catch {
      origin = null;
    }
    if (!origin || !allowedOrigins.has(origin)) {
      log('warn', 'websocket origin refused', { origin: req.headers.origin ?? null });
      return reject(socket, 403, 'Forbidden');
    }
    // Connection limits, checked before the upgrade: one socket too many is refused at once.
    const address = clientAddress(req);
    if (openSockets >= config.AGENT_MAX_SOCKETS) {
      counters.wsRefusedTotal = (counters.wsRefusedTotal ?? 0) + 1;
      log('warn', 'websocket refused: agent socket limit', { limit: config.AGENT_MAX_SOCKETS });
      return reject(socket, 503, 'Service Unavailable', 'Retry-After: 5\r\n');
    }
    if ((socketsByAddress.get(address) ?? 0) >= config.AGENT_MAX_SOCKETS_PER_IP) {
      counters.wsRefusedPerIp = (counters.wsRefusedPerIp ?? 0) + 1;
      log('warn', 'websocket refused: per-address socket limit', { address, limit: config.AGENT_MAX_SOCKETS_PER_IP });
      return reject(socket, 429, 'Too Many Requests', 'Retry-After: 5\r\n');
    }
    // Counted from now (the upgrade completes asynchronously) until the socket closes.
    openSockets++;
    socketsByAddress.set(address, (socketsByAddress.get(address) ?? 0) + 1);
    let counted = true;
    const release = (): void => {
      if (!counted) return;
      counted = false;
      openSockets--;
      const left = (socketsByAddress.get(address) ?? 1) - 1;
      if (left > 0) socketsByAddress.set(address, left);
      else socketsByAddress.delete(address);
    };
    socket.once('close', release);
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.once('close', release);
      onConnection(ws);
    });
  });

  const onConnection = (ws: WebSocket): void => {
    counters.wsConnections = (counters.wsConnections ?? 0) + 1;
    let session: Session | null = null;
    /** Attached with a viewer token: output only (input, resize, check... are refused). */
    let viewer = false;
    let closed = false;
    let alive = true;
    let windowStart = Date.now();
    let messagesInWindow = 0;
    let resizesInWindow = 0;
    let inputBytesInWindow = 0;
    let inputRefusedInWindow = false;
    /** True when this input fits the per-second byte budget; otherwise tells the client once. */
    const inputAllowed = (bytes: number): boolean => {
      inputBytesInWindow += bytes;
      if (inputBytesInWindow <= MAX_INPUT_BYTES_PER_SECOND) return true;
      if (!inputRefusedInWindow) {
        inputRefusedInWindow = true;
        counters.wsInputDropped = (counters.wsInputDropped ?? 0) + 1;
        send({ type: 'error', code: 'input-rate', message: `More than ${MAX_INPUT_BYTES_PER_SECOND >> 10} KiB of input per second: the rest was dropped.` });
      }
      return false;
    };

    const send = (message: ServerMessage): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
    };
    const fail = (code: number, errorCode: string, message: string): void => {
      if (closed) return;
      closed = true;
      if (code === closeCodes.slowConsumer) counters.wsSlowConsumers = (counters.wsSlowConsumers ?? 0) + 1;
      send({ type: 'error', code: errorCode, message, close: code });
      ws.close(code, errorCode);
      setTimeout(() => ws.terminate(), 2_000).unref();
    };
    const client: ClientConnection = {
      sendJson: send,
      sendBinary: (frame) => {
        if (ws.readyState !== ws.OPEN) return;
        if (ws.bufferedAmount > config.AGENT_WS_MAX_BUFFERED_BYTES) {
          fail(closeCodes.slowConsumer, 'slow-consumer', 'Your browser stopped reading terminal output; reconnecting.');
          return;
        }
        ws.send(frame);
      },
      fail,
    };

    const authTimer = setTimeout(() => {
      counters.wsAuthFailures = (counters.wsAuthFailures ?? 0) + 1;
      fail(closeCodes.unauthorized, 'unauthorized', 'No auth message received in time.');
    }, limits.authTimeoutMs);

    const pinger = setInterval(() => {
      // Not answered since the previous tick: the peer is gone (or its network is). Terminate; the
      // session stays and is resumed by the next connection.
      if (!alive) {
        counters.wsDeadPeers = (counters.wsDeadPeers ?? 0) + 1;
        log('info', 'websocket peer not answering pings: terminated', { session: session?.id });
        ws.terminate();
        return;
      }
      alive = false;
      ws.ping();
    }, config.AGENT_WS_PING_MS);
    ws.on('pong', () => {
      alive = true;
    });

    const badMessage = (text: string): void => {
      counters.wsBadMessages = (counters.wsBadMessages ?? 0) + 1;
      send({ type: 'error', code: 'bad-message', message: text });
    };

    const handle = (message: ClientMessage): void => {
      if (message.type === 'auth') {
        if (session) return badMessage('already authenticated');
        clearTimeout(authTimer);
        const verified = tokens.consume(message.token);
        if (!verified.ok) {
          counters.wsAuthFailures = (counters.wsAuthFailures ?? 0) + 1;
          log('warn', 'websocket auth refused', { reason: verified.reason });
          return fail(closeCodes.unauthorized, 'unauthorized', `Terminal token refused (${verified.reason}).`);
        }
        const found = sessions.get(verified.payload.sid);
        if (!found || found.learnerId !== verified.payload.lid || found.state !== 'running') {
          return fail(closeCodes.sessionNotFound, 'session-not-found', 'This lab session no longer exists. Reload to start a new one.');
        }
        session = found;
        if (verified.payload.r === 'viewer') {
          viewer = true;
          session.attachViewer(client, message.resume);
          return;
        }
        session.attach(client, message.resume, message.size);
        return;
      }
      if (!session) return fail(closeCodes.unauthorized, 'unauthorized', 'The first message must be auth.');
      if (viewer && message.type !== 'ping' && message.type !== 'ack') {
        return send({ type: 'error', code: 'read-only', message: 'This is a read-only view of the terminal.' });
      }
      if (message.type !== 'ping' && message.type !== 'ack' && message.type !== 'resize') session.noteActivity();
      switch (message.type) {
        case 'active':
          break;
        case 'input':
          if (inputAllowed(Buffer.byteLength(message.data))) session.input(message.terminal, message.data);
          break;
        case 'resize':
          if (++resizesInWindow > limits.maxResizesPerSecond) return;
          session.resize(message.terminal, message.cols, message.rows);
          break;
        case 'ack':
          session.ack(message.terminal, message.offset);
          break;
        case 'check':
          session.requestGrade('explicit');
          break;
        case 'answer':
          session.answer(message.stepId, message.value);
          break;
        case 'restart':
          session.restart(message.terminal);
          break;
        case 'reset':
          // The socket closes with sessionEnded ("reset"); the browser asks the app for a new
          // session, which starts a fresh sandbox with the passed steps kept.
          log('info', 'session reset by the learner', { session: session.id });
          void session.end('reset');
          break;
        case 'ping':
          send({ type: 'pong', id: message.id });
          break;
      }
    };

    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (closed) return;
      const now = Date.now();
      if (now - windowStart >= 1_000) {
        windowStart = now;
        messagesInWindow = 0;
        resizesInWindow = 0;
        inputBytesInWindow = 0;
        inputRefusedInWindow = false;
      }
      if (++messagesInWindow > limits.maxMessagesPerSecond) {
        return fail(closeCodes.rateLimited, 'rate-limited', 'Too many messages per second.');
      }
      const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      try {
        if (isBinary) {
          if (!session) return fail(closeCodes.unauthorized, 'unauthorized', 'The first message must be auth.');
          if (viewer) return send({ type: 'error', code: 'read-only', message: 'This is a read-only view of the terminal.' });
          const frame = decodeFrame(buffer);
          if ('error' in frame) return badMessage(frame.error);
          if (frame.kind !== 'input') return badMessage('clients may only send input frames');
          if (inputAllowed(frame.data.length)) session.input(frame.terminal, Buffer.from(frame.data));
          return;
        }
        const text = buffer.toString('utf8');
        if (!Buffer.from(text, 'utf8').equals(buffer)) return badMessage('text frame is not valid UTF-8');
        const parsed = parseClientMessage(text);
        if (!parsed.ok) {
          if (!session) return fail(closeCodes.badMessage, 'bad-message', parsed.error);
          return badMessage(parsed.error);
        }
        handle(parsed.message);
      } catch (error) {
        log('error', 'websocket handler error', { error });
        badMessage('the agent could not handle that message');
      }
    });

    ws.on('close', () => {
      closed = true;
      clearTimeout(authTimer);
      clearInterval(pinger);
      session?.detach(client);
    });
    ws.on('error', (error) => log('debug', 'websocket error', { error }));
  };

  return {
    server,
    counters,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.close(closeCodes.goingAway, 'going-away');
        server.close(() => resolve());
        setTimeout(() => {
          for (const ws of wss.clients) ws.terminate();
          server.closeAllConnections();
        }, 1_000).unref();
      }),
  };
}
