// Admission of terminal WebSockets at the HTTP upgrade, before any byte of the protocol: the path
// must be WS_PATH, the Origin one of AGENT_ALLOWED_ORIGINS, and the agent's socket limits (in total
// and per client address) must allow one more. A refused handshake is answered with a plain HTTP
// status; an admitted one is counted until its socket closes.
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { limits, WS_PATH } from '../../protocol/index';
import type { AgentConfig } from '../config';
import { log } from '../log';

/** The agent server's socket counters (tests read them). */
export type SocketCounters = Record<string, number>;

/**
 * The browser's address: the peer's, or, when the peer is on loopback (the app's proxy in
 * scripts/start.mjs), the LAST X-Forwarded-For entry, which that proxy appends itself (earlier
 * entries come from the client and are not trusted).
 */
function clientAddress(req: http.IncomingMessage): string {
  const peer = req.socket.remoteAddress ?? '?';
  const loopback = peer === '::1' || peer.startsWith('127.') || peer.startsWith('::ffff:127.');
  const forwarded = req.headers['x-forwarded-for'];
  if (!loopback || !forwarded) return peer;
  const last = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded).split(',').at(-1)?.trim();
  return last || peer;
}

export interface TerminalUpgrades {
  /** The WebSocket server (noServer): its `clients` are the open terminal sockets. */
  wss: WebSocketServer;
  /** The http server's 'upgrade' listener. */
  onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void;
}

export function createTerminalUpgrades(config: AgentConfig, counters: SocketCounters, onConnection: (ws: WebSocket) => void): TerminalUpgrades {
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxMessageBytes, perMessageDeflate: false });
  const allowedOrigins = new Set(config.AGENT_ALLOWED_ORIGINS);
  /** Open terminal sockets, in total and per client address (see clientAddress). */
  let openSockets = 0;
  const socketsByAddress = new Map<string, number>();

  const reject = (socket: Duplex, status: number, reason: string, extraHeaders = ''): void => {
    counters.wsRejected = (counters.wsRejected ?? 0) + 1;
    socket.write(`HTTP/1.1 ${status} ${reason}\r\n${extraHeaders}Connection: close\r\nContent-Length: 0\r\n\r\n`);
    socket.destroy();
  };

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
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
  };

  return { wss, onUpgrade };
}
