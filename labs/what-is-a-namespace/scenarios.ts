// Sessions recorded for this lab's fixture tests (see labs/core/scenario.ts).
import type { Scenarios } from '../core/scenario';

export const scenarios: Scenarios = {
  done: 'solution',
  // ls without -l, the net inode typed as uts, only -u, and a wrong list of shared types.
  mistakes: async (ctx) => {
    await ctx.run(1, 'ls /proc/$$/ns/');
    const net = /net:\[(\d+)\]/.exec(await ctx.run(1, 'readlink /proc/$$/ns/net'))?.[1] ?? '0';
    ctx.answer('uts-inode', net);
    await ctx.type(0, 'unshare -u sleep 1000\r');
    await ctx.run(1, 'ls -la /proc/$(pgrep -xn sleep)/ns/');
    ctx.answer('shared-types', 'net, mnt, ipc');
  },
};
