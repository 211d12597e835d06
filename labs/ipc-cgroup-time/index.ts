// Lab `ipc-cgroup-time`: the three namespace types the course's table names but no other lab uses.
// IPC: a message queue made in a new IPC namespace (snapshot.ipcns, read by the host per namespace)
// is absent from the sandbox's own table; cgroup: a process in a cgroup namespace of its own, whose
// /proc/self/cgroup reads `/`; time: a process in a time namespace whose boot-time offset the host
// reads from /proc/PID/timens_offsets (snapshot.timens).
import { evidenceNumber, failed, passed, quoteCommand } from '../core/results';
import { baseNs, describeProcess, describeProcessZh, newest, nsLabel } from '../core/procs';
import { commandsRunning } from '../core/transcript';
import type { CheckResult, LabDef, Observation } from '../core/model';
import { t } from '../core/model';
import { typed } from '../core/solution';
import type { IpcnsInfo, Snapshot } from '../core/snapshot';

export const stepIds = {
  ipcQueue: 'ipc-queue',
  ipcInvisible: 'ipc-invisible',
  cgroupRoot: 'cgroup-root',
  timeOffset: 'time-offset',
} as const;

/** How ipcs prints a key: 0x%08x of its unsigned 32-bit value. */
export function ipcsKey(key: number): string {
  return `0x${(key >>> 0).toString(16).padStart(8, '0')}`;
}

const ipcnsOf = (snapshot: Snapshot, inode: number | undefined): IpcnsInfo | undefined =>
  inode === undefined ? undefined : snapshot.ipcns?.find((n) => n.inode === inode);

// ------------------------------------------------------------------ IPC

function checkIpcQueue(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const base = baseNs(snapshot, 'ipc');
  const baseLabel = nsLabel('ipc', base);
  for (const ns of snapshot.ipcns ?? []) {
    if (ns.inode === base || ns.msgQueues.length === 0) continue;
    const holder = newest(snapshot.processes.filter((p) => p.ns.ipc === ns.inode));
    if (!holder) continue;
    const q = ns.msgQueues[0]!;
    return passed(
      t(
        `${nsLabel('ipc', ns.inode)} (held by ${describeProcess(holder)}) has message queue ${ipcsKey(q.key)} (msqid ${q.id}); the sandbox's is ${baseLabel}`,
        `${nsLabel('ipc', ns.inode)}（由 ${describeProcessZh(holder)} 持有）中有消息队列 ${ipcsKey(q.key)}（msqid ${q.id}）；沙箱自己的是 ${baseLabel}`,
      ),
      { pid: holder.pid, ipcInode: ns.inode, key: q.key, msqid: q.id },
    );
  }
  const inBase = ipcnsOf(snapshot, base)?.msgQueues[0];
  const fresh = newest(snapshot.processes.filter((p) => p.ns.ipc !== undefined && p.ns.ipc !== base));
  if (fresh) {
    return failed(
      t(
        `${describeProcess(fresh)} is in ${nsLabel('ipc', fresh.ns.ipc)}, which has no message queue yet.`,
        `${describeProcessZh(fresh)} 在 ${nsLabel('ipc', fresh.ns.ipc)} 中，但那里还没有消息队列。`,
      ),
      inBase
        ? t(`Queue ${ipcsKey(inBase.key)} is in the sandbox's own ${baseLabel}: run \`ipcmk -Q\` in the shell that \`unshare -i bash\` started.`, `队列 ${ipcsKey(inBase.key)} 在沙箱自己的 ${baseLabel} 中：请在 \`unshare -i bash\` 启动的 shell 里运行 \`ipcmk -Q\`。`)
        : t('In that shell, run `ipcmk -Q`.', '在那个 shell 里运行 `ipcmk -Q`。'),
      { pid: fresh.pid },
    );
  }
  return failed(
    t(`Every process of your sandbox is still in ${baseLabel}.`, `你的沙箱里所有进程都还在 ${baseLabel} 中。`),
    t('In terminal 1: `unshare -i bash`, then `ipcmk -Q`.', '在终端 1 中：先运行 `unshare -i bash`，再运行 `ipcmk -Q`。'),
  );
}

