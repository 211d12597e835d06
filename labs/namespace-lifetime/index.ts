// Lab `namespace-lifetime`: what keeps a namespace alive. A bind mount (`ip netns add` bind-mounts
// an nsfs file at /run/netns/<name>: snapshot.namedNetns, from the mount tables the host read), a
// process (`nsenter --net=/run/netns/<name>` puts one in it, and it outlives `ip netns delete`), an
// open fd (after the last process is gone, a new one enters through the fd: same inode). Then the
// owner of a namespace: the answer is checked against the user namespace of the process that holds
// a network namespace made together with its user namespace.
import { evidenceNumber, evidenceString, failed, passed } from '../core/results';
import { baseNs, describeProcess, describeProcessZh, newest, nsLabel, processByPid } from '../core/procs';
import { parseNsInode } from '../core/ns-types';
import type { CheckResult, LabDef, Observation } from '../core/model';
import { t } from '../core/model';
import { typed } from '../core/solution';

export const stepIds = {
  netnsAdd: 'netns-add',
  enterNamed: 'enter-named',
  deleteSurvives: 'delete-survives',
  fdKeeps: 'fd-keeps',
  owner: 'owner',
} as const;

const namedOf = (obs: Observation, inode: number) => (obs.snapshot.namedNetns ?? []).filter((n) => n.inode === inode);

function keptInode(obs: Observation): { inode: number; name: string } | undefined {
  const kept = obs.passed[stepIds.netnsAdd];
  const inode = evidenceNumber(kept, 'netInode');
  const name = evidenceString(kept, 'name');
  return inode !== undefined && name !== undefined ? { inode, name } : undefined;
}

const needStep1 = (): CheckResult =>
  failed(t('No named network namespace yet.', '还没有命名的网络命名空间。'), t('Do step 1 first: `ip netns add lab`.', '请先完成第 1 步：`ip netns add lab`。'));

function checkNetnsAdd(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const named = (snapshot.namedNetns ?? [])[0];
  if (!named) {
    return failed(
      t('No nsfs file is bind-mounted under /run/netns in any mount namespace of your sandbox.', '你的沙箱的所有挂载命名空间中，/run/netns 下都没有绑定挂载的 nsfs 文件。'),
      t('In terminal 1: `ip netns add lab`, then `findmnt /run/netns/lab`.', '在终端 1 中：先运行 `ip netns add lab`，再运行 `findmnt /run/netns/lab`。'),
    );
  }
  const members = snapshot.processes.filter((p) => p.ns.net === named.inode);
  return passed(
    members.length === 0
      ? t(
          `/run/netns/${named.name} is a bind mount of ${nsLabel('net', named.inode)} (nsfs) in ${nsLabel('mnt', named.mntInode)}; no process is in that namespace: the mount alone keeps it alive`,
          `/run/netns/${named.name} 是 ${nsLabel('net', named.inode)} 的绑定挂载（nsfs），位于 ${nsLabel('mnt', named.mntInode)}；没有任何进程在那个命名空间里：只靠这个挂载让它存活`,
        )
      : t(
          `/run/netns/${named.name} is a bind mount of ${nsLabel('net', named.inode)} (nsfs) in ${nsLabel('mnt', named.mntInode)}`,
          `/run/netns/${named.name} 是 ${nsLabel('net', named.inode)} 的绑定挂载（nsfs），位于 ${nsLabel('mnt', named.mntInode)}`,
        ),
    { name: named.name, netInode: named.inode, processes: members.length },
  );
}

