// Sessions recorded for this lab's fixture tests (see labs/core/scenario.ts).
import { firstNumber, forgedMarks, type Scenarios } from '../core/scenario';

export const scenarios: Scenarios = {
  done: 'solution',
  // A nested bash WITHOUT -u: changing the hostname there renames the whole sandbox.
  'forgot-u': async (ctx) => {
    await ctx.run(0, 'bash');
    await ctx.run(0, 'hostname container1');
    await ctx.run(0, 'hostname');
    const pid = firstNumber(await ctx.run(1, 'pgrep -n bash'));
    await ctx.run(1, `nsenter -t ${pid} -u hostname`);
    await ctx.run(1, 'hostname');
  },
  // No unshare at all; hand-printed shell marks claim every step's output.
  forged: async (ctx) => {
    await ctx.run(0, forgedMarks('hostname', 'container1'));
    await ctx.run(1, forgedMarks('nsenter -t 8 -u hostname', 'container1'));
    await ctx.run(1, forgedMarks('hostname', 'nslab'));
  },
};
