// Sessions recorded for this lab's fixture tests (see labs/core/scenario.ts).
import { runs, type Scenarios } from '../core/scenario';

export const scenarios: Scenarios = {
  done: 'solution',
  // -nu without -i, -p without -f, and lsns filtered to one type.
  'no-fork': runs([0, 'unshare -nu sleep 1000 &'], [0, 'unshare -p sleep 1000 &'], [0, 'lsns -t pid']),
};
