// The wire protocol between the browser and the sandbox agent, defined once (zod) and imported by
// both sides. Documented in sandbox-agent/README.md. No DOM and no Node APIs in this module.
//
// One WebSocket per learner session, at /agent/ws on the app's origin. JSON text frames carry
// control messages; binary frames carry terminal output (server -> client) and keystrokes
// (client -> server). The first client message must be `auth`.
import { z } from 'zod';
import { stepResultSchema } from '../../labs/core/model';
import { mapSnapshotSchema } from './map-snapshot';

export { MAP_LIMITS, mapSnapshotSchema, toMapSnapshot, mapSnapshotKey, type MapSnapshot } from './map-snapshot';

export const PROTOCOL_VERSION = 1;
export const WS_PATH = '/agent/ws';

/** Limits the server enforces (and the client respects). */
export const limits = {
  /** Largest WebSocket message the server accepts (ws maxPayload). Bigger: close 1009. */
  maxMessageBytes: 64 * 1024,
  /** Largest keystroke chunk in one input message. */
  maxInputBytes: 16 * 1024,
  maxAnswerChars: 200,
  maxTerminals: 3,
  cols: { min: 2, max: 1000 },
  rows: { min: 1, max: 500 },
  /** Client must authenticate within this time after the upgrade, or close 4401. */
  authTimeoutMs: 5_000,
  /** Un-acknowledged output per terminal before the server pauses the PTY (high watermark). */
  flowHighWaterBytes: 1024 * 1024,
  /** The PTY resumes when un-acknowledged output falls below this (low watermark). */
  flowLowWaterBytes: 256 * 1024,
  /** A client acknowledges at least every this many bytes it has rendered. */
  ackEveryBytes: 64 * 1024,
  /** Replay buffer kept per terminal for reconnects. */
  replayBytes: 256 * 1024,
  /** Control messages per second per socket before rate limiting (close 4429). */
  maxMessagesPerSecond: 400,
  maxResizesPerSecond: 30,
} as const;

/** Application close codes (4000-4999). Each close is preceded by an `error` message. */
export const closeCodes = {
  /** Normal: the session ended (deleted, reaped, idle, or the workshop ended). The close reason
   * string is 'session-idle' when it ended for lack of input, else 'session-ended'. */
  sessionEnded: 4000,
  /** A newer connection for the same session took over (second tab). */
  replaced: 4001,
  /** Client sent something it should not (bad schema, input before auth...). */
  badMessage: 4400,
  /** No, invalid or expired token; or no auth message in time. */
  unauthorized: 4401,
  /** Origin not allowed (normally refused at the handshake with 403 instead). */
  forbidden: 4403,
  /** The session does not exist (anymore). */
  sessionNotFound: 4404,
  /** Too many messages per second; or one viewer more than the session allows ('too-many-viewers'). */
  rateLimited: 4429,
  /** The client stopped reading: its send buffer exceeded the cap, or its output was held back
   * (PTY paused, output not acknowledged) longer than the agent's slow-consumer bound. */
  slowConsumer: 4408,
  /** The sandbox stopped (its init died, e.g. `kill -9 1` or out of memory). */
  sandboxLost: 4410,
  /** Agent shutting down (restart): reconnect with backoff. */
  goingAway: 4503,
  /** Unexpected server error. */
  internal: 4500,
} as const;
export type CloseCode = (typeof closeCodes)[keyof typeof closeCodes];

const terminalIndex = z.number().int().min(0).max(limits.maxTerminals - 1);
const cols = z.number().int().min(limits.cols.min).max(limits.cols.max);
const rows = z.number().int().min(limits.rows.min).max(limits.rows.max);

// ---------- client -> server (JSON text frames) ----------

export const authMessageSchema = z.object({
  type: z.literal('auth'),
  token: z.string().min(1).max(2048),
  /** Per terminal: the output offset already rendered (replay resumes after it). */
  resume: z.array(z.object({ terminal: terminalIndex, offset: z.number().int().min(0) })).max(3),
  size: z.object({ cols, rows }).optional(),
});

export const inputMessageSchema = z.object({
  type: z.literal('input'),
  terminal: terminalIndex,
  data: z.string().min(1).max(limits.maxInputBytes),
});

export const resizeMessageSchema = z.object({
  type: z.literal('resize'),
  terminal: terminalIndex,
  cols,
  rows,
});

export const ackMessageSchema = z.object({
  type: z.literal('ack'),
  terminal: terminalIndex,
  /** Absolute output offset the client has rendered up to. */
  offset: z.number().int().min(0),
});

