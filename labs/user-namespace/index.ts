// Lab `user-namespace`: `unshare -Ur` makes you uid 0 in a new user namespace; its uid_map says
// which outside uid that 0 is; its capabilities count only for what that namespace owns.
import { typed } from '../core/solution';
import { failed, passed, quoteCommand } from '../core/results';
import { baseNs, describeProcess, describeProcessZh, newest, nsLabel } from '../core/procs';
import { formatIdMap, hasFullCaps, hostnameOf, idMapAsSandboxSees, uidInOwnUserns, usernsOf } from '../core/kernel-objects';
import { readFileOf } from '../core/shell';
import { commandsRunning, stripAnsi } from '../core/transcript';
import type { CheckResult, LabDef, Observation } from '../core/model';
import { t } from '../core/model';
import type { ProcessInfo, Snapshot } from '../core/snapshot';

export const stepIds = { rootInside: 'root-inside', readUidMap: 'read-uid-map', capsScope: 'caps-scope' } as const;

/** Processes in a user namespace other than the sandbox's. */
function nestedUserProcesses(snapshot: Snapshot): ProcessInfo[] {
  const base = baseNs(snapshot, 'user');
  return snapshot.processes.filter((p) => p.ns.user !== undefined && p.ns.user !== base);
}

/** uid_map maps inside 0 to the sandbox's root (host uidBase). */
function mapsRootToRoot(snapshot: Snapshot, inode: number | undefined): boolean {
  const u = usernsOf(snapshot, inode);
  return !!u && u.uidMap.some((e) => e.inside === 0 && e.outside === snapshot.sandbox.uidBase && e.count >= 1);
}

function checkRootInside(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const baseLabel = nsLabel('user', baseNs(snapshot, 'user'));
  const nested = nestedUserProcesses(snapshot);
  const good = newest(nested.filter((p) => mapsRootToRoot(snapshot, p.ns.user) && uidInOwnUserns(snapshot, p) === 0));
  if (good) {
    const u = usernsOf(snapshot, good.ns.user)!;
    const map = formatIdMap(idMapAsSandboxSees(snapshot, u.uidMap));
    const label = nsLabel('user', u.inode);
    return passed(
      t(
        `${describeProcess(good)} is uid 0 in ${label}, whose uid_map is \`${map}\`: its root is your sandbox's root outside (${baseLabel})`,
        `${describeProcessZh(good)} 在 ${label} 中是 uid 0，该命名空间的 uid_map 是 \`${map}\`：里面的 root 就是外面（${baseLabel}）你的沙箱的 root`,
      ),
      { pid: good.pid, usernsInode: u.inode, uidMap: map, capEff: good.capEff ?? '' },
    );
  }
  const unmapped = newest(nested.filter((p) => (usernsOf(snapshot, p.ns.user)?.uidMap.length ?? 1) === 0));
  if (unmapped) {
    return failed(
      t(
        `${describeProcess(unmapped)} is in ${nsLabel('user', unmapped.ns.user)}, but its uid_map is empty: inside, it is uid 65534 (nobody).`,
        `${describeProcessZh(unmapped)} 在 ${nsLabel('user', unmapped.ns.user)} 中，但它的 uid_map 是空的：在里面它是 uid 65534（nobody）。`,
      ),
      t('`unshare -U` alone writes no map. -r (--map-root-user) maps your uid to 0 inside: `unshare -Ur bash`.', '只用 `unshare -U` 不会写入映射。-r（--map-root-user）会把你的 uid 映射成里面的 0：`unshare -Ur bash`。'),
      { pid: unmapped.pid },
    );
  }
  return failed(
    t(`Every process of your sandbox is still in ${baseLabel}.`, `你的沙箱里所有进程都还在 ${baseLabel} 中。`),
    t('In terminal 1, run `unshare -Ur bash`.', '在终端 1 中运行 `unshare -Ur bash`。'),
  );
}

