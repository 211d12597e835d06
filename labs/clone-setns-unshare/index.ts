// Lab `clone-setns-unshare`: unshare(1) a shell into a new UTS namespace, give it a hostname of
// its own, read that hostname from the other terminal with nsenter(1) (setns), and see that the
// sandbox's own hostname did not change.
// Step ids are a contract with the lesson (content/clone-setns-unshare): do not rename them.
import { typed } from '../core/solution';
import { failed, firstLine, keptNumber, passed, quoteCommand } from '../core/results';
import { baseNs, describeProcess, describeProcessZh, newest, nsLabel, processByPid, processesOf } from '../core/procs';
import { hostnameOf } from '../core/kernel-objects';
import { programOf, simpleCommands, soleCommand } from '../core/shell';
import { findCommands, stripAnsi } from '../core/transcript';
import { nsenterInvocations } from '../core/ns-tools';
import type { CheckResult, CommandRecord, LabDef, Observation } from '../core/model';
import { t } from '../core/model';
import type { ProcessInfo, Snapshot } from '../core/snapshot';

export const stepIds = {
  unshareUts: 'unshare-uts',
  setHostname: 'set-hostname',
  nsenterUts: 'nsenter-uts',
  outsideUnchanged: 'outside-unchanged',
} as const;

/** Real bash shells in a UTS namespace other than the sandbox's. */
export function utsShells(snapshot: Snapshot): ProcessInfo[] {
  const base = baseNs(snapshot, 'uts');
  return processesOf(snapshot, 'bash').filter((p) => p.ns.uts !== undefined && p.ns.uts !== base);
}

/** Commands that print the hostname without changing it: `hostname`, `hostname -s`, `uname -n`, `cat /proc/sys/kernel/hostname`. */
export function showsHostname(words: string[]): boolean {
  const program = programOf(words);
  const args = words.slice(1);
  if (program === 'hostname') return args.every((a) => a.startsWith('-') && !/^-(F|b|-file|-boot)/.test(a));
  if (program === 'uname') return args.length === 1 && (args[0] === '-n' || args[0] === '--nodename');
  if (program === 'cat') return args.length === 1 && args[0] === '/proc/sys/kernel/hostname';
  return false;
}

/** `hostname NAME` (sets it). */
function setsHostname(words: string[]): boolean {
  return programOf(words) === 'hostname' && words.slice(1).some((a) => !a.startsWith('-'));
}

/**
 * Successful commands that printed the hostname, newest first, with what they printed. The command
 * line must be that one command (soleCommand: `echo nslab; hostname` or `hostname # ...` with an
 * echo before it printed someone else's text) and its output one line; the checks compare that
 * line with the hostname the agent read from the host for the namespace in question.
 */
function hostnameDisplays(transcript: CommandRecord[]): { record: CommandRecord; shown: string }[] {
  return findCommands(transcript, /hostname|uname/, { exitCode: 0 })
    .filter((r) => {
      const words = soleCommand(r.command);
      return !!words && showsHostname(words) && oneLine(r.output) !== null;
    })
    .map((record) => ({ record, shown: oneLine(record.output) as string }));
}

/** The output when it is exactly one line (trimmed), else null. */
function oneLine(output: string): string | null {
  const lines = stripAnsi(output).trim().split('\n');
  return lines.length === 1 ? (lines[0] as string).trim().slice(0, 64) : null;
}

/** The inner UTS namespace: a live shell's, or the one recorded when unshare-uts passed. */
function innerUts(obs: Observation): { inode: number; pid: number | null; hostname: string | undefined } | undefined {
  const live = newest(utsShells(obs.snapshot));
  if (live?.ns.uts !== undefined) return { inode: live.ns.uts, pid: live.pid, hostname: hostnameOf(obs.snapshot, live.ns.uts) };
  const inode = keptNumber(obs, stepIds.unshareUts, 'utsInode');
  if (inode === undefined) return undefined;
  return { inode, pid: keptNumber(obs, stepIds.unshareUts, 'pid') ?? null, hostname: hostnameOf(obs.snapshot, inode) };
}

