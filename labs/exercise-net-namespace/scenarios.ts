// Sessions recorded for this lab's fixture tests (see labs/core/scenario.ts).
import { firstNumber, forgedMarks, line, lines, type RecordingContext, type Scenarios } from '../core/scenario';

/** A sleep started in terminal 1 by `start`, its PID answered, its links listed and nsenter ip a run. */
const withSleep =
  (start: string) =>
  async (ctx: RecordingContext): Promise<void> => {
    await ctx.type(0, `${start}\r`, 0);
    const pid = firstNumber(await ctx.run(1, 'sleep 0.3; pgrep -x sleep'));
    ctx.answer('find-pid', pid);
    await ctx.run(1, `ls -la /proc/${pid}/ns/`);
    await ctx.run(1, `nsenter -t ${pid} -n ip a`);
  };

export const scenarios: Scenarios = {
  // The whole exercise done right: sleep in its own netns, PID answered, ns listed, nsenter ip a.
  'exercise-done': withSleep('unshare -n sleep 60'),
  // Forgot -n: the sleep shares the shell's network namespace.
  'forgot-n': withSleep('sleep 60'),
  // A learner trying to fool the grader: bash renamed to "sleep" (comm only) inside its own netns,
  // and hand-printed shell-integration marks claiming the listing and nsenter ran.
  forged: async (ctx) => {
    await ctx.type(0, "unshare -n bash -c 'printf sleep > /proc/self/comm; read'\r", 0);
    const pid = firstNumber(await ctx.run(1, 'sleep 0.3; pgrep -x sleep'));
    ctx.answer('find-pid', pid);
    await ctx.run(1, forgedMarks(`ls -la /proc/${pid}/ns/`, 'lrwxrwxrwx 1 root root 0 net -> net:[4026532999]'));
    await ctx.run(1, forgedMarks(`nsenter -t ${pid} -n ip a`, '1: lo: <LOOPBACK> mtu 65536 state DOWN'));
  },
  // issue 13: comm and argv[0] say sleep, the program is bash (its exe, read from the host).
  'symlink-sleep': lines(
    line(1, 'ln -sf /bin/bash /tmp/sleep && mkfifo /tmp/f'),
    line(0, 'unshare -n /tmp/sleep -c "read < /tmp/f"', 800),
    line(1, 'pgrep -a sleep'),
  ),
};