function checkReadUidMap(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const maps = new Set(
    nestedUserProcesses(snapshot)
      .map((p) => usernsOf(snapshot, p.ns.user))
      .filter((u) => u !== undefined)
      .flatMap((u) => idMapAsSandboxSees(snapshot, u.uidMap).map((e) => `${e.inside} ${e.outside} ${e.count}`)),
  );
  // Reading leaves no kernel trace: graded on the transcript and the kernel together (issue 13).
  // The command line is one reader of exactly /proc/<self|$$|PID>/uid_map (readFileOf: `echo
  // '0 0 1' # /proc/self/uid_map` is an echo), and a line it printed is a map the kernel has for a
  // new user namespace of this sandbox.
  const reads = obs.transcript.filter((r) => /\/proc\/(self|\$\$|\d+)\/uid_map/.test(r.command)).reverse();
  for (const record of reads) {
    if (record.exitCode !== 0) continue;
    if (!/^\/proc\/(self|\$\$|\d+)\/uid_map$/.test(readFileOf(record.command) ?? '')) continue;
    const lines = stripAnsi(record.output)
      .split('\n')
      .map((l) => l.trim().split(/\s+/).join(' '))
      .filter((l) => /^\d+ \d+ \d+$/.test(l));
    const hit = lines.find((l) => maps.has(l));
    if (hit) {
      const [inside, outside, count] = hit.split(' ');
      return passed(
        t(
          `\`${quoteCommand(record.command)}\` printed \`${hit}\`: uid ${inside} inside is uid ${outside} of the parent namespace, ${count} id mapped`,
          `\`${quoteCommand(record.command)}\` 输出了 \`${hit}\`：里面的 uid ${inside} 就是父命名空间的 uid ${outside}，共映射了 ${count} 个 id`,
        ),
        { uidMap: hit, terminal: record.terminal },
      );
    }
  }
  const latest = reads[0];
  return failed(
    latest
      ? t(`\`${quoteCommand(latest.command)}\` showed no map of a new user namespace (it may have run outside it).`, `\`${quoteCommand(latest.command)}\` 没有显示新用户命名空间的映射（它可能是在外面运行的）。`)
      : t('No uid_map read yet.', '还没有读取过 uid_map。'),
    t('Inside the shell that `unshare -Ur` started, run `cat /proc/self/uid_map`.', '在 `unshare -Ur` 启动的 shell 里运行 `cat /proc/self/uid_map`。'),
  );
}

function checkCapsScope(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const baseUts = baseNs(snapshot, 'uts');
  const baseHost = hostnameOf(snapshot, baseUts) ?? '?';
  const baseUser = baseNs(snapshot, 'user');
  // The point of the step is who OWNS the UTS namespace (issue 13): the sandbox's root can make a
  // UTS namespace, rename it, then `unshare -U` into a new user namespace, and that process sits
  // in a nested user namespace and a renamed UTS namespace without having used the nested
  // namespace's capabilities at all. So the renamed UTS namespace must be owned (NS_GET_USERNS,
  // read from the host) by the nested user namespace the process is in, and the sandbox's UTS
  // namespace, where `hostname` was refused, by another one (the sandbox's).
  const ownerOf = (inode: number | undefined) => snapshot.uts.find((u) => u.inode === inode)?.ownerUserns;
  const baseOwner = ownerOf(baseUts);
  const inNewUts = nestedUserProcesses(snapshot).filter((p) => p.ns.uts !== undefined && p.ns.uts !== baseUts);
  const renamedAll = inNewUts.filter((p) => {
    const h = hostnameOf(snapshot, p.ns.uts);
    return h !== undefined && h !== baseHost;
  });
  const renamed = newest(renamedAll.filter((p) => ownerOf(p.ns.uts) === p.ns.user && baseOwner !== undefined && baseOwner !== p.ns.user));
  const foreign = newest(renamedAll.filter((p) => ownerOf(p.ns.uts) !== p.ns.user));
  if (!renamed && foreign) {
    const owner = ownerOf(foreign.ns.uts);
    return failed(
      owner === undefined
        ? t(
            `The grader could not read which user namespace owns ${nsLabel('uts', foreign.ns.uts)}, so this step cannot be checked yet.`,
            `评分程序没能读到 ${nsLabel('uts', foreign.ns.uts)} 属于哪个用户命名空间，所以这一步暂时无法检查。`,
          )
        : t(
            `${nsLabel('uts', foreign.ns.uts)} ("${hostnameOf(snapshot, foreign.ns.uts)}") is owned by ${nsLabel('user', owner)}, not by ${nsLabel('user', foreign.ns.user)} where ${describeProcess(foreign)} runs: it was made and renamed outside your new user namespace.`,
            `${nsLabel('uts', foreign.ns.uts)}（“${hostnameOf(snapshot, foreign.ns.uts)}”）属于 ${nsLabel('user', owner)}，而不是 ${describeProcessZh(foreign)} 所在的 ${nsLabel('user', foreign.ns.user)}：它是在你的新用户命名空间之外创建并改名的。`,
          ),
      t('Create the UTS namespace from inside the `unshare -Ur` shell: `unshare -u bash`, then `hostname box`.', '请在 `unshare -Ur` 启动的 shell 里创建 UTS 命名空间：先运行 `unshare -u bash`，再运行 `hostname box`。'),
      { pid: foreign.pid, utsInode: foreign.ns.uts ?? 0, ownerUserns: owner ?? 0 },
    );
  }
  if (renamed) {
    const host = hostnameOf(snapshot, renamed.ns.uts)!;
    const caps = renamed.capEff ?? '?';
    return passed(
      t(
        `${describeProcess(renamed)} (${nsLabel('user', renamed.ns.user)}, CapEff ${caps}) named ${nsLabel('uts', renamed.ns.uts)} "${host}" (that user namespace owns it); the sandbox's ${nsLabel('uts', baseUts)}, owned by ${nsLabel('user', baseOwner ?? baseUser)}, is still "${baseHost}"`,
        `${describeProcessZh(renamed)}（${nsLabel('user', renamed.ns.user)}，CapEff ${caps}）把属于该用户命名空间的 ${nsLabel('uts', renamed.ns.uts)} 命名为“${host}”；属于 ${nsLabel('user', baseOwner ?? baseUser)} 的沙箱 ${nsLabel('uts', baseUts)} 仍然叫“${baseHost}”`,
      ),
      { pid: renamed.pid, utsInode: renamed.ns.uts ?? 0, hostname: host, baseHostname: baseHost, fullCaps: hasFullCaps(renamed.capEff), ownerUserns: renamed.ns.user ?? 0 },
    );
  }
  const denied = commandsRunning(obs.transcript, ['hostname']).find((c) => c.words.length > 1 && c.record.exitCode !== 0);
  return failed(
    denied
      ? t(`\`${quoteCommand(denied.record.command)}\` was refused: the sandbox's UTS namespace belongs to its parent user namespace. Now make one of your own.`, `\`${quoteCommand(denied.record.command)}\` 被拒绝了：沙箱的 UTS 命名空间属于父用户命名空间。现在创建一个你自己的。`)
      : t('No UTS namespace created inside your new user namespace has a new hostname yet.', '在新的用户命名空间里，还没有哪个新建的 UTS 命名空间有了新的主机名。'),
    t('Inside the `unshare -Ur` shell: `unshare -u bash`, then `hostname box`.', '在 `unshare -Ur` 启动的 shell 里：先运行 `unshare -u bash`，再运行 `hostname box`。'),
  );
}

