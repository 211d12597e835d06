// Lab `mount-namespace`: a tmpfs mounted in a new mount namespace (`unshare -m`) is invisible to
// the neighbour terminal, which stays in the sandbox's own mount namespace; nsenter -m shows it.
import { typed } from '../core/solution';
import { evidenceNumber, evidenceString, failed, passed, quoteCommand } from '../core/results';
import { baseNs, nsLabel, processByPid } from '../core/procs';
import { mntnsOf, mountAt, type PrivateMount, privateMounts } from '../core/kernel-objects';
import { operandsOf, programOf, simpleCommands, soleCommand } from '../core/shell';
import { commandsRunning } from '../core/transcript';
import { nsenterInvocations } from '../core/ns-tools';
import type { CheckResult, CommandRecord, LabDef, Observation } from '../core/model';
import { t } from '../core/model';
import type { MountInfo, Snapshot } from '../core/snapshot';

export const stepIds = { privateMount: 'private-mount', neighbourBlind: 'neighbour-blind', nsenterMount: 'nsenter-mount' } as const;

const isTmpfs = (m: MountInfo) => m.fsType === 'tmpfs';

function newestPrivate(snapshot: Snapshot): PrivateMount | undefined {
  const all = privateMounts(snapshot, isTmpfs);
  return all.reduce<PrivateMount | undefined>((a, b) => (!a || b.mount.mountId > a.mount.mountId ? b : a), undefined);
}

/** The private tmpfs now, or the one step 1 recorded. */
function target(obs: Observation): { mountPoint: string; mntInode: number; live: boolean } | undefined {
  const live = newestPrivate(obs.snapshot);
  if (live) return { mountPoint: live.mount.mountPoint, mntInode: live.mntns.inode, live: true };
  const kept = obs.passed[stepIds.privateMount];
  const mountPoint = evidenceString(kept, 'mountPoint');
  const mntInode = evidenceNumber(kept, 'mntInode');
  return mountPoint && mntInode !== undefined ? { mountPoint, mntInode, live: false } : undefined;
}

const noTarget = (): CheckResult =>
  failed(
    t('No tmpfs exists only in a new mount namespace.', '没有只存在于新挂载命名空间中的 tmpfs。'),
    t('Do step 1 first: `unshare -m bash` in terminal 1, then `mount -t tmpfs scratch /mnt`.', '请先完成第 1 步：在终端 1 中运行 `unshare -m bash`，然后运行 `mount -t tmpfs scratch /mnt`。'),
  );

function checkPrivateMount(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const baseInode = baseNs(snapshot, 'mnt');
  const baseLabel = nsLabel('mnt', baseInode);
  const found = newestPrivate(snapshot);
  if (found) {
    const holder = snapshot.processes.find((p) => p.ns.mnt === found.mntns.inode);
    const { mount } = found;
    return passed(
      t(
        `tmpfs "${mount.source}" at ${mount.mountPoint} exists in ${nsLabel('mnt', found.mntns.inode)}${holder ? ` (${holder.comm}, PID ${holder.pid})` : ''} and not in the sandbox's ${baseLabel}`,
        `tmpfs“${mount.source}”挂载在 ${mount.mountPoint}，只存在于 ${nsLabel('mnt', found.mntns.inode)}${holder ? `（${holder.comm}，PID ${holder.pid}）` : ''} 中，而沙箱的 ${baseLabel} 里没有`,
      ),
      { mntInode: found.mntns.inode, mountPoint: mount.mountPoint, source: mount.source, baseMntInode: baseInode ?? 0 },
    );
  }
  const base = mntnsOf(snapshot, baseInode);
  const initMounts = new Set(['/dev/shm', '/usr/local', '/']);
  const shared = base?.mounts.filter((m) => isTmpfs(m) && !initMounts.has(m.mountPoint)).pop();
  if (shared) {
    return failed(
      t(
        `tmpfs "${shared.source}" at ${shared.mountPoint} is in the sandbox's own ${baseLabel}: terminal 2 sees it too.`,
        `tmpfs“${shared.source}”挂载在 ${shared.mountPoint}，位于沙箱自己的 ${baseLabel} 中：终端 2 也能看到它。`,
      ),
      t(
        `Did you forget unshare -m? Undo it (\`umount ${shared.mountPoint}\`), run \`unshare -m bash\` first, then mount inside that shell.`,
        `是不是忘了 unshare -m？先撤销它（\`umount ${shared.mountPoint}\`），再运行 \`unshare -m bash\`，然后在那个 shell 里挂载。`,
      ),
      { mountPoint: shared.mountPoint, mntInode: baseInode ?? 0 },
    );
  }
  const other = (snapshot.mntns ?? []).find((m) => m.inode !== baseInode);
  return failed(
    other
      ? t(`${nsLabel('mnt', other.inode)} exists, but no tmpfs is mounted only there yet.`, `${nsLabel('mnt', other.inode)} 已经存在，但还没有只挂载在其中的 tmpfs。`)
      : t(`Every process of your sandbox is still in ${baseLabel}.`, `你的沙箱里所有进程都还在 ${baseLabel} 中。`),
    t('In terminal 1: `unshare -m bash`, then `mount -t tmpfs scratch /mnt`.', '在终端 1 中：先运行 `unshare -m bash`，再运行 `mount -t tmpfs scratch /mnt`。'),
  );
}