function checkIpcInvisible(obs: Observation): CheckResult {
  const kept = obs.passed[stepIds.ipcQueue];
  const key = evidenceNumber(kept, 'key');
  const inode = evidenceNumber(kept, 'ipcInode');
  if (key === undefined || inode === undefined) {
    return failed(t('No message queue in a new IPC namespace yet.', '新的 IPC 命名空间中还没有消息队列。'), t('Do step 1 first.', '请先完成第 1 步。'));
  }
  const { snapshot } = obs;
  const base = baseNs(snapshot, 'ipc');
  const hex = ipcsKey(key);
  const baseTable = ipcnsOf(snapshot, base);
  if (baseTable?.msgQueues.some((q) => q.key === key && key !== 0)) {
    return failed(
      t(`The sandbox's own ${nsLabel('ipc', base)} has a queue ${hex} too.`, `沙箱自己的 ${nsLabel('ipc', base)} 中也有队列 ${hex}。`),
      t(`Remove it there (\`ipcrm -Q ${hex}\` in terminal 2) and look again.`, `在那里删除它（在终端 2 中运行 \`ipcrm -Q ${hex}\`），然后再看一次。`),
    );
  }
  for (const { record, words } of commandsRunning(obs.transcript, ['ipcs'])) {
    if (record.exitCode !== 0 || !/Message Queues/i.test(record.output)) continue;
    if (words.some((w) => w === '-m' || w === '-s' || w === '-i')) continue;
    if (record.output.includes(hex)) continue;
    return passed(
      t(
        `In terminal ${record.terminal + 1}, \`${quoteCommand(record.command)}\` listed no queue ${hex}: it lives only in ${nsLabel('ipc', inode)}, not in the sandbox's ${nsLabel('ipc', base)}`,
        `在终端 ${record.terminal + 1} 中，\`${quoteCommand(record.command)}\` 没有列出队列 ${hex}：它只存在于 ${nsLabel('ipc', inode)} 中，不在沙箱的 ${nsLabel('ipc', base)} 中`,
      ),
      { terminal: record.terminal, key, ipcInode: inode },
    );
  }
  return failed(
    t(`No \`ipcs -q\` outside ${nsLabel('ipc', inode)} has listed the queues without ${hex} yet.`, `还没有在 ${nsLabel('ipc', inode)} 之外运行 \`ipcs -q\`，列出不含 ${hex} 的队列表。`),
    t('In terminal 2, run `ipcs -q`.', '在终端 2 中运行 `ipcs -q`。'),
  );
}

// ------------------------------------------------------------------ cgroup

function checkCgroupRoot(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const base = baseNs(snapshot, 'cgroup');
  const p = newest(snapshot.processes.filter((x) => x.ns.cgroup !== undefined && x.ns.cgroup !== base));
  if (!p) {
    return failed(
      t(`Every process of your sandbox is still in ${nsLabel('cgroup', base)}, the sandbox's own cgroup namespace.`, `你的沙箱里所有进程都还在沙箱自己的 cgroup 命名空间 ${nsLabel('cgroup', base)} 中。`),
      t('In terminal 1: `unshare -C bash`, then `cat /proc/self/cgroup`.', '在终端 1 中：先运行 `unshare -C bash`，再运行 `cat /proc/self/cgroup`。'),
    );
  }
  const read = commandsRunning(obs.transcript, ['cat']).find(
    (c) => c.record.exitCode === 0 && c.words.length === 2 && /^\/proc\/(self|\d+)\/cgroup$/.test(c.words[1]!) && /^0::\/$/m.test(c.record.output),
  );
  const seen = read ? { en: `; \`${quoteCommand(read.record.command)}\` printed \`0::/\``, zh: `；\`${quoteCommand(read.record.command)}\` 输出了 \`0::/\`` } : { en: '', zh: '' };
  return passed(
    t(
      `${describeProcess(p)} is in ${nsLabel('cgroup', p.ns.cgroup)}, rooted at the cgroup it was made in; the sandbox's is ${nsLabel('cgroup', base)}${seen.en}`,
      `${describeProcessZh(p)} 在 ${nsLabel('cgroup', p.ns.cgroup)} 中，它的根就是创建它时所在的 cgroup；沙箱自己的是 ${nsLabel('cgroup', base)}${seen.zh}`,
    ),
    { pid: p.pid, cgroupInode: p.ns.cgroup ?? 0 },
  );
}

