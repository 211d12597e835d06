// Lab `namespace-tools`: the everyday commands. List the sandbox's namespaces with lsns, make a
// "container" shell with a network namespace of its own, find it with `lsns -t net`, and look into
// it from outside with `nsenter -t PID -n ip addr`: the same view as running ip inside.
// Step ids are a contract with the lesson (content/namespace-tools): do not rename them.
import { typed } from '../core/solution';
import { evidenceString, failed, keptNumber, passed, quoteCommand, typeList, typeListZh } from '../core/results';
import { baseNs, describeProcess, describeProcessZh, newest, nsLabel, processByPid, processesOf } from '../core/procs';
import { conceptNsTypes } from '../core/ns-types';
import { ifaceState, interfaceNames, interfacesInIpOutput, ipListingObject, isUp, loopbackOf, netnsOf } from '../core/net';
import { simpleCommands } from '../core/shell';
import { findCommands } from '../core/transcript';
import { lsnsCalls, nsenterInvocations } from '../core/ns-tools';
import type { CheckResult, CommandRecord, LabDef, Observation } from '../core/model';
import { t } from '../core/model';
import type { ProcessInfo, Snapshot } from '../core/snapshot';

export const stepIds = {
  lsnsAll: 'lsns-all',
  containerShell: 'container-shell',
  lsnsNet: 'lsns-net',
  nsenterIp: 'nsenter-ip',
} as const;

// ---------------------------------------------------------------- step 1: lsns-all

function checkLsnsAll(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const required = conceptNsTypes.filter((type) => baseNs(snapshot, type) !== undefined);
  const calls = lsnsCalls(obs.transcript).filter((c) => c.types.length === 0);
  for (const call of calls) {
    if (call.record.exitCode !== 0) continue;
    const listed = required.filter((type) => call.rows.some((r) => r.type === type && r.inode === baseNs(snapshot, type)));
    if (listed.length === required.length) {
      return passed(
        t(
          `\`${quoteCommand(call.record.command)}\` listed the sandbox's ${listed.length} namespaces, e.g. ${nsLabel('net', baseNs(snapshot, 'net'))} and ${nsLabel('pid', baseNs(snapshot, 'pid'))}, all held by PID 1`,
          `\`${quoteCommand(call.record.command)}\` 列出了沙箱的 ${listed.length} 个命名空间，例如 ${nsLabel('net', baseNs(snapshot, 'net'))} 和 ${nsLabel('pid', baseNs(snapshot, 'pid'))}，它们都属于 1 号进程`,
        ),
        { command: quoteCommand(call.record.command), types: listed.join(','), terminal: call.record.terminal },
      );
    }
  }
  const latest = calls[0] ?? lsnsCalls(obs.transcript)[0];
  if (!latest) {
    return failed(t('No `lsns` yet.', '还没有运行过 `lsns`。'), t('In terminal 2, run `lsns`.', '在终端 2 中运行 `lsns`。'));
  }
  const cmd = quoteCommand(latest.record.command);
  if (latest.types.length > 0) {
    return failed(
      t(`\`${cmd}\` shows only ${typeList(latest.types)}; this step wants every type.`, `\`${cmd}\` 只显示了 ${typeListZh(latest.types)}；这一步需要所有类型。`),
      t('Run `lsns` without -t.', '运行不带 -t 的 `lsns`。'),
      { command: cmd },
    );
  }
  return failed(
    t(`\`${cmd}\` did not list the sandbox's namespaces (exit status ${latest.record.exitCode ?? 'unknown'}, ${latest.rows.length} rows read).`, `\`${cmd}\` 没有列出沙箱的命名空间（退出状态 ${latest.record.exitCode ?? '未知'}，读到 ${latest.rows.length} 行）。`),
    t('Run plain `lsns` (its default table: NS TYPE NPROCS PID USER COMMAND).', '运行不带参数的 `lsns`（默认表格：NS TYPE NPROCS PID USER COMMAND）。'),
    { command: cmd },
  );
}

// ---------------------------------------------------------------- step 2: container-shell

/** Real bash shells in a network namespace other than the sandbox's. */
export function netShells(snapshot: Snapshot): ProcessInfo[] {
  const base = baseNs(snapshot, 'net');
  return processesOf(snapshot, 'bash').filter((p) => p.ns.net !== undefined && p.ns.net !== base);
}

/** `ip a`-like listings that succeeded, newest first, with what they listed. */
function ipListings(transcript: CommandRecord[], pred: (words: string[]) => boolean = () => true) {
  return findCommands(transcript, /\bip\b/, { exitCode: 0 })
    .filter((r) => {
      const cmds = simpleCommands(r.command);
      const last = cmds[cmds.length - 1];
      return cmds.length === 1 && last !== undefined && ipListingObject(last) !== null && pred(last);
    })
    .map((record) => ({ record, listed: interfacesInIpOutput(record.output) }));
}