/**
 * Files the transcript shows being created under the mount point by a terminal inside the private
 * namespace (`echo hello > /mnt/note`, `touch /mnt/note`): only for such a file does "not there"
 * in terminal 2 say something about the tmpfs. (The kernel state read from the host has the mount
 * tables but not the tmpfs's files, so this part is the transcript's, checked with the kernel's
 * fact that the tmpfs exists only in the private namespace.)
 */
function filesWrittenInside(obs: Observation, inside: Set<number>, mountPoint: string): Set<string> {
  const out = new Set<string>();
  // A terminal whose `mount ... <mount point>` succeeded is inside too: the kernel shows that
  // tmpfs in the private namespace only (a running `unshare -m bash` has no record yet when the
  // shell integration reports commands of the inner shell alone).
  const mounted = new Set(inside);
  for (const record of obs.transcript) {
    const cmds = simpleCommands(record.command);
    const mountsHere = cmds.findIndex((w) => programOf(w) === 'mount' && w.includes(mountPoint));
    if (mountsHere >= 0 && record.exitCode === 0) mounted.add(record.terminal);
    if (!mounted.has(record.terminal) || record.exitCode !== 0) continue;
    for (const words of cmds) {
      const targets = programOf(words) === 'touch' ? words.slice(1) : [];
      words.forEach((w, k) => {
        const m = /^\d*>>?(.*)$/.exec(w);
        if (m) targets.push(m[1] !== '' ? (m[1] as string) : (words[k + 1] ?? ''));
      });
      for (const f of targets) if (f.startsWith(`${mountPoint}/`) && f.length > mountPoint.length + 1) out.add(f);
    }
  }
  return out;
}

/**
 * What a look from outside may show (issue 13: a failing `cat /mnt/<anything>` proved nothing):
 *  - `findmnt <mount point>`: exit status 1 and no output (nothing mounted there);
 *  - `mountpoint <mount point>`: exit status 1, "is not a mountpoint";
 *  - `cat`/`ls`/`stat`/`head` of a file that terminal 1 created in the tmpfs: "No such file".
 * The command line must be that one command (soleCommand), and the kernel must agree: the base
 * mount namespace has no tmpfs at the mount point (checked before this is called).
 */
function blindLook(record: CommandRecord, words: string[], mountPoint: string, written: Set<string>): boolean {
  const program = programOf(words);
  const operands = operandsOf(words).filter((w) => !/^\d*>/.test(w));
  if (record.exitCode === null || record.exitCode === 0) return false;
  if (operands.length !== 1) return false;
  const arg = (operands[0] as string).replace(/(.)\/+$/, '$1');
  const out = record.output.trim();
  if (program === 'findmnt') return arg === mountPoint && out === '';
  if (program === 'mountpoint') return arg === mountPoint && out === `${mountPoint} is not a mountpoint`;
  if (['cat', 'ls', 'stat', 'head'].includes(program)) return written.has(arg) && /No such file or directory/.test(out) && out.split('\n').length === 1;
  return false;
}

