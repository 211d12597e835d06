// Sessions recorded for this lab's fixture tests (see labs/core/scenario.ts).
import type { Scenarios } from '../core/scenario';

export const scenarios: Scenarios = {
  stage: 'stages',
};
