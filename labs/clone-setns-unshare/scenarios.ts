// Sessions recorded for this lab's fixture tests (see labs/core/scenario.ts).
import { firstNumber, forgedMarks, runs, type Scenarios } from '../core/scenario';

export const scenarios: Scenarios = {
  done: 'solution',
  // A nested bash WITHOUT -u: changing the hostname there renames the whole sandbox.
  'forgot-u': runs(
    [0, 'bash'],
    [0, 'hostname container1'],
    [0, 'hostname'],
    [1, 'pgrep -n bash'],
    [1, (printed) => `nsenter -t ${firstNumber(printed[3]!)} -u hostname`],
    [1, 'hostname'],
  ),
  // No unshare at all; hand-printed shell marks claim every step's output.
  forged: runs(
    [0, forgedMarks('hostname', 'container1')],
    [1, forgedMarks('nsenter -t 8 -u hostname', 'container1')],
    [1, forgedMarks('hostname', 'nslab')],
  ),
};
