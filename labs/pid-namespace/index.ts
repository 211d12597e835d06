// Lab `pid-namespace`: become PID 1 of a new PID namespace (`unshare -pf --mount-proc bash`), watch
// `ps` shrink to that namespace, and read the same process's PIDs (NSpid) from outside: three in all
// (host, sandbox, new namespace), of which the sandbox's /proc shows the last two.
import { evidenceNumber, failed, passed, quoteCommand } from '../core/results';
import { basename, baseNs, describeProcess, describeProcessZh, newest, nsLabel, processByPid } from '../core/procs';
import { nestedPidInits, pendingPidUnshares } from '../core/kernel-objects';
import { programOf, readFileOf, soleCommand } from '../core/shell';
import { commandsRunning, stripAnsi } from '../core/transcript';
import type { CheckResult, CommandRecord, LabDef, Localized, Observation } from '../core/model';
import { t } from '../core/model';
import { checkNoFork } from './no-fork';
import { typed } from '../core/solution';

export const stepIds = { noFork: 'no-fork', becomePid1: 'become-pid1', psShrinks: 'ps-shrinks', nspidOutside: 'nspid-outside' } as const;

/** A nested PID namespace's PID 1 now, or the one step 1 recorded. */
interface Pid1 {
  pid: number;
  pidnsInode: number;
  comm: string;
}

function currentPid1(obs: Observation): Pid1 | undefined {
  const live = newest(nestedPidInits(obs.snapshot).map((x) => x.init));
  if (live) return { pid: live.pid, pidnsInode: live.ns.pid as number, comm: live.comm };
  const kept = obs.passed[stepIds.becomePid1];
  const pid = evidenceNumber(kept, 'pid');
  const pidnsInode = evidenceNumber(kept, 'pidnsInode');
  if (pid !== undefined && pidnsInode !== undefined) return { pid, pidnsInode, comm: String(kept?.comm ?? '') };
  return undefined;
}

/** For the reference solution: the sandbox PID of the newest nested PID 1. */
export function nestedInitPid(obs: Observation): string {
  const p = currentPid1(obs);
  if (!p) throw new Error('no nested PID 1');
  return String(p.pid);
}

// ---------------------------------------------------------------- step 1

function checkBecomePid1(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const baseLabel = nsLabel('pid', baseNs(snapshot, 'pid'));
  const found = nestedPidInits(snapshot);
  const best = found.reduce<(typeof found)[number] | undefined>((a, b) => (!a || b.init.hostPid > a.init.hostPid ? b : a), undefined);
  if (best) {
    const { init, pidns } = best;
    const label = nsLabel('pid', pidns.inode);
    return passed(
      t(
        `${describeProcess(init)} is PID 1 of ${label} (NSpid ${init.nsPids.join(' ')}); your shell is in ${baseLabel}`,
        `${describeProcessZh(init)} 是 ${label} 的 1 号进程（NSpid ${init.nsPids.join(' ')}）；你的 shell 在 ${baseLabel} 中`,
      ),
      { pid: init.pid, hostPid: init.hostPid, pidnsInode: pidns.inode, comm: init.comm, members: pidns.members },
    );
  }
  const pending = newest(pendingPidUnshares(snapshot));
  if (pending) {
    return failed(
      t(
        `${describeProcess(pending)} unshared a PID namespace, but still runs in ${baseLabel}: nothing is PID 1 of the new one.`,
        `${describeProcessZh(pending)} 创建了新的 PID 命名空间，但它自己仍在 ${baseLabel} 中：新命名空间里还没有 1 号进程。`,
      ),
      t(
        'Without -f, unshare execs the command itself, and the caller never moves into a new PID namespace: only its next child would. Add -f (fork): `unshare -pf --mount-proc bash`.',
        '不加 -f 时，unshare 直接用 exec 执行命令，而调用者本身永远不会进入新的 PID 命名空间，只有它的下一个子进程才会。请加上 -f（fork）：`unshare -pf --mount-proc bash`。',
      ),
      { pid: pending.pid },
    );
  }
  const orphan = (snapshot.pidns ?? []).find((n) => n.level > 0 && !n.init);
  if (orphan) {
    return failed(
      t(`${nsLabel('pid', orphan.inode)} has no PID 1 any more: its first process already exited.`, `${nsLabel('pid', orphan.inode)} 已经没有 1 号进程了：它的第一个进程已经退出。`),
      t('When PID 1 of a namespace exits, the namespace is finished. Start again with -f: `unshare -pf --mount-proc bash`.', '命名空间的 1 号进程一旦退出，这个命名空间就结束了。请用 -f 重新开始：`unshare -pf --mount-proc bash`。'),
      { pidnsInode: orphan.inode },
    );
  }
  return failed(
    t(`Every process of your sandbox is still in ${baseLabel}.`, `你的沙箱里所有进程都还在 ${baseLabel} 中。`),
    t('In terminal 1, run `unshare -pf --mount-proc bash`.', '在终端 1 中运行 `unshare -pf --mount-proc bash`。'),
  );
}

