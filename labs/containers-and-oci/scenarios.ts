// Sessions recorded for this lab's fixture tests (see labs/core/scenario.ts).
import type { Scenarios } from '../core/scenario';

export const scenarios: Scenarios = {
  done: 'solution',
  // The neighbour got a network namespace of its own; the answer is the uts inode.
  'isolated-neighbour': async (ctx) => {
    const uts = /uts:\[(\d+)\]/.exec(await ctx.run(0, 'readlink /proc/$$/ns/uts'))?.[1] ?? '0';
    ctx.answer('shell-net-inode', uts);
    await ctx.run(0, 'unshare -n sleep 1000 &');
    await ctx.run(0, 'ls -l /proc/$!/ns/');
  },
};
