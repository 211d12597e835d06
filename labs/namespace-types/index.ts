// Lab `namespace-types`: put processes into new namespaces of several types (net, uts, ipc; mount;
// pid, with -f so the new namespace gets a PID 1) and find every one of them in lsns.
// Step ids are a contract with the lesson (content/namespace-types): do not rename them.
import { typed } from '../core/solution';
import { failed, keptNumber, nsTypeZh, passed, quoteCommand, typeList, typeListZh, zhInline } from '../core/results';
import { baseNs, describeProcess, describeProcessZh, newest, nsLabel, pidLevels, processesOf } from '../core/procs';
import { type ConceptNsType, differingTypes } from '../core/ns-types';
import { findCommands } from '../core/transcript';
import { lsnsCalls } from '../core/ns-tools';
import type { CheckResult, LabDef, Observation } from '../core/model';
import { t } from '../core/model';
import type { ProcessInfo, Snapshot } from '../core/snapshot';

export const stepIds = {
  netUtsIpc: 'net-uts-ipc',
  mountNs: 'mount-ns',
  pidNs: 'pid-ns',
  spotInLsns: 'spot-in-lsns',
} as const;

const sleepsWith = (snapshot: Snapshot, types: ConceptNsType[]): ProcessInfo[] =>
  processesOf(snapshot, 'sleep').filter((p) => {
    const diff = differingTypes(snapshot, p);
    return types.every((type) => diff.includes(type));
  });

/** A sleep that is PID 1 of a new PID namespace (NSpid ends in 1). */
export function pidOneSleeps(snapshot: Snapshot): ProcessInfo[] {
  return sleepsWith(snapshot, ['pid']).filter((p) => p.nsPids.length >= 2 && p.nsPids[p.nsPids.length - 1] === 1);
}

// ---------------------------------------------------------------- step 1: net-uts-ipc

function checkNetUtsIpc(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const want: ConceptNsType[] = ['net', 'uts', 'ipc'];
  const good = newest(sleepsWith(snapshot, want));
  if (good) {
    return passed(
      t(
        `${describeProcess(good)} is in ${nsLabel('net', good.ns.net)}, ${nsLabel('uts', good.ns.uts)} and ${nsLabel('ipc', good.ns.ipc)}, none of them your shell's`,
        `${describeProcessZh(good)} 位于 ${nsLabel('net', good.ns.net)}、${nsLabel('uts', good.ns.uts)} 和 ${nsLabel('ipc', good.ns.ipc)} 中，都不是你的 shell 的命名空间`,
      ),
      { pid: good.pid, net: good.ns.net ?? 0, uts: good.ns.uts ?? 0, ipc: good.ns.ipc ?? 0 },
    );
  }
  const partial = newest(processesOf(snapshot, 'sleep').filter((p) => differingTypes(snapshot, p).some((x) => want.includes(x))));
  if (partial) {
    const missing = want.filter((type) => !differingTypes(snapshot, partial).includes(type));
    return failed(
      t(`${describeProcess(partial)} still shares ${typeList(missing)} with your shell.`, `${describeProcessZh(partial)} 仍然和你的 shell 共享 ${typeListZh(missing)}。`),
      t('One unshare can create several namespaces at once: `unshare -nui sleep 1000 &`.', '一次 unshare 可以同时新建多个命名空间：`unshare -nui sleep 1000 &`。'),
      { pid: partial.pid, missing: missing.join(',') },
    );
  }
  return failed(
    t('No sleep runs in new net, uts and ipc namespaces.', '没有 sleep 运行在新的网络、UTS 和 IPC 命名空间中。'),
    t('Run `unshare -nui sleep 1000 &` (-n network, -u UTS, -i IPC).', '运行 `unshare -nui sleep 1000 &`（-n 网络，-u UTS，-i IPC）。'),
  );
}

// ---------------------------------------------------------------- step 2: mount-ns

function checkMountNs(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const good = newest(sleepsWith(snapshot, ['mnt']));
  if (good) {
    return passed(
      t(
        `${describeProcess(good)} has its own mount table in ${nsLabel('mnt', good.ns.mnt)}; yours is ${nsLabel('mnt', baseNs(snapshot, 'mnt'))}`,
        `${describeProcessZh(good)} 在 ${nsLabel('mnt', good.ns.mnt)} 中拥有自己的挂载表；你的是 ${nsLabel('mnt', baseNs(snapshot, 'mnt'))}`,
      ),
      { pid: good.pid, mnt: good.ns.mnt ?? 0 },
    );
  }
  return failed(
    t(`No sleep has a mount namespace other than your shell's ${nsLabel('mnt', baseNs(snapshot, 'mnt'))}.`, `没有 sleep 拥有不同于你的 shell 的 ${nsLabel('mnt', baseNs(snapshot, 'mnt'))} 的挂载命名空间。`),
    t('The mount namespace was the first one (CLONE_NEWNS); its unshare flag is -m: `unshare -m sleep 1000 &`.', '挂载命名空间是最早出现的（CLONE_NEWNS）；unshare 对应的选项是 -m：`unshare -m sleep 1000 &`。'),
  );
}