const noShell = (): CheckResult =>
  failed(
    t('No shell runs in a UTS namespace of its own, and none was recorded earlier.', '没有 shell 运行在它自己的 UTS 命名空间中，之前也没有记录到。'),
    t('Do the first step first: `unshare -u bash` in terminal 1.', '请先完成第一步：在终端 1 中运行 `unshare -u bash`。'),
  );

// ---------------------------------------------------------------- step 1: unshare-uts

function checkUnshareUts(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const base = baseNs(snapshot, 'uts');
  const shell = newest(utsShells(snapshot));
  if (shell) {
    return passed(
      t(
        `${describeProcess(shell)} runs in ${nsLabel('uts', shell.ns.uts)}; the sandbox's UTS namespace is ${nsLabel('uts', base)}`,
        `${describeProcessZh(shell)} 运行在 ${nsLabel('uts', shell.ns.uts)} 中；沙箱自己的 UTS 命名空间是 ${nsLabel('uts', base)}`,
      ),
      { pid: shell.pid, hostPid: shell.hostPid, utsInode: shell.ns.uts ?? 0, baseUtsInode: base ?? 0 },
    );
  }
  const other = newest(snapshot.processes.filter((p) => p.pid !== 1 && p.ns.uts !== undefined && p.ns.uts !== base));
  if (other) {
    return failed(
      t(`${describeProcess(other)} is in its own ${nsLabel('uts', other.ns.uts)}, but it is not a bash shell.`, `${describeProcessZh(other)} 在它自己的 ${nsLabel('uts', other.ns.uts)} 中，但它不是 bash shell。`),
      t('Run a shell there so you can type commands inside: `unshare -u bash`.', '在里面运行一个 shell，才能在其中输入命令：`unshare -u bash`。'),
      { pid: other.pid },
    );
  }
  const nested = newest(processesOf(snapshot, 'bash').filter((p) => p.ppid !== 0));
  if (nested) {
    return failed(
      t(`${describeProcess(nested)} is a new shell, but still in the sandbox's ${nsLabel('uts', base)}.`, `${describeProcessZh(nested)} 是一个新的 shell，但仍然在沙箱的 ${nsLabel('uts', base)} 中。`),
      t('Type `exit`, then start it through unshare with -u: `unshare -u bash`.', '先输入 `exit` 退出，然后通过 unshare 加 -u 启动：`unshare -u bash`。'),
      { pid: nested.pid },
    );
  }
  return failed(
    t('No shell runs in a new UTS namespace yet.', '还没有 shell 运行在新的 UTS 命名空间中。'),
    t('In terminal 1, run `unshare -u bash`. Your prompt looks the same: you are now in a new shell.', '在终端 1 中运行 `unshare -u bash`。提示符看起来没变，但你已经在一个新的 shell 里了。'),
  );
}

// ---------------------------------------------------------------- step 2: set-hostname

function checkSetHostname(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const inner = innerUts(obs);
  if (!inner) return noShell();
  const baseName = hostnameOf(snapshot, baseNs(snapshot, 'uts'));
  if (inner.hostname === undefined) {
    return failed(
      t(`The hostname of ${nsLabel('uts', inner.inode)} could not be read (did its shell exit?).`, `读不到 ${nsLabel('uts', inner.inode)} 的主机名（它的 shell 退出了吗？）。`),
      t('If you left the inner shell, run `unshare -u bash` again.', '如果你已经退出了里面的 shell，请重新运行 `unshare -u bash`。'),
    );
  }
  if (inner.hostname === baseName) {
    return failed(
      t(`${nsLabel('uts', inner.inode)} still has the hostname "${inner.hostname}", a copy of the sandbox's.`, `${nsLabel('uts', inner.inode)} 的主机名仍是“${inner.hostname}”，这是从沙箱复制来的。`),
      t('Inside the new shell (terminal 1), set one: `hostname container1`.', '在新的 shell（终端 1）里设置一个：`hostname container1`。'),
      { utsInode: inner.inode, hostname: inner.hostname },
    );
  }
  const shown = hostnameDisplays(obs.transcript).find((d) => d.shown === inner.hostname);
  if (!shown) {
    return failed(
      t(`${nsLabel('uts', inner.inode)} is now called "${inner.hostname}", but you have not displayed it yet.`, `${nsLabel('uts', inner.inode)} 现在叫“${inner.hostname}”，但你还没有把它显示出来。`),
      t('Run `hostname` (no argument) in the inner shell to print it.', '在里面的 shell 中运行不带参数的 `hostname` 把它打印出来。'),
      { utsInode: inner.inode, hostname: inner.hostname },
    );
  }
  const set = findCommands(obs.transcript, /hostname/, { exitCode: 0 }).find((r) => simpleCommands(r.command).some(setsHostname));
  return passed(
    t(
      `${nsLabel('uts', inner.inode)} is called "${inner.hostname}" (\`${quoteCommand(shown.record.command)}\` printed it); the sandbox's is still "${baseName ?? '?'}"`,
      `${nsLabel('uts', inner.inode)} 现在叫“${inner.hostname}”（\`${quoteCommand(shown.record.command)}\` 打印了它）；沙箱自己的仍然是“${baseName ?? '?'}”`,
    ),
    {
      utsInode: inner.inode,
      hostname: inner.hostname,
      baseHostname: baseName ?? '',
      setAtMs: set?.endedAtMs ?? shown.record.startedAtMs,
    },
  );
}