// ------------------------------------------------------------------ time

function formatOffset(sec: number): { en: string; zh: string } {
  const s = Math.round(sec);
  const days = s / 86_400;
  return Number.isInteger(days) && days !== 0
    ? { en: `${s} s (${days} day${Math.abs(days) === 1 ? '' : 's'})`, zh: `${s} 秒（${days} 天）` }
    : { en: `${s} s`, zh: `${s} 秒` };
}

function checkTimeOffset(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const base = baseNs(snapshot, 'time');
  for (const ns of snapshot.timens ?? []) {
    if (ns.inode === base || Math.round(ns.boottimeSec) === 0) continue;
    const member = newest(snapshot.processes.filter((p) => p.ns.time === ns.inode));
    if (!member) continue;
    const off = formatOffset(ns.boottimeSec);
    return passed(
      t(
        `${describeProcess(member)} is in ${nsLabel('time', ns.inode)}, whose CLOCK_BOOTTIME runs ${off.en} ahead of the sandbox's ${nsLabel('time', base)} (the host read its timens_offsets)`,
        `${describeProcessZh(member)} 在 ${nsLabel('time', ns.inode)} 中，它的 CLOCK_BOOTTIME 比沙箱的 ${nsLabel('time', base)} 快 ${off.zh}（宿主机读取了它的 timens_offsets）`,
      ),
      { pid: member.pid, timeInode: ns.inode, boottimeSec: Math.round(ns.boottimeSec) },
    );
  }
  const pending = newest(snapshot.processes.filter((p) => p.ns.time_for_children !== undefined && p.ns.time_for_children !== base && p.ns.time === base));
  if (pending) {
    return failed(
      t(
        `${describeProcess(pending)} made ${nsLabel('time', pending.ns.time_for_children)} for its children, but is still in ${nsLabel('time', base)} itself.`,
        `${describeProcessZh(pending)} 为它的子进程创建了 ${nsLabel('time', pending.ns.time_for_children)}，但它自己仍在 ${nsLabel('time', base)} 中。`,
      ),
      t('Like a PID namespace, a new time namespace is entered by children (or by the program unshare runs): `unshare -T --boottime 86400 bash`.', '和 PID 命名空间一样，新的时间命名空间由子进程（或 unshare 运行的程序）进入：`unshare -T --boottime 86400 bash`。'),
      { pid: pending.pid },
    );
  }
  const zero = (snapshot.timens ?? []).find((n) => n.inode !== base && Math.round(n.boottimeSec) === 0);
  if (zero) {
    return failed(
      t(`${nsLabel('time', zero.inode)} has a boot-time offset of 0: its clocks read like the sandbox's.`, `${nsLabel('time', zero.inode)} 的启动时间偏移是 0：它的时钟读数和沙箱的一样。`),
      t('Give the offset when the namespace is made: `unshare -T --boottime 86400 bash` (offsets can be written only before a process enters it).', '在创建命名空间时给出偏移：`unshare -T --boottime 86400 bash`（偏移只能在有进程进入之前写入）。'),
      { timeInode: zero.inode },
    );
  }
  return failed(
    t(`Every process of your sandbox is in ${nsLabel('time', base)}, the time namespace of the host.`, `你的沙箱里所有进程都在 ${nsLabel('time', base)} 中，也就是主机的时间命名空间。`),
    t('In terminal 1: `unshare -T --boottime 86400 bash`, then `uptime`.', '在终端 1 中：先运行 `unshare -T --boottime 86400 bash`，再运行 `uptime`。'),
  );
}