const sameNames = (a: string[], b: string[]): boolean => a.length === b.length && [...a].sort().join(',') === [...b].sort().join(',');

function checkContainerShell(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const shells = netShells(snapshot);
  const ready = newest(shells.filter((p) => {
    const lo = loopbackOf(netnsOf(snapshot, p.ns.net));
    return lo !== undefined && isUp(lo);
  }));
  if (ready) {
    const netns = netnsOf(snapshot, ready.ns.net);
    const names = interfaceNames(netns);
    const lo = loopbackOf(netns);
    const loState = lo ? ifaceState(lo) : 'unknown';
    // Soft evidence that the listing ran inside: after an `ip link set lo up` in the same terminal.
    const loUp = findCommands(obs.transcript, /\bip\b/, { exitCode: 0 }).filter((r) =>
      simpleCommands(r.command).some((w) => w[0] === 'ip' && /^l/.test(w[1] ?? '') && w.includes('lo') && w.includes('up')),
    );
    const shown = ipListings(obs.transcript).find(
      (l) =>
        loUp.some((u) => u.terminal === l.record.terminal && u.startedAtMs <= l.record.startedAtMs) &&
        sameNames(l.listed.map((i) => i.name), names) &&
        l.listed.every((i) => i.name !== 'lo' || (i.state ?? loState) !== 'DOWN'),
    );
    if (shown) {
      return passed(
        t(
          `${describeProcess(ready)} lives in ${nsLabel('net', ready.ns.net)} with ${names.join(', ')} up (state ${loState}); \`${quoteCommand(shown.record.command)}\` inside showed it`,
          `${describeProcessZh(ready)} 位于 ${nsLabel('net', ready.ns.net)}，其中的 ${names.join('、')} 已启用（状态 ${loState}）；在里面运行的 \`${quoteCommand(shown.record.command)}\` 显示了这一点`,
        ),
        { pid: ready.pid, hostPid: ready.hostPid, netInode: ready.ns.net ?? 0, interfaces: names.join(','), loState, innerCommand: quoteCommand(shown.record.command) },
      );
    }
    return failed(
      t(`lo is up in ${nsLabel('net', ready.ns.net)}; now look at it from inside.`, `${nsLabel('net', ready.ns.net)} 里的 lo 已经启用；现在从里面看一看。`),
      t('In the inner shell (terminal 1), run `ip addr`.', '在里面的 shell（终端 1）中运行 `ip addr`。'),
      { pid: ready.pid, netInode: ready.ns.net ?? 0 },
    );
  }
  const down = newest(shells);
  if (down) {
    return failed(
      t(`${describeProcess(down)} is in ${nsLabel('net', down.ns.net)}, but its lo is still DOWN.`, `${describeProcessZh(down)} 在 ${nsLabel('net', down.ns.net)} 中，但它的 lo 仍然是 DOWN。`),
      t('Inside that shell, bring the loopback up: `ip link set lo up`.', '在那个 shell 里启用回环接口：`ip link set lo up`。'),
      { pid: down.pid, netInode: down.ns.net ?? 0 },
    );
  }
  return failed(
    t('No shell runs in a network namespace of its own.', '没有 shell 运行在它自己的网络命名空间中。'),
    t('In terminal 1, run `unshare -n bash`: that shell plays the container.', '在终端 1 中运行 `unshare -n bash`：这个 shell 就扮演容器。'),
  );
}

// ---------------------------------------------------------------- the "container" for steps 3-4

function containerNet(obs: Observation): { inode: number; pid: number | null; interfaces: string[] } | undefined {
  const kept = obs.passed[stepIds.containerShell];
  const keptInode = keptNumber(obs, stepIds.containerShell, 'netInode');
  if (keptInode !== undefined) {
    const netns = netnsOf(obs.snapshot, keptInode);
    return {
      inode: keptInode,
      pid: keptNumber(obs, stepIds.containerShell, 'pid') ?? null,
      interfaces: netns ? interfaceNames(netns) : (evidenceString(kept, 'interfaces') ?? '').split(',').filter((s) => s !== ''),
    };
  }
  const live = newest(netShells(obs.snapshot));
  if (!live?.ns.net) return undefined;
  return { inode: live.ns.net, pid: live.pid, interfaces: interfaceNames(netnsOf(obs.snapshot, live.ns.net)) };
}

const noContainer = (): CheckResult =>
  failed(
    t('No shell runs in a network namespace of its own, and none was recorded earlier.', '没有 shell 运行在自己的网络命名空间中，之前也没有记录到。'),
    t('Do step 2 first: `unshare -n bash` in terminal 1.', '请先完成第 2 步：在终端 1 中运行 `unshare -n bash`。'),
  );

// ---------------------------------------------------------------- step 3: lsns-net