function checkEnterNamed(obs: Observation): CheckResult {
  const kept = keptInode(obs);
  if (!kept) return needStep1();
  const p = newest(obs.snapshot.processes.filter((x) => x.ns.net === kept.inode));
  if (!p) {
    return failed(
      t(`No process is in ${nsLabel('net', kept.inode)} (/run/netns/${kept.name}) yet.`, `还没有进程在 ${nsLabel('net', kept.inode)}（/run/netns/${kept.name}）中。`),
      t(`In terminal 1: \`nsenter --net=/run/netns/${kept.name} sleep 1000 &\`.`, `在终端 1 中运行：\`nsenter --net=/run/netns/${kept.name} sleep 1000 &\`。`),
    );
  }
  return passed(
    t(`${describeProcess(p)} entered ${nsLabel('net', kept.inode)} through /run/netns/${kept.name}`, `${describeProcessZh(p)} 通过 /run/netns/${kept.name} 进入了 ${nsLabel('net', kept.inode)}`),
    { pid: p.pid, netInode: kept.inode },
  );
}

function checkDeleteSurvives(obs: Observation): CheckResult {
  const kept = keptInode(obs);
  if (!kept) return needStep1();
  const names = namedOf(obs, kept.inode);
  if (names.length > 0) {
    return failed(
      t(`${nsLabel('net', kept.inode)} is still bind-mounted at /run/netns/${names[0]!.name}.`, `${nsLabel('net', kept.inode)} 仍然绑定挂载在 /run/netns/${names[0]!.name}。`),
      t(`Remove the name: \`ip netns delete ${names[0]!.name}\` (it unmounts and deletes the file).`, `删除这个名字：\`ip netns delete ${names[0]!.name}\`（它会卸载并删除那个文件）。`),
    );
  }
  const p = newest(obs.snapshot.processes.filter((x) => x.ns.net === kept.inode));
  if (!p) {
    return failed(
      t(`No bind mount and no process hold ${nsLabel('net', kept.inode)} any more: the grader cannot see it (if nothing else holds it, it is gone).`, `已经没有绑定挂载，也没有进程持有 ${nsLabel('net', kept.inode)}：评分程序看不到它了（如果没有别的东西持有它，它已经被销毁）。`),
      t('Start again from step 1 with a process inside before you delete the name.', '请从第 1 步重新开始，并在删除名字之前让一个进程进入它。'),
    );
  }
  return passed(
    t(
      `/run/netns/${kept.name} is gone, yet ${nsLabel('net', kept.inode)} lives on: ${describeProcess(p)} is in it`,
      `/run/netns/${kept.name} 已经没有了，但 ${nsLabel('net', kept.inode)} 依然存在：${describeProcessZh(p)} 在它里面`,
    ),
    { pid: p.pid, netInode: kept.inode },
  );
}

/** For the reference solution: the process that held the namespace after the delete. */
export function holderPid(obs: Observation): string {
  const pid = evidenceNumber(obs.passed[stepIds.deleteSurvives], 'pid');
  if (pid === undefined) throw new Error('step delete-survives has not passed');
  return String(pid);
}