export const ipcCgroupTime: LabDef = {
  id: 'ipc-cgroup-time',
  title: t('IPC, cgroup and time namespaces', 'IPC、cgroup 和时间命名空间'),
  terminals: 2,
  steps: [
    {
      id: stepIds.ipcQueue,
      title: t('A message queue in a new IPC namespace', '在新的 IPC 命名空间中创建消息队列'),
      kinds: ['state'],
      check: checkIpcQueue,
      hints: [
        t('System V IPC objects (queues, semaphores, shared memory) belong to an IPC namespace.', 'System V IPC 对象（消息队列、信号量、共享内存）属于某个 IPC 命名空间。'),
        t('`unshare -i bash` gives the shell a new, empty IPC namespace.', '`unshare -i bash` 会给 shell 一个新的、空的 IPC 命名空间。'),
        t('In terminal 1: `unshare -i bash`, then `ipcmk -Q` (keep that shell open).', '在终端 1 中：先运行 `unshare -i bash`，再运行 `ipcmk -Q`（不要关闭那个 shell）。'),
      ],
    },
    {
      id: stepIds.ipcInvisible,
      title: t('The queue is invisible outside', '外面看不到这个队列'),
      kinds: ['state', 'command', 'output'],
      check: checkIpcInvisible,
      hints: [
        t('Terminal 2 is still in the sandbox\'s own IPC namespace.', '终端 2 仍然在沙箱自己的 IPC 命名空间里。'),
        t('In terminal 2, run `ipcs -q`.', '在终端 2 中运行 `ipcs -q`。'),
      ],
    },
    {
      id: stepIds.cgroupRoot,
      title: t('A cgroup namespace: your cgroup becomes /', 'cgroup 命名空间：你的 cgroup 变成 /'),
      kinds: ['state'],
      check: checkCgroupRoot,
      hints: [
        t('A cgroup namespace changes how /proc/PID/cgroup names cgroups: relative to the cgroup where the namespace was made.', 'cgroup 命名空间改变的是 /proc/PID/cgroup 显示 cgroup 路径的方式：相对于创建该命名空间时所在的 cgroup。'),
        t('`unshare -C` makes one.', '`unshare -C` 会创建一个。'),
        t('In terminal 1 (after `exit` from the IPC shell): `unshare -C bash`, then `cat /proc/self/cgroup`.', '在终端 1 中（先用 `exit` 退出 IPC 的 shell）：运行 `unshare -C bash`，再运行 `cat /proc/self/cgroup`。'),
      ],
    },
    {
      id: stepIds.timeOffset,
      title: t('A time namespace one day older', '一个“老”了一天的时间命名空间'),
      kinds: ['state'],
      check: checkTimeOffset,
      hints: [
        t('A time namespace shifts CLOCK_MONOTONIC and CLOCK_BOOTTIME (what uptime reads), never the wall clock.', '时间命名空间只偏移 CLOCK_MONOTONIC 和 CLOCK_BOOTTIME（uptime 读的就是后者），从不改变墙上时间。'),
        t('`unshare -T --boottime SECONDS` sets the offset before the program starts in it.', '`unshare -T --boottime 秒数` 会在程序进入之前设置好偏移。'),
        t('In terminal 1: `unshare -T --boottime 86400 bash`, then `uptime`.', '在终端 1 中：先运行 `unshare -T --boottime 86400 bash`，再运行 `uptime`。'),
      ],
    },
  ],
  solution: [
    { stepId: stepIds.ipcQueue, actions: typed(0, ['unshare -i bash', 800], 'ipcmk -Q') },
    { stepId: stepIds.ipcInvisible, actions: typed(1, 'ipcs -q') },
    { stepId: stepIds.cgroupRoot, actions: typed(0, ['exit', 400], ['unshare -C bash', 800], 'cat /proc/self/cgroup') },
    { stepId: stepIds.timeOffset, actions: typed(0, ['exit', 400], ['unshare -T --boottime 86400 bash', 800], 'uptime') },
  ],
};
