// The deliberate failure of the PID lab: `unshare -p bash` without -f. unshare(2) with CLONE_NEWPID
// changes only pid_for_children; the bash that runs stays in the old PID namespace. Its first child
// (bash forks at once: the prompt's command substitutions) becomes PID 1 of the new namespace and
// exits; a PID namespace whose PID 1 has exited takes no new process, so every later fork fails
// with ENOMEM ("fork: Cannot allocate memory").
// Graded from state: a process of the sandbox whose pid_for_children is a nested PID namespace that
// the host can read (the kernel shows that link only once the namespace had a PID 1) but that has
// no member left: its PID 1 came and went. The error in the transcript, when the shell could still
// report it, is cited.
import { failed, passed, quoteCommand } from '../core/results';
import { baseNs, describeProcess, describeProcessZh, newest, nsLabel } from '../core/procs';
import { pendingPidUnshares, pidnsOf } from '../core/kernel-objects';
import type { CheckResult, Observation } from '../core/model';
import { t } from '../core/model';

export function checkNoFork(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const base = baseNs(snapshot, 'pid');
  const stuck = newest(
    snapshot.processes.filter((p) => {
      const child = p.ns.pid_for_children;
      if (child === undefined || child === p.ns.pid || p.ns.pid !== base) return false;
      const ns = pidnsOf(snapshot, child);
      return ns !== undefined && ns.members === 0 && ns.init === null;
    }),
  );
  if (stuck) {
    const dead = nsLabel('pid', stuck.ns.pid_for_children);
    const err = [...obs.transcript]
      .reverse()
      .find((c) => c.exitCode !== null && c.exitCode !== 0 && /Cannot allocate memory/i.test(c.output));
    const seen = err ? { en: `; \`${quoteCommand(err.command)}\` failed: Cannot allocate memory`, zh: `；\`${quoteCommand(err.command)}\` 失败了：Cannot allocate memory` } : { en: '', zh: '' };
    return passed(
      t(
        `${describeProcess(stuck)} is still in ${nsLabel('pid', base)}; its children's ${dead} had a PID 1 that has exited and takes no new process (ENOMEM)${seen.en}`,
        `${describeProcessZh(stuck)} 仍在 ${nsLabel('pid', base)} 中；它的子进程所用的 ${dead} 曾有过 1 号进程，但它已经退出，这个命名空间不再接收新进程（ENOMEM）${seen.zh}`,
      ),
      { pid: stuck.pid, pidnsInode: stuck.ns.pid_for_children ?? 0, ...(err ? { exitCode: err.exitCode ?? 0 } : {}) },
    );
  }
  const pending = newest(pendingPidUnshares(snapshot));
  if (pending) {
    return failed(
      t(
        `${describeProcess(pending)} unshared a PID namespace that has had no PID 1 yet.`,
        `${describeProcessZh(pending)} 创建的 PID 命名空间里还从来没有过 1 号进程。`,
      ),
      t('Run any command in that shell, e.g. `ls`, twice.', '在那个 shell 里随便运行一个命令，例如 `ls`，运行两次。'),
      { pid: pending.pid },
    );
  }
  return failed(
    t(`Every process of your sandbox forks into ${nsLabel('pid', base)}.`, `你的沙箱里所有进程创建的子进程都在 ${nsLabel('pid', base)} 中。`),
    t('In terminal 1: `unshare -p bash` (no -f), then `ls`. It is meant to fail.', '在终端 1 中：运行 `unshare -p bash`（不加 -f），然后运行 `ls`。它注定会失败。'),
  );
}
