// Lab `uts-namespace`: who may change a hostname. First a deliberate failure (`unshare -Ur hostname
// NAME`: EPERM, the UTS namespace is owned by the sandbox's user namespace; userns-eperm.ts), then
// a UTS namespace made together with a user namespace (`unshare -Uur bash`), renamed; prove the
// sandbox's own hostname is unchanged, and read the new one from outside with nsenter -u.
import { evidenceNumber, evidenceString, failed, passed, quoteCommand } from '../core/results';
import { baseNs, describeProcess, describeProcessZh, newest, nsLabel, processByPid } from '../core/procs';
import { hostnameOf } from '../core/kernel-objects';
import { soleCommand } from '../core/shell';
import { commandsRunning } from '../core/transcript';
import { nsenterInvocations } from '../core/ns-tools';
import { checkUsernsEperm } from './userns-eperm';
import { typed } from '../core/solution';
import type { CheckResult, LabDef, Observation } from '../core/model';
import { t } from '../core/model';

export const stepIds = { usernsEperm: 'userns-eperm', newHostname: 'new-hostname', outsideUnchanged: 'outside-unchanged', nsenterUts: 'nsenter-uts' } as const;

interface Renamed {
  pid: number;
  utsInode: number;
  hostname: string;
}

function liveRenamed(obs: Observation): Renamed | undefined {
  const { snapshot } = obs;
  const baseUts = baseNs(snapshot, 'uts');
  const baseHost = hostnameOf(snapshot, baseUts);
  const p = newest(
    snapshot.processes.filter((x) => {
      if (x.ns.uts === undefined || x.ns.uts === baseUts) return false;
      const h = hostnameOf(snapshot, x.ns.uts);
      return h !== undefined && h !== baseHost;
    }),
  );
  return p ? { pid: p.pid, utsInode: p.ns.uts as number, hostname: hostnameOf(snapshot, p.ns.uts) as string } : undefined;
}

function target(obs: Observation): Renamed | undefined {
  const live = liveRenamed(obs);
  if (live) return live;
  const kept = obs.passed[stepIds.newHostname];
  const pid = evidenceNumber(kept, 'pid');
  const utsInode = evidenceNumber(kept, 'utsInode');
  const hostname = evidenceString(kept, 'hostname');
  return pid !== undefined && utsInode !== undefined && hostname ? { pid, utsInode, hostname } : undefined;
}

const noTarget = (): CheckResult =>
  failed(
    t('No UTS namespace with a hostname of its own exists.', '还没有拥有自己主机名的 UTS 命名空间。'),
    t('Do step 1 first: `unshare -u bash` in terminal 1, then `hostname container1`.', '请先完成第 1 步：在终端 1 中运行 `unshare -u bash`，然后运行 `hostname container1`。'),
  );

/** For the reference solution. */
export function renamedPid(obs: Observation): string {
  const tgt = target(obs);
  if (!tgt) throw new Error('no renamed UTS namespace');
  return String(tgt.pid);
}

function checkNewHostname(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const baseUts = baseNs(snapshot, 'uts');
  const baseHost = hostnameOf(snapshot, baseUts) ?? '?';
  const baseLabel = nsLabel('uts', baseUts);
  const live = liveRenamed(obs);
  if (live) {
    const p = processByPid(snapshot, live.pid)!;
    return passed(
      t(
        `${describeProcess(p)} is in ${nsLabel('uts', live.utsInode)}, hostname "${live.hostname}"; the sandbox's ${baseLabel} is "${baseHost}"`,
        `${describeProcessZh(p)} 在 ${nsLabel('uts', live.utsInode)} 中，主机名是“${live.hostname}”；沙箱的 ${baseLabel} 仍是“${baseHost}”`,
      ),
      { pid: live.pid, utsInode: live.utsInode, hostname: live.hostname, baseHostname: baseHost },
    );
  }
  // `hostname X` that succeeded while the sandbox's own hostname is X: it changed the base namespace.
  const setBase = commandsRunning(obs.transcript, ['hostname']).find(
    (c) => c.record.exitCode === 0 && c.words.length === 2 && c.words[1] === baseHost,
  );
  if (setBase) {
    return failed(
      t(
        `\`${quoteCommand(setBase.record.command)}\` renamed the sandbox's own ${baseLabel}: terminal 2 now sees "${baseHost}" too.`,
        `\`${quoteCommand(setBase.record.command)}\` 修改的是沙箱自己的 ${baseLabel}：终端 2 现在也会看到“${baseHost}”。`,
      ),
      t('Run `unshare -u bash` first, then change the hostname inside that shell.', '请先运行 `unshare -u bash`，再在那个 shell 里修改主机名。'),
      { utsInode: baseUts ?? 0, hostname: baseHost },
    );
  }
  const fresh = newest(snapshot.processes.filter((x) => x.ns.uts !== undefined && x.ns.uts !== baseUts));
  if (fresh) {
    return failed(
      t(
        `${describeProcess(fresh)} is in ${nsLabel('uts', fresh.ns.uts)}, still called "${hostnameOf(snapshot, fresh.ns.uts) ?? '?'}": a new UTS namespace starts as a copy.`,
        `${describeProcessZh(fresh)} 在 ${nsLabel('uts', fresh.ns.uts)} 中，主机名仍是“${hostnameOf(snapshot, fresh.ns.uts) ?? '?'}”：新的 UTS 命名空间一开始是原来的副本。`,
      ),
      t('Now give it a name of its own, in that shell: `hostname container1`.', '现在在那个 shell 里给它取个自己的名字：`hostname container1`。'),
      { pid: fresh.pid },
    );
  }
  return failed(
    t(`Every process of your sandbox is still in ${baseLabel}.`, `你的沙箱里所有进程都还在 ${baseLabel} 中。`),
    t('In terminal 1: `unshare -u bash`, then `hostname container1`.', '在终端 1 中：先运行 `unshare -u bash`，再运行 `hostname container1`。'),
  );
}