function checkFdKeeps(obs: Observation): CheckResult {
  const kept = keptInode(obs);
  const holder = evidenceNumber(obs.passed[stepIds.deleteSurvives], 'pid');
  if (!kept || holder === undefined) {
    return failed(t('Steps 1-3 are not done yet.', '第 1 到 3 步还没有完成。'), t('Do them first: this step starts from the sleep that holds the namespace.', '请先完成它们：这一步从持有命名空间的那个 sleep 开始。'));
  }
  const { snapshot } = obs;
  const names = namedOf(obs, kept.inode);
  if (names.length > 0) {
    return failed(
      t(`${nsLabel('net', kept.inode)} is bind-mounted again at /run/netns/${names[0]!.name}: that is a mount, not an fd.`, `${nsLabel('net', kept.inode)} 又被绑定挂载到了 /run/netns/${names[0]!.name}：那是挂载，不是 fd。`),
      t(`Remove it (\`umount /run/netns/${names[0]!.name}\`) and keep the namespace with \`exec 3<\` only.`, `删除它（\`umount /run/netns/${names[0]!.name}\`），只用 \`exec 3<\` 留住命名空间。`),
    );
  }
  const old = processByPid(snapshot, holder);
  if (old && old.ns.net === kept.inode) {
    return failed(
      t(`PID ${holder} still holds ${nsLabel('net', kept.inode)}.`, `PID ${holder} 仍然持有 ${nsLabel('net', kept.inode)}。`),
      t(`Open it first in terminal 2 (\`exec 3</proc/${holder}/ns/net\`), then \`kill ${holder}\`.`, `先在终端 2 中打开它（\`exec 3</proc/${holder}/ns/net\`），再运行 \`kill ${holder}\`。`),
      { pid: holder },
    );
  }
  const p = newest(snapshot.processes.filter((x) => x.ns.net === kept.inode));
  if (!p) {
    return failed(
      t(`PID ${holder} is gone and no process is in ${nsLabel('net', kept.inode)}: if an fd holds it, nobody can see it from /proc/*/ns.`, `PID ${holder} 已经退出，也没有进程在 ${nsLabel('net', kept.inode)} 中：如果有 fd 持有它，从 /proc/*/ns 是看不到的。`),
      t('Enter it through the fd: `nsenter --net=/proc/self/fd/3 sleep 1000 &` in the shell that holds fd 3.', '通过这个 fd 进入它：在持有 fd 3 的 shell 里运行 `nsenter --net=/proc/self/fd/3 sleep 1000 &`。'),
    );
  }
  return passed(
    t(
      `PID ${holder} is gone and no mount names ${nsLabel('net', kept.inode)}, yet ${describeProcess(p)} is in it: an open fd kept it alive`,
      `PID ${holder} 已经退出，也没有挂载指向 ${nsLabel('net', kept.inode)}，但 ${describeProcessZh(p)} 在它里面：是一个打开的 fd 让它存活了下来`,
    ),
    { pid: p.pid, netInode: kept.inode },
  );
}

function checkOwner(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const baseUser = baseNs(snapshot, 'user');
  const baseNet = baseNs(snapshot, 'net');
  // A network namespace made together with a user namespace (`unshare -U -r -n`): the kernel makes
  // the user namespace first, so it owns the network namespace.
  const candidates = snapshot.processes.filter((p) => p.ns.user !== undefined && p.ns.user !== baseUser && p.ns.net !== undefined && p.ns.net !== baseNet);
  const p = newest(candidates);
  if (!p) {
    return failed(
      t('No process is in a network namespace made together with a user namespace of its own.', '还没有进程处于一个与自己的用户命名空间一同创建的网络命名空间中。'),
      t('In terminal 1: `unshare -U -r -n sleep 1000 &`, then `lsns -o NS,TYPE,NPROCS,PID,PNS,ONS`.', '在终端 1 中：先运行 `unshare -U -r -n sleep 1000 &`，再运行 `lsns -o NS,TYPE,NPROCS,PID,PNS,ONS`。'),
    );
  }
  const answer = obs.answers[stepIds.owner]?.value.trim() ?? '';
  if (answer === '') {
    return failed(
      t(`${describeProcess(p)} is in ${nsLabel('net', p.ns.net)}: which user namespace owns it?`, `${describeProcessZh(p)} 在 ${nsLabel('net', p.ns.net)} 中：哪个用户命名空间拥有它？`),
      t('Read the ONS column of its net line in `lsns -o NS,TYPE,NPROCS,PID,PNS,ONS` and type that number.', '在 `lsns -o NS,TYPE,NPROCS,PID,PNS,ONS` 的输出中找到它那一行 net，把 ONS 列的数字填进来。'),
    );
  }
  const typed = parseNsInode(answer);
  if (!typed) return failed(t(`"${answer.slice(0, 40)}" is not a namespace inode.`, `“${answer.slice(0, 40)}”不是命名空间的 inode 号。`), t('Type a number like 4026532201.', '请填写一个类似 4026532201 的数字。'));
  const owners = new Map(candidates.map((c) => [c.ns.user!, c]));
  const owned = owners.get(typed.inode);
  if (owned) {
    return passed(
      t(
        `${nsLabel('user', typed.inode)} owns ${nsLabel('net', owned.ns.net)} of ${describeProcess(owned)}; its parent is the sandbox's ${nsLabel('user', baseUser)}`,
        `${nsLabel('user', typed.inode)} 拥有 ${describeProcessZh(owned)} 的 ${nsLabel('net', owned.ns.net)}；它的父命名空间是沙箱的 ${nsLabel('user', baseUser)}`,
      ),
      { answer: typed.inode, pid: owned.pid, netInode: owned.ns.net ?? 0 },
    );
  }
  if (typed.inode === baseUser) {
    return failed(
      t(`${nsLabel('user', baseUser)} is the sandbox's own user namespace: it owns the sandbox's namespaces (and /run/netns/lab's), but ${nsLabel('net', p.ns.net)} was made after \`unshare -U\` had made a new one.`, `${nsLabel('user', baseUser)} 是沙箱自己的用户命名空间：它拥有沙箱的命名空间（以及 /run/netns/lab 的），但 ${nsLabel('net', p.ns.net)} 是在 \`unshare -U\` 创建了新的用户命名空间之后才创建的。`),
      t('Read the ONS of the line whose PID is your sleep.', '请看 PID 是你的 sleep 的那一行的 ONS。'),
    );
  }
  return failed(
    t(`${answer.slice(0, 40)} is not the owner of ${nsLabel('net', p.ns.net)}.`, `${answer.slice(0, 40)} 不是 ${nsLabel('net', p.ns.net)} 的所有者。`),
    t(`Look at the net line with PID ${p.pid} in the lsns output: its ONS column.`, `看 lsns 输出中 PID 为 ${p.pid} 的 net 那一行的 ONS 列。`),
  );
}

