// Sessions recorded for this lab's fixture tests (see labs/core/scenario.ts).
import { line, lines, type Scenarios } from '../core/scenario';

export const scenarios: Scenarios = {
  done: 'solution',
  // The sandbox's own hostname changed: every shell sees it.
  'base-hostname': lines(line(0, 'hostname container1'), line(1, 'hostname')),
  // Renaming from a user namespace: allowed with -r (root mapped), EPERM without.
  eperm: lines(line(0, 'unshare -Ur hostname container2'), line(0, 'unshare -U hostname container3')),
};