function checkNeighbourBlind(obs: Observation): CheckResult {
  const tgt = target(obs);
  if (!tgt) return noTarget();
  const base = mntnsOf(obs.snapshot, baseNs(obs.snapshot, 'mnt'));
  const leaked = base ? mountAt(base, tgt.mountPoint) : undefined;
  if (leaked && isTmpfs(leaked)) {
    return failed(
      t(`${tgt.mountPoint} is now a tmpfs in the sandbox's own mount namespace too.`, `${tgt.mountPoint} 现在在沙箱自己的挂载命名空间里也是 tmpfs 了。`),
      t(`Unmount it there (\`umount ${tgt.mountPoint}\` in terminal 2) and look again.`, `在那里卸载它（在终端 2 中运行 \`umount ${tgt.mountPoint}\`），然后再看一次。`),
    );
  }
  // Terminals where an `unshare -m` is still running: their prompt is inside the new namespace.
  const inside = new Set(
    commandsRunning(obs.transcript, ['unshare'])
      .filter((c) => c.record.exitCode === null && c.words.some((w) => /^-[a-zA-Z]*m/.test(w) || w === '--mount'))
      .map((c) => c.record.terminal),
  );
  const written = filesWrittenInside(obs, inside, tgt.mountPoint);
  for (let i = obs.transcript.length - 1; i >= 0; i--) {
    const record = obs.transcript[i] as CommandRecord;
    if (inside.has(record.terminal)) continue;
    const words = soleCommand(record.command);
    if (!words || !blindLook(record, words, tgt.mountPoint, written)) continue;
    return passed(
      t(
        `In terminal ${record.terminal + 1}, \`${quoteCommand(record.command)}\` found nothing mounted at ${tgt.mountPoint}: the tmpfs lives only in ${nsLabel('mnt', tgt.mntInode)}`,
        `在终端 ${record.terminal + 1} 中，\`${quoteCommand(record.command)}\` 在 ${tgt.mountPoint} 处什么也没找到：这个 tmpfs 只存在于 ${nsLabel('mnt', tgt.mntInode)} 中`,
      ),
      { terminal: record.terminal, mountPoint: tgt.mountPoint, exitCode: record.exitCode ?? -1 },
    );
  }
  return failed(
    t(`Terminal 2 has not looked at ${tgt.mountPoint} yet.`, `终端 2 还没有查看过 ${tgt.mountPoint}。`),
    t(`In terminal 2, run \`findmnt ${tgt.mountPoint}\` (no output, exit status 1) or \`cat ${tgt.mountPoint}/note\` (the file you wrote in terminal 1).`, `在终端 2 中运行 \`findmnt ${tgt.mountPoint}\`（没有输出，退出状态为 1），或者 \`cat ${tgt.mountPoint}/note\`（你在终端 1 中写入的文件）。`),
  );
}

/** For the reference solution: a PID in the private mount namespace. */
export function privateMountPid(obs: Observation): string {
  const tgt = target(obs);
  const p = tgt && [...obs.snapshot.processes].reverse().find((x) => x.ns.mnt === tgt.mntInode);
  if (!p) throw new Error('no process in the private mount namespace');
  return String(p.pid);
}

/**
 * What nsenter's inner command printed shows the private tmpfs as the kernel has it (issue 13:
 * `nsenter -t PID -m true /mnt` printed nothing and passed). Accepted inner commands and output:
 *  - findmnt/df/mount (listing) of the mount point: a line with the mount point, the tmpfs's
 *    source (e.g. "scratch") and, for findmnt, "tmpfs";
 *  - mountpoint <mount point>: "<mount point> is a mountpoint".
 * Source and mount point come from the snapshot's mount table of that namespace.
 */
function showsPrivateMount(inner: string[], output: string, mountPoint: string, source: string | undefined): boolean {
  const program = programOf(inner);
  const operands = operandsOf(inner).filter((w) => !/^\d*>/.test(w));
  const lines = output.split('\n').map((l) => l.trim().split(/\s+/));
  const line = (needs: string[]) => lines.some((cells) => needs.every((n) => cells.includes(n)));
  if (program === 'mountpoint') return operands.length === 1 && operands[0] === mountPoint && output.trim() === `${mountPoint} is a mountpoint`;
  if (source === undefined) return false;
  if (program === 'findmnt') return operands.length <= 1 && (operands[0] ?? mountPoint) === mountPoint && line([mountPoint, source, 'tmpfs']);
  if (program === 'df') return operands.length === 1 && operands[0] === mountPoint && line([source, mountPoint]);
  if (program === 'mount') return operands.length === 0 && lines.some((cells) => cells[0] === source && cells[2] === mountPoint && cells.includes('tmpfs'));
  return false;
}

