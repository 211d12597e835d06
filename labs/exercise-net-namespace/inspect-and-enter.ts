// exercise-net-namespace, steps 3-4: its namespace links read from /proc/<PID>/ns (inspect-ns) and
// `ip a` run inside its network namespace with nsenter (nsenter-ip).
import { failed, firstLine, passed, quoteCommand } from '../core/results';
import { baseNs, describeProcess, describeProcessZh, nsLabel, processByPid } from '../core/procs';
import { interfacesInIpOutput, ipListingObject } from '../core/net';
import { programOf, soleCommand } from '../core/shell';
import { findCommands, nsInodesInText, procNsPathPid } from '../core/transcript';
import { nsenterInvocations, parseNsenterWords } from '../core/ns-tools';
import { type CheckResult, type CommandRecord, type Evidence, type Observation, t } from '../core/model';
import { noTargetFailure, sleepTargets, stillRunning } from './target';

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

export function checkInspectNs(obs: Observation): CheckResult {
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
      return passed(
        t(
          `\`${quoteCommand(l.record.command)}\` shows net -> ${label}; your shell's is ${baseLabel}: different inodes, different network namespaces`,
          `\`${quoteCommand(l.record.command)}\` 显示 net -> ${label}；你的 shell 是 ${baseLabel}：inode 不同，说明网络命名空间不同`,
        ),
        {
          pid: target.pid,
          netInode: target.netInode,
          baseNetInode: baseNet ?? 0,
          terminal: l.record.terminal,
          command: quoteCommand(l.record.command),
        },
      );
    }
  }

  // Explain the newest near miss.
  const latest = listings[0];
  if (!latest) {
    return failed(
      t("No command listing your sleep's /proc/<PID>/ns yet.", '还没有看到列出你的 sleep 的 /proc/<PID>/ns 的命令。'),
      t(
        'In terminal 2, run `ls -la /proc/<PID>/ns/` with the PID of your sleep.',
        '在终端 2 中运行 `ls -la /proc/<PID>/ns/`，把 <PID> 换成你的 sleep 的 PID。',
      ),
    );
  }
  const cmd = quoteCommand(latest.record.command);
  const ev: Evidence = { command: cmd, terminal: latest.record.terminal };
  if ('dynamic' in latest.ref) {
    return failed(
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
    return failed(
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
      return failed(
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
    return failed(
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
  return failed(
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
  return nsenterInvocations(transcript).map(({ record, targetPid, targetText, types, inner }) => ({ record, targetPid, targetText, net: types.includes('net'), inner }));
}

export function checkNsenterIp(obs: Observation): CheckResult {
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
    return passed(
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
        command: quoteCommand(call.record.command),
      },
    );
  }

  const latest = calls[0];
  if (!latest) {
    return failed(
      t("No `nsenter` into your sleep's network namespace yet.", '还没有看到用 `nsenter` 进入你的 sleep 的网络命名空间。'),
      t(
        'In terminal 2, run `nsenter -t <PID> -n ip a` with the PID of your sleep.',
        '在终端 2 中运行 `nsenter -t <PID> -n ip a`，把 <PID> 换成你的 sleep 的 PID。',
      ),
    );
  }
  const cmd = quoteCommand(latest.record.command);
  const ev: Evidence = { command: cmd, terminal: latest.record.terminal };
  if (latest.targetPid === null) {
    return failed(
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
    return failed(
      t(
        `\`${cmd}\` targets ${who}, not your sleep in its own network namespace.`,
        `\`${cmd}\` 的目标是 ${whoZh}，而不是在自己网络命名空间里的那个 sleep。`,
      ),
      t('Use the PID of the sleep that `unshare -n` started, after -t.', '在 -t 后面填写由 `unshare -n` 启动的 sleep 的 PID。'),
      ev,
    );
  }
  if (!latest.net) {
    return failed(
      t(
        `\`${cmd}\` has no -n: without it nsenter joins no network namespace, so ip showed your own shell's network.`,
        `\`${cmd}\` 缺少 -n：没有它，nsenter 不会进入网络命名空间，ip 显示的是你自己 shell 的网络。`,
      ),
      t('Add -n (network): `nsenter -t <PID> -n ip a`.', '加上 -n（网络）：`nsenter -t <PID> -n ip a`。'),
      ev,
    );
  }
  if (!ipListingObject(latest.inner)) {
    return failed(
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
    return failed(
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
    return failed(
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
  return failed(
    t(`No interface found in the output of \`${cmd}\`.`, `在 \`${cmd}\` 的输出中没有找到任何网络接口。`),
    t(
      'Run `nsenter -t <PID> -n ip a` and let it print its full output.',
      '运行 `nsenter -t <PID> -n ip a`，让它完整地打印输出。',
    ),
    ev,
  );
}
