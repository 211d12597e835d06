// The deliberate failure of the UTS lab: `unshare -U hostname NAME` fails with EPERM. The UTS
// namespace the command is still in is owned by the sandbox's user namespace; in the fresh user
// namespace the process has every capability, but only over namespaces that user namespace owns.
// Graded from state (no UTS namespace of the sandbox is called NAME: the hostname did not change)
// plus the attempt's exit status and error from the transcript.
import { failed, passed, quoteCommand } from '../core/results';
import { baseNs, nsLabel } from '../core/procs';
import { hostnameOf } from '../core/kernel-objects';
import { simpleCommands } from '../core/shell';
import { commandsRunning } from '../core/transcript';
import type { CheckResult, Observation } from '../core/model';
import { t } from '../core/model';

/** unshare's options that take a separate argument (util-linux 2.38). */
const argOptions = new Set(['--propagation', '--setgroups', '--map-user', '--map-group', '--map-users', '--map-groups', '--monotonic', '--boottime', '--root', '--wd', '-R', '-w', '-S', '--setuid', '-G', '--setgid', '--load-interp']);

/** The namespaces an `unshare` asks for (short letters or long names) and the command it runs. */
export function parseUnshare(words: string[]): { flags: Set<string>; inner: string[] } | null {
  if (words[0] !== 'unshare' && words[0] !== '/usr/bin/unshare') return null;
  const flags = new Set<string>();
  const long: Record<string, string> = { '--user': 'U', '--uts': 'u', '--ipc': 'i', '--net': 'n', '--pid': 'p', '--mount': 'm', '--cgroup': 'C', '--time': 'T', '--fork': 'f', '--map-root-user': 'r', '--map-current-user': 'c' };
  let i = 1;
  for (; i < words.length; i++) {
    const w = words[i]!;
    if (w === '--') {
      i++;
      break;
    }
    if (!w.startsWith('-')) break;
    if (w.startsWith('--')) {
      const name = w.split('=')[0]!;
      if (long[name]) flags.add(long[name]);
      if (argOptions.has(name) && !w.includes('=')) i++;
      continue;
    }
    for (const c of w.slice(1)) flags.add(c);
    if (argOptions.has(`-${w.slice(-1)}`) && w.length === 2) i++;
  }
  return { flags, inner: words.slice(i) };
}

export function checkUsernsEperm(obs: Observation): CheckResult {
  const { snapshot } = obs;
  const baseUts = baseNs(snapshot, 'uts');
  const baseHost = hostnameOf(snapshot, baseUts) ?? '?';
  for (const { record, words } of commandsRunning(obs.transcript, ['unshare', '/usr/bin/unshare'])) {
    if (simpleCommands(record.command).length !== 1) continue; // the exit status must be unshare's own
    const u = parseUnshare(words);
    if (!u || !u.flags.has('U') || u.flags.has('u')) continue;
    const [prog, name, ...more] = u.inner;
    if ((prog !== 'hostname' && prog !== '/usr/bin/hostname' && prog !== '/bin/hostname') || !name || name.startsWith('-') || more.length > 0) continue;
    if (record.exitCode === null || record.exitCode === 0) continue;
    if (!/must be root|not permitted/i.test(record.output)) continue;
    const renamed = snapshot.uts.find((x) => x.hostname === name);
    if (renamed) {
      return failed(
        t(`${nsLabel('uts', renamed.inode)} is called "${name}": that name was set some other way.`, `${nsLabel('uts', renamed.inode)} 的主机名是“${name}”：这个名字是用别的方式设置的。`),
        t(`Set the hostname back (\`hostname ${baseHost === name ? 'nslab' : baseHost}\`) and try a name nobody has.`, `把主机名改回去（\`hostname ${baseHost === name ? 'nslab' : baseHost}\`），再换一个没人用过的名字试试。`),
      );
    }
    return passed(
      t(
        `\`${quoteCommand(record.command)}\` failed (exit status ${record.exitCode}) and the sandbox's ${nsLabel('uts', baseUts)} is still "${baseHost}": it belongs to the sandbox's user namespace, not to the new one`,
        `\`${quoteCommand(record.command)}\` 失败了（退出状态 ${record.exitCode}），沙箱的 ${nsLabel('uts', baseUts)} 仍然是“${baseHost}”：它属于沙箱的用户命名空间，而不是新建的那个`,
      ),
      { exitCode: record.exitCode, hostname: baseHost, utsInode: baseUts ?? 0, attempted: name },
    );
  }
  const tried = commandsRunning(obs.transcript, ['unshare']).find(({ words }) => parseUnshare(words)?.inner[0] === 'hostname');
  if (tried && tried.record.exitCode === 0) {
    return failed(
      t(`\`${quoteCommand(tried.record.command)}\` succeeded: with -u it made a UTS namespace of its own, owned by the new user namespace.`, `\`${quoteCommand(tried.record.command)}\` 成功了：加上 -u 它会创建自己的 UTS 命名空间，归新的用户命名空间所有。`),
      t('Leave out -u: `unshare -U hostname container2`.', '去掉 -u：`unshare -U hostname container2`。'),
    );
  }
  return failed(
    t('No failed `unshare -U hostname NAME` yet.', '还没有看到失败的 `unshare -U hostname 名字`。'),
    t('In terminal 1: `unshare -U hostname container2`. It is meant to fail.', '在终端 1 中运行 `unshare -U hostname container2`。它注定会失败。'),
  );
}