function checkNsenterMount(obs: Observation): CheckResult {
  const tgt = target(obs);
  if (!tgt) return noTarget();
  const source =
    mountAt(mntnsOf(obs.snapshot, tgt.mntInode), tgt.mountPoint)?.source ?? evidenceString(obs.passed[stepIds.privateMount], 'source');
  const calls = nsenterInvocations(obs.transcript);
  for (const call of calls) {
    if (call.record.exitCode !== 0 || !call.types.includes('mnt') || call.targetPid === null) continue;
    const proc = processByPid(obs.snapshot, call.targetPid);
    const keptPid = evidenceNumber(obs.passed[stepIds.nsenterMount], 'pid');
    if (proc ? proc.ns.mnt !== tgt.mntInode : keptPid !== call.targetPid) continue;
    if (!showsPrivateMount(call.inner, call.record.output, tgt.mountPoint, source)) continue;
    return passed(
      t(
        `\`${quoteCommand(call.record.command)}\` entered ${nsLabel('mnt', tgt.mntInode)} and found ${tgt.mountPoint} there`,
        `\`${quoteCommand(call.record.command)}\` 进入了 ${nsLabel('mnt', tgt.mntInode)}，并在那里找到了 ${tgt.mountPoint}`,
      ),
      { pid: call.targetPid, mntInode: tgt.mntInode, terminal: call.record.terminal },
    );
  }
  const latest = calls[0];
  return failed(
    latest
      ? t(`\`${quoteCommand(latest.record.command)}\` did not enter the private mount namespace and show the tmpfs at ${tgt.mountPoint}.`, `\`${quoteCommand(latest.record.command)}\` 没有进入那个私有挂载命名空间并显示 ${tgt.mountPoint} 处的 tmpfs。`)
      : t('No nsenter -m yet.', '还没有看到 nsenter -m。'),
    t(`Find the PID of terminal 1's shell (\`echo $$\` there), then in terminal 2: \`nsenter -t <PID> -m findmnt ${tgt.mountPoint}\`.`, `先查到终端 1 的 shell 的 PID（在那里运行 \`echo $$\`），然后在终端 2 中运行：\`nsenter -t <PID> -m findmnt ${tgt.mountPoint}\`。`),
  );
}

export const mountNamespace: LabDef = {
  id: 'mount-namespace',
  title: t('Mount namespace: a mount only you can see', '挂载命名空间：只有你能看到的挂载'),
  terminals: 2,
  steps: [
    {
      id: stepIds.privateMount,
      title: t('Mount a tmpfs in a new mount namespace', '在新的挂载命名空间中挂载 tmpfs'),
      kinds: ['state'],
      check: checkPrivateMount,
      hints: [
        t('-m gives the shell its own copy of the mount table; mounts made there stay there.', '-m 会给 shell 一份自己的挂载表副本；在那里做的挂载只留在那里。'),
        t('In terminal 1: `unshare -m bash`, then `mount -t tmpfs scratch /mnt` and `echo hello > /mnt/note`.', '在终端 1 中：`unshare -m bash`，然后 `mount -t tmpfs scratch /mnt` 和 `echo hello > /mnt/note`。'),
      ],
    },
    {
      id: stepIds.neighbourBlind,
      title: t('Show that terminal 2 cannot see it', '证明终端 2 看不到它'),
      kinds: ['command', 'state'],
      check: checkNeighbourBlind,
      hints: [
        t('Terminal 2 is still in the sandbox\'s own mount namespace.', '终端 2 仍然在沙箱自己的挂载命名空间里。'),
        t('In terminal 2: `findmnt /mnt` prints nothing and fails; `cat /mnt/note` finds no file.', '在终端 2 中：`findmnt /mnt` 没有任何输出并返回失败；`cat /mnt/note` 找不到文件。'),
      ],
    },
    {
      id: stepIds.nsenterMount,
      title: t('Look inside with nsenter -m', '用 nsenter -m 进去看看'),
      kinds: ['command', 'state'],
      check: checkNsenterMount,
      hints: [
        t('nsenter -m joins the mount namespace of another process.', 'nsenter -m 会加入另一个进程的挂载命名空间。'),
        t('In terminal 2: `nsenter -t <PID> -m findmnt /mnt`, with the PID that `echo $$` printed in terminal 1.', '在终端 2 中：`nsenter -t <PID> -m findmnt /mnt`，PID 就是终端 1 中 `echo $$` 打印的数字。'),
      ],
    },
  ],
  solution: [
    {
      stepId: stepIds.privateMount,
      actions: [
        ...typed(0, ['unshare -m bash', 800]),
        ...typed(0, ['mount -t tmpfs scratch /mnt && echo hello > /mnt/note', 400]),
      ],
    },
    { stepId: stepIds.neighbourBlind, actions: typed(1, ['findmnt /mnt', 400]) },
    { stepId: stepIds.nsenterMount, actions: typed(1, [(obs) => `nsenter -t ${privateMountPid(obs)} -m findmnt /mnt`, 400]) },
  ],
};
