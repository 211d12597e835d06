// Sessions recorded for this lab's fixture tests (see labs/core/scenario.ts).
import { line, lines, type Scenarios } from '../core/scenario';

export const scenarios: Scenarios = {
  done: 'solution',
  // The tmpfs mounted in the sandbox's own mount namespace: every shell sees it.
  'base-mount': lines(line(0, 'mount -t tmpfs scratch /mnt && echo hello > /mnt/note'), line(1, 'findmnt /mnt')),
};
