// Sessions recorded for this lab's fixture tests (see labs/core/scenario.ts).
import { line, lines, type Scenarios } from '../core/scenario';

export const scenarios: Scenarios = {
  stage: 'stages',
  // The queue made in the sandbox's own IPC namespace: every shell lists it.
  'queue-in-base': lines(line(0, 'ipcmk -Q'), line(0, 'unshare -i bash', 800), line(1, 'ipcs -q')),
  // A time namespace without an offset: uptime unchanged.
  'time-no-offset': lines(line(0, 'unshare -T bash', 800), line(0, 'cat /proc/uptime')),
};