export const checkMessageSchema = z.object({ type: z.literal('check') });

export const answerMessageSchema = z.object({
  type: z.literal('answer'),
  stepId: z.string().min(1).max(100),
  value: z.string().max(limits.maxAnswerChars),
});

/** Start a fresh shell in a terminal whose shell exited. */
export const restartMessageSchema = z.object({ type: z.literal('restart'), terminal: terminalIndex });

export const pingMessageSchema = z.object({ type: z.literal('ping'), id: z.number().int() });

/** End this sandbox and start a fresh one for the same learner and lab; passed steps are kept. */
export const resetMessageSchema = z.object({ type: z.literal('reset') });

/** The learner is still here (the "stay" button of the idle warning): resets the input-idle timer like a keystroke. */
export const activeMessageSchema = z.object({ type: z.literal('active') });

export const clientMessageSchema = z.discriminatedUnion('type', [
  authMessageSchema,
  inputMessageSchema,
  resizeMessageSchema,
  ackMessageSchema,
  checkMessageSchema,
  answerMessageSchema,
  restartMessageSchema,
  pingMessageSchema,
  resetMessageSchema,
  activeMessageSchema,
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;

// ---------- server -> client (JSON text frames) ----------

export const readyMessageSchema = z.object({
  type: z.literal('ready'),
  protocol: z.literal(PROTOCOL_VERSION),
  sessionId: z.string(),
  labId: z.string(),
  terminals: z.array(
    z.object({
      terminal: terminalIndex,
      /** Offset of the first byte still in the replay buffer. */
      replayFrom: z.number().int().min(0),
      /** Offset after the last byte produced so far. */
      offset: z.number().int().min(0),
      running: z.boolean(),
    }),
  ),
  steps: z.array(stepResultSchema),
});

export const stepMessageSchema = z.object({ type: z.literal('step'), result: stepResultSchema });

export const exitMessageSchema = z.object({
  type: z.literal('exit'),
  terminal: terminalIndex,
  exitCode: z.number().int().nullable(),
  signal: z.number().int().nullable(),
});

export const noticeMessageSchema = z.object({
  type: z.literal('notice'),
  level: z.enum(['info', 'warning']),
  code: z.string(),
  message: z.string(),
  /** For a notice announcing something timed (code 'idle-warning': the session ends): ms from now. */
  inMs: z.number().int().min(0).optional(),
  /** For a notice about one terminal (code 'input-dropped'): its index. */
  terminal: terminalIndex.optional(),
});

/** Stable notice codes the browser shows in the learner's language. */
export const noticeCodes = {
  /** No input for a while: the session ends in `inMs` unless the learner types or sends `active`. */
  idleWarning: 'idle-warning',
  /**
   * Input to `terminal` is being dropped: the program running there does not read it and the
   * agent's queue for it is full (64 KiB). Sent at most once every 5 s per terminal while it lasts.
   */
  inputDropped: 'input-dropped',
} as const;

export const errorMessageSchema = z.object({
  type: z.literal('error'),
  /** Machine-readable reason, e.g. 'unauthorized', 'bad-message', 'rate-limited'. */
  code: z.string(),
  message: z.string(),
  /** The close code that follows, when the server is about to close. */
  close: z.number().int().min(1000).max(4999).optional(),
});

export const pongMessageSchema = z.object({ type: z.literal('pong'), id: z.number().int() });

/** The live namespace map: a trimmed, bounded view of the latest grading snapshot, sent when it changed (at most 2 per second). */
export const snapshotMessageSchema = z.object({ type: z.literal('snapshot'), snapshot: mapSnapshotSchema });

export const serverMessageSchema = z.discriminatedUnion('type', [
  readyMessageSchema,
  stepMessageSchema,
  exitMessageSchema,
  noticeMessageSchema,
  errorMessageSchema,
  pongMessageSchema,
  snapshotMessageSchema,
]);
export type ServerMessage = z.infer<typeof serverMessageSchema>;

// ---------- binary frames ----------
// server -> client, terminal output:  [0x01][terminal u8][offset float64 BE][bytes...]
//   offset = absolute position of the first byte in this terminal's output stream.
// client -> server, keystrokes:       [0x02][terminal u8][bytes...]  (same as an `input` message)
export const FRAME_OUTPUT = 0x01;
export const FRAME_INPUT = 0x02;
export const OUTPUT_HEADER_BYTES = 10;
export const INPUT_HEADER_BYTES = 2;

export function encodeOutputFrame(terminal: number, offset: number, data: Uint8Array): Uint8Array {
  return encodeOutputFrameFromChunks(terminal, offset, [data]);
}

/** One output frame whose payload is these chunks back to back (one copy, however many chunks). */
export function encodeOutputFrameFromChunks(terminal: number, offset: number, chunks: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  const frame = new Uint8Array(OUTPUT_HEADER_BYTES + length);
  frame[0] = FRAME_OUTPUT;
  frame[1] = terminal;
  new DataView(frame.buffer, frame.byteOffset, frame.byteLength).setFloat64(2, offset, false);
  let at = OUTPUT_HEADER_BYTES;
  for (const chunk of chunks) {
    frame.set(chunk, at);
    at += chunk.length;
  }
  return frame;
}

export type DecodedFrame =
  | { kind: 'output'; terminal: number; offset: number; data: Uint8Array }
  | { kind: 'input'; terminal: number; data: Uint8Array };

/** Decodes a binary frame; returns an error string for anything malformed. */
export function decodeFrame(frame: Uint8Array): DecodedFrame | { error: string } {
  if (frame.length < 2) return { error: 'binary frame shorter than its header' };
  const kind = frame[0];
  const terminal = frame[1] ?? 0;
  if (terminal >= limits.maxTerminals) return { error: `terminal ${terminal} out of range` };
  if (kind === FRAME_OUTPUT) {
    if (frame.length < OUTPUT_HEADER_BYTES) return { error: 'output frame shorter than its header' };
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    const offset = view.getFloat64(2, false);
    if (!Number.isSafeInteger(offset) || offset < 0) return { error: 'bad output offset' };
    return { kind: 'output', terminal, offset, data: frame.subarray(OUTPUT_HEADER_BYTES) };
  }
  if (kind === FRAME_INPUT) {
    const data = frame.subarray(INPUT_HEADER_BYTES);
    if (data.length === 0) return { error: 'empty input frame' };
    if (data.length > limits.maxInputBytes) return { error: 'input frame too large' };
    return { kind: 'input', terminal, data };
  }
  return { error: `unknown binary frame kind ${String(kind)}` };
}

export function encodeInputFrame(terminal: number, data: Uint8Array): Uint8Array {
  const frame = new Uint8Array(INPUT_HEADER_BYTES + data.length);
  frame[0] = FRAME_INPUT;
  frame[1] = terminal;
  frame.set(data, INPUT_HEADER_BYTES);
  return frame;
}

// ---------- control API (app server -> agent, HTTP JSON, bearer secret) ----------

export const createSessionRequestSchema = z.object({
  /** Opaque learner id chosen by the app (cookie identity or account). */
  learnerId: z.string().min(1).max(100).regex(/^[A-Za-z0-9_.:-]+$/),
  labId: z.string().min(1).max(100).regex(/^[a-z0-9-]+$/),
  /** Steps this learner already passed in this lab, from the progress database: they start passed. */
  progress: z.array(stepResultSchema.extend({ status: z.literal('passed') })).max(200).optional(),
});
export type CreateSessionRequest = z.infer<typeof createSessionRequestSchema>;

export const sessionInfoSchema = z.object({
  sessionId: z.string(),
  learnerId: z.string(),
  labId: z.string(),
  createdAtMs: z.number(),
  state: z.enum(['starting', 'running', 'stopped']),
  terminals: z.number().int(),
  steps: z.array(stepResultSchema),
  /** Signed short-lived token the browser presents in its `auth` message. */
  token: z.string(),
  tokenExpiresAtMs: z.number(),
  /** Whether this call created the session (false: an existing one was returned). */
  created: z.boolean(),
});
export type SessionInfo = z.infer<typeof sessionInfoSchema>;

// ---------- progress delivery (agent -> app, HTTP JSON, same bearer secret) ----------
// The agent's durable outbox POSTs passed steps to the app (PROGRESS_PATH on the app's origin);
// the app stores each exactly once and answers which keys it has stored (inserted or duplicate).

export const PROGRESS_PATH = '/api/internal/progress';

export const progressItemSchema = z.object({
  /** Idempotency key: learner + lab + step. */
  key: z.string().min(1).max(400),
  learnerId: createSessionRequestSchema.shape.learnerId,
  labId: createSessionRequestSchema.shape.labId,
  result: stepResultSchema.extend({ status: z.literal('passed') }),
});
export type ProgressItem = z.infer<typeof progressItemSchema>;

export const progressDeliverySchema = z.object({ items: z.array(progressItemSchema).min(1).max(100) });

export const progressReplySchema = z.object({
  results: z.array(z.object({ key: z.string(), stored: z.enum(['inserted', 'duplicate']) })),
});
export type ProgressReply = z.infer<typeof progressReplySchema>;

/** Parses a JSON text frame from the client; returns a clear error for anything off. */
export function parseClientMessage(text: string): { ok: true; message: ClientMessage } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, error: 'message is not valid JSON' };
  }
  const parsed = clientMessageSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    return { ok: false, error: `invalid message${where}: ${issue?.message ?? 'unknown problem'}` };
  }
  return { ok: true, message: parsed.data };
}

