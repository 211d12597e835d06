// Lab `exercise-net-namespace`, the heart of course 1: put a `sleep` in a new network namespace,
// find its PID, read its namespace links, and enter its network namespace with nsenter.
// Step ids are a contract with the lesson (content/) and the UI: do not rename them.
import {
  basename,
  baseNs,
  commandLineOf,
  describeProcess,
  describeProcessZh,
  evidenceNumber,
  evidenceString,
  findCommands,
  firstLine,
  ifaceState,
  interfaceNames,
  interfacesInIpOutput,
  ipListingObject,
  isSleep,
  loopbackOf,
  netnsOf,
  newest,
  nsInodesInText,
  nsLabel,
  onlyLoopback,
  parsePid,
  processByPid,
  procNsPathPid,
  programOf,
  simpleCommands,
  soleCommand,
} from '../core/helpers';
import { parseNsenterWords } from '../core/concept-helpers';
import type { CheckResult, CommandRecord, Evidence, LabDef, Observation } from '../core/model';
import { t } from '../core/model';
import type { ProcessInfo, Snapshot } from '../core/snapshot';

export const stepIds = {
  isolateSleep: 'isolate-sleep',
  findPid: 'find-pid',
  inspectNs: 'inspect-ns',
  nsenterIp: 'nsenter-ip',
} as const;

const pass = (message: CheckResult['message'], evidence: Evidence): CheckResult => ({
  status: 'passed',
  message,
  evidence,
});
const fail = (message: CheckResult['message'], hint: CheckResult['hint'], evidence: Evidence = {}): CheckResult => ({
  status: 'failed',
  message,
  hint,
  evidence,
});

/** Truncated command line for quoting in messages. */
function quoted(command: string): string {
  const c = command.trim();
  return c.length > 80 ? `${c.slice(0, 79)}…` : c;
}

function requireBaseNet(snapshot: Snapshot): number {
  const base = baseNs(snapshot, 'net');
  if (base === undefined) throw new Error('snapshot has no base net namespace inode');
  return base;
}

// ---------------------------------------------------------------- the sleep we are after

/** Real sleeps (see isSleep) whose network namespace is not the sandbox's. */
export function isolatedSleeps(snapshot: Snapshot): ProcessInfo[] {
  const base = baseNs(snapshot, 'net');
  if (base === undefined) return [];
  return snapshot.processes.filter((p) => isSleep(p, snapshot) && p.ns.net !== undefined && p.ns.net !== base);
}

/** A sleep the later steps may target: alive now, or recorded when isolate-sleep passed. */
export interface SleepTarget {
  pid: number;
  netInode: number;
  hostPid: number | null;
  live: boolean;
  /** Whether its namespace holds only lo (null: unknown, e.g. not read yet). */
  onlyLo: boolean | null;
  /** State of its lo as `ip a` would print it (DOWN...), when known. */
  loState: string | null;
}

export function sleepTargets(observation: Observation): SleepTarget[] {
  const { snapshot } = observation;
  const targets: SleepTarget[] = [];
  for (const p of isolatedSleeps(snapshot)) {
    const netns = netnsOf(snapshot, p.ns.net);
    const lo = loopbackOf(netns);
    targets.push({
      pid: p.pid,
      netInode: p.ns.net as number,
      hostPid: p.hostPid,
      live: true,
      onlyLo: netns?.complete ? onlyLoopback(netns) : null,
      loState: lo ? ifaceState(lo) : null,
    });
  }
  const kept = observation.passed[stepIds.isolateSleep];
  const pid = evidenceNumber(kept, 'pid');
  const netInode = evidenceNumber(kept, 'netInode');
  if (pid !== undefined && netInode !== undefined) {
    const same = targets.find((x) => x.pid === pid && x.netInode === netInode);
    const keptOnlyLo = evidenceString(kept, 'interfaces') === 'lo';
    if (same) same.onlyLo ??= keptOnlyLo;
    else
      targets.push({
        pid,
        netInode,
        hostPid: evidenceNumber(kept, 'hostPid') ?? null,
        live: false,
        onlyLo: keptOnlyLo,
        loState: evidenceString(kept, 'loState') ?? null,
      });
  }
  return targets;
}