/** Words that print the kernel hostname of the current UTS namespace. */
function printsHostname(words: string[]): boolean {
  const [p, ...rest] = words;
  if (p === 'hostname' || p === '/usr/bin/hostname' || p === '/bin/hostname') return rest.every((w) => w.startsWith('-') && !['-F', '--file', '-b', '--boot'].includes(w));
  if (p === 'uname') return rest.length === 1 && rest[0] === '-n';
  if (p === 'cat') return rest.length === 1 && rest[0] === '/proc/sys/kernel/hostname';
  return false;
}

function checkOutsideUnchanged(obs: Observation): CheckResult {
  const tgt = target(obs);
  if (!tgt) return noTarget();
  const baseHost = hostnameOf(obs.snapshot, baseNs(obs.snapshot, 'uts')) ?? '?';
  if (baseHost === tgt.hostname) {
    return failed(
      t(`The sandbox's own hostname is "${baseHost}" too now.`, `沙箱自己的主机名现在也是“${baseHost}”了。`),
      t('Change it back from terminal 2 (`hostname nslab`).', '在终端 2 中把它改回去（`hostname nslab`）。'),
    );
  }
  // The output counts only when the command line is that one command (soleCommand: `echo nslab;
  // hostname` run inside the new namespace printed the sandbox's name first), printed one line,
  // and that line is the hostname the agent read from the host for the sandbox's UTS namespace.
  for (const { record, words } of commandsRunning(obs.transcript, ['hostname', 'uname', 'cat'])) {
    if (record.exitCode !== 0 || !printsHostname(words) || soleCommand(record.command) === null) continue;
    if (record.output.trim() !== baseHost) continue;
    return passed(
      t(
        `In terminal ${record.terminal + 1}, \`${quoteCommand(record.command)}\` printed "${baseHost}": outside, the hostname is unchanged, while ${nsLabel('uts', tgt.utsInode)} is "${tgt.hostname}"`,
        `在终端 ${record.terminal + 1} 中，\`${quoteCommand(record.command)}\` 输出了“${baseHost}”：外面的主机名没有变，而 ${nsLabel('uts', tgt.utsInode)} 是“${tgt.hostname}”`,
      ),
      { terminal: record.terminal, baseHostname: baseHost, hostname: tgt.hostname },
    );
  }
  return failed(
    t(`No \`hostname\` outside the new namespace has printed "${baseHost}" yet.`, `还没有在新命名空间之外运行 \`hostname\` 并输出“${baseHost}”。`),
    t('In terminal 2, run `hostname`.', '在终端 2 中运行 `hostname`。'),
  );
}

