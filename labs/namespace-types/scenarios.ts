// Sessions recorded for this lab's fixture tests (see labs/core/scenario.ts).
import type { Scenarios } from '../core/scenario';

export const scenarios: Scenarios = {
  done: 'solution',
  // -nu without -i, -p without -f, and lsns filtered to one type.
  'no-fork': async (ctx) => {
    await ctx.run(0, 'unshare -nu sleep 1000 &');
    await ctx.run(0, 'unshare -p sleep 1000 &');
    await ctx.run(0, 'lsns -t pid');
  },
};