// ---------------------------------------------------------------- step 2

interface PsRow {
  pid: number;
  command: string;
}

/** Rows of a `ps` listing (any format with a PID column and the command last). */
export function psRows(output: string): PsRow[] | null {
  const lines = stripAnsi(output).split('\n').filter((l) => l.trim() !== '');
  const header = lines[0]?.trim().split(/\s+/);
  const col = header?.indexOf('PID') ?? -1;
  if (!header || col < 0) return null;
  const rows: PsRow[] = [];
  for (const line of lines.slice(1)) {
    const cells = line.trim().split(/\s+/);
    const pid = Number(cells[col]);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    rows.push({ pid, command: cells.slice(header.length - 1).join(' ') });
  }
  return rows;
}

/** What a `ps` run that did not count shows, said from its own output (never more than it shows). */
export function psListingWhy(record: CommandRecord, sandboxProcesses: number): Localized {
  const cmd = quoteCommand(record.command);
  if (record.exitCode !== 0) {
    return t(`\`${cmd}\` failed (exit status ${record.exitCode ?? 'unknown'}).`, `\`${cmd}\` 执行失败（退出状态 ${record.exitCode ?? '未知'}）。`);
  }
  const rows = psRows(record.output);
  if (!rows || rows.length === 0) {
    return t(`\`${cmd}\` printed no process list with a PID column.`, `\`${cmd}\` 没有输出带 PID 列的进程列表。`);
  }
  const one = rows.find((r) => r.pid === 1);
  if (!one) {
    return t(
      `\`${cmd}\` listed ${rows.length} process(es), none of them PID 1: it ran outside the new PID namespace, where its PID 1 would be listed.`,
      `\`${cmd}\` 列出了 ${rows.length} 个进程，其中没有 1 号进程：它是在新的 PID 命名空间之外运行的；在里面运行的话，1 号进程一定会列出来。`,
    );
  }
  if (/nslab\/init/.test(one.command)) {
    return t(
      `\`${cmd}\` listed ${rows.length} process(es) with the sandbox's init as PID 1: it ran outside the new PID namespace.`,
      `\`${cmd}\` 列出了 ${rows.length} 个进程，1 号进程是沙箱的 init：它是在新的 PID 命名空间之外运行的。`,
    );
  }
  return t(
    `\`${cmd}\` listed ${rows.length} process(es), as many as your whole sandbox has (${sandboxProcesses}): it did not read a /proc of the new namespace alone.`,
    `\`${cmd}\` 列出了 ${rows.length} 个进程，和整个沙箱的进程数（${sandboxProcesses}）一样多：它读到的不是只属于新命名空间的 /proc。`,
  );
}