function checkNsenterUts(obs: Observation): CheckResult {
  const tgt = target(obs);
  if (!tgt) return noTarget();
  const calls = nsenterInvocations(obs.transcript);
  for (const call of calls) {
    if (call.record.exitCode !== 0 || !call.types.includes('uts') || call.targetPid === null) continue;
    if (!printsHostname(call.inner)) continue;
    if (call.record.output.trim() !== tgt.hostname) continue;
    const proc = processByPid(obs.snapshot, call.targetPid);
    if (proc && proc.ns.uts !== tgt.utsInode) continue;
    return passed(
      t(
        `\`${quoteCommand(call.record.command)}\` printed "${tgt.hostname}", the hostname of ${nsLabel('uts', tgt.utsInode)}`,
        `\`${quoteCommand(call.record.command)}\` 输出了“${tgt.hostname}”，也就是 ${nsLabel('uts', tgt.utsInode)} 的主机名`,
      ),
      { pid: call.targetPid, utsInode: tgt.utsInode, terminal: call.record.terminal },
    );
  }
  const latest = calls[0];
  return failed(
    latest
      ? t(`\`${quoteCommand(latest.record.command)}\` did not print "${tgt.hostname}".`, `\`${quoteCommand(latest.record.command)}\` 没有输出“${tgt.hostname}”。`)
      : t('No nsenter -u yet.', '还没有看到 nsenter -u。'),
    t(`In terminal 2: \`nsenter -t ${tgt.pid} -u hostname\`.`, `在终端 2 中运行：\`nsenter -t ${tgt.pid} -u hostname\`。`),
  );
}

export const utsNamespace: LabDef = {
  id: 'uts-namespace',
  title: t('UTS namespace: a hostname of its own', 'UTS 命名空间：拥有自己的主机名'),
  terminals: 2,
  steps: [
    {
      id: stepIds.usernsEperm,
      title: t('Fail to rename a UTS namespace you do not own', '修改一个不归你所有的 UTS 命名空间：失败'),
      kinds: ['command', 'output', 'state'],
      check: checkUsernsEperm,
      hints: [
        t('In a new user namespace you hold every capability, but only over the namespaces that user namespace owns.', '在新的用户命名空间里你拥有全部能力，但只对这个用户命名空间拥有的命名空间有效。'),
        t('`unshare -Ur` makes a user namespace (and maps you to root in it) without a new UTS namespace: the hostname still belongs to the old one.', '`unshare -Ur` 只创建用户命名空间（并把你映射成其中的 root），不创建新的 UTS 命名空间：主机名仍属于原来的那个。'),
        t('In terminal 1: `unshare -Ur hostname container2`. It is meant to fail.', '在终端 1 中运行 `unshare -Ur hostname container2`。它注定会失败。'),
      ],
    },
    {
      id: stepIds.newHostname,
      title: t('Change the hostname in a UTS namespace you own', '在归你所有的 UTS 命名空间中修改主机名'),
      kinds: ['state'],
      check: checkNewHostname,
      hints: [
        t('-u gives the shell its own UTS namespace, a copy of the hostname it can change freely.', '-u 会给 shell 一个自己的 UTS 命名空间，也就是一份可以随意修改的主机名副本。'),
        t('Add -u: the UTS namespace is then made after the user namespace, and owned by it. In terminal 1: `unshare -Uur bash`, then `hostname container1`.', '加上 -u：UTS 命名空间会在用户命名空间之后创建，并归它所有。在终端 1 中：先运行 `unshare -Uur bash`，再运行 `hostname container1`。'),
      ],
    },
    {
      id: stepIds.outsideUnchanged,
      title: t('Prove the outside is unchanged', '证明外面的主机名没有变'),
      kinds: ['command', 'output', 'state'],
      check: checkOutsideUnchanged,
      hints: [t('Terminal 2 is still in the sandbox\'s own UTS namespace.', '终端 2 仍然在沙箱自己的 UTS 命名空间里。'), t('In terminal 2, run `hostname`.', '在终端 2 中运行 `hostname`。')],
    },
    {
      id: stepIds.nsenterUts,
      title: t('Read the new hostname from outside', '从外面读取新的主机名'),
      kinds: ['command', 'output', 'state'],
      check: checkNsenterUts,
      hints: [
        t('nsenter -u joins the UTS namespace of another process.', 'nsenter -u 会加入另一个进程的 UTS 命名空间。'),
        t('In terminal 2: `nsenter -t <PID> -u hostname`, with the PID that `echo $$` printed in terminal 1.', '在终端 2 中：`nsenter -t <PID> -u hostname`，PID 就是终端 1 中 `echo $$` 打印的数字。'),
      ],
    },
  ],
  solution: [
    { stepId: stepIds.usernsEperm, actions: typed(0, 'unshare -Ur hostname container2') },
    {
      stepId: stepIds.newHostname,
      actions: [
        ...typed(0, ['unshare -Uur bash', 800]),
        ...typed(0, ['hostname container1', 400]),
      ],
    },
    { stepId: stepIds.outsideUnchanged, actions: typed(1, ['hostname', 400]) },
    { stepId: stepIds.nsenterUts, actions: typed(1, [(obs) => `nsenter -t ${renamedPid(obs)} -u hostname`, 400]) },
  ],
};