function checkLsnsNet(obs: Observation): CheckResult {
  const net = containerNet(obs);
  if (!net) return noContainer();
  const calls = lsnsCalls(obs.transcript);
  for (const call of calls) {
    if (call.record.exitCode !== 0 || call.types.length !== 1 || call.types[0] !== 'net') continue;
    const row = call.rows.find((r) => r.type === 'net' && r.inode === net.inode);
    if (!row || call.rows.some((r) => r.type !== 'net')) continue;
    return passed(
      t(
        `\`${quoteCommand(call.record.command)}\` lists ${nsLabel('net', net.inode)} with PID ${row.pid} (${row.command || '?'}) in it`,
        `\`${quoteCommand(call.record.command)}\` 列出了 ${nsLabel('net', net.inode)}，其中的进程是 PID ${row.pid}（${row.command || '?'}）`,
      ),
      { netInode: net.inode, pid: row.pid, command: quoteCommand(call.record.command) },
    );
  }
  const latest = calls[0];
  if (!latest) {
    return failed(t('No `lsns -t net` yet.', '还没有运行过 `lsns -t net`。'), t('In terminal 2, run `lsns -t net`.', '在终端 2 中运行 `lsns -t net`。'));
  }
  const cmd = quoteCommand(latest.record.command);
  return failed(
    latest.types.join(',') !== 'net'
      ? t(`\`${cmd}\` is not filtered to network namespaces.`, `\`${cmd}\` 没有只筛选网络命名空间。`)
      : t(`\`${cmd}\` did not list ${nsLabel('net', net.inode)} (is the inner shell still running?).`, `\`${cmd}\` 没有列出 ${nsLabel('net', net.inode)}（里面的 shell 还在运行吗？）。`),
    t('Run `lsns -t net` while the inner shell runs in terminal 1.', '在终端 1 的内层 shell 仍在运行时，运行 `lsns -t net`。'),
    { command: cmd },
  );
}

// ---------------------------------------------------------------- step 4: nsenter-ip

function checkNsenterIp(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const net = containerNet(obs);
  if (!net) return noContainer();
  const inside = evidenceString(obs.passed[stepIds.containerShell], 'interfaces')?.split(',') ?? net.interfaces;
  const inNet = (pid: number | null): boolean => {
    if (pid === null) return false;
    const p = processByPid(snapshot, pid);
    return p ? p.ns.net === net.inode : pid === net.pid;
  };
  const calls = nsenterInvocations(obs.transcript);
  for (const call of calls) {
    if (!call.types.includes('net') || call.record.exitCode !== 0 || !inNet(call.targetPid) || !ipListingObject(call.inner)) continue;
    const listed = interfacesInIpOutput(call.record.output);
    if (listed.length === 0 || !sameNames(listed.map((i) => i.name), net.interfaces)) continue;
    return passed(
      t(
        `\`${quoteCommand(call.record.command)}\` showed ${listed.map((i) => `${i.name}${i.state ? ` (${i.state})` : ''}`).join(', ')} from ${nsLabel('net', net.inode)}: the same as ip inside the container shell (${inside.join(', ')})`,
        `\`${quoteCommand(call.record.command)}\` 显示了 ${nsLabel('net', net.inode)} 中的 ${listed.map((i) => `${i.name}${i.state ? `（${i.state}）` : ''}`).join('、')}：与在容器 shell 里运行 ip 的结果（${inside.join('、')}）相同`,
      ),
      { pid: call.targetPid ?? 0, netInode: net.inode, interfaces: listed.map((i) => i.name).join(','), command: quoteCommand(call.record.command), terminal: call.record.terminal },
    );
  }
  const latest = calls[0];
  if (!latest) {
    return failed(
      t('No `nsenter` into the container shell\'s network namespace yet.', '还没有看到用 `nsenter` 进入容器 shell 的网络命名空间。'),
      t(`In terminal 2, run \`nsenter -t ${net.pid ?? '<PID>'} -n ip addr\`.`, `在终端 2 中运行 \`nsenter -t ${net.pid ?? '<PID>'} -n ip addr\`。`),
    );
  }
  const cmd = quoteCommand(latest.record.command);
  if (!inNet(latest.targetPid)) {
    const p = latest.targetPid !== null ? processByPid(snapshot, latest.targetPid) : undefined;
    return failed(
      t(
        `\`${cmd}\` targets ${p ? describeProcess(p) : (latest.targetText ?? `PID ${latest.targetPid ?? '?'}`)}, which is not in ${nsLabel('net', net.inode)}.`,
        `\`${cmd}\` 的目标是 ${p ? describeProcessZh(p) : (latest.targetText ?? `PID ${latest.targetPid ?? '?'}`)}，它不在 ${nsLabel('net', net.inode)} 中。`,
      ),
      t('Use the PID that `lsns -t net` showed for that namespace, as a number after -t.', '在 -t 后面写出 `lsns -t net` 为该命名空间显示的 PID 数字。'),
      { command: cmd },
    );
  }
  if (!latest.types.includes('net')) {
    return failed(
      t(`\`${cmd}\` has no -n: it joined no network namespace.`, `\`${cmd}\` 缺少 -n：它没有进入任何网络命名空间。`),
      t('Add -n: `nsenter -t <PID> -n ip addr`.', '加上 -n：`nsenter -t <PID> -n ip addr`。'),
      { command: cmd },
    );
  }
  return failed(
    t(
      `\`${cmd}\` did not list the interfaces of ${nsLabel('net', net.inode)} (${net.interfaces.join(', ') || '-'}); exit status ${latest.record.exitCode ?? 'unknown'}.`,
      `\`${cmd}\` 没有列出 ${nsLabel('net', net.inode)} 的网络接口（${net.interfaces.join('、') || '无'}）；退出状态 ${latest.record.exitCode ?? '未知'}。`,
    ),
    t('Run ip there: `nsenter -t <PID> -n ip addr`.', '在其中运行 ip：`nsenter -t <PID> -n ip addr`。'),
    { command: cmd },
  );
}