/** For the reference solution: the PID of the newest sleep in its own network namespace. */
export function isolatedSleepPid(observation: Observation): string {
  const live = newest(isolatedSleeps(observation.snapshot));
  const pid = live?.pid ?? evidenceNumber(observation.passed[stepIds.isolateSleep], 'pid');
  if (pid === undefined) throw new Error('no sleep in its own network namespace found');
  return String(pid);
}

const noTargetFailure = (): CheckResult =>
  fail(
    t(
      'No sleep is running in its own network namespace, and none was recorded earlier.',
      '没有 sleep 进程运行在它自己的网络命名空间中，之前也没有记录到。',
    ),
    t(
      'Do the first step first: run `unshare -n sleep 60` in terminal 1, then come back here within 60 seconds.',
      '请先完成第一步：在终端 1 运行 `unshare -n sleep 60`，然后在 60 秒内回到这里。',
    ),
  );

const stillRunning = (cmd: string, ev: Evidence): CheckResult =>
  fail(
    t(`\`${cmd}\` has not finished yet.`, `\`${cmd}\` 还没有运行结束。`),
    t('Wait for it to finish (or press Ctrl+C), then press Check again.', '等它运行结束（或按 Ctrl+C），然后再点一次“检查”。'),
    ev,
  );

// ---------------------------------------------------------------- step 1: isolate-sleep

