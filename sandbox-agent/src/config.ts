// The agent's configuration, read once at boot from the environment and validated with zod.
// A bad value stops the agent at once with a message naming the variable (fail fast).
import { z } from 'zod';

const intFromEnv = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

export const agentEnvSchema = z.object({
  /** Address the agent listens on. Loopback by default: only the app (same host) talks to it. */
  AGENT_HOST: z.string().trim().min(1).default('127.0.0.1'),
  AGENT_PORT: intFromEnv(1, 65535).default(7071),
  /** Shared secret of the control API (Bearer) and key material for terminal tokens. */
  AGENT_SECRET: z.string().min(32, 'must be at least 32 characters (use a random value)'),
  /** Browser origins allowed to open terminal WebSockets, comma separated (scheme://host[:port]). */
  AGENT_ALLOWED_ORIGINS: z
    .string()
    .trim()
    .min(1)
    .transform((value, ctx) => {
      const origins: string[] = [];
      for (const part of value.split(',').map((p) => p.trim()).filter(Boolean)) {
        try {
          const url = new URL(part);
          if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
          origins.push(url.origin);
        } catch {
          ctx.addIssue({ code: 'custom', message: `"${part}" is not an http(s) origin` });
          return z.NEVER;
        }
      }
      return origins;
    }),
  /** How long a session's sandbox lives with no browser attached. */
  AGENT_IDLE_GRACE_MS: intFromEnv(1_000, 24 * 3600_000).default(15 * 60_000),
  /** Most sandboxes this agent runs at once; further creates get 503 + Retry-After. */
  AGENT_MAX_SESSIONS: intFromEnv(1, 5000).default(200),
  /** Most sandboxes being created at the same moment; further creates get 429 + Retry-After. */
  AGENT_MAX_CONCURRENT_STARTS: intFromEnv(1, 200).default(8),
  /** Lifetime of a terminal token (it is used once, at WebSocket auth). */
  AGENT_TOKEN_TTL_MS: intFromEnv(5_000, 3600_000).default(120_000),
  /** Poll interval of the grader while a step is open and a browser is attached. */
  AGENT_GRADE_POLL_MS: intFromEnv(200, 60_000).default(1_000),
  /** WebSocket ping interval; a peer that has not answered the previous ping is terminated, so a
   * dead peer is detected within 2 intervals (its session stays, for resume). */
  AGENT_WS_PING_MS: intFromEnv(100, 300_000).default(15_000),
  /** A learner attached but sending no input (keystrokes, check, answer, "I'm still here") this long
   * has the session ended as 'idle' (sandbox torn down, passed steps kept). 0 turns it off. */
  AGENT_INPUT_IDLE_MS: intFromEnv(0, 7 * 24 * 3600_000)
    .refine((ms) => ms === 0 || ms >= 1_000, 'must be 0 (off) or at least 1000')
    .default(60 * 60_000),
  /** How long before that end the browser gets the `notice` 'idle-warning' (smaller than AGENT_INPUT_IDLE_MS). */
  AGENT_IDLE_WARNING_MS: intFromEnv(0, 24 * 3600_000).default(5 * 60_000),
  /** A learner's socket whose terminal output has been held back this long (the PTY paused because
   * the client does not acknowledge, i.e. does not read) is closed 4408; the shells keep running. */
  AGENT_SLOW_CONSUMER_MS: intFromEnv(500, 600_000).default(30_000),
  /** Output queued in one socket's send buffer (ws bufferedAmount) beyond which it is closed 4408 at once. */
  AGENT_WS_MAX_BUFFERED_BYTES: intFromEnv(64 * 1024, 256 * 1024 * 1024).default(8 * 1024 * 1024),
  /** Read-only viewer sockets per session (the instructor's live view); one more is refused 4429. */
  AGENT_MAX_VIEWERS_PER_SESSION: intFromEnv(0, 64).default(4),
  /** Open terminal sockets (authenticated or not) from one client address; one more gets HTTP 429.
   * Generous: a classroom behind one NAT shares an address. */
  AGENT_MAX_SOCKETS_PER_IP: intFromEnv(1, 100_000).default(256),
  /** Open terminal sockets in total; one more gets HTTP 503. */
  AGENT_MAX_SOCKETS: intFromEnv(1, 1_000_000).default(2_000),
  AGENT_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** Where passed steps are delivered (the app's progress endpoint); unset: progress stays in memory. */
  AGENT_PROGRESS_URL: z
    .string()
    .trim()
    .refine((value) => /^https?:\/\/[^/]+/.test(value), 'must be an http(s) URL')
    .optional(),
  /** Durable agent state (the progress outbox). */
  AGENT_STATE_DIR: z.string().trim().startsWith('/', 'must be an absolute path').default('/var/lib/nslab-agent'),
});
export type AgentConfig = z.infer<typeof agentEnvSchema>;

export class ConfigError extends Error {}

/** Validates the environment; throws ConfigError listing every bad variable by name. */
export function loadConfig(env: Record<string, string | undefined>): AgentConfig {
  const picked: Record<string, string> = {};
  for (const key of Object.keys(agentEnvSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') picked[key] = value;
  }
  const parsed = agentEnvSchema.safeParse(picked);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '?');
      const problem = issue.code === 'invalid_type' && picked[name] === undefined ? 'is required' : issue.message;
      return `  ${name}: ${problem}`;
    });
    throw new ConfigError(`invalid agent configuration:\n${lines.join('\n')}`);
  }
  const config = parsed.data;
  if (config.AGENT_INPUT_IDLE_MS > 0 && config.AGENT_IDLE_WARNING_MS >= config.AGENT_INPUT_IDLE_MS) {
    throw new ConfigError(
      `invalid agent configuration:\n  AGENT_IDLE_WARNING_MS: must be smaller than AGENT_INPUT_IDLE_MS (${config.AGENT_INPUT_IDLE_MS})`,
    );
  }
  return config;
}
