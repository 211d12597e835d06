// Sessions recorded for this lab's fixture tests (see labs/core/scenario.ts).
import { firstNumber, runs, type Scenarios } from '../core/scenario';

export const scenarios: Scenarios = {
  done: 'solution',
  // lo left DOWN, lsns unfiltered for the net step, nsenter without -n (the PID from pgrep's output).
  'lo-down': runs(
    [1, 'lsns'],
    [0, 'unshare -n bash'],
    [0, 'ip addr'],
    [1, 'pgrep -n bash'],
    [1, (printed) => `nsenter -t ${firstNumber(printed[3]!)} ip addr`],
  ),
};
