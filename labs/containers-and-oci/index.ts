// Lab `containers-and-oci`: your own terminal is a container. Read the inode of your shell's
// network namespace, start a neighbour process and prove it shares every namespace with you.
// Step ids are a contract with the lesson (content/containers-and-oci): do not rename them.
import { answer, inodeShownBy, typed } from '../core/solution';
import { failed, keptNumber, nsTypeZh, passed, quoteCommand, typeList, typeListZh, zhInline } from '../core/results';
import { baseNs, describeProcess, describeProcessZh, newest, nsLabel, processByPid, processesOf } from '../core/procs';
import {
  baseTypeOfInode,
  type ConceptNsType,
  conceptNsTypes,
  differingTypes,
  parseNsInode,
  sharesAllBase,
} from '../core/ns-types';
import { compareShown, nsListingCommands } from '../core/transcript';
import type { CheckResult, LabDef, Observation } from '../core/model';
import { t } from '../core/model';
import type { ProcessInfo } from '../core/snapshot';

export const stepIds = {
  shellNetInode: 'shell-net-inode',
  startNeighbour: 'start-neighbour',
  compareNeighbour: 'compare-neighbour',
} as const;

// ---------------------------------------------------------------- step 1: shell-net-inode

function checkShellNetInode(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const answer = obs.answers[stepIds.shellNetInode]?.value.trim() ?? '';
  if (answer === '') {
    return failed(
      t('Type the inode of your shell\'s network namespace in the box.', '请在输入框中填写你的 shell 所在网络命名空间的 inode 号。'),
      t('Run `readlink /proc/$$/ns/net`: the number in the brackets is the inode.', '运行 `readlink /proc/$$/ns/net`：方括号里的数字就是 inode 号。'),
    );
  }
  const parsed = parseNsInode(answer);
  if (!parsed) {
    return failed(
      t(`"${quoteCommand(answer, 30)}" is not an inode: type the number between the brackets, e.g. 4026531840.`, `“${quoteCommand(answer, 30)}”不是 inode 号：请填写方括号中的数字，例如 4026531840。`),
      t('`readlink /proc/$$/ns/net` prints net:[NUMBER]; type NUMBER.', '`readlink /proc/$$/ns/net` 会打印 net:[数字]，请填写其中的数字。'),
      { answer: quoteCommand(answer, 30) },
    );
  }
  const { inode } = parsed;
  // Every shell of the sandbox (a nested `unshare -n bash` is "your shell" too).
  const shells = processesOf(snapshot, 'bash').filter((p) => p.ns.net === inode);
  const baseNet = baseNs(snapshot, 'net');
  if (shells.length > 0 || inode === baseNet) {
    const shell = shells[0];
    return passed(
      t(
        `net:[${inode}] is your shell's network namespace${shell ? `: ${describeProcess(shell)} lives in it` : ''}`,
        `net:[${inode}] 正是你的 shell 所在的网络命名空间${shell ? `：${describeProcessZh(shell)} 就在其中` : ''}`,
      ),
      { netInode: inode, ...(shell ? { shellPid: shell.pid } : {}) },
    );
  }
  const other = baseTypeOfInode(snapshot, inode);
  if (other) {
    return failed(
      t(`${nsLabel(other, inode)} is your shell's ${other} namespace, not its network namespace.`, `${nsLabel(other, inode)} 是你的 shell 的${zhInline(nsTypeZh(other))}命名空间，不是网络命名空间。`),
      t('Read the net link: `readlink /proc/$$/ns/net`.', '请读取 net 这个链接：`readlink /proc/$$/ns/net`。'),
      { answer: inode, type: other },
    );
  }
  return failed(
    t(`No shell of your sandbox lives in a network namespace with inode ${inode}.`, `你的沙箱里没有任何 shell 位于 inode 为 ${inode} 的网络命名空间中。`),
    t('Copy the digits exactly from `readlink /proc/$$/ns/net`, in your own terminal.', '请在你自己的终端里运行 `readlink /proc/$$/ns/net`，并准确地抄下其中的数字。'),
    { answer: inode },
  );
}

// ---------------------------------------------------------------- step 2: start-neighbour

/** Real sleeps started by the learner that share every namespace with the sandbox. */
export function neighbours(obs: Observation): ProcessInfo[] {
  return processesOf(obs.snapshot, 'sleep').filter((p) => sharesAllBase(obs.snapshot, p));
}