// ---------------------------------------------------------------- step 3: nsenter-uts

function checkNsenterUts(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const inner = innerUts(obs);
  if (!inner) return noShell();
  const innerName = inner.hostname ?? (typeof obs.passed[stepIds.setHostname]?.hostname === 'string' ? (obs.passed[stepIds.setHostname]?.hostname as string) : undefined);
  const calls = nsenterInvocations(obs.transcript);
  const inInner = (pid: number | null): boolean => {
    if (pid === null) return false;
    const p = processByPid(snapshot, pid);
    return p ? p.ns.uts === inner.inode : pid === inner.pid;
  };
  for (const call of calls) {
    if (!call.types.includes('uts') || call.record.exitCode !== 0 || !inInner(call.targetPid)) continue;
    if (!showsHostname(call.inner)) continue;
    const shown = oneLine(call.record.output);
    if (innerName === undefined || shown !== innerName) continue;
    return passed(
      t(
        `\`${quoteCommand(call.record.command)}\` joined ${nsLabel('uts', inner.inode)} with setns and printed "${shown}"`,
        `\`${quoteCommand(call.record.command)}\` 通过 setns 加入了 ${nsLabel('uts', inner.inode)}，并打印出“${shown}”`,
      ),
      { pid: call.targetPid ?? 0, utsInode: inner.inode, hostname: shown, command: quoteCommand(call.record.command), terminal: call.record.terminal },
    );
  }
  const latest = calls[0];
  if (!latest) {
    return failed(
      t('No `nsenter` into the new UTS namespace yet.', '还没有看到用 `nsenter` 进入新的 UTS 命名空间。'),
      t('In terminal 2, find the inner shell with `pgrep -n bash`, then run `nsenter -t <PID> -u hostname`.', '在终端 2 中用 `pgrep -n bash` 找到里面的 shell，然后运行 `nsenter -t <PID> -u hostname`。'),
    );
  }
  const cmd = quoteCommand(latest.record.command);
  if (latest.targetPid === null) {
    return failed(
      t(`\`${cmd}\`: the target ${latest.targetText ?? '(none)'} is not a PID I can check.`, `\`${cmd}\`：目标 ${latest.targetText ?? '（无）'} 不是一个可以核对的 PID。`),
      t('Write the PID as a number after -t.', '请在 -t 后面直接写出 PID 数字。'),
      { command: cmd },
    );
  }
  if (!inInner(latest.targetPid)) {
    const p = processByPid(snapshot, latest.targetPid);
    return failed(
      t(`\`${cmd}\` targets ${p ? describeProcess(p) : `PID ${latest.targetPid}`}, which is not in ${nsLabel('uts', inner.inode)}.`, `\`${cmd}\` 的目标是 ${p ? describeProcessZh(p) : `PID ${latest.targetPid}`}，它不在 ${nsLabel('uts', inner.inode)} 中。`),
      t(`Use the PID of the shell that unshare -u started${inner.pid !== null ? ` (PID ${inner.pid})` : ''}.`, `请使用由 unshare -u 启动的那个 shell 的 PID${inner.pid !== null ? `（PID ${inner.pid}）` : ''}。`),
      { command: cmd },
    );
  }
  if (!latest.types.includes('uts')) {
    return failed(
      t(`\`${cmd}\` has no -u: without it nsenter joins no UTS namespace, so hostname printed your own.`, `\`${cmd}\` 缺少 -u：没有它，nsenter 不会进入 UTS 命名空间，hostname 打印的是你自己的主机名。`),
      t('Add -u: `nsenter -t <PID> -u hostname`.', '加上 -u：`nsenter -t <PID> -u hostname`。'),
      { command: cmd },
    );
  }
  if (latest.record.exitCode !== 0 || !showsHostname(latest.inner)) {
    return failed(
      latest.record.exitCode !== 0
        ? t(`\`${cmd}\` failed (exit status ${latest.record.exitCode ?? 'unknown'}).`, `\`${cmd}\` 执行失败（退出状态 ${latest.record.exitCode ?? '未知'}）。`)
        : t(`\`${cmd}\` ran \`${latest.inner.join(' ') || 'a shell'}\`, not hostname.`, `\`${cmd}\` 运行的是 \`${latest.inner.join(' ') || '一个 shell'}\`，而不是 hostname。`),
      t('Run `nsenter -t <PID> -u hostname`.', '运行 `nsenter -t <PID> -u hostname`。'),
      { command: cmd },
    );
  }
  return failed(
    t(`\`${cmd}\` printed "${firstLine(latest.record.output, 40)}", but ${nsLabel('uts', inner.inode)} is called "${innerName ?? '?'}".`, `\`${cmd}\` 打印的是“${firstLine(latest.record.output, 40)}”，但 ${nsLabel('uts', inner.inode)} 的主机名是“${innerName ?? '?'}”。`),
    t('Set the inner hostname first (step 2), then run nsenter again.', '请先设置里面的主机名（第 2 步），再运行一次 nsenter。'),
    { command: cmd },
  );
}