// ---------------------------------------------------------------- step 3: pid-ns

function checkPidNs(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const good = newest(pidOneSleeps(snapshot));
  if (good) {
    return passed(
      t(
        `${describeProcess(good)} is PID 1 of ${nsLabel('pid', good.ns.pid)}: ${pidLevels(good).en}`,
        `${describeProcessZh(good)} 是 ${nsLabel('pid', good.ns.pid)} 中的 1 号进程：${pidLevels(good).zh}`,
      ),
      { pid: good.pid, pidNs: good.ns.pid ?? 0, nsPids: good.nsPids.join(',') },
    );
  }
  // unshare -p without -f: the caller stays in the old PID namespace; only its future children
  // would enter the new one (its pid_for_children link differs, or is unreadable until a child exists).
  const stuck = newest(
    processesOf(snapshot, 'sleep').filter((p) => p.ns.pid === baseNs(snapshot, 'pid') && p.ns.pid_for_children !== p.ns.pid),
  );
  if (stuck) {
    return failed(
      t(
        `${describeProcess(stuck)} is still in your PID namespace ${nsLabel('pid', stuck.ns.pid)}: unshare -p only moves the caller's future children.`,
        `${describeProcessZh(stuck)} 仍在你的 PID 命名空间 ${nsLabel('pid', stuck.ns.pid)} 中：unshare -p 只会让调用者之后创建的子进程进入新的命名空间。`,
      ),
      t('Add -f so unshare forks and the child becomes PID 1: `unshare -pf --mount-proc sleep 1000 &`.', '加上 -f，让 unshare 先 fork，子进程就会成为 1 号进程：`unshare -pf --mount-proc sleep 1000 &`。'),
      { pid: stuck.pid },
    );
  }
  const enomem = findCommands(obs.transcript, /./).find((r) => /fork: Cannot allocate memory/.test(r.output));
  return failed(
    t('No sleep is PID 1 of a new PID namespace.', '没有 sleep 是新 PID 命名空间中的 1 号进程。'),
    enomem
      ? t(
          `\`${quoteCommand(enomem.command)}\` printed "Cannot allocate memory": without -f, the first child became PID 1, exited, and the namespace accepts no new process. Use -f.`,
          `\`${quoteCommand(enomem.command)}\` 打印了“Cannot allocate memory”：没有 -f 时，第一个子进程成了 1 号进程并且已经退出，这个命名空间不再接受新进程。请加上 -f。`,
        )
      : t('Run `unshare -pf --mount-proc sleep 1000 &` (-p PID, -f fork, --mount-proc a /proc for the new namespace).', '运行 `unshare -pf --mount-proc sleep 1000 &`（-p 表示 PID，-f 表示 fork，--mount-proc 为新命名空间挂载自己的 /proc）。'),
  );
}

// ---------------------------------------------------------------- step 4: spot-in-lsns

const lsnsWanted: ConceptNsType[] = ['net', 'uts', 'ipc', 'mnt', 'pid'];

/** Inodes of the learner's new namespaces, per type: live ones plus those earlier steps kept. */
export function newNamespaces(obs: Observation): Map<ConceptNsType, Set<number>> {
  const { snapshot } = obs;
  const out = new Map<ConceptNsType, Set<number>>(lsnsWanted.map((type) => [type, new Set<number>()]));
  for (const p of snapshot.processes) {
    for (const type of differingTypes(snapshot, p)) out.get(type)?.add(p.ns[type] as number);
  }
  const kept: [string, ConceptNsType][] = [
    [stepIds.netUtsIpc, 'net'],
    [stepIds.netUtsIpc, 'uts'],
    [stepIds.netUtsIpc, 'ipc'],
    [stepIds.mountNs, 'mnt'],
    [stepIds.pidNs, 'pid'],
  ];
  for (const [step, type] of kept) {
    const inode = keptNumber(obs, step, type === 'pid' ? 'pidNs' : type);
    if (inode !== undefined) out.get(type)?.add(inode);
  }
  return out;
}

