// Sessions recorded for this lab's fixture tests (see labs/core/scenario.ts).
import { line, lines, type Scenarios } from '../core/scenario';

export const scenarios: Scenarios = {
  done: 'solution',
  // unshare -p without -f: the sleep is not PID 1 of anything.
  'no-fork': lines(line(0, 'unshare -p sleep 300', 600), line(1, 'ps -ef')),
  // unshare -p bash without -f: its first child becomes PID 1 and exits, then fork fails.
  'no-fork-bash': lines(line(0, 'unshare -p bash', 800), line(0, 'ls'), line(0, 'ls')),
};
