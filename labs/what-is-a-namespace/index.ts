// Lab `what-is-a-namespace`: read your shell's namespace links, answer its UTS inode, start a
// process in new UTS and IPC namespaces and work out which namespaces it still shares with you.
// Step ids are a contract with the lesson (content/what-is-a-namespace): do not rename them.
import { answer, inodeShownBy, typed } from '../core/solution';
import { evidenceString, failed, nsTypeZh, passed, quoteCommand, typeList, typeListZh, zhInline } from '../core/results';
import { baseNs, describeProcess, describeProcessZh, newest, nsLabel, processByPid, processesOf } from '../core/procs';
import {
  baseTypeOfInode,
  type ConceptNsType,
  conceptNsTypes,
  differingTypes,
  parseNsInode,
  parseNsTypeList,
} from '../core/ns-types';
import { compareShown, nsListingCommands } from '../core/transcript';
import type { CheckResult, LabDef, Observation } from '../core/model';
import { t } from '../core/model';
import type { ProcessInfo, Snapshot } from '../core/snapshot';

export const stepIds = {
  listOwnNs: 'list-own-ns',
  utsInode: 'uts-inode',
  startIsolated: 'start-isolated',
  sharedTypes: 'shared-types',
} as const;

const presentTypes = (snapshot: Snapshot): ConceptNsType[] => conceptNsTypes.filter((type) => baseNs(snapshot, type) !== undefined);

// ---------------------------------------------------------------- step 1: list-own-ns

function checkListOwnNs(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const required = presentTypes(snapshot);
  const shellPids = new Set(processesOf(snapshot, 'bash').map((p) => p.pid));
  const listings = nsListingCommands(obs.transcript);
  for (const l of listings) {
    if (l.record.exitCode !== 0) continue;
    if (!('self' in l.ref || ('pid' in l.ref && shellPids.has(l.ref.pid)))) continue;
    const shell = 'pid' in l.ref ? processByPid(snapshot, l.ref.pid) : undefined;
    const { matching, mismatching } = compareShown(l.shown, shell?.ns ?? snapshot.sandbox.baseNs);
    if (mismatching.length > 0 || matching.length < required.length) continue;
    return passed(
      t(
        `\`${quoteCommand(l.record.command)}\` shows ${matching.length} namespaces (${typeList(matching)}), each matching the kernel's ${nsLabel('net', baseNs(snapshot, 'net'))}, ${nsLabel('uts', baseNs(snapshot, 'uts'))}…`,
        `\`${quoteCommand(l.record.command)}\` 显示了 ${matching.length} 个命名空间（${typeListZh(matching)}），每一个都与内核中的 ${nsLabel('net', baseNs(snapshot, 'net'))}、${nsLabel('uts', baseNs(snapshot, 'uts'))}……一致`,
      ),
      { command: quoteCommand(l.record.command), types: matching.join(','), terminal: l.record.terminal },
    );
  }
  const isOwn = (l: (typeof listings)[number]) => 'self' in l.ref || ('pid' in l.ref && shellPids.has(l.ref.pid));
  const latest = listings.find(isOwn);
  if (!latest) {
    const other = listings[0];
    return failed(
      other
        ? t(`\`${quoteCommand(other.record.command)}\` lists another process's namespaces, not your shell's.`, `\`${quoteCommand(other.record.command)}\` 列出的是别的进程的命名空间，不是你的 shell 的。`)
        : t("No command listing your shell's /proc/$$/ns/ yet.", '还没有看到列出你的 shell 的 /proc/$$/ns/ 的命令。'),
      t('$$ is your shell\'s PID: run `ls -la /proc/$$/ns/`.', '$$ 就是你的 shell 的 PID：运行 `ls -la /proc/$$/ns/`。'),
    );
  }
  const cmd = quoteCommand(latest.record.command);
  if (latest.record.exitCode !== 0) {
    return failed(
      t(`\`${cmd}\` failed (exit status ${latest.record.exitCode ?? 'unknown'}).`, `\`${cmd}\` 执行失败（退出状态 ${latest.record.exitCode ?? '未知'}）。`),
      t('Check the path: `ls -la /proc/$$/ns/`.', '检查一下路径：`ls -la /proc/$$/ns/`。'),
      { command: cmd },
    );
  }
  const shown = Object.keys(latest.shown);
  return failed(
    shown.length === 0
      ? t(`\`${cmd}\` shows no link targets (type:[inode]).`, `\`${cmd}\` 没有显示链接的目标（类型:[inode]）。`)
      : t(`\`${cmd}\` shows ${typeList(shown)}, not all ${required.length} namespaces of your shell.`, `\`${cmd}\` 只显示了 ${typeListZh(shown)}，而不是你的 shell 的全部 ${required.length} 个命名空间。`),
    t('List your own shell ($$) with -l so the targets show: `ls -la /proc/$$/ns/`.', '加上 -l 列出你自己的 shell（$$），这样才能看到链接目标：`ls -la /proc/$$/ns/`。'),
    { command: cmd },
  );
}