function checkSpotInLsns(obs: Observation): CheckResult {
  const mine = newNamespaces(obs);
  const none = lsnsWanted.filter((type) => (mine.get(type)?.size ?? 0) === 0);
  if (none.length > 0) {
    return failed(
      t(`You have no new namespace of type ${typeList(none)} yet.`, `你还没有 ${typeListZh(none)} 类型的新命名空间。`),
      t('Do the previous steps first; keep their sleeps running.', '请先完成前面的步骤，并让那些 sleep 保持运行。'),
    );
  }
  const calls = lsnsCalls(obs.transcript).filter((c) => c.record.exitCode === 0);
  if (calls.length === 0) {
    return failed(
      t('No successful `lsns` yet.', '还没有成功运行过 `lsns`。'),
      t('Run `lsns`: one line per namespace, with its inode (NS), TYPE, and the lowest PID in it.', '运行 `lsns`：每个命名空间一行，包括 inode（NS）、类型（TYPE）和其中最小的 PID。'),
    );
  }
  const found = new Map<ConceptNsType, number>();
  let command = '';
  for (const call of calls) {
    for (const row of call.rows) {
      const type = row.type as ConceptNsType;
      if (mine.get(type)?.has(row.inode) && !found.has(type)) {
        found.set(type, row.inode);
        command ||= quoteCommand(call.record.command);
      }
    }
  }
  const missing = lsnsWanted.filter((type) => !found.has(type));
  if (missing.length === 0) {
    const list = lsnsWanted.map((type) => nsLabel(type, found.get(type))).join(', ');
    return passed(
      t(`lsns listed all five of your new namespaces: ${list}`, `lsns 列出了你新建的全部五个命名空间：${list}`),
      Object.fromEntries([...lsnsWanted.map((type) => [type, found.get(type) ?? 0]), ['command', command]]),
    );
  }
  return failed(
    t(
      `Your lsns output${found.size > 0 ? ` shows ${typeList([...found.keys()])}, but` : ''} does not list your new ${typeList(missing)} namespace(s).`,
      `你的 lsns 输出${found.size > 0 ? `显示了 ${typeListZh([...found.keys()])}，但` : ''}没有列出你新建的${zhInline(typeListZh(missing.map(nsTypeZh)))}命名空间。`,
    ),
    t('Plain `lsns` lists every type; `lsns -t pid` only one. Are your sleeps still running (`jobs`)?', '不带参数的 `lsns` 会列出所有类型；`lsns -t pid` 只列出一种。你的 sleep 还在运行吗（`jobs`）？'),
    { missing: missing.join(',') },
  );
}

// ---------------------------------------------------------------- the lab

export const namespaceTypes: LabDef = {
  id: 'namespace-types',
  title: t('One process per namespace type', '每种命名空间各一个进程'),
  terminals: 1,
  steps: [
    {
      id: stepIds.netUtsIpc,
      title: t('New network, UTS and IPC namespaces', '新的网络、UTS 和 IPC 命名空间'),
      kinds: ['state'],
      check: checkNetUtsIpc,
      hints: [
        t('unshare accepts several flags at once: -n (CLONE_NEWNET), -u (CLONE_NEWUTS), -i (CLONE_NEWIPC).', 'unshare 可以同时接受多个选项：-n（CLONE_NEWNET）、-u（CLONE_NEWUTS）、-i（CLONE_NEWIPC）。'),
        t('Run it in the background so your prompt stays free: `unshare -nui sleep 1000 &`.', '放到后台运行，提示符就还能用：`unshare -nui sleep 1000 &`。'),
      ],
    },
    {
      id: stepIds.mountNs,
      title: t('A new mount namespace', '新的挂载命名空间'),
      kinds: ['state'],
      check: checkMountNs,
      hints: [
        t('The mount namespace\'s flag is CLONE_NEWNS ("new namespace": it was the only one in 2002).', '挂载命名空间的标志是 CLONE_NEWNS（“new namespace”：2002 年时它是唯一的一种）。'),
        t('Run `unshare -m sleep 1000 &`.', '运行 `unshare -m sleep 1000 &`。'),
      ],
    },
    {
      id: stepIds.pidNs,
      title: t('A new PID namespace, with a PID 1', '新的 PID 命名空间，以及它的 1 号进程'),
      kinds: ['state'],
      check: checkPidNs,
      hints: [
        t('A process never changes its own PID namespace: unshare(CLONE_NEWPID) only affects children created afterwards.', '进程永远不会改变自己所在的 PID 命名空间：unshare(CLONE_NEWPID) 只影响之后创建的子进程。'),
        t('-f makes unshare fork; the child is the first process of the new namespace, so it is PID 1.', '-f 让 unshare 先 fork；子进程是新命名空间里的第一个进程，所以它是 1 号进程。'),
        t('Run `unshare -pf --mount-proc sleep 1000 &`.', '运行 `unshare -pf --mount-proc sleep 1000 &`。'),
      ],
    },
    {
      id: stepIds.spotInLsns,
      title: t('Find them all in lsns', '在 lsns 中找到它们'),
      kinds: ['command', 'output', 'state'],
      check: checkSpotInLsns,
      hints: [
        t('lsns lists namespaces, not processes: one line per namespace, with the lowest PID inside it.', 'lsns 列出的是命名空间而不是进程：每个命名空间一行，附带其中最小的 PID。'),
        t('Run `lsns` and look for the lines whose PID is one of your sleeps (or unshare).', '运行 `lsns`，找出 PID 是你的 sleep（或 unshare）的那些行。'),
      ],
    },
  ],
  solution: [
    { stepId: stepIds.netUtsIpc, actions: typed(0, ['unshare -nui sleep 1000 &', 300]) },
    { stepId: stepIds.mountNs, actions: typed(0, ['unshare -m sleep 1000 &', 300]) },
    { stepId: stepIds.pidNs, actions: typed(0, ['unshare -pf --mount-proc sleep 1000 &', 400]) },
    { stepId: stepIds.spotInLsns, actions: typed(0, ['lsns', 400]) },
  ],
};
