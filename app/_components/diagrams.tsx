'use client';
// <Diagram name="nsproxy|bridge" />: pictures where a picture explains better, drawn as SVG (text
// stays text: selectable, translated, sharp at any zoom). Each has a title and a description for
// screen readers.
import { useId } from 'react';
import type { Locale } from '../../labs/core/model';
import { useUi } from './lab-context';

const text = {
  en: {
    nsproxyTitle: 'A task and its namespaces',
    nsproxyDesc:
      'A task_struct points to an nsproxy, which points to its UTS, IPC, mount, PID-for-children, network and cgroup namespaces, and to two time namespaces: its own and the one for its children. The user namespace hangs off the task’s credentials (cred), not off nsproxy.',
    task: 'a process or a thread',
    credNote: 'user ns: via the credentials',
    nsproxyNote: 'shared by tasks in the same namespaces',
    bridgeTitle: 'The bridge you build',
    bridgeDesc:
      'Your shell’s network namespace holds the bridge br0 with 172.17.0.1/16 and veth0 plugged into it. A veth cable joins veth0 to eth0 inside the namespace ns1, which has 172.17.0.2/16 and lo.',
    host: 'your shell’s netns (the “host”)',
    container: 'ns1 (the “container”)',
    cable: 'veth pair: a virtual cable',
    bridge: 'bridge (virtual switch)',
  },
  zh: {
    nsproxyTitle: '一个 task 和它的命名空间',
    nsproxyDesc:
      'task_struct 指向 nsproxy，nsproxy 再指向它的 UTS、IPC、挂载、供子进程使用的 PID、网络和 cgroup 命名空间，以及两个时间命名空间：它自己的和供子进程使用的。用户命名空间挂在 task 的凭证（cred）上，而不在 nsproxy 里。',
    task: '一个进程或线程',
    credNote: '用户命名空间：经由凭证',
    nsproxyNote: '同一组命名空间中的 task 共享它',
    bridgeTitle: '你要搭建的网桥',
    bridgeDesc:
      '你的 shell 所在的网络命名空间里有网桥 br0（172.17.0.1/16），veth0 插在它上面。一根 veth 线缆把 veth0 连到命名空间 ns1 中的 eth0（172.17.0.2/16），ns1 里还有 lo。',
    host: '你的 shell 的网络命名空间（“宿主机”）',
    container: 'ns1（“容器”）',
    cable: 'veth 对：一根虚拟网线',
    bridge: '网桥（虚拟交换机）',
  },
} satisfies Record<Locale, Record<string, string>>;

export function Diagram({ name }: { name: string }) {
  const { locale } = useUi();
  const t = text[locale];
  const id = useId();
  if (name === 'nsproxy') return <NsproxyDiagram t={t} id={id} />;
  if (name === 'bridge') return <BridgeDiagram t={t} id={id} />;
  return null;
}

type T = (typeof text)['en'];

const mono = 'var(--font-mono)';

function NsproxyDiagram({ t, id }: { t: T; id: string }) {
  const spaces = [
    ['uts_ns', 'uts'],
    ['ipc_ns', 'ipc'],
    ['mnt_ns', 'mnt'],
    ['pid_ns_for_children', 'pid'],
    ['net_ns', 'net'],
    ['cgroup_ns', 'cgroup'],
    ['time_ns', 'time'],
    ['time_ns_for_children', 'time'],
  ] as const;
  const rowH = 26;
  const top = 40;
  return (
    <figure className="diagram my-6" data-diagram="nsproxy">
      <svg viewBox="0 0 640 360" role="img" aria-labelledby={`${id}-t ${id}-d`} className="h-auto w-full rounded-xl border border-slate-200 bg-white">
        <title id={`${id}-t`}>{t.nsproxyTitle}</title>
        <desc id={`${id}-d`}>{t.nsproxyDesc}</desc>
        <defs>
          <marker id={`${id}-arrow`} viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0 0 L10 5 L0 10 z" fill="#64748b" />
          </marker>
        </defs>
        {/* task_struct */}
        <rect x="16" y="70" width="170" height="150" rx="12" fill="#0f172a" />
        <text x="30" y="96" fill="#e2e8f0" fontSize="13" fontWeight="700" fontFamily={mono}>task_struct</text>
        <text x="30" y="114" fill="#94a3b8" fontSize="10.5">{t.task}</text>
        {[
          ['pid', 146],
          ['cred *', 176],
          ['nsproxy *', 206],
        ].map(([label, y]) => (
          <g key={label}>
            <rect x="28" y={Number(y) - 17} width="146" height="24" rx="6" fill="#1e293b" />
            <text x="38" y={Number(y)} fill="#f8fafc" fontSize="12" fontFamily={mono}>{label}</text>
          </g>
        ))}
        {/* nsproxy */}
        <rect x="250" y={top - 14} width="170" height={spaces.length * rowH + 40} rx="12" fill="#f0f9ff" stroke="#38bdf8" strokeWidth="1.5" />
        <text x="264" y={top + 6} fill="#0c4a6e" fontSize="13" fontWeight="700" fontFamily={mono}>nsproxy</text>
        {spaces.map(([field, type], i) => {
          const y = top + 24 + i * rowH;
          return (
            <g key={field}>
              <text x="264" y={y + 4} fill="#0f172a" fontSize="11.5" fontFamily={mono}>{field}</text>
              <path d={`M 412 ${y} H 468`} stroke="#64748b" strokeWidth="1.5" markerEnd={`url(#${id}-arrow)`} />
              <rect x="472" y={y - 12} width="150" height="22" rx="11" fill="#e0f2fe" stroke="#7dd3fc" />
              <text x="547" y={y + 3} textAnchor="middle" fill="#075985" fontSize="11" fontFamily={mono}>{`${type}:[40265318…]`}</text>
            </g>
          );
        })}
        <text x="335" y={top + spaces.length * rowH + 44} textAnchor="middle" fill="#64748b" fontSize="10.5">{t.nsproxyNote}</text>
        <path d="M 174 202 C 214 202, 214 80, 248 80" fill="none" stroke="#64748b" strokeWidth="1.5" markerEnd={`url(#${id}-arrow)`} />
        {/* cred -> user ns */}
        <path d="M 174 172 C 200 172, 200 322, 248 322" fill="none" stroke="#a855f7" strokeWidth="1.5" strokeDasharray="5 4" markerEnd={`url(#${id}-arrow)`} />
        <rect x="250" y="306" width="130" height="30" rx="8" fill="#faf5ff" stroke="#c084fc" />
        <text x="264" y="325" fill="#6b21a8" fontSize="11.5" fontFamily={mono}>cred → user_ns</text>
        <rect x="472" y="310" width="150" height="22" rx="11" fill="#f3e8ff" stroke="#d8b4fe" />
        <text x="547" y="325" textAnchor="middle" fill="#6b21a8" fontSize="11" fontFamily={mono}>user:[40265318…]</text>
        <path d="M 380 321 H 468" stroke="#a855f7" strokeWidth="1.5" markerEnd={`url(#${id}-arrow)`} />
        <text x="390" y="350" fill="#7e22ce" fontSize="10.5">{t.credNote}</text>
      </svg>
      <figcaption className="mt-1.5 text-sm text-slate-600">{t.nsproxyDesc}</figcaption>
    </figure>
  );
}

