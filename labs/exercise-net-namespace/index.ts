// Lab `exercise-net-namespace`, the heart of course 1: put a `sleep` in a new network namespace,
// find its PID, read its namespace links, and enter its network namespace with nsenter.
// Step ids are a contract with the lesson (content/) and the UI: do not rename them.
import { typed } from '../core/solution';
import { type LabDef, type Observation, t } from '../core/model';
import { checkInspectNs, checkNsenterIp } from './inspect-and-enter';
import { checkFindPid, checkIsolateSleep } from './isolate-and-find';
import { isolatedSleepPid, stepIds } from './target';

// What the tests and other modules read of the lab (the checks live in their step modules).
export { isolatedSleepPid, isolatedSleeps, sleepTargets, stepIds, type SleepTarget } from './target';
export { nsenterCalls, nsListings, parseNsenter, type NsenterCall } from './inspect-and-enter';

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
    { stepId: stepIds.isolateSleep, actions: typed(0, 'unshare -n sleep 60') },
    {
      stepId: stepIds.findPid,
      actions: [
        ...typed(1, ['pgrep -a sleep', 300]),
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