/** For the reference solution: the owner the lsns line shows. */
export function ownerInode(obs: Observation): string {
  const baseUser = baseNs(obs.snapshot, 'user');
  const baseNet = baseNs(obs.snapshot, 'net');
  const p = newest(obs.snapshot.processes.filter((x) => x.ns.user !== baseUser && x.ns.net !== baseNet && x.ns.user !== undefined));
  if (!p) throw new Error('no process with its own user and network namespaces');
  return String(p.ns.user);
}

export const namespaceLifetime: LabDef = {
  id: 'namespace-lifetime',
  title: t('What keeps a namespace alive', '是什么让命名空间存活'),
  terminals: 2,
  steps: [
    {
      id: stepIds.netnsAdd,
      title: t('`ip netns add` is a bind mount', '`ip netns add` 就是一次绑定挂载'),
      kinds: ['state'],
      check: checkNetnsAdd,
      hints: [
        t('A namespace lives as long as something refers to it: a process, a bind mount of its /proc/PID/ns file, or an open fd.', '只要还有东西引用命名空间，它就会存活：一个进程、它的 /proc/PID/ns 文件的绑定挂载，或一个打开的 fd。'),
        t('`ip netns add NAME` makes a network namespace and bind-mounts it at /run/netns/NAME.', '`ip netns add 名字` 会创建一个网络命名空间，并把它绑定挂载到 /run/netns/名字。'),
        t('In terminal 1: `ip netns add lab`, then `findmnt /run/netns/lab`.', '在终端 1 中：先运行 `ip netns add lab`，再运行 `findmnt /run/netns/lab`。'),
      ],
    },
    {
      id: stepIds.enterNamed,
      title: t('Enter it through its file', '通过它的文件进入'),
      kinds: ['state'],
      check: checkEnterNamed,
      hints: [
        t('nsenter accepts a file instead of a PID: --net=FILE.', 'nsenter 除了 PID，也接受一个文件：--net=文件。'),
        t('In terminal 1: `nsenter --net=/run/netns/lab sleep 1000 &`.', '在终端 1 中运行：`nsenter --net=/run/netns/lab sleep 1000 &`。'),
      ],
    },
    {
      id: stepIds.deleteSurvives,
      title: t('Delete the name; the process keeps it', '删除名字，进程留住了它'),
      kinds: ['state'],
      check: checkDeleteSurvives,
      hints: [
        t('`ip netns delete` only unmounts and removes the file.', '`ip netns delete` 只是卸载并删除那个文件。'),
        t('In terminal 1: `ip netns delete lab`, then `lsns -t net`.', '在终端 1 中：先运行 `ip netns delete lab`，再运行 `lsns -t net`。'),
      ],
    },
    {
      id: stepIds.fdKeeps,
      title: t('An open fd keeps it', '一个打开的 fd 留住了它'),
      kinds: ['state'],
      check: checkFdKeeps,
      hints: [
        t('Opening /proc/PID/ns/net gives an fd that refers to the namespace itself, not to the process.', '打开 /proc/PID/ns/net 得到的 fd 引用的是命名空间本身，而不是那个进程。'),
        t('In terminal 2: `exec 3</proc/PID/ns/net` (PID of the sleep), then `kill PID`.', '在终端 2 中：`exec 3</proc/PID/ns/net`（PID 是那个 sleep 的），然后 `kill PID`。'),
        t('Then, still in terminal 2: `nsenter --net=/proc/self/fd/3 sleep 1000 &`.', '然后仍在终端 2 中运行：`nsenter --net=/proc/self/fd/3 sleep 1000 &`。'),
      ],
    },
    {
      id: stepIds.owner,
      title: t('Who owns a namespace', '命名空间归谁所有'),
      kinds: ['answer', 'state'],
      check: checkOwner,
      hints: [
        t('Every namespace is owned by a user namespace: the one its creator was in when it was made.', '每个命名空间都归一个用户命名空间所有：也就是创建它时创建者所在的那个。'),
        t('`unshare -U -r -n` makes the user namespace first, then the network namespace inside it.', '`unshare -U -r -n` 先创建用户命名空间，再在其中创建网络命名空间。'),
        t('In terminal 1: `unshare -U -r -n sleep 1000 &`, then `lsns -o NS,TYPE,NPROCS,PID,PNS,ONS -t net` and read the ONS of the sleep\'s line.', '在终端 1 中：先运行 `unshare -U -r -n sleep 1000 &`，再运行 `lsns -o NS,TYPE,NPROCS,PID,PNS,ONS -t net`，读出 sleep 那一行的 ONS。'),
      ],
      answer: { label: t('Owner (ONS) of the sleep\'s network namespace', 'sleep 的网络命名空间的所有者（ONS）'), placeholder: '4026532201', pattern: '^\\s*\\d+\\s*$' },
    },
  ],
  solution: [
    { stepId: stepIds.netnsAdd, actions: typed(0, ['ip netns add lab', 600]) },
    { stepId: stepIds.enterNamed, actions: typed(0, ['nsenter --net=/run/netns/lab sleep 1000 &', 600]) },
    { stepId: stepIds.deleteSurvives, actions: typed(0, ['ip netns delete lab', 600]) },
    {
      stepId: stepIds.fdKeeps,
      actions: typed(1, [(obs) => `exec 3</proc/${holderPid(obs)}/ns/net; kill ${holderPid(obs)}`, 600], ['nsenter --net=/proc/self/fd/3 sleep 1000 &', 600]),
    },
    {
      stepId: stepIds.owner,
      actions: [
        ...typed(0, ['unshare -U -r -n sleep 1000 &', 600], ['lsns -o NS,TYPE,NPROCS,PID,PNS,ONS -t net', 400]),
        { type: 'answer', stepId: stepIds.owner, value: ownerInode },
      ],
    },
  ],
};