function BridgeDiagram({ t, id }: { t: T; id: string }) {
  return (
    <figure className="diagram my-6" data-diagram="bridge">
      <svg viewBox="0 0 640 250" role="img" aria-labelledby={`${id}-t ${id}-d`} className="h-auto w-full rounded-xl border border-slate-200 bg-white">
        <title id={`${id}-t`}>{t.bridgeTitle}</title>
        <desc id={`${id}-d`}>{t.bridgeDesc}</desc>
        {/* host netns */}
        <rect x="14" y="16" width="290" height="214" rx="14" fill="#f8fafc" stroke="#cbd5e1" />
        <text x="30" y="40" fontSize="12.5" fontWeight="700" fill="#0f172a">{t.host}</text>
        <rect x="34" y="58" width="250" height="52" rx="10" fill="#f5f3ff" stroke="#a78bfa" strokeWidth="1.6" />
        <text x="48" y="80" fontSize="14" fontWeight="700" fill="#0f172a" fontFamily={mono}>br0</text>
        <text x="48" y="98" fontSize="11.5" fill="#334155" fontFamily={mono}>172.17.0.1/16</text>
        <text x="272" y="80" fontSize="10" fill="#6d28d9" textAnchor="end">{t.bridge}</text>
        <path d="M 52 110 V 160 H 74" fill="none" stroke="#a78bfa" strokeWidth="2" />
        <rect x="74" y="140" width="210" height="40" rx="8" fill="#fff" stroke="#cbd5e1" />
        <circle cx="90" cy="160" r="4.5" fill="#10b981" />
        <text x="102" y="165" fontSize="13" fontWeight="700" fill="#0f172a" fontFamily={mono}>veth0</text>
        <text x="272" y="165" fontSize="10" fill="#047857" textAnchor="end">veth · UP</text>
        {/* container netns */}
        <rect x="366" y="16" width="260" height="214" rx="14" fill="#f0f9ff" stroke="#38bdf8" strokeWidth="2" />
        <text x="382" y="40" fontSize="12.5" fontWeight="700" fill="#0f172a">{t.container}</text>
        <rect x="384" y="140" width="224" height="48" rx="8" fill="#fff" stroke="#cbd5e1" />
        <circle cx="400" cy="158" r="4.5" fill="#10b981" />
        <text x="412" y="163" fontSize="13" fontWeight="700" fill="#0f172a" fontFamily={mono}>eth0</text>
        <text x="412" y="180" fontSize="11.5" fill="#334155" fontFamily={mono}>172.17.0.2/16</text>
        <rect x="384" y="58" width="224" height="40" rx="8" fill="#fff" stroke="#e2e8f0" />
        <circle cx="400" cy="78" r="4.5" fill="#10b981" />
        <text x="412" y="83" fontSize="13" fontWeight="700" fill="#0f172a" fontFamily={mono}>lo</text>
        <text x="596" y="83" fontSize="10.5" fill="#334155" textAnchor="end" fontFamily={mono}>127.0.0.1/8</text>
        {/* cable */}
        <path d="M 284 160 C 330 160, 340 164, 384 164" fill="none" stroke="#fff" strokeWidth="8" />
        <path d="M 284 160 C 330 160, 340 164, 384 164" fill="none" stroke="#10b981" strokeWidth="3.5" />
        <text x="334" y="214" fontSize="10.5" fill="#047857" textAnchor="middle">{t.cable}</text>
        <path d="M 334 202 V 170" stroke="#10b981" strokeDasharray="2 3" />
      </svg>
      <figcaption className="mt-1.5 text-sm text-slate-600">{t.bridgeDesc}</figcaption>
    </figure>
  );
}
