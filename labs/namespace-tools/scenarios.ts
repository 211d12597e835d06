// Sessions recorded for this lab's fixture tests (see labs/core/scenario.ts).
import { firstNumber, type Scenarios } from '../core/scenario';

export const scenarios: Scenarios = {
  done: 'solution',
  // lo left DOWN, lsns unfiltered for the net step, nsenter without -n.
  'lo-down': async (ctx) => {
    await ctx.run(1, 'lsns');
    await ctx.run(0, 'unshare -n bash');
    await ctx.run(0, 'ip addr');
    const pid = firstNumber(await ctx.run(1, 'pgrep -n bash'));
    await ctx.run(1, `nsenter -t ${pid} ip addr`);
  },
};
