// The agent's HTTP server, composed of:
//   server/control-api.ts      the control API (server-only, Bearer secret), /healthz, /metrics
//   server/ws-upgrade.ts       admission of terminal WebSockets at WS_PATH (path, origin, socket limits)
//   server/terminal-socket.ts  one terminal socket: token auth, rate limits, zod-validated messages
import http from 'node:http';
import { closeCodes } from '../protocol/index';
import type { AgentConfig } from './config';
import type { SessionManager } from './session';
import { createControlApi } from './server/control-api';
import { createTerminalSocketHandler } from './server/terminal-socket';
import { createTerminalUpgrades, type SocketCounters } from './server/ws-upgrade';
import { TokenIssuer } from './tokens';

export interface AgentServer {
  server: http.Server;
  counters: SocketCounters;
  close(): Promise<void>;
}

export function createAgentServer(config: AgentConfig, sessions: SessionManager): AgentServer {
  const tokens = new TokenIssuer(config.AGENT_SECRET, config.AGENT_TOKEN_TTL_MS);
  const counters: SocketCounters = {
    wsRejected: 0,
    wsBadMessages: 0,
    wsAuthFailures: 0,
    wsConnections: 0,
    wsDeadPeers: 0,
    wsSlowConsumers: 0,
    wsRefusedPerIp: 0,
    wsRefusedTotal: 0,
  };

  const server = http.createServer({ maxHeaderSize: 16 * 1024 }, createControlApi(config, sessions, tokens));
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  const { wss, onUpgrade } = createTerminalUpgrades(config, counters, createTerminalSocketHandler(config, sessions, tokens, counters));
  server.on('upgrade', onUpgrade);

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