// ---------- workshop calls (app server -> agent, HTTP JSON, bearer secret) ----------
// For the instructor's live dashboard, read-only terminal views, class-wide notices and ending a
// workshop. Documented in sandbox-agent/README.md ("Workshop calls").

const learnerIdsSchema = z.array(createSessionRequestSchema.shape.learnerId).max(2000);

/** POST /v1/sessions/query: the running sessions of these learners (optionally of these labs). */
export const sessionQueryRequestSchema = z.object({
  learnerIds: learnerIdsSchema,
  labIds: z.array(createSessionRequestSchema.shape.labId).max(100).optional(),
});
export type SessionQueryRequest = z.infer<typeof sessionQueryRequestSchema>;

export const sessionStepStatusSchema = z.object({
  stepId: z.string(),
  /** What the learner sees (auto-grading never shows a failure the learner did not ask for). */
  status: stepResultSchema.shape.status,
  atMs: z.number(),
  saved: z.boolean().optional(),
  /** The latest check outcome for a step not passed yet, even while the learner sees `pending`. */
  latestFailure: z.object({ message: stepResultSchema.shape.message.unwrap(), atMs: z.number() }).nullable(),
});
export type SessionStepStatus = z.infer<typeof sessionStepStatusSchema>;

export const sessionStatusSchema = z.object({
  sessionId: z.string(),
  learnerId: z.string(),
  labId: z.string(),
  createdAtMs: z.number(),
  state: z.enum(['starting', 'running', 'stopped']),
  /** A learner's browser is attached right now. */
  connected: z.boolean(),
  /** When the learner's browser last attached or detached (ms). */
  connectionChangedAtMs: z.number(),
  viewers: z.number().int(),
  /** The first step not passed yet in lab order (null: all passed). */
  currentStepId: z.string().nullable(),
  /** Since when the learner has been on it: the latest pass in this session, or the session's start. */
  currentStepSinceMs: z.number().nullable(),
  steps: z.array(sessionStepStatusSchema),
});
export type SessionStatus = z.infer<typeof sessionStatusSchema>;

