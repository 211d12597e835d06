// The agent's sessions, split along the data flow (see session/session.ts for the picture):
//   session/lifecycle.ts      SessionManager: start, find, end and reap sessions; HttpError
//   session/session.ts        Session: one sandbox + terminals, composing the parts below
//   session/client-hub.ts     the learner's and viewers' browsers, one broadcast, ready/replay, idle and slow-consumer timers
//   session/grading-loop.ts   when rounds run: queue, debounce, grading budget, poll when quiet
//   session/map-publisher.ts  the live namespace map (`snapshot` messages)
//   session/step-ledger.ts    step results, saved flags, latest failures, the hand-off to the outbox
// Callers import from here.
export { HttpError, SessionManager } from './session/lifecycle';
export { Session, type SessionCallbacks } from './session/session';
export { INPUT_DROPPED_NOTICE_MS, type ClientConnection } from './session/client-hub';
export { ASKED_MAX_WAIT_MS, GRADE_COST_FACTOR, POLL_MAX_DEFER_MS, POLL_QUIET_MS, TOO_MUCH_BACKOFF_MAX_MS, TOO_MUCH_BACKOFF_MS } from './session/grading-loop';
export { tooMuchStateMessage } from './session/step-ledger';