// ---------------------------------------------------------------- step 2: uts-inode

function checkUtsInode(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const answer = obs.answers[stepIds.utsInode]?.value.trim() ?? '';
  if (answer === '') {
    return failed(
      t("Type the inode of your shell's UTS namespace in the box.", '请在输入框中填写你的 shell 所在 UTS 命名空间的 inode 号。'),
      t("It is the number in the uts link's target: uts:[NUMBER].", '它就是 uts 链接目标里的数字：uts:[数字]。'),
    );
  }
  const parsed = parseNsInode(answer);
  if (!parsed) {
    return failed(
      t(`"${quoteCommand(answer, 30)}" is not an inode: type only the digits between the brackets.`, `“${quoteCommand(answer, 30)}”不是 inode 号：请只填写方括号中的数字。`),
      t('`readlink /proc/$$/ns/uts` prints uts:[NUMBER].', '`readlink /proc/$$/ns/uts` 会打印 uts:[数字]。'),
      { answer: quoteCommand(answer, 30) },
    );
  }
  const shell = processesOf(snapshot, 'bash').find((p) => p.ns.uts === parsed.inode);
  if (shell || parsed.inode === baseNs(snapshot, 'uts')) {
    return passed(
      t(`uts:[${parsed.inode}] is the UTS namespace of your shell: it holds its hostname "${snapshot.uts.find((u) => u.inode === parsed.inode)?.hostname ?? '?'}"`, `uts:[${parsed.inode}] 正是你的 shell 的 UTS 命名空间：主机名“${snapshot.uts.find((u) => u.inode === parsed.inode)?.hostname ?? '?'}”就保存在这里`),
      { utsInode: parsed.inode },
    );
  }
  const other = baseTypeOfInode(snapshot, parsed.inode);
  return failed(
    other
      ? t(`${nsLabel(other, parsed.inode)} is your shell's ${other} namespace, not its UTS namespace.`, `${nsLabel(other, parsed.inode)} 是你的 shell 的${zhInline(nsTypeZh(other))}命名空间，不是 UTS 命名空间。`)
      : t(`No shell of your sandbox is in a UTS namespace with inode ${parsed.inode}.`, `你的沙箱里没有任何 shell 位于 inode 为 ${parsed.inode} 的 UTS 命名空间中。`),
    t('Take the number from the line `uts -> uts:[...]`.', '请从 `uts -> uts:[...]` 那一行里取数字。'),
    { answer: parsed.inode },
  );
}

// ---------------------------------------------------------------- step 3: start-isolated

/** Real sleeps in their own UTS and IPC namespaces. */
export function isolatedSleeps(snapshot: Snapshot): ProcessInfo[] {
  return processesOf(snapshot, 'sleep').filter((p) => {
    const diff = differingTypes(snapshot, p);
    return diff.includes('uts') && diff.includes('ipc');
  });
}

