// exercise-net-namespace, steps 1-2: a real sleep in its own network namespace (isolate-sleep) and
// its PID typed as the answer (find-pid).
import { failed, firstLine, passed, quoteCommand } from '../core/results';
import {
  basename,
  baseNs,
  commandLineOf,
  describeProcess,
  describeProcessZh,
  isSleep,
  newest,
  nsLabel,
  processByPid,
} from '../core/procs';
import { ifaceState, interfaceNames, loopbackOf, netnsOf, onlyLoopback } from '../core/net';
import { programOf, simpleCommands } from '../core/shell';
import { findCommands, parsePid } from '../core/transcript';
import { type CheckResult, type Observation, t } from '../core/model';
import { isolatedSleeps, requireBaseNet, sleepTargets, stepIds } from './target';

// ---------------------------------------------------------------- step 1: isolate-sleep

const sleepCommandPattern = /(^|[\s;&|(])(\S*\/)?(unshare|sleep)(\s|$)/;

export function checkIsolateSleep(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const baseNet = requireBaseNet(snapshot);
  const baseLabel = nsLabel('net', baseNet);
  const isolated = isolatedSleeps(snapshot);

  const good = newest(isolated.filter((p) => onlyLoopback(netnsOf(snapshot, p.ns.net))));
  if (good) {
    const netInode = good.ns.net as number;
    const netns = netnsOf(snapshot, netInode);
    const lo = loopbackOf(netns);
    const label = nsLabel('net', netInode);
    return passed(
      // No PID here: finding it is the next step's exercise (the evidence keeps it).
      t(
        `A ${good.comm} runs in ${label}, a network namespace with only lo; your shell is in ${baseLabel}`,
        `一个 ${good.comm} 正运行在 ${label} 中，这个网络命名空间里只有 lo；你的 shell 在 ${baseLabel} 中`,
      ),
      {
        pid: good.pid,
        hostPid: good.hostPid,
        netInode,
        baseNetInode: baseNet,
        interfaces: interfaceNames(netns).join(','),
        loState: lo ? ifaceState(lo) : 'unknown',
      },
    );
  }

  // A sleep in its own namespace that holds more than lo: not the fresh namespace the step asks for.
  const crowded = newest(
    isolated.filter((p) => {
      const n = netnsOf(snapshot, p.ns.net);
      return n !== undefined && n.complete && !onlyLoopback(n);
    }),
  );
  if (crowded) {
    const label = nsLabel('net', crowded.ns.net);
    const names = interfaceNames(netnsOf(snapshot, crowded.ns.net)).join(', ') || '-';
    return failed(
      t(
        `${describeProcess(crowded)} is in its own ${label}, but that namespace holds ${names}, not just lo.`,
        `${describeProcessZh(crowded)} 在它自己的 ${label} 中，但这个命名空间里有 ${names}，不只是 lo。`,
      ),
      t(
        'This step wants a brand-new network namespace, which starts with nothing but lo. Start a new one: `unshare -n sleep 60`.',
        '这一步需要一个全新的网络命名空间，新建时里面只有 lo。请重新创建一个：`unshare -n sleep 60`。',
      ),
      { pid: crowded.pid, netInode: crowded.ns.net ?? 0, interfaces: names },
    );
  }

  const unread = newest(isolated);
  if (unread) {
    const label = nsLabel('net', unread.ns.net);
    return failed(
      t(
        `${describeProcess(unread)} is in ${label}, but its interfaces could not be read yet.`,
        `${describeProcessZh(unread)} 在 ${label} 中，但暂时还读不到它的网络接口。`,
      ),
      t('Press Check again in a moment.', '请稍后再点一次“检查”。'),
      { pid: unread.pid, netInode: unread.ns.net ?? 0 },
    );
  }

  // Something calls itself sleep in its own netns, but is not the sleep program.
  const impostor = newest(
    snapshot.processes.filter(
      (p) =>
        !isSleep(p, snapshot) &&
        p.ns.net !== undefined &&
        p.ns.net !== baseNet &&
        (p.comm === 'sleep' || /(^|\/)sleep$/.test(p.cmdline[0] ?? '')),
    ),
  );
  if (impostor) {
    const cmd = commandLineOf(impostor);
    return failed(
      t(
        `PID ${impostor.pid} is named sleep, but it is not the sleep program (its command line is \`${cmd}\`).`,
        `PID ${impostor.pid} 的名字叫 sleep，但它并不是 sleep 程序（它的命令行是 \`${cmd}\`）。`,
      ),
      t(
        'Renaming a process does not make it sleep. Run the real command: `unshare -n sleep 60`.',
        '给进程改名并不会让它变成 sleep。请运行真正的命令：`unshare -n sleep 60`。',
      ),
      { pid: impostor.pid, comm: impostor.comm, netInode: impostor.ns.net ?? 0 },
    );
  }

  // A sleep the learner started, but in the sandbox's own network namespace (forgot -n).
  // Sleeps whose parent is PID 1 are left out: the sandbox's init may keep one of its own.
  const sameNs = newest(snapshot.processes.filter((p) => isSleep(p, snapshot) && p.ns.net === baseNet && p.ppid !== 1));
  if (sameNs) {
    return failed(
      t(
        `${describeProcess(sameNs)} is in ${baseLabel}, the same network namespace as your shell.`,
        `${describeProcessZh(sameNs)} 在 ${baseLabel} 中，和你的 shell 是同一个网络命名空间。`,
      ),
      t(
        "Did you forget -n? Plain `sleep 60` inherits its parent's namespaces; `unshare -n sleep 60` gives it a new network namespace.",
        '是不是忘了 -n？直接运行 `sleep 60` 会继承父进程的命名空间；`unshare -n sleep 60` 才会给它一个新的网络命名空间。',
      ),
      { pid: sameNs.pid, netInode: baseNet, baseNetInode: baseNet },
    );
  }

  // No sleep at all: did one end, or never start?
  const last = findCommands(obs.transcript, sleepCommandPattern, { ended: true }).find((r) =>
    simpleCommands(r.command).some((w) => programOf(w) === 'unshare' || programOf(w) === 'sleep'),
  );
  if (last && last.exitCode !== null) {
    if (last.exitCode === 0 || last.exitCode === 130 || last.exitCode === 143 || last.exitCode === 137) {
      return failed(
        t(
          `Your sleep has ended (\`${quoteCommand(last.command)}\` exited with status ${last.exitCode}): no sleep is running now.`,
          `你的 sleep 已经结束了（\`${quoteCommand(last.command)}\` 以状态 ${last.exitCode} 退出），现在没有 sleep 在运行。`,
        ),
        t(
          'sleep 60 lives only 60 seconds. Run `unshare -n sleep 60` again and press Check while it runs (or use a longer time, e.g. sleep 600).',
          'sleep 60 只会存在 60 秒。请再次运行 `unshare -n sleep 60`，并在它运行时点“检查”（也可以用更长的时间，比如 sleep 600）。',
        ),
        { exitCode: last.exitCode },
      );
    }
    const why = firstLine(last.output);
    return failed(
      t(
        `\`${quoteCommand(last.command)}\` failed with exit status ${last.exitCode}${why ? `: ${why}` : ''}`,
        `\`${quoteCommand(last.command)}\` 执行失败，退出状态为 ${last.exitCode}${why ? `：${why}` : ''}`,
      ),
      t(
        'Check the spelling: `unshare -n sleep 60` (unshare, a space, -n, then the command to run).',
        '请检查拼写：`unshare -n sleep 60`（unshare、空格、-n，然后是要运行的命令）。',
      ),
      { exitCode: last.exitCode },
    );
  }
  return failed(
    t('No sleep process is running in your sandbox.', '你的沙箱里没有正在运行的 sleep 进程。'),
    t(
      'In terminal 1, run `unshare -n sleep 60`. It blocks for 60 seconds: that is expected.',
      '在终端 1 中运行 `unshare -n sleep 60`。它会阻塞 60 秒，这是正常的。',
    ),
  );
}

// ---------------------------------------------------------------- step 2: find-pid

export function checkFindPid(obs: Observation): CheckResult {
  const answer = obs.answers[stepIds.findPid];
  if (!answer || answer.value.trim() === '') {
    return failed(
      t('Type the PID of your sleep in the box.', '请在输入框中填写你的 sleep 进程的 PID。'),
      t(
        'In terminal 2, `pgrep -a sleep` or `ps -ef | grep sleep` lists sleeps with their PIDs.',
        '在终端 2 中，`pgrep -a sleep` 或 `ps -ef | grep sleep` 会列出 sleep 进程及其 PID。',
      ),
    );
  }
  const typed = answer.value.trim();
  const pid = parsePid(typed);
  if (pid === undefined) {
    const shown = typed.length > 20 ? `${typed.slice(0, 19)}…` : typed;
    return failed(
      t(
        `"${shown}" is not a PID: a PID is a whole number, such as 42. Type only the digits.`,
        `“${shown}”不是 PID：PID 是一个整数，比如 42。请只输入数字。`,
      ),
      t(
        'The PID is the second column of `ps -ef` and the first column of `pgrep -a sleep`.',
        'PID 是 `ps -ef` 输出的第二列，也是 `pgrep -a sleep` 输出的第一列。',
      ),
      { answer: shown },
    );
  }

  const { snapshot } = obs;
  const targets = sleepTargets(obs);
  const match = targets.find((x) => x.pid === pid);
  if (match) {
    const label = nsLabel('net', match.netInode);
    return passed(t(`PID ${pid} is your sleep, in ${label}`, `PID ${pid} 正是你的 sleep，它在 ${label} 中`), {
      pid,
      netInode: match.netInode,
      ...(match.hostPid !== null ? { hostPid: match.hostPid } : {}),
    });
  }

  const lookHint =
    targets.length === 0
      ? t(
          'No sleep is running in its own network namespace right now: start `unshare -n sleep 60` again, then find its PID with `pgrep -a sleep`.',
          '现在没有 sleep 运行在它自己的网络命名空间中：请重新运行 `unshare -n sleep 60`，再用 `pgrep -a sleep` 找到它的 PID。',
        )
      : t(
          'Look for the sleep that `unshare -n` started: `pgrep -a sleep` in terminal 2, or `ps -ef | grep sleep`.',
          '找出由 `unshare -n` 启动的那个 sleep：在终端 2 中运行 `pgrep -a sleep` 或 `ps -ef | grep sleep`。',
        );
  const proc = processByPid(snapshot, pid);
  if (!proc) {
    return failed(
      t(`There is no process ${pid} in your sandbox right now.`, `你的沙箱里现在没有 PID 为 ${pid} 的进程。`),
      lookHint,
      { answer: pid },
    );
  }
  const baseNet = baseNs(snapshot, 'net');
  if (isSleep(proc, snapshot) && proc.ns.net === baseNet) {
    return failed(
      t(
        `PID ${pid} is a sleep, but it is in the sandbox's own network namespace ${nsLabel('net', baseNet)}, like your shell: not the one unshare -n started.`,
        `PID ${pid} 确实是一个 sleep，但它和你的 shell 一样在沙箱自己的网络命名空间 ${nsLabel('net', baseNet)} 中，不是 unshare -n 启动的那个。`,
      ),
      lookHint,
      { answer: pid },
    );
  }
  const program = basename(proc.cmdline[0]) || proc.comm;
  const what = program === proc.comm ? proc.comm : `${program}, named ${proc.comm}`;
  const whatZh = program === proc.comm ? proc.comm : `${program}（名字叫 ${proc.comm}）`;
  return failed(
    t(
      `PID ${pid} is ${what} (\`${commandLineOf(proc, 40)}\`), not your sleep.`,
      `PID ${pid} 是 ${whatZh}（\`${commandLineOf(proc, 40)}\`），不是你的 sleep。`,
    ),
    lookHint,
    { answer: pid },
  );
}
