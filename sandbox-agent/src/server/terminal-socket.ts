// One terminal WebSocket after admission (ws-upgrade.ts): the first message must be `auth` with a
// single-use token (a learner's or a viewer's), then zod-checked messages within per-second rate
// limits drive the session; a viewer is read-only. The socket is the session's ClientConnection.
import type { RawData, WebSocket } from 'ws';
import { closeCodes, decodeFrame, limits, parseClientMessage, type ClientMessage, type ServerMessage } from '../../protocol/index';
import type { AgentConfig } from '../config';
import { log } from '../log';
import type { ClientConnection, Session, SessionManager } from '../session';
import type { TokenIssuer } from '../tokens';
import type { SocketCounters } from './ws-upgrade';

/** Keystrokes (typed or pasted) per socket per second; more is dropped with one error a second.
 * A flood of input makes the shell echo and redraw it all, which costs the agent and the machine. */
const MAX_INPUT_BYTES_PER_SECOND = 256 * 1024;

export function createTerminalSocketHandler(
  config: AgentConfig,
  sessions: SessionManager,
  tokens: TokenIssuer,
  counters: SocketCounters,
): (ws: WebSocket) => void {
  return (ws: WebSocket): void => {
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
}