function checkStartIsolated(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const good = newest(isolatedSleeps(snapshot));
  if (good) {
    const diff = differingTypes(snapshot, good);
    const shared = presentTypes(snapshot).filter((type) => !diff.includes(type));
    return passed(
      t(
        `${describeProcess(good)} is in ${nsLabel('uts', good.ns.uts)} and ${nsLabel('ipc', good.ns.ipc)}; your shell is in ${nsLabel('uts', baseNs(snapshot, 'uts'))} and ${nsLabel('ipc', baseNs(snapshot, 'ipc'))}`,
        `${describeProcessZh(good)} 在 ${nsLabel('uts', good.ns.uts)} 和 ${nsLabel('ipc', good.ns.ipc)} 中；你的 shell 在 ${nsLabel('uts', baseNs(snapshot, 'uts'))} 和 ${nsLabel('ipc', baseNs(snapshot, 'ipc'))} 中`,
      ),
      { pid: good.pid, hostPid: good.hostPid, differing: diff.join(','), shared: shared.join(',') },
    );
  }
  const sleep = newest(processesOf(snapshot, 'sleep'));
  if (sleep) {
    const diff = differingTypes(snapshot, sleep);
    return failed(
      diff.length === 0
        ? t(`${describeProcess(sleep)} shares every namespace with your shell.`, `${describeProcessZh(sleep)} 和你的 shell 共享全部命名空间。`)
        : t(`${describeProcess(sleep)} has new namespaces for ${typeList(diff)} only.`, `${describeProcessZh(sleep)} 只有 ${typeListZh(diff)} 是新的命名空间。`),
      t('Ask unshare for both: -u (UTS) and -i (IPC): `unshare -ui sleep 1000`.', '让 unshare 同时新建两种：-u（UTS）和 -i（IPC）：`unshare -ui sleep 1000`。'),
      { pid: sleep.pid, differing: diff.join(',') },
    );
  }
  return failed(
    t('No sleep is running in your sandbox.', '你的沙箱里没有正在运行的 sleep 进程。'),
    t('In terminal 1, run `unshare -ui sleep 1000`.', '在终端 1 中运行 `unshare -ui sleep 1000`。'),
  );
}

// ---------------------------------------------------------------- step 4: shared-types