function checkPsShrinks(obs: Observation): CheckResult {
  const target = currentPid1(obs);
  if (!target) {
    return failed(
      t('No process is PID 1 of a new PID namespace.', '没有进程是新 PID 命名空间的 1 号进程。'),
      t('Do step 1 first: `unshare -pf --mount-proc bash` in terminal 1.', '请先完成第 1 步：在终端 1 中运行 `unshare -pf --mount-proc bash`。'),
    );
  }
  const total = obs.snapshot.processes.length;
  // The listing must be ps's alone (soleCommand: `ps; printf 'PID CMD\n1 bash\n'` prints a
  // forged table), and its PID 1 must be the kernel's: the process whose PID is 1 in the new
  // namespace, with the command line the snapshot read for it (checked when it still runs).
  const init = processByPid(obs.snapshot, target.pid);
  const runs = commandsRunning(obs.transcript, ['ps']).filter((r) => r.record.exitCode === 0);
  for (const { record } of runs) {
    const sole = soleCommand(record.command);
    if (!sole || programOf(sole) !== 'ps') continue;
    const rows = psRows(record.output);
    if (!rows || rows.length === 0) continue;
    const one = rows.find((r) => r.pid === 1);
    if (!one || /nslab\/init/.test(one.command)) continue;
    if (rows.length >= total) continue;
    const shownProgram = basename(one.command.replace(/^[\s\\_|`-]+/, '').split(/\s+/)[0]).replace(/^-/, '');
    if (init && shownProgram !== init.comm && shownProgram !== basename(init.cmdline[0]).replace(/^-/, '')) continue;
    return passed(
      t(
        `\`${quoteCommand(record.command)}\` listed ${rows.length} processes, PID 1 being \`${one.command}\`: only ${nsLabel('pid', target.pidnsInode)}; the sandbox has ${total}`,
        `\`${quoteCommand(record.command)}\` 只列出了 ${rows.length} 个进程，1 号进程是 \`${one.command}\`：只有 ${nsLabel('pid', target.pidnsInode)} 里的进程；整个沙箱有 ${total} 个`,
      ),
      { listed: rows.length, sandboxProcesses: total, pidnsInode: target.pidnsInode, terminal: record.terminal },
    );
  }
  const last = runs[0] ?? commandsRunning(obs.transcript, ['ps'])[0];
  if (last) {
    return failed(
      psListingWhy(last.record, total),
      t('Run ps in terminal 1, in the shell that unshare started. Without --mount-proc, ps reads the old /proc and still shows everything.', '在终端 1 中、也就是 unshare 启动的那个 shell 里运行 ps。如果没有 --mount-proc，ps 读到的是旧的 /proc，仍然会显示所有进程。'),
    );
  }
  return failed(
    t('No `ps` listing yet.', '还没有看到 `ps` 的输出。'),
    t('In terminal 1 (inside the new namespace), run `ps -ef`.', '在终端 1（新的命名空间里）运行 `ps -ef`。'),
  );
}

// ---------------------------------------------------------------- step 3

function checkNspidOutside(obs: Observation): CheckResult {
  const target = currentPid1(obs);
  if (!target) {
    return failed(
      t('No process is PID 1 of a new PID namespace.', '没有进程是新 PID 命名空间的 1 号进程。'),
      t('Do step 1 first: `unshare -pf --mount-proc bash` in terminal 1.', '请先完成第 1 步：在终端 1 中运行 `unshare -pf --mount-proc bash`。'),
    );
  }
  // Reading a file leaves nothing in the kernel, so this step is graded on the transcript AND the
  // kernel together (issue 13: `echo 'NSpid: 14 1' # /proc/14/status` passed): the command line
  // is one reader of exactly /proc/<PID>/status (readFileOf: no echo, no second file, no comment),
  // and the NSpid line it printed is the one the kernel has for that process, every level of it.
  const live = processByPid(obs.snapshot, target.pid);
  const want = live ? live.nsPids : [target.pid, 1];
  const reads = obs.transcript.filter((r) => /\/proc\/\d+\/status/.test(r.command)).reverse();
  for (const record of reads) {
    const file = readFileOf(record.command);
    const pid = Number(/^\/proc\/(\d+)\/status$/.exec(file ?? '')?.[1]);
    if (pid !== target.pid || record.exitCode !== 0) continue;
    const shown = stripAnsi(record.output)
      .split('\n')
      .map((l) => /^NSpid:\s+([\d\s]+)$/.exec(l.trim())?.[1]?.trim().split(/\s+/).join(' '))
      .filter((x) => x !== undefined);
    if (shown.length !== 1 || shown[0] !== want.join(' ')) continue;
    const nsPids = want.join(' ');
    return passed(
      t(
        `NSpid of PID ${pid} reads ${nsPids}: the same process is ${pid} in your sandbox and 1 in ${nsLabel('pid', target.pidnsInode)}; its third PID, on the host, is a level your sandbox's /proc cannot show`,
        `PID ${pid} 的 NSpid 是 ${nsPids}：同一个进程在你的沙箱里是 ${pid}，在 ${nsLabel('pid', target.pidnsInode)} 里是 1；它的第三个 PID 在宿主机上，沙箱里的 /proc 看不到那一层`,
      ),
      { pid, pidnsInode: target.pidnsInode, terminal: record.terminal },
    );
  }
  const latest = reads[0];
  return failed(
    latest
      ? t(`\`${quoteCommand(latest.command)}\` did not show NSpid ${target.pid} 1.`, `\`${quoteCommand(latest.command)}\` 没有显示 NSpid ${target.pid} 1。`)
      : t(`Nobody has read /proc/${target.pid}/status from outside yet.`, `还没有人从外面读取过 /proc/${target.pid}/status。`),
    t(
      `In terminal 2 (outside), run \`grep NSpid /proc/${target.pid}/status\`: ${target.pid} is the PID your shell sees for that PID 1.`,
      `在终端 2（外面）运行 \`grep NSpid /proc/${target.pid}/status\`：${target.pid} 就是你的 shell 看到的那个 1 号进程的 PID。`,
    ),
    { pid: target.pid },
  );
}

// ---------------------------------------------------------------- the lab

export const pidNamespace: LabDef = {
  id: 'pid-namespace',
  title: t('PID namespace: become PID 1', 'PID 命名空间：成为 1 号进程'),
  terminals: 2,
  steps: [
    {
      id: stepIds.noFork,
      title: t('Forget -f: watch the fork fail', '忘记 -f：看着 fork 失败'),
      kinds: ['state'],
      check: checkNoFork,
      hints: [
        t('unshare(2) with CLONE_NEWPID never moves the caller: only its children are born in the new PID namespace.', '带 CLONE_NEWPID 的 unshare(2) 从不移动调用者：只有它之后创建的子进程才会出生在新的 PID 命名空间里。'),
        t('The first child becomes PID 1 and exits at once; a PID namespace whose PID 1 has exited takes no new process.', '第一个子进程成为 1 号进程并立即退出；1 号进程退出后，这个 PID 命名空间不再接收新进程。'),
        t('In terminal 1: `unshare -p bash`, then `ls` (it fails); leave that bash with Ctrl-D.', '在终端 1 中：运行 `unshare -p bash`，然后 `ls`（会失败）；用 Ctrl-D 离开那个 bash。'),
      ],
    },
    {
      id: stepIds.becomePid1,
      title: t('Start a shell as PID 1 of a new PID namespace', '在新的 PID 命名空间中以 1 号进程的身份启动一个 shell'),
      kinds: ['state'],
      check: checkBecomePid1,
      hints: [
        t('-p asks for a new PID namespace, -f forks so that the child becomes its PID 1, --mount-proc gives it a matching /proc.', '-p 表示新建 PID 命名空间，-f 让 unshare fork 出子进程成为其中的 1 号进程，--mount-proc 给它挂上对应的 /proc。'),
        t('In terminal 1: `unshare -pf --mount-proc bash`, then `echo $$`.', '在终端 1 中运行：`unshare -pf --mount-proc bash`，然后 `echo $$`。'),
      ],
    },
    {
      id: stepIds.psShrinks,
      title: t('See ps shrink to the new namespace', '看到 ps 只剩下新命名空间里的进程'),
      kinds: ['command', 'output', 'state'],
      check: checkPsShrinks,
      hints: [
        t('ps reads /proc; --mount-proc mounted a /proc that shows only the new namespace.', 'ps 读取的是 /proc；--mount-proc 挂载了一个只显示新命名空间的 /proc。'),
        t('In terminal 1, inside the new shell: `ps -ef`.', '在终端 1 的新 shell 里运行：`ps -ef`。'),
      ],
    },
    {
      id: stepIds.nspidOutside,
      title: t('Read NSpid from outside', '从外面查看 NSpid'),
      kinds: ['command', 'output', 'state'],
      check: checkNspidOutside,
      hints: [
        t('From terminal 2, the new PID 1 has an ordinary PID: find it with `pgrep -f "unshare -pf"` and its child, or `ps -ef --forest`.', '在终端 2 中，新的 1 号进程有一个普通的 PID：可以用 `ps -ef --forest` 找到 unshare 的子进程。'),
        t('`grep NSpid /proc/<PID>/status` prints its PID at each level, from the PID namespace of the /proc you read (your sandbox\'s) inwards.', '`grep NSpid /proc/<PID>/status` 会打印它在每一层的 PID，从你所读的 /proc 所属的 PID 命名空间（也就是沙箱的）开始逐层向内。'),
      ],
    },
  ],
  solution: [
    { stepId: stepIds.noFork, actions: typed(0, ['unshare -p bash', 800], 'ls') },
    { stepId: stepIds.becomePid1, actions: typed(0, ['\x04', 400], ['unshare -pf --mount-proc bash', 800]) },
    { stepId: stepIds.psShrinks, actions: typed(0, 'ps -ef') },
    { stepId: stepIds.nspidOutside, actions: typed(1, [(obs) => `grep NSpid /proc/${nestedInitPid(obs)}/status`, 400]) },
  ],
};