function checkStartNeighbour(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const good = newest(neighbours(obs));
  if (good) {
    return passed(
      t(
        `${describeProcess(good)} runs beside your shell, in ${nsLabel('net', good.ns.net)}, ${nsLabel('uts', good.ns.uts)} and the rest of your namespaces`,
        `${describeProcessZh(good)} 运行在你的 shell 旁边，位于 ${nsLabel('net', good.ns.net)}、${nsLabel('uts', good.ns.uts)} 以及你的其余命名空间中`,
      ),
      { pid: good.pid, hostPid: good.hostPid },
    );
  }
  const isolated = newest(processesOf(snapshot, 'sleep'));
  if (isolated) {
    const diff = differingTypes(snapshot, isolated);
    return failed(
      t(
        `${describeProcess(isolated)} is in namespaces of its own (${typeList(diff)}): that is not a neighbour sharing yours.`,
        `${describeProcessZh(isolated)} 有自己的命名空间（${typeListZh(diff)}），它不是和你共享命名空间的邻居。`,
      ),
      t('Start it plainly, without unshare: `sleep 1000 &`.', '直接启动它，不要用 unshare：`sleep 1000 &`。'),
      { pid: isolated.pid, differing: diff.join(',') },
    );
  }
  return failed(
    t('No sleep is running in your sandbox.', '你的沙箱里没有正在运行的 sleep 进程。'),
    t('Run `sleep 1000 &`: the & keeps your prompt free while the sleep runs in the background.', '运行 `sleep 1000 &`：末尾的 & 让 sleep 在后台运行，你的提示符仍然可用。'),
  );
}

// ---------------------------------------------------------------- step 3: compare-neighbour

function checkCompareNeighbour(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const live = neighbours(obs);
  const keptPid = keptNumber(obs, stepIds.startNeighbour, 'pid');
  const pids = new Set([...live.map((p) => p.pid), ...(keptPid !== undefined ? [keptPid] : [])]);
  if (pids.size === 0) {
    return failed(
      t('No neighbour sleep is running, and none was recorded earlier.', '没有正在运行的邻居 sleep，之前也没有记录到。'),
      t('Do the previous step first: `sleep 1000 &`.', '请先完成上一步：`sleep 1000 &`。'),
    );
  }
  const required = conceptNsTypes.filter((type) => baseNs(snapshot, type) !== undefined);
  const listings = nsListingCommands(obs.transcript);
  for (const l of listings) {
    if (l.record.exitCode !== 0) continue;
    const names =
      ('pid' in l.ref && pids.has(l.ref.pid)) || ('dynamic' in l.ref && (l.ref.dynamic === '$!' || /sleep/.test(l.ref.dynamic)));
    if (!names) continue;
    const { matching, mismatching } = compareShown(l.shown, snapshot.sandbox.baseNs);
    if (mismatching.length > 0 || matching.length < required.length) continue;
    const pid = 'pid' in l.ref ? l.ref.pid : (newest(live)?.pid ?? keptPid ?? 0);
    return passed(
      t(
        `\`${quoteCommand(l.record.command)}\` shows the same ${matching.length} inodes as your shell (${nsLabel('net', baseNs(snapshot, 'net'))}, ${nsLabel('mnt', baseNs(snapshot, 'mnt'))}…): the sleep lives in your container`,
        `\`${quoteCommand(l.record.command)}\` 显示的 ${matching.length} 个 inode 与你的 shell 完全相同（${nsLabel('net', baseNs(snapshot, 'net'))}、${nsLabel('mnt', baseNs(snapshot, 'mnt'))}……）：这个 sleep 和你在同一个容器里`,
      ),
      { pid, types: matching.length, command: quoteCommand(l.record.command), terminal: l.record.terminal },
    );
  }
  const latest = listings[0];
  if (!latest) {
    return failed(
      t("No command listing your neighbour's /proc/<PID>/ns yet.", '还没有看到列出邻居进程 /proc/<PID>/ns 的命令。'),
      t('Run `ls -l /proc/$!/ns/` ($! is the PID of the last background job) or use its PID from `pgrep -x sleep`.', '运行 `ls -l /proc/$!/ns/`（$! 是最近一个后台任务的 PID），或者用 `pgrep -x sleep` 查到的 PID。'),
    );
  }
  const cmd = quoteCommand(latest.record.command);
  if ('self' in latest.ref) {
    return failed(
      t(`\`${cmd}\` lists your shell's own namespaces, not the sleep's.`, `\`${cmd}\` 列出的是你的 shell 自己的命名空间，而不是 sleep 的。`),
      t('$$ is your shell; $! is the last background job. Try `ls -l /proc/$!/ns/`.', '$$ 是你的 shell；$! 是最近一个后台任务。试试 `ls -l /proc/$!/ns/`。'),
      { command: cmd },
    );
  }
  if ('pid' in latest.ref && !pids.has(latest.ref.pid)) {
    const p = processByPid(snapshot, latest.ref.pid);
    return failed(
      t(`\`${cmd}\` lists ${p ? describeProcess(p) : `PID ${latest.ref.pid}`}, not your neighbour sleep.`, `\`${cmd}\` 列出的是 ${p ? describeProcessZh(p) : `PID ${latest.ref.pid}`}，不是你的邻居 sleep。`),
      t('Find the sleep\'s PID with `pgrep -x sleep`.', '用 `pgrep -x sleep` 找到 sleep 的 PID。'),
      { command: cmd },
    );
  }
  if (latest.record.exitCode !== 0) {
    return failed(
      t(`\`${cmd}\` failed (exit status ${latest.record.exitCode ?? 'unknown'}).`, `\`${cmd}\` 执行失败（退出状态 ${latest.record.exitCode ?? '未知'}）。`),
      t('Is the sleep still running? `pgrep -x sleep` tells you.', 'sleep 还在运行吗？用 `pgrep -x sleep` 看一看。'),
      { command: cmd },
    );
  }
  const { matching, mismatching } = compareShown(latest.shown, snapshot.sandbox.baseNs);
  if (mismatching.length > 0) {
    return failed(
      t(`\`${cmd}\` shows inodes that differ from your shell's for ${typeList(mismatching)}: that process is not your plain neighbour.`, `\`${cmd}\` 显示的 ${typeListZh(mismatching)} 的 inode 与你的 shell 不同：这不是普通的邻居进程。`),
      t('List the sleep you started with `sleep 1000 &`.', '请列出你用 `sleep 1000 &` 启动的那个 sleep。'),
      { command: cmd, mismatching: mismatching.join(',') },
    );
  }
  const missing = required.filter((type: ConceptNsType) => !matching.includes(type));
  return failed(
    t(`\`${cmd}\` shows only ${typeList(matching)}; compare every link (missing: ${typeList(missing)}).`, `\`${cmd}\` 只显示了 ${typeListZh(matching)}；请比较全部链接（缺少：${typeListZh(missing)}）。`),
    t('List the whole directory with -l: `ls -l /proc/$!/ns/`.', '用 -l 列出整个目录：`ls -l /proc/$!/ns/`。'),
    { command: cmd },
  );
}