function checkSharedTypes(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const live = newest(isolatedSleeps(snapshot));
  const kept = obs.passed[stepIds.startIsolated];
  let shared: string[] | undefined;
  let differing: string[] = [];
  let pid: number | undefined;
  if (live) {
    differing = differingTypes(snapshot, live);
    shared = presentTypes(snapshot).filter((type) => !differing.includes(type));
    pid = live.pid;
  } else if (evidenceString(kept, 'shared') !== undefined) {
    shared = (evidenceString(kept, 'shared') ?? '').split(',').filter((s) => s !== '');
    differing = (evidenceString(kept, 'differing') ?? '').split(',').filter((s) => s !== '');
    pid = typeof kept?.pid === 'number' ? kept.pid : undefined;
  }
  if (!shared) {
    return failed(
      t('No sleep in its own UTS and IPC namespaces is running, and none was recorded earlier.', '没有运行在自己的 UTS 和 IPC 命名空间中的 sleep，之前也没有记录到。'),
      t('Do the previous step first: `unshare -ui sleep 1000` in terminal 1.', '请先完成上一步：在终端 1 中运行 `unshare -ui sleep 1000`。'),
    );
  }
  const answer = obs.answers[stepIds.sharedTypes]?.value.trim() ?? '';
  if (answer === '') {
    return failed(
      t('Type the namespace types the sleep shares with your shell, e.g. "net, mnt".', '请填写 sleep 与你的 shell 共享的命名空间类型，例如“net, mnt”。'),
      t('Compare `ls -la /proc/<PID>/ns/` of the sleep with `ls -la /proc/$$/ns/`: equal inodes = shared.', '比较 sleep 的 `ls -la /proc/<PID>/ns/` 和 `ls -la /proc/$$/ns/`：inode 相同就是共享。'),
    );
  }
  const parsed = parseNsTypeList(answer);
  if ('unknown' in parsed) {
    return failed(
      t(`Not a namespace type: ${parsed.unknown.slice(0, 3).join(', ')}. Use the link names: cgroup, ipc, mnt, net, pid, time, user, uts.`, `不是命名空间类型：${parsed.unknown.slice(0, 3).join('、')}。请使用链接的名字：cgroup、ipc、mnt、net、pid、time、user、uts。`),
      t('Separate the names with commas or spaces.', '名字之间用逗号或空格分隔。'),
      { answer: quoteCommand(answer, 60) },
    );
  }
  const given = parsed.types as string[];
  const extra = given.filter((type) => !shared.includes(type));
  const missing = shared.filter((type) => !given.includes(type));
  if (extra.length === 0 && missing.length === 0) {
    // Name the inodes that differ from the evidence itself: a sleep started with more flags than
    // -ui (e.g. `unshare -uin`) differs in more than uts and ipc.
    return passed(
      differing.length > 0
        ? t(
            `Right: the sleep (PID ${pid ?? '?'}) shares ${typeList(shared)} with your shell; its ${typeList(differing)} ${differing.length === 1 ? 'inode differs' : 'inodes differ'}`,
            `正确：sleep（PID ${pid ?? '?'}）与你的 shell 共享 ${typeListZh(shared)}；不同的是 ${typeListZh(differing)} 的 inode`,
          )
        : t(`Right: the sleep (PID ${pid ?? '?'}) shares ${typeList(shared)} with your shell`, `正确：sleep（PID ${pid ?? '?'}）与你的 shell 共享 ${typeListZh(shared)}`),
      { shared: shared.join(','), ...(pid !== undefined ? { pid } : {}) },
    );
  }
  const sleep = live ?? (pid !== undefined ? processByPid(snapshot, pid) : undefined);
  const why = extra
    .map((type) => `${type}: ${nsLabel(type, sleep?.ns[type])} vs ${nsLabel(type, baseNs(snapshot, type as ConceptNsType))}`)
    .join('; ');
  return failed(
    extra.length > 0
      ? t(`Not shared: ${why}.${missing.length > 0 ? ` And ${missing.length} shared type(s) are missing.` : ''}`, `这些并不共享：${why}。${missing.length > 0 ? `另外还漏了 ${missing.length} 个共享的类型。` : ''}`)
      : t(`Correct so far, but ${missing.length} shared type(s) are missing.`, `目前写的都对，但还漏了 ${missing.length} 个共享的类型。`),
    t('Go through every line of `ls -la /proc/<PID>/ns/` (ignore the *_for_children links): same inode as your shell = shared.', '逐行检查 `ls -la /proc/<PID>/ns/`（*_for_children 链接可以忽略）：inode 与你的 shell 相同就是共享。'),
    { answer: quoteCommand(answer, 60), extra: extra.join(','), missing: missing.length },
  );
}

// ---------------------------------------------------------------- the lab