export const sessionQueryReplySchema = z.object({ atMs: z.number(), sessions: z.array(sessionStatusSchema) });
export type SessionQueryReply = z.infer<typeof sessionQueryReplySchema>;

/** POST /v1/sessions/:id/viewer-token: a read-only attach token (instructor's live view). */
export const viewerTokenReplySchema = z.object({ sessionId: z.string(), token: z.string(), tokenExpiresAtMs: z.number() });
export type ViewerTokenReply = z.infer<typeof viewerTokenReplySchema>;

/** POST /v1/notices: a `notice` message to the attached browsers of these learners' sessions. */
export const noticeRequestSchema = z.object({
  learnerIds: learnerIdsSchema.min(1),
  level: noticeMessageSchema.shape.level,
  code: z.string().min(1).max(64).regex(/^[a-z0-9-]+$/),
  message: z.string().min(1).max(2000),
});
export type NoticeRequest = z.infer<typeof noticeRequestSchema>;
export const noticeReplySchema = z.object({ delivered: z.number().int() });

/** POST /v1/sessions/end: ends every session of these learners (e.g. the workshop ended). */
export const endSessionsRequestSchema = z.object({
  learnerIds: learnerIdsSchema.min(1),
  /** Shown to the learner in the closing `error` message: "This session ended (<reason>)." */
  reason: z.string().min(1).max(200),
  /**
   * The WebSocket close reason the learner's browser gets with 4000 (default 'session-ended');
   * 'workshop-ended' tells it not to offer a new sandbox (the lesson is closed for them).
   */
  closeReason: z.enum(['session-ended', 'workshop-ended']).optional(),
});
export type EndSessionsRequest = z.infer<typeof endSessionsRequestSchema>;
export const endSessionsReplySchema = z.object({ ended: z.number().int() });