// ---------------------------------------------------------------- the lab

const neighbourPid = (obs: Observation): string => {
  const p = newest(neighbours(obs));
  if (!p) throw new Error('no neighbour sleep found');
  return String(p.pid);
};

export const containersAndOci: LabDef = {
  id: 'containers-and-oci',
  title: t('Your terminal is a container', '你的终端就是一个容器'),
  terminals: 1,
  steps: [
    {
      id: stepIds.shellNetInode,
      // Its answer is on the live map otherwise (issue 13): the map shows inodes only once it passed.
      conceals: ['inodes'],
      title: t("Read your shell's network namespace", '查看你的 shell 所在的网络命名空间'),
      kinds: ['answer', 'state'],
      check: checkShellNetInode,
      hints: [
        t('$$ is the PID of your shell; /proc/$$/ns/ holds one link per namespace it lives in.', '$$ 是你的 shell 的 PID；/proc/$$/ns/ 里每个链接对应它所在的一个命名空间。'),
        t('readlink prints where a link points: `net:[NUMBER]`.', 'readlink 会打印链接指向的目标：`net:[数字]`。'),
        t('Run `readlink /proc/$$/ns/net` and type the number between the brackets.', '运行 `readlink /proc/$$/ns/net`，把方括号里的数字填进来。'),
      ],
      answer: { label: t("Inode of your shell's net namespace", '你的 shell 的网络命名空间的 inode 号'), placeholder: '4026531840', pattern: '^\\s*\\d+\\s*$' },
    },
    {
      id: stepIds.startNeighbour,
      title: t('Start a neighbour process', '启动一个邻居进程'),
      kinds: ['state'],
      check: checkStartNeighbour,
      hints: [
        t('A process started from your shell inherits all of its namespaces.', '从你的 shell 启动的进程会继承它的全部命名空间。'),
        t('Run `sleep 1000 &` (the & puts it in the background).', '运行 `sleep 1000 &`（& 让它在后台运行）。'),
      ],
    },
    {
      id: stepIds.compareNeighbour,
      title: t('Show that it shares your namespaces', '证明它和你共享命名空间'),
      kinds: ['command', 'output', 'state'],
      check: checkCompareNeighbour,
      hints: [
        t('Two processes share a namespace exactly when their links show the same inode.', '两个进程的链接显示相同的 inode，当且仅当它们共享同一个命名空间。'),
        t('$! is the PID of the last background job, so /proc/$!/ns/ holds the sleep\'s links.', '$! 是最近一个后台任务的 PID，所以 /proc/$!/ns/ 就是 sleep 的命名空间链接。'),
        t('Run `ls -l /proc/$!/ns/` and compare it with `ls -l /proc/$$/ns/`.', '运行 `ls -l /proc/$!/ns/`，再和 `ls -l /proc/$$/ns/` 比较。'),
      ],
    },
  ],
  solution: [
    {
      stepId: stepIds.shellNetInode,
      actions: [
        ...typed(0, ['readlink /proc/$$/ns/net', 200]),
        answer(stepIds.shellNetInode, inodeShownBy((c) => c.startsWith('readlink /proc/$$/ns/net'), 'net', 'readlink printed no net inode')),
      ],
    },
    { stepId: stepIds.startNeighbour, actions: typed(0, ['sleep 1000 &', 300]) },
    { stepId: stepIds.compareNeighbour, actions: typed(0, [(obs) => `ls -l /proc/${neighbourPid(obs)}/ns/`, 300]) },
  ],
};