const sleepCommandPattern = /(^|[\s;&|(])(\S*\/)?(unshare|sleep)(\s|$)/;

function checkIsolateSleep(obs: Observation): CheckResult {
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
    return pass(
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
    return fail(
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
    return fail(
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
    return fail(
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
    return fail(
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
      return fail(
        t(
          `Your sleep has ended (\`${quoted(last.command)}\` exited with status ${last.exitCode}): no sleep is running now.`,
          `你的 sleep 已经结束了（\`${quoted(last.command)}\` 以状态 ${last.exitCode} 退出），现在没有 sleep 在运行。`,
        ),
        t(
          'sleep 60 lives only 60 seconds. Run `unshare -n sleep 60` again and press Check while it runs (or use a longer time, e.g. sleep 600).',
          'sleep 60 只会存在 60 秒。请再次运行 `unshare -n sleep 60`，并在它运行时点“检查”（也可以用更长的时间，比如 sleep 600）。',
        ),
        { exitCode: last.exitCode },
      );
    }
    const why = firstLine(last.output);
    return fail(
      t(
        `\`${quoted(last.command)}\` failed with exit status ${last.exitCode}${why ? `: ${why}` : ''}`,
        `\`${quoted(last.command)}\` 执行失败，退出状态为 ${last.exitCode}${why ? `：${why}` : ''}`,
      ),
      t(
        'Check the spelling: `unshare -n sleep 60` (unshare, a space, -n, then the command to run).',
        '请检查拼写：`unshare -n sleep 60`（unshare、空格、-n，然后是要运行的命令）。',
      ),
      { exitCode: last.exitCode },
    );
  }
  return fail(
    t('No sleep process is running in your sandbox.', '你的沙箱里没有正在运行的 sleep 进程。'),
    t(
      'In terminal 1, run `unshare -n sleep 60`. It blocks for 60 seconds: that is expected.',
      '在终端 1 中运行 `unshare -n sleep 60`。它会阻塞 60 秒，这是正常的。',
    ),
  );
}

// ---------------------------------------------------------------- step 2: find-pid

function checkFindPid(obs: Observation): CheckResult {
  const answer = obs.answers[stepIds.findPid];
  if (!answer || answer.value.trim() === '') {
    return fail(
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
    return fail(
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
    return pass(t(`PID ${pid} is your sleep, in ${label}`, `PID ${pid} 正是你的 sleep，它在 ${label} 中`), {
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
    return fail(
      t(`There is no process ${pid} in your sandbox right now.`, `你的沙箱里现在没有 PID 为 ${pid} 的进程。`),
      lookHint,
      { answer: pid },
    );
  }
  const baseNet = baseNs(snapshot, 'net');
  if (isSleep(proc, snapshot) && proc.ns.net === baseNet) {
    return fail(
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
  return fail(
    t(
      `PID ${pid} is ${what} (\`${commandLineOf(proc, 40)}\`), not your sleep.`,
      `PID ${pid} 是 ${whatZh}（\`${commandLineOf(proc, 40)}\`），不是你的 sleep。`,
    ),
    lookHint,
    { answer: pid },
  );
}

// ---------------------------------------------------------------- step 3: inspect-ns

const listingTools = new Set(['ls', 'll', 'readlink', 'stat', 'realpath', 'file']);

interface NsListing {
  record: CommandRecord;
  ref: { pid: number } | { dynamic: string };
}

/**
 * Commands that list or readlink /proc/<PID>/ns (or its net link), newest first. The command line
 * must be that one listing (soleCommand: `ls /proc/$!/ns; ls -l /proc/1/ns` shows PID 1's links)
 * and every path it names of the same /proc/<PID>/ns (a second directory could hold symlinks the
 * learner made); the check then compares the inode shown with the one the agent read.
 */
export function nsListings(transcript: CommandRecord[]): NsListing[] {
  const out: NsListing[] = [];
  for (const record of findCommands(transcript, /\/proc\/.+?\/ns/)) {
    const words = soleCommand(record.command);
    if (!words || !listingTools.has(programOf(words))) continue;
    const paths = words.slice(1).filter((w) => !w.startsWith('-') && !/^\d*>/.test(w));
    const ref = paths.map(procNsPathPid).find((r) => r !== null);
    const dir = /^\/proc\/[^/]+\/ns/.exec(paths[0] ?? '')?.[0];
    if (!ref || !dir || paths.some((p) => !/^\/proc\/[^/]+\/ns(\/[a-z_*]*)?\/?$/.test(p) || !p.startsWith(dir))) continue;
    out.push({ record, ref });
  }
  return out;
}

function checkInspectNs(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const baseNet = baseNs(snapshot, 'net');
  const targets = sleepTargets(obs);
  if (targets.length === 0) return noTargetFailure();

  const listings = nsListings(obs.transcript);
  for (const l of listings) {
    if (l.record.exitCode !== 0) continue;
    const shown = nsInodesInText(l.record.output, 'net');
    const target = targets.find((x) => ('pid' in l.ref ? l.ref.pid === x.pid : true) && shown.includes(x.netInode));
    if (target) {
      const label = nsLabel('net', target.netInode);
      const baseLabel = nsLabel('net', baseNet);
      return pass(
        t(
          `\`${quoted(l.record.command)}\` shows net -> ${label}; your shell's is ${baseLabel}: different inodes, different network namespaces`,
          `\`${quoted(l.record.command)}\` 显示 net -> ${label}；你的 shell 是 ${baseLabel}：inode 不同，说明网络命名空间不同`,
        ),
        {
          pid: target.pid,
          netInode: target.netInode,
          baseNetInode: baseNet ?? 0,
          terminal: l.record.terminal,
          command: quoted(l.record.command),
        },
      );
    }
  }

  // Explain the newest near miss.
  const latest = listings[0];
  if (!latest) {
    return fail(
      t("No command listing your sleep's /proc/<PID>/ns yet.", '还没有看到列出你的 sleep 的 /proc/<PID>/ns 的命令。'),
      t(
        'In terminal 2, run `ls -la /proc/<PID>/ns/` with the PID of your sleep.',
        '在终端 2 中运行 `ls -la /proc/<PID>/ns/`，把 <PID> 换成你的 sleep 的 PID。',
      ),
    );
  }
  const cmd = quoted(latest.record.command);
  const ev: Evidence = { command: cmd, terminal: latest.record.terminal };
  if ('dynamic' in latest.ref) {
    return fail(
      t(
        `\`${cmd}\` did not show the net namespace of a sleep that unshare -n started.`,
        `\`${cmd}\` 没有显示由 unshare -n 启动的 sleep 的网络命名空间。`,
      ),
      t(
        'Write the PID as a number, e.g. `ls -la /proc/<PID>/ns/`, using the PID you found in the previous step.',
        '请直接写出 PID 数字，例如 `ls -la /proc/<PID>/ns/`，使用上一步找到的 PID。',
      ),
      ev,
    );
  }
  const pid = latest.ref.pid;
  const isTarget = targets.some((x) => x.pid === pid);
  if (latest.record.exitCode === null) return stillRunning(cmd, ev);
  if (isTarget && latest.record.exitCode !== 0) {
    const why = firstLine(latest.record.output);
    return fail(
      t(
        `\`${cmd}\` failed (exit status ${latest.record.exitCode ?? 'unknown'})${why ? `: ${why}` : ''}`,
        `\`${cmd}\` 执行失败（退出状态 ${latest.record.exitCode ?? '未知'}）${why ? `：${why}` : ''}`,
      ),
      t(
        'If your sleep has ended, /proc/<PID> is gone: start `unshare -n sleep 60` again and use the new PID.',
        '如果你的 sleep 已经结束，/proc/<PID> 也就不存在了：请重新运行 `unshare -n sleep 60`，并使用新的 PID。',
      ),
      ev,
    );
  }
  if (isTarget) {
    const shown = nsInodesInText(latest.record.output, 'net');
    if (shown.length === 0) {
      return fail(
        t(
          `\`${cmd}\` listed the links but not where they point: no net:[...] in its output.`,
          `\`${cmd}\` 列出了链接，但没有显示它们指向哪里：输出中没有 net:[...]。`,
        ),
        t(
          "Add -l so ls shows each link's target: `ls -la /proc/<PID>/ns/` (or `readlink /proc/<PID>/ns/net`).",
          '加上 -l，让 ls 显示每个链接的目标：`ls -la /proc/<PID>/ns/`（或 `readlink /proc/<PID>/ns/net`）。',
        ),
        ev,
      );
    }
    return fail(
      t(
        `\`${cmd}\` shows ${nsLabel('net', shown[0])}, which is not the network namespace of your sleep.`,
        `\`${cmd}\` 显示的是 ${nsLabel('net', shown[0])}，这不是你的 sleep 所在的网络命名空间。`,
      ),
      t(
        'PIDs are reused: if your sleep ended, start a new one and list the new PID.',
        'PID 会被复用：如果你的 sleep 已经结束，请启动一个新的，并查看新的 PID。',
      ),
      ev,
    );
  }
  const proc = processByPid(snapshot, pid);
  const who = proc ? describeProcess(proc) : `PID ${pid}`;
  const whoZh = proc ? describeProcessZh(proc) : `PID ${pid}`;
  return fail(
    t(
      `\`${cmd}\` lists the namespaces of ${who}, not those of your sleep in its own network namespace.`,
      `\`${cmd}\` 列出的是 ${whoZh} 的命名空间，而不是在自己网络命名空间里的那个 sleep 的。`,
    ),
    t(
      'Use the PID of the sleep that `unshare -n` started (the one you typed in the previous step).',
      '请使用由 `unshare -n` 启动的 sleep 的 PID（也就是你在上一步填写的那个）。',
    ),
    ev,
  );
}

// ---------------------------------------------------------------- step 4: nsenter-ip

export interface NsenterCall {
  record: CommandRecord;
  /** -t/--target, or the PID in --net=/proc/<PID>/ns/net. */
  targetPid: number | null;
  /** The target as written when it is not a plain number ($PID, $(pgrep sleep)...). */
  targetText: string | null;
  /** Whether the network namespace is entered (-n, --net, -a, --all). */
  net: boolean;
  /** The command nsenter runs. */
  inner: string[];
}

/** Parses `nsenter` options the way its getopt would (one parser for every lab: concept-helpers). */
export function parseNsenter(words: string[]): Omit<NsenterCall, 'record'> | null {
  const parsed = parseNsenterWords(words);
  if (!parsed) return null;
  return { targetPid: parsed.targetPid, targetText: parsed.targetText, net: parsed.types.includes('net'), inner: parsed.inner };
}

/** nsenter invocations whose command line printed nothing but nsenter's output (soleCommand), newest first. */
export function nsenterCalls(transcript: CommandRecord[]): NsenterCall[] {
  const out: NsenterCall[] = [];
  for (const record of findCommands(transcript, /nsenter/)) {
    const words = soleCommand(record.command);
    const parsed = words ? parseNsenter(words) : null;
    if (parsed) out.push({ record, ...parsed });
  }
  return out;
}

function checkNsenterIp(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const targets = sleepTargets(obs);
  if (targets.length === 0) return noTargetFailure();
  const calls = nsenterCalls(obs.transcript);

  for (const call of calls) {
    if (!call.net || call.record.exitCode !== 0 || !ipListingObject(call.inner)) continue;
    const target = targets.find((x) => x.pid === call.targetPid && x.onlyLo === true);
    if (!target) continue;
    const listed = interfacesInIpOutput(call.record.output);
    const [only, ...others] = listed;
    if (!only || others.length > 0 || only.name !== 'lo') continue;
    const label = nsLabel('net', target.netInode);
    const state = only.state ?? target.loState ?? 'DOWN';
    return pass(
      t(
        `nsenter into ${label} showed only lo (state ${state}): nobody gave this namespace an address`,
        `用 nsenter 进入 ${label} 后只看到 lo（状态 ${state}）：没有人给这个网络命名空间分配过地址`,
      ),
      {
        pid: target.pid,
        netInode: target.netInode,
        interfaces: 'lo',
        loState: state,
        terminal: call.record.terminal,
        command: quoted(call.record.command),
      },
    );
  }

  const latest = calls[0];
  if (!latest) {
    return fail(
      t("No `nsenter` into your sleep's network namespace yet.", '还没有看到用 `nsenter` 进入你的 sleep 的网络命名空间。'),
      t(
        'In terminal 2, run `nsenter -t <PID> -n ip a` with the PID of your sleep.',
        '在终端 2 中运行 `nsenter -t <PID> -n ip a`，把 <PID> 换成你的 sleep 的 PID。',
      ),
    );
  }
  const cmd = quoted(latest.record.command);
  const ev: Evidence = { command: cmd, terminal: latest.record.terminal };
  if (latest.targetPid === null) {
    return fail(
      t(
        latest.targetText
          ? `\`${cmd}\`: the target ${latest.targetText} is not a plain PID I can check.`
          : `\`${cmd}\` has no target: nsenter needs -t <PID>.`,
        latest.targetText
          ? `\`${cmd}\`：目标 ${latest.targetText} 不是一个可以核对的 PID 数字。`
          : `\`${cmd}\` 没有指定目标：nsenter 需要 -t <PID>。`,
      ),
      t('Write the PID as a number: `nsenter -t <PID> -n ip a`.', '请直接写出 PID 数字：`nsenter -t <PID> -n ip a`。'),
      ev,
    );
  }
  const target = targets.find((x) => x.pid === latest.targetPid);
  if (!target) {
    const proc = processByPid(snapshot, latest.targetPid);
    const who = proc ? describeProcess(proc) : `PID ${latest.targetPid}`;
    const whoZh = proc ? describeProcessZh(proc) : `PID ${latest.targetPid}`;
    return fail(
      t(
        `\`${cmd}\` targets ${who}, not your sleep in its own network namespace.`,
        `\`${cmd}\` 的目标是 ${whoZh}，而不是在自己网络命名空间里的那个 sleep。`,
      ),
      t('Use the PID of the sleep that `unshare -n` started, after -t.', '在 -t 后面填写由 `unshare -n` 启动的 sleep 的 PID。'),
      ev,
    );
  }
  if (!latest.net) {
    return fail(
      t(
        `\`${cmd}\` has no -n: without it nsenter joins no network namespace, so ip showed your own shell's network.`,
        `\`${cmd}\` 缺少 -n：没有它，nsenter 不会进入网络命名空间，ip 显示的是你自己 shell 的网络。`,
      ),
      t('Add -n (network): `nsenter -t <PID> -n ip a`.', '加上 -n（网络）：`nsenter -t <PID> -n ip a`。'),
      ev,
    );
  }
  if (!ipListingObject(latest.inner)) {
    return fail(
      t(
        `\`${cmd}\` ran \`${latest.inner.join(' ') || '(a shell)'}\` in the namespace, not a listing of its interfaces.`,
        `\`${cmd}\` 在该命名空间里运行的是 \`${latest.inner.join(' ') || '（一个 shell）'}\`，而不是列出它的网络接口。`,
      ),
      t(
        'Run ip inside it directly: `nsenter -t <PID> -n ip a` (ip addr, ip link and ip -br a work too).',
        '直接在其中运行 ip：`nsenter -t <PID> -n ip a`（ip addr、ip link 和 ip -br a 也可以）。',
      ),
      ev,
    );
  }
  if (latest.record.exitCode === null) return stillRunning(cmd, ev);
  if (latest.record.exitCode !== 0) {
    const why = firstLine(latest.record.output);
    return fail(
      t(
        `\`${cmd}\` failed (exit status ${latest.record.exitCode ?? 'unknown'})${why ? `: ${why}` : ''}`,
        `\`${cmd}\` 执行失败（退出状态 ${latest.record.exitCode ?? '未知'}）${why ? `：${why}` : ''}`,
      ),
      t(
        'If your sleep has ended, its namespace is gone with it: start `unshare -n sleep 60` again and use the new PID.',
        '如果你的 sleep 已经结束，它的命名空间也随之消失：请重新运行 `unshare -n sleep 60`，并使用新的 PID。',
      ),
      ev,
    );
  }
  const listed = interfacesInIpOutput(latest.record.output).map((i) => i.name);
  if (target.onlyLo === false || listed.some((n) => n !== 'lo')) {
    const names = listed.join(', ') || '-';
    return fail(
      t(
        `\`${cmd}\` listed ${names}: this network namespace holds more than lo.`,
        `\`${cmd}\` 列出了 ${names}：这个网络命名空间里不只有 lo。`,
      ),
      t(
        'A fresh network namespace has only lo. Start a new `unshare -n sleep 60` and enter that one.',
        '全新的网络命名空间里只有 lo。请重新运行 `unshare -n sleep 60`，然后进入新的那个。',
      ),
      { ...ev, interfaces: names },
    );
  }
  return fail(
    t(`No interface found in the output of \`${cmd}\`.`, `在 \`${cmd}\` 的输出中没有找到任何网络接口。`),
    t(
      'Run `nsenter -t <PID> -n ip a` and let it print its full output.',
      '运行 `nsenter -t <PID> -n ip a`，让它完整地打印输出。',
    ),
    ev,
  );
}

// ---------------------------------------------------------------- the lab

const typePid = (template: (pid: string) => string) => (obs: Observation) => template(isolatedSleepPid(obs));

export const exerciseNetNamespace: LabDef = {
  id: 'exercise-net-namespace',
  title: t('Exercise: a process in its own network namespace', '练习：让进程拥有自己的网络命名空间'),
  terminals: 2,
  steps: [
    {
      id: stepIds.isolateSleep,
      title: t('Start a sleep in a new network namespace', '在新的网络命名空间中启动 sleep'),
      kinds: ['state'],
      check: checkIsolateSleep,
      hints: [
        t(
          'unshare(1) runs a command in new namespaces; -n asks for a new network namespace.',
          'unshare(1) 会在新的命名空间中运行命令；-n 表示新建一个网络命名空间。',
        ),
        t(
          'The command to run is sleep 60: it keeps a process alive for a minute so you can look at it.',
          '要运行的命令是 sleep 60：它让一个进程存活一分钟，方便你观察它。',
        ),
        t('In terminal 1, type: `unshare -n sleep 60`', '在终端 1 中输入：`unshare -n sleep 60`'),
      ],
    },
    {
      id: stepIds.findPid,
      // Its answer is on the live map otherwise (issue 13): the map shows pids only once it passed.
      conceals: ['pids'],
      title: t('Find the PID of your sleep', '找到 sleep 进程的 PID'),
      kinds: ['answer', 'state'],
      check: checkFindPid,
      hints: [
        t(
          'Terminal 1 is busy with the sleep: use terminal 2. Every process has a number, its PID.',
          '终端 1 正被 sleep 占用，请使用终端 2。每个进程都有一个编号，也就是它的 PID。',
        ),
        t(
          'ps -ef lists every process with its PID; pgrep finds processes by name.',
          'ps -ef 会列出所有进程及其 PID；pgrep 可以按名字查找进程。',
        ),
        t(
          'In terminal 2, run `pgrep -a sleep` and type the number in front of `sleep 60`.',
          '在终端 2 中运行 `pgrep -a sleep`，把 `sleep 60` 前面的数字填进来。',
        ),
      ],
      answer: {
        label: t('PID of your sleep', '你的 sleep 进程的 PID'),
        placeholder: '42',
        pattern: '^\\s*\\d+\\s*$',
      },
    },
    {
      id: stepIds.inspectNs,
      title: t("Read the sleep's namespace links", '查看 sleep 进程的命名空间链接'),
      kinds: ['command', 'output'],
      check: checkInspectNs,
      hints: [
        t(
          'Each process shows its namespaces as links in /proc/<PID>/ns/; the link target names the type and inode.',
          '每个进程都在 /proc/<PID>/ns/ 下以链接的形式展示它的命名空间；链接的目标写明了类型和 inode 号。',
        ),
        t(
          "Compare its net link with your shell's (`ls -l /proc/$$/ns/net`): different inodes mean different network namespaces.",
          '把它的 net 链接和你的 shell 的（`ls -l /proc/$$/ns/net`）比较一下：inode 不同，网络命名空间就不同。',
        ),
        t(
          'In terminal 2, run `ls -la /proc/<PID>/ns/` with the PID of your sleep.',
          '在终端 2 中运行 `ls -la /proc/<PID>/ns/`，把 <PID> 换成你的 sleep 的 PID。',
        ),
      ],
    },
    {
      id: stepIds.nsenterIp,
      title: t('Look inside its network namespace with nsenter', '用 nsenter 查看它的网络命名空间'),
      kinds: ['command', 'output', 'state'],
      check: checkNsenterIp,
      hints: [
        t(
          'nsenter runs a command inside the namespaces of another process: -t picks the process, -n its network namespace.',
          'nsenter 可以在另一个进程的命名空间中运行命令：-t 指定进程，-n 表示进入它的网络命名空间。',
        ),
        t(
          'The command to run there is ip a, which lists the network interfaces and their addresses.',
          '要在里面运行的命令是 ip a，它会列出网络接口及其地址。',
        ),
        t('In terminal 2, run `nsenter -t <PID> -n ip a`.', '在终端 2 中运行 `nsenter -t <PID> -n ip a`。'),
      ],
    },
  ],
  solution: [
    {
      stepId: stepIds.isolateSleep,
      actions: [
        { type: 'type', terminal: 0, text: 'unshare -n sleep 60\r' },
        { type: 'wait', ms: 500 },
      ],
    },
    {
      stepId: stepIds.findPid,
      actions: [
        { type: 'type', terminal: 1, text: 'pgrep -a sleep\r' },
        { type: 'wait', ms: 300 },
        { type: 'answer', stepId: stepIds.findPid, value: isolatedSleepPid },
      ],
    },
    {
      stepId: stepIds.inspectNs,
      actions: [
        { type: 'type', terminal: 1, text: typePid((pid) => `ls -la /proc/${pid}/ns/\r`) },
        { type: 'wait', ms: 300 },
      ],
    },
    {
      stepId: stepIds.nsenterIp,
      actions: [
        { type: 'type', terminal: 1, text: typePid((pid) => `nsenter -t ${pid} -n ip a\r`) },
        { type: 'wait', ms: 300 },
      ],
    },
  ],
};