// ---------------------------------------------------------------- step 4: outside-unchanged

function checkOutsideUnchanged(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const inner = innerUts(obs);
  if (!inner) return noShell();
  const baseName = hostnameOf(snapshot, baseNs(snapshot, 'uts'));
  const kept = obs.passed[stepIds.setHostname];
  const setAtMs = typeof kept?.setAtMs === 'number' ? kept.setAtMs : undefined;
  const innerName = inner.hostname ?? (typeof kept?.hostname === 'string' ? kept.hostname : undefined);
  if (setAtMs === undefined || innerName === undefined || innerName === baseName) {
    return failed(
      t('The inner hostname has not been changed yet.', '里面的主机名还没有改过。'),
      t('Do step 2 first: `hostname container1` inside the new shell.', '请先完成第 2 步：在新的 shell 里运行 `hostname container1`。'),
    );
  }
  const plain = hostnameDisplays(obs.transcript).filter((d) => d.record.startedAtMs > setAtMs);
  const good = plain.find((d) => d.shown === baseName);
  if (good) {
    return passed(
      t(
        `\`${quoteCommand(good.record.command)}\` in terminal ${good.record.terminal + 1} printed "${baseName}": the sandbox's ${nsLabel('uts', baseNs(snapshot, 'uts'))} kept its name while ${nsLabel('uts', inner.inode)} is "${innerName}"`,
        `终端 ${good.record.terminal + 1} 中的 \`${quoteCommand(good.record.command)}\` 打印出“${baseName}”：沙箱的 ${nsLabel('uts', baseNs(snapshot, 'uts'))} 保留了原来的名字，而 ${nsLabel('uts', inner.inode)} 叫“${innerName}”`,
      ),
      { hostname: baseName ?? '', innerHostname: innerName, terminal: good.record.terminal },
    );
  }
  const latest = plain[0];
  return failed(
    latest
      ? t(`\`${quoteCommand(latest.record.command)}\` printed "${latest.shown}": that is the inner namespace's name, not the sandbox's.`, `\`${quoteCommand(latest.record.command)}\` 打印的是“${latest.shown}”：这是里面那个命名空间的名字，不是沙箱的。`)
      : t('No plain `hostname` run since you changed the inner hostname.', '在你修改里面的主机名之后，还没有运行过普通的 `hostname`。'),
    t('In terminal 2 (outside the new namespace), run `hostname`.', '在终端 2（新命名空间之外）运行 `hostname`。'),
  );
}

