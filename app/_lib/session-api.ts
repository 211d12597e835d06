// The app's own session API (POST /api/sessions), shared by the route handler and the browser.
// Pure zod: no Node and no DOM APIs.
import { z } from 'zod';
import { localeSchema, stepResultSchema } from '../../labs/core/model';
import { createSessionRequestSchema } from '../../sandbox-agent/protocol';

/** Request body the browser sends. The learner id comes from the signed cookie, never the body. */
export const labSessionRequestSchema = z.object({
  labId: createSessionRequestSchema.shape.labId,
  /** The page's language, for error messages (app/_lib/api-errors.ts). */
  locale: localeSchema.optional(),
});
export type LabSessionRequest = z.infer<typeof labSessionRequestSchema>;

/** What the browser gets back: enough to open the WebSocket and show the steps. */
export const labSessionResponseSchema = z.object({
  sessionId: z.string(),
  /** Short-lived: fetch a new one for every (re)connect. */
  token: z.string(),
  tokenExpiresAtMs: z.number(),
  terminals: z.number().int(),
  steps: z.array(stepResultSchema),
});
export type LabSessionResponse = z.infer<typeof labSessionResponseSchema>;

/** Every error reply of the app's API: a stable machine code and the message in the request's language. */
export const apiErrorSchema = z.object({ code: z.string(), error: z.string(), locale: localeSchema.optional() });
export type ApiError = z.infer<typeof apiErrorSchema>;
