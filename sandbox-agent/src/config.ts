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
  return parsed.data;
}