export const userNamespace: LabDef = {
  id: 'user-namespace',
  title: t('User namespace: root without privileges', '用户命名空间：没有特权的 root'),
  terminals: 2,
  steps: [
    {
      id: stepIds.rootInside,
      title: t('Become uid 0 in a new user namespace', '在新的用户命名空间中成为 uid 0'),
      kinds: ['state'],
      check: checkRootInside,
      hints: [
        t('-U asks for a new user namespace; -r maps your current uid to 0 inside it.', '-U 表示新建用户命名空间；-r 把你当前的 uid 映射为里面的 0。'),
        t('In terminal 1: `unshare -Ur bash`, then `id`.', '在终端 1 中运行：`unshare -Ur bash`，然后运行 `id`。'),
      ],
    },
    {
      id: stepIds.readUidMap,
      title: t('Read its uid_map', '查看它的 uid_map'),
      kinds: ['command', 'output', 'state'],
      check: checkReadUidMap,
      hints: [
        t('Each line of uid_map is: first uid inside, first uid outside (in the parent namespace), how many.', 'uid_map 的每一行是：里面的起始 uid、外面（父命名空间中）的起始 uid、映射的数量。'),
        t('In the new shell: `cat /proc/self/uid_map`.', '在新的 shell 中运行：`cat /proc/self/uid_map`。'),
      ],
    },
    {
      id: stepIds.capsScope,
      title: t('See where its capabilities count', '看看它的能力在哪里有效'),
      kinds: ['state'],
      check: checkCapsScope,
      hints: [
        t('Capabilities in a user namespace apply only to namespaces that user namespace owns.', '用户命名空间中的能力只对这个用户命名空间所拥有的命名空间有效。'),
        t('`hostname box` fails; `unshare -u bash` then `hostname box` works, in a UTS namespace your new user namespace owns.', '`hostname box` 会失败；先 `unshare -u bash` 再 `hostname box` 就能成功，因为这个 UTS 命名空间属于你新的用户命名空间。'),
      ],
    },
  ],
  solution: [
    { stepId: stepIds.rootInside, actions: typed(0, ['unshare -Ur bash', 800]) },
    { stepId: stepIds.readUidMap, actions: typed(0, ['cat /proc/self/uid_map', 400]) },
    {
      stepId: stepIds.capsScope,
      actions: [
        ...typed(0, ['hostname box', 300]),
        ...typed(0, ['unshare -u bash', 800]),
        ...typed(0, ['hostname box', 400]),
      ],
    },
  ],
};