// ---------------------------------------------------------------- the lab

const containerPid = (obs: Observation): string => {
  const p = newest(netShells(obs.snapshot));
  if (!p) throw new Error('no shell in its own network namespace');
  return String(p.pid);
};

export const namespaceTools: LabDef = {
  id: 'namespace-tools',
  title: t('lsns and nsenter: debugging from the host', 'lsns 与 nsenter：从宿主机排查问题'),
  terminals: 2,
  steps: [
    {
      id: stepIds.lsnsAll,
      title: t('List every namespace with lsns', '用 lsns 列出所有命名空间'),
      kinds: ['command', 'output', 'state'],
      check: checkLsnsAll,
      hints: [
        t('lsns reads /proc/*/ns and prints one line per namespace.', 'lsns 读取 /proc/*/ns，每个命名空间输出一行。'),
        t('In terminal 2, run `lsns`.', '在终端 2 中运行 `lsns`。'),
      ],
    },
    {
      id: stepIds.containerShell,
      title: t('Make a "container" shell with its own network', '创建一个拥有独立网络的“容器” shell'),
      kinds: ['state', 'command', 'output'],
      check: checkContainerShell,
      hints: [
        t('`unshare -n bash` starts a shell in a new network namespace: it plays the container.', '`unshare -n bash` 会在新的网络命名空间中启动一个 shell：它来扮演容器。'),
        t('Its lo starts DOWN; `ip link set lo up` brings it up.', '它的 lo 一开始是 DOWN；`ip link set lo up` 可以启用它。'),
        t('In terminal 1: `unshare -n bash`, then `ip link set lo up`, then `ip addr`.', '在终端 1 中依次运行：`unshare -n bash`、`ip link set lo up`、`ip addr`。'),
      ],
    },
    {
      id: stepIds.lsnsNet,
      title: t('Find its network namespace with lsns -t net', '用 lsns -t net 找到它的网络命名空间'),
      kinds: ['command', 'output', 'state'],
      check: checkLsnsNet,
      hints: [
        t('-t filters lsns to one namespace type.', '-t 让 lsns 只列出一种类型的命名空间。'),
        t('In terminal 2, run `lsns -t net`: the new line is the container\'s, with its PID.', '在终端 2 中运行 `lsns -t net`：新增的那一行就是容器的，后面带着它的 PID。'),
      ],
    },
    {
      id: stepIds.nsenterIp,
      title: t('Look inside with nsenter', '用 nsenter 查看内部'),
      kinds: ['command', 'output', 'state'],
      check: checkNsenterIp,
      hints: [
        t('nsenter -t PID -n runs a host tool inside that process\'s network namespace.', 'nsenter -t PID -n 会在那个进程的网络命名空间里运行宿主机上的工具。'),
        t('In terminal 2, run `nsenter -t <PID> -n ip addr` with the PID from lsns.', '在终端 2 中运行 `nsenter -t <PID> -n ip addr`，PID 用 lsns 显示的那个。'),
      ],
    },
  ],
  solution: [
    { stepId: stepIds.lsnsAll, actions: typed(1, ['lsns', 400]) },
    {
      stepId: stepIds.containerShell,
      actions: [
        ...typed(0, ['unshare -n bash', 400]),
        ...typed(0, ['ip link set lo up', 200]),
        ...typed(0, ['ip addr', 300]),
      ],
    },
    { stepId: stepIds.lsnsNet, actions: typed(1, ['lsns -t net', 400]) },
    { stepId: stepIds.nsenterIp, actions: typed(1, [(obs) => `nsenter -t ${containerPid(obs)} -n ip addr`, 300]) },
  ],
};