export const whatIsANamespace: LabDef = {
  id: 'what-is-a-namespace',
  title: t('Namespaces as links in /proc', '/proc 里的命名空间链接'),
  terminals: 2,
  steps: [
    {
      id: stepIds.listOwnNs,
      title: t("List your shell's namespaces", '列出你的 shell 的命名空间'),
      kinds: ['command', 'output', 'state'],
      check: checkListOwnNs,
      hints: [
        t('$$ expands to the PID of your shell; /proc/PID/ns/ holds one link per namespace.', '$$ 会展开为你的 shell 的 PID；/proc/PID/ns/ 里每个命名空间对应一个链接。'),
        t('ls needs -l to show where links point.', 'ls 需要加 -l 才会显示链接指向哪里。'),
        t('Run `ls -la /proc/$$/ns/`.', '运行 `ls -la /proc/$$/ns/`。'),
      ],
    },
    {
      id: stepIds.utsInode,
      // Its answer is on the live map otherwise (issue 13): the map shows inodes only once it passed.
      conceals: ['inodes'],
      title: t('Find the inode of your UTS namespace', '找出你的 UTS 命名空间的 inode 号'),
      kinds: ['answer', 'state'],
      check: checkUtsInode,
      hints: [
        t('The UTS namespace holds the hostname; its link is called uts.', 'UTS 命名空间保存主机名；它的链接名叫 uts。'),
        t('Type the number of `uts -> uts:[NUMBER]`, or run `readlink /proc/$$/ns/uts`.', '填写 `uts -> uts:[数字]` 中的数字，或者运行 `readlink /proc/$$/ns/uts`。'),
      ],
      answer: { label: t('Inode of your UTS namespace', '你的 UTS 命名空间的 inode 号'), placeholder: '4026531838', pattern: '^\\s*\\d+\\s*$' },
    },
    {
      id: stepIds.startIsolated,
      title: t('Start a process in new UTS and IPC namespaces', '在新的 UTS 和 IPC 命名空间中启动进程'),
      kinds: ['state'],
      check: checkStartIsolated,
      hints: [
        t('unshare runs a command in new namespaces: -u for UTS, -i for IPC.', 'unshare 在新的命名空间中运行命令：-u 表示 UTS，-i 表示 IPC。'),
        t('In terminal 1, run `unshare -ui sleep 1000`.', '在终端 1 中运行 `unshare -ui sleep 1000`。'),
      ],
    },
    {
      id: stepIds.sharedTypes,
      title: t('Which namespaces does it still share with you?', '它还和你共享哪些命名空间？'),
      kinds: ['answer', 'state'],
      check: checkSharedTypes,
      hints: [
        t('In terminal 2, find the sleep with `pgrep -x sleep`, then list `/proc/<PID>/ns/`.', '在终端 2 中用 `pgrep -x sleep` 找到 sleep，再列出 `/proc/<PID>/ns/`。'),
        t('Put its listing next to `ls -la /proc/$$/ns/`: every type with the same inode is shared.', '把它的列表和 `ls -la /proc/$$/ns/` 对照：inode 相同的类型就是共享的。'),
        t('unshare -ui replaced exactly two namespaces; everything else is inherited.', 'unshare -ui 恰好替换了两个命名空间，其余的都是继承来的。'),
      ],
      answer: { label: t('Types shared with your shell (comma-separated)', '与你的 shell 共享的类型（用逗号分隔）'), placeholder: 'net, mnt, …' },
    },
  ],
  solution: [
    { stepId: stepIds.listOwnNs, actions: typed(1, ['ls -la /proc/$$/ns/', 300]) },
    {
      stepId: stepIds.utsInode,
      actions: [answer(stepIds.utsInode, inodeShownBy((c) => c.includes('/proc/$$/ns'), 'uts', 'no uts inode in the listing'))],
    },
    { stepId: stepIds.startIsolated, actions: typed(0, ['unshare -ui sleep 1000', 300]) },
    {
      stepId: stepIds.sharedTypes,
      actions: [
        ...typed(1, ['ls -la /proc/$(pgrep -xn sleep)/ns/', 300]),
        {
          type: 'answer',
          stepId: stepIds.sharedTypes,
          value: (obs) => {
            // Work it out the way the learner does: from the two listings' text.
            const listings = nsListingCommands(obs.transcript);
            const own = listings.find((l) => 'self' in l.ref);
            const other = listings.find((l) => 'dynamic' in l.ref);
            if (!own || !other) throw new Error('listings missing');
            return conceptNsTypes
              .filter((type) => own.shown[type]?.[0] !== undefined && own.shown[type]?.[0] === other.shown[type]?.[0])
              .join(', ');
          },
        },
      ],
    },
  ],
};