// ---------------------------------------------------------------- the lab

const innerShellPid = (obs: Observation): string => {
  const p = newest(utsShells(obs.snapshot));
  if (!p) throw new Error('no shell in its own UTS namespace');
  return String(p.pid);
};

export const cloneSetnsUnshare: LabDef = {
  id: 'clone-setns-unshare',
  title: t('unshare and nsenter: a hostname of its own', 'unshare 与 nsenter：独立的主机名'),
  terminals: 2,
  steps: [
    {
      id: stepIds.unshareUts,
      title: t('Start a shell in a new UTS namespace', '在新的 UTS 命名空间中启动 shell'),
      kinds: ['state'],
      check: checkUnshareUts,
      hints: [
        t('unshare(1) calls unshare(2) and then runs a program; -u asks for a new UTS namespace.', 'unshare(1) 先调用 unshare(2)，再运行一个程序；-u 表示新建 UTS 命名空间。'),
        t('Run a shell as the program, so you can keep typing inside.', '把 shell 作为要运行的程序，这样你就能继续在里面输入命令。'),
        t('In terminal 1, run `unshare -u bash`.', '在终端 1 中运行 `unshare -u bash`。'),
      ],
    },
    {
      id: stepIds.setHostname,
      title: t('Give it a hostname of its own', '给它设置自己的主机名'),
      kinds: ['state', 'command', 'output'],
      check: checkSetHostname,
      hints: [
        t('A new UTS namespace starts with a copy of its parent\'s hostname.', '新的 UTS 命名空间一开始带着父命名空间主机名的副本。'),
        t('In the inner shell, run `hostname container1`, then `hostname` to print it.', '在里面的 shell 中运行 `hostname container1`，再运行 `hostname` 打印它。'),
      ],
    },
    {
      id: stepIds.nsenterUts,
      title: t('Read it from outside with nsenter', '用 nsenter 从外面读取它'),
      kinds: ['command', 'output', 'state'],
      check: checkNsenterUts,
      hints: [
        t('nsenter opens /proc/PID/ns/uts and calls setns(2) on it before running the command.', 'nsenter 会打开 /proc/PID/ns/uts，对它调用 setns(2)，然后再运行命令。'),
        t('Find the inner shell\'s PID in terminal 2: `pgrep -n bash` (the newest bash).', '在终端 2 中找到里面 shell 的 PID：`pgrep -n bash`（最新的 bash）。'),
        t('Run `nsenter -t <PID> -u hostname`.', '运行 `nsenter -t <PID> -u hostname`。'),
      ],
    },
    {
      id: stepIds.outsideUnchanged,
      title: t('Check that the outside did not change', '确认外面没有变化'),
      kinds: ['command', 'output', 'state'],
      check: checkOutsideUnchanged,
      hints: [
        t('Terminal 2 is still in the sandbox\'s own UTS namespace.', '终端 2 仍然在沙箱自己的 UTS 命名空间中。'),
        t('In terminal 2, run plain `hostname`.', '在终端 2 中直接运行 `hostname`。'),
      ],
    },
  ],
  solution: [
    { stepId: stepIds.unshareUts, actions: typed(0, ['unshare -u bash', 400]) },
    {
      stepId: stepIds.setHostname,
      actions: [
        ...typed(0, ['hostname container1', 200]),
        ...typed(0, ['hostname', 300]),
      ],
    },
    { stepId: stepIds.nsenterUts, actions: typed(1, [(obs) => `nsenter -t ${innerShellPid(obs)} -u hostname`, 300]) },
    { stepId: stepIds.outsideUnchanged, actions: typed(1, ['hostname', 300]) },
  ],
};
