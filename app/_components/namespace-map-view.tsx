'use client';
// The live namespace map, drawn from the agent's trimmed snapshots (sandbox-agent/protocol
// map-snapshot.ts). Loaded lazily by namespace-map.tsx, so the lesson route ships none of this
// until a lesson shows a map. Three views: the network topology (SVG: namespaces, interfaces,
// bridges and their ports, veth cables, addresses, up/down), processes grouped by namespace for
// each type (inode labels), and a table for screen readers (also always in the DOM, visually
// hidden, while a drawing is shown).
import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { MapInterface, MapNetns, MapProcess, MapSnapshot } from '../../sandbox-agent/protocol/map-snapshot';
import type { UiStrings } from '../_lib/ui-strings';

export type MapView = 'network' | 'namespaces' | 'table';
const views: MapView[] = ['network', 'namespaces', 'table'];
const nsTypes = ['net', 'pid', 'mnt', 'uts', 'ipc', 'user', 'cgroup'] as const;
type NsType = (typeof nsTypes)[number];

export interface NamespaceMapViewProps {
  map: MapSnapshot | null;
  mapAtMs: number | null;
  strings: UiStrings;
  initialView?: MapView;
  /** The namespace type the lesson is about: listed first and emphasised. */
  focus?: NsType;
  /** Process names (comm) the current step is about, e.g. "sleep": highlighted everywhere. */
  highlight?: string[];
  /** The current step's title, shown as "Now: ...". */
  stepTitle?: string | null;
}

// ---------- helpers ----------

function isBase(map: MapSnapshot, type: string, inode: number): boolean {
  return map.baseNs[type] === inode;
}

function membersOf(map: MapSnapshot, type: string, inode: number): MapProcess[] {
  return map.processes.filter((p) => p.ns[type] === inode);
}

interface NsGroup {
  inode: number;
  base: boolean;
  members: MapProcess[];
}

function groupsOf(map: MapSnapshot, type: NsType): NsGroup[] {
  const inodes = new Set<number>();
  const baseInode = map.baseNs[type];
  if (baseInode !== undefined) inodes.add(baseInode);
  for (const p of map.processes) {
    const inode = p.ns[type];
    if (inode !== undefined) inodes.add(inode);
  }
  if (type === 'net') for (const n of map.netns) inodes.add(n.inode);
  return [...inodes].map((inode) => ({ inode, base: isBase(map, type, inode), members: membersOf(map, type, inode) }));
}

/** A PID as the map may show it: "?" while an open step asks for it (map.concealed). */
function pidText(map: MapSnapshot, pid: number): string {
  return map.concealed?.includes('pids') ? '?' : String(pid);
}

/** An inode as the map may show it: "?" while an open step asks for it (map.concealed). */
function inodeText(map: MapSnapshot, inode: number): string {
  return map.concealed?.includes('inodes') ? '?' : String(inode);
}

function netnsLabel(map: MapSnapshot, netns: MapNetns, strings: UiStrings): string {
  if (isBase(map, 'net', netns.inode)) return strings.mapBase;
  if (netns.names[0]) return netns.names[0];
  const first = membersOf(map, 'net', netns.inode).find((p) => p.comm !== 'nsenter' && p.comm !== 'unshare');
  return first ? strings.mapNetnsOf(first.comm) : `net:[${inodeText(map, netns.inode)}]`;
}

function ifaceState(iface: MapInterface, strings: UiStrings): { text: string; tone: 'up' | 'nocarrier' | 'down' } {
  if (!iface.up) return { text: strings.mapDown, tone: 'down' };
  if (!iface.lowerUp) return { text: strings.mapNoCarrier, tone: 'nocarrier' };
  return { text: strings.mapUp, tone: 'up' };
}

function createdCount(map: MapSnapshot): number {
  let count = 0;
  for (const type of nsTypes) count += groupsOf(map, type).filter((g) => !g.base).length;
  return count;
}

function clip(text: string, chars: number): string {
  return text.length > chars ? `${text.slice(0, Math.max(1, chars - 1))}…` : text;
}

function useSecondsSince(atMs: number | null): number | null {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return atMs === null ? null : Math.max(0, Math.floor((now - atMs) / 1000));
}

function useWidth<T extends HTMLElement>(): [React.RefObject<T | null>, number] {
  const ref = useRef<T | null>(null);
  const [width, setWidth] = useState(560);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setWidth(Math.max(260, Math.floor(el.getBoundingClientRect().width)));
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  return [ref, width];
}

// ---------- the component ----------

export function NamespaceMapView({ map, mapAtMs, strings, initialView = 'network', focus, highlight = [], stepTitle }: NamespaceMapViewProps) {
  const [view, setView] = useState<MapView>(initialView);
  const seconds = useSecondsSince(mapAtMs);
  const tabsId = useId();
  const tabRefs = useRef<(HTMLButtonElement | null)[]>([]);
  const labels: Record<MapView, string> = {
    network: strings.mapViewNetwork,
    namespaces: strings.mapViewNamespaces,
    table: strings.mapViewTable,
  };
  const onTabKey = (event: KeyboardEvent<HTMLButtonElement>, index: number) => {
    const delta = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (!delta) return;
    event.preventDefault();
    const next = (index + delta + views.length) % views.length;
    setView(views[next]!);
    tabRefs.current[next]?.focus();
  };
  const summary = map ? strings.mapSummary(map.processCount, map.netns.length, createdCount(map)) : strings.mapLoading;

  return (
    <section
      className="ns-map not-prose my-6 overflow-hidden rounded-2xl border border-slate-200 bg-white shadow-sm"
      aria-label={strings.mapTitle}
      data-namespace-map
      data-map-ready={map ? 'true' : 'false'}
      data-map-taken={map?.takenAtMs ?? ''}
    >
      <header className="flex flex-wrap items-center gap-x-3 gap-y-2 border-b border-slate-200 bg-gradient-to-r from-slate-900 to-slate-800 px-4 py-2.5 text-white">
        <span className="flex items-center gap-2 text-sm font-semibold">
          <span className={`ns-map-pulse inline-block size-2 rounded-full ${map ? 'bg-emerald-400' : 'bg-amber-400'}`} aria-hidden="true" />
          {strings.mapTitle}
        </span>
        <span className="text-xs text-slate-300" data-map-age>
          {seconds === null ? '' : strings.mapUpdated(seconds)}
        </span>
        <div role="tablist" aria-label={strings.mapViewsLabel} className="ml-auto flex rounded-lg bg-slate-700/60 p-0.5">
          {views.map((v, i) => (
            <button
              key={v}
              ref={(el) => {
                tabRefs.current[i] = el;
              }}
              type="button"
              role="tab"
              id={`${tabsId}-${v}`}
              aria-selected={view === v}
              aria-controls={`${tabsId}-panel`}
              tabIndex={view === v ? 0 : -1}
              onClick={() => setView(v)}
              onKeyDown={(event) => onTabKey(event, i)}
              className={`rounded-md px-2.5 py-1 text-xs font-semibold transition ${
                view === v ? 'bg-white text-slate-900 shadow' : 'text-slate-200 hover:text-white'
              }`}
              data-map-view={v}
            >
              {labels[v]}
            </button>
          ))}
        </div>
      </header>
      {stepTitle && (
        <p className="m-0 border-b border-slate-100 bg-sky-50 px-4 py-1.5 text-xs text-sky-900">
          <strong className="font-semibold">{strings.mapNow}:</strong> {stepTitle}
        </p>
      )}
      <div id={`${tabsId}-panel`} role="tabpanel" aria-labelledby={`${tabsId}-${view}`} className="p-3">
        <p className="sr-only" aria-live="off">
          {summary}
        </p>
        {!map ? (
          <p className="m-0 flex items-center gap-2 px-2 py-6 text-sm text-slate-600">{strings.mapLoading}</p>
        ) : (
          <>
            {view === 'network' && <NetworkView map={map} strings={strings} highlight={highlight} />}
            {view === 'namespaces' && <NamespacesView map={map} strings={strings} highlight={highlight} focus={focus} />}
            <div className={view === 'table' ? '' : 'sr-only'}>
              <TableView map={map} strings={strings} focus={focus} />
            </div>
            {map.processCount > map.processes.length && (
              <p className="m-0 mt-2 text-xs text-slate-500">{strings.mapTruncated(map.processes.length, map.processCount)}</p>
            )}
          </>
        )}
      </div>
    </section>
  );
}

// ---------- network topology (SVG) ----------

const BOX_HEAD = 54;
const ROW_H = 46;
const PORT_INDENT = 22;
const PROC_H = 22;
const PAD = 10;
const GAP_X = 64;
const GAP_Y = 28;
const MARGIN = 14;

interface RowLayout {
  iface: MapInterface;
  y: number;
  x: number;
  w: number;
  port: boolean;
}
interface BoxLayout {
  netns: MapNetns;
  x: number;
  y: number;
  w: number;
  h: number;
  col: number;
  rows: RowLayout[];
  procs: MapProcess[];
  moreProcs: number;
  label: string;
  base: boolean;
}

/** Bridges first, each followed by its ports, then everything else (loopback last). */
function orderInterfaces(interfaces: MapInterface[]): { iface: MapInterface; port: boolean }[] {
  const bridges = interfaces.filter((i) => i.kind === 'bridge');
  const bridgeNames = new Set(bridges.map((b) => b.name));
  const out: { iface: MapInterface; port: boolean }[] = [];
  for (const bridge of bridges) {
    out.push({ iface: bridge, port: false });
    for (const port of interfaces.filter((i) => i.master === bridge.name)) out.push({ iface: port, port: true });
  }
  const rest = interfaces.filter((i) => i.kind !== 'bridge' && !(i.master && bridgeNames.has(i.master)));
  rest.sort((a, b) => Number(a.name === 'lo') - Number(b.name === 'lo') || a.ifindex - b.ifindex);
  for (const iface of rest) out.push({ iface, port: false });
  return out;
}

function layoutNetwork(map: MapSnapshot, width: number, strings: UiStrings) {
  const ordered = [...map.netns].sort((a, b) => {
    const rank = (n: MapNetns) => (isBase(map, 'net', n.inode) ? 0 : n.names.length > 0 ? 1 : 2);
    return rank(a) - rank(b) || a.inode - b.inode;
  });
  const cols = Math.max(1, Math.min(ordered.length, Math.floor((width - 2 * MARGIN + GAP_X) / (230 + GAP_X))));
  const boxW = Math.floor((width - 2 * MARGIN - (cols - 1) * GAP_X) / cols);
  const boxes: BoxLayout[] = [];
  let y = MARGIN;
  for (let start = 0; start < ordered.length; start += cols) {
    const line = ordered.slice(start, start + cols);
    const heights = line.map((netns) => {
      const members = membersOf(map, 'net', netns.inode);
      const procLines = Math.min(members.length, 4) + (members.length > 4 ? 1 : 0);
      return BOX_HEAD + Math.max(1, netns.interfaces.length) * ROW_H + PAD + Math.max(1, procLines) * PROC_H + PAD;
    });
    const h = Math.max(...heights);
    line.forEach((netns, col) => {
      const x = MARGIN + col * (boxW + GAP_X);
      const rows: RowLayout[] = orderInterfaces(netns.interfaces).map(({ iface, port }, i) => ({
        iface,
        port,
        x: x + PAD + (port ? PORT_INDENT : 0),
        y: y + BOX_HEAD + i * ROW_H,
        w: boxW - 2 * PAD - (port ? PORT_INDENT : 0),
      }));
      const members = membersOf(map, 'net', netns.inode);
      boxes.push({
        netns,
        x,
        y,
        w: boxW,
        h,
        col,
        rows,
        procs: members.slice(0, 4),
        moreProcs: Math.max(0, members.length - 4),
        label: netnsLabel(map, netns, strings),
        base: isBase(map, 'net', netns.inode),
      });
    });
    y += h + GAP_Y;
  }
  return { boxes, height: Math.max(y - GAP_Y + MARGIN, 120) };
}

interface Cable {
  key: string;
  d: string;
  live: boolean;
  label: string;
  from: string;
  to: string;
}

function cablesOf(boxes: BoxLayout[], strings: UiStrings): { cables: Cable[]; dangling: { x: number; y: number; key: string }[] } {
  const rowsByKey = new Map<string, { box: BoxLayout; row: RowLayout }>();
  for (const box of boxes) for (const row of box.rows) rowsByKey.set(`${box.netns.inode}/${row.iface.ifindex}`, { box, row });
  const cables: Cable[] = [];
  const dangling: { x: number; y: number; key: string }[] = [];
  const seen = new Set<string>();
  for (const box of boxes) {
    for (const row of box.rows) {
      const peer = row.iface.peer;
      if (row.iface.kind !== 'veth' || !peer) continue;
      const selfKey = `${box.netns.inode}/${row.iface.ifindex}`;
      const peerKey = `${peer.netnsInode ?? box.netns.inode}/${peer.ifindex}`;
      const other = rowsByKey.get(peerKey);
      const pairKey = [selfKey, peerKey].sort().join('~');
      if (seen.has(pairKey)) continue;
      seen.add(pairKey);
      const ay = row.y + ROW_H / 2 - 2;
      if (!other) {
        dangling.push({ x: row.x + row.w, y: ay, key: pairKey });
        continue;
      }
      const by = other.row.y + ROW_H / 2 - 2;
      let d: string;
      if (other.box === box || other.box.col === box.col) {
        // Same column: leave and re-enter on the right, bulging out.
        const ax = row.x + row.w;
        const bx = other.row.x + other.row.w;
        const out = Math.max(ax, bx) + 34;
        d = `M ${ax} ${ay} C ${out} ${ay}, ${out} ${by}, ${bx} ${by}`;
      } else {
        const leftFirst = box.col < other.box.col;
        const [l, r] = leftFirst ? [{ row, y: ay }, { row: other.row, y: by }] : [{ row: other.row, y: by }, { row, y: ay }];
        const ax = l.row.x + l.row.w;
        const bx = r.row.x;
        const mid = (ax + bx) / 2;
        d = `M ${ax} ${l.y} C ${mid} ${l.y}, ${mid} ${r.y}, ${bx} ${r.y}`;
      }
      cables.push({
        key: pairKey,
        d,
        live: row.iface.lowerUp && other.row.iface.lowerUp,
        label: strings.mapVethTo(other.row.iface.name, other.box.label),
        from: [row.iface.name, other.row.iface.name].sort()[0]!,
        to: [row.iface.name, other.row.iface.name].sort()[1]!,
      });
    }
  }
  return { cables, dangling };
}

function NetworkView({ map, strings, highlight }: { map: MapSnapshot; strings: UiStrings; highlight: string[] }) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const { boxes, height } = useMemo(() => layoutNetwork(map, width, strings), [map, width, strings]);
  const { cables, dangling } = useMemo(() => cablesOf(boxes, strings), [boxes, strings]);
  const charsFor = (w: number) => Math.max(6, Math.floor(w / 7.2));
  return (
    <div ref={ref} className="w-full" data-map-network>
      <svg
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
        className="block max-w-full"
        aria-hidden="true"
        focusable="false"
        fontFamily="var(--font-sans)"
      >
        <defs>
          <linearGradient id="nsmap-new" x1="0" y1="0" x2="0" y2="1">
            <stop offset="0" stopColor="#f0f9ff" />
            <stop offset="1" stopColor="#ffffff" />
          </linearGradient>
          <filter id="nsmap-shadow" x="-5%" y="-5%" width="110%" height="115%">
            <feDropShadow dx="0" dy="1.5" stdDeviation="2" floodColor="#0f172a" floodOpacity="0.10" />
          </filter>
        </defs>
        {boxes.map((box) => {
          const hasHighlight = box.procs.some((p) => highlight.includes(p.comm));
          return (
            <g
              key={box.netns.inode}
              data-netns-inode={box.netns.inode}
              data-netns-base={box.base ? 'true' : 'false'}
              data-netns-name={box.netns.names[0] ?? ''}
              className="ns-map-appear"
            >
              <rect
                x={box.x}
                y={box.y}
                width={box.w}
                height={box.h}
                rx={14}
                fill={box.base ? '#f8fafc' : 'url(#nsmap-new)'}
                stroke={hasHighlight ? '#f59e0b' : box.base ? '#cbd5e1' : '#38bdf8'}
                strokeWidth={hasHighlight ? 2.5 : box.base ? 1.2 : 2}
                strokeDasharray={box.netns.complete ? undefined : '5 4'}
                filter="url(#nsmap-shadow)"
              />
              <text x={box.x + 14} y={box.y + 22} fontSize={14} fontWeight={700} fill="#0f172a">
                {clip(box.label, charsFor(box.w - 70))}
              </text>
              {!box.base && (
                <g>
                  <rect x={box.x + box.w - 50} y={box.y + 9} width={38} height={18} rx={9} fill="#0284c7" />
                  <text x={box.x + box.w - 31} y={box.y + 22} fontSize={10.5} fontWeight={700} fill="#fff" textAnchor="middle">
                    {strings.mapNew}
                  </text>
                </g>
              )}
              <text x={box.x + 14} y={box.y + 40} fontSize={11} fill="#64748b" fontFamily="var(--font-mono)">
                net:[{inodeText(map, box.netns.inode)}]
              </text>
              {box.rows.length === 0 && (
                <text x={box.x + 14} y={box.y + BOX_HEAD + 24} fontSize={12} fill="#94a3b8">
                  {strings.mapNoInterfaces}
                </text>
              )}
              {box.rows.map((row, i) => {
                const state = ifaceState(row.iface, strings);
                const bridge = row.iface.kind === 'bridge';
                const dot = state.tone === 'up' ? '#10b981' : state.tone === 'nocarrier' ? '#f59e0b' : '#94a3b8';
                const next = box.rows[i + 1];
                return (
                  <g
                    key={row.iface.ifindex}
                    data-iface={row.iface.name}
                    data-iface-kind={row.iface.kind ?? ''}
                    data-iface-state={state.tone}
                    data-iface-master={row.iface.master ?? ''}
                  >
                    {row.port && (
                      <path
                        d={`M ${box.x + PAD + 9} ${row.y - 6} V ${row.y + ROW_H / 2 - 2} H ${row.x}`}
                        fill="none"
                        stroke="#a78bfa"
                        strokeWidth={2}
                        opacity={next?.port ? 1 : 1}
                      />
                    )}
                    <rect
                      x={row.x}
                      y={row.y + 3}
                      width={row.w}
                      height={ROW_H - 10}
                      rx={8}
                      fill={bridge ? '#f5f3ff' : '#ffffff'}
                      stroke={bridge ? '#a78bfa' : state.tone === 'down' ? '#e2e8f0' : '#cbd5e1'}
                      strokeWidth={bridge ? 1.6 : 1}
                    />
                    <circle cx={row.x + 13} cy={row.y + 16} r={4.5} fill={dot}>
                      <title>{state.text}</title>
                    </circle>
                    <text x={row.x + 24} y={row.y + 20} fontSize={13} fontWeight={700} fill="#0f172a" fontFamily="var(--font-mono)">
                      {clip(row.iface.name, 12)}
                    </text>
                    <text x={row.x + row.w - 8} y={row.y + 20} fontSize={10} fontWeight={700} textAnchor="end" fill={state.tone === 'up' ? '#047857' : state.tone === 'nocarrier' ? '#b45309' : '#64748b'}>
                      {[row.iface.kind ?? (row.iface.name === 'lo' ? 'loopback' : ''), state.text].filter(Boolean).join(' · ')}
                    </text>
                    <text x={row.x + 24} y={row.y + 34} fontSize={11} fill="#334155" fontFamily="var(--font-mono)">
                      {clip(row.iface.addresses.filter((a) => !a.startsWith('fe80:')).join('  ') || (row.port ? strings.mapPortOf(row.iface.master ?? '') : '—'), charsFor(row.w - 30))}
                    </text>
                  </g>
                );
              })}
              {(() => {
                const top = box.y + BOX_HEAD + Math.max(1, box.rows.length) * ROW_H + PAD;
                const lines = box.procs.map((p) => `${p.comm}  ·  PID ${pidText(map, p.pid)}`);
                if (box.moreProcs > 0) lines.push(strings.mapMore(box.moreProcs));
                if (lines.length === 0) lines.push(strings.mapNoProcess);
                return (
                  <g>
                    <line x1={box.x + 12} x2={box.x + box.w - 12} y1={top - 4} y2={top - 4} stroke="#e2e8f0" />
                    {lines.map((line, i) => {
                      const p = box.procs[i];
                      const hot = p ? highlight.includes(p.comm) : false;
                      return (
                        <g key={i} data-map-process={p ? p.comm : undefined} data-highlight={hot ? 'true' : undefined}>
                          {hot && <rect x={box.x + 8} y={top + i * PROC_H + 1} width={box.w - 16} height={PROC_H - 3} rx={6} fill="#fef3c7" />}
                          <text x={box.x + 14} y={top + i * PROC_H + 15} fontSize={11.5} fill={hot ? '#92400e' : '#475569'} fontWeight={hot ? 700 : 400}>
                            {clip(line, charsFor(box.w - 28))}
                          </text>
                        </g>
                      );
                    })}
                  </g>
                );
              })()}
            </g>
          );
        })}
        {cables.map((cable) => (
          <g key={cable.key} data-veth-link={`${cable.from}~${cable.to}`} data-live={cable.live ? 'true' : 'false'}>
            <path d={cable.d} fill="none" stroke="#ffffff" strokeWidth={7} strokeLinecap="round" />
            <path
              d={cable.d}
              fill="none"
              stroke={cable.live ? '#10b981' : '#94a3b8'}
              strokeWidth={3}
              strokeLinecap="round"
              strokeDasharray={cable.live ? undefined : '6 5'}
              className={cable.live ? 'ns-map-flow' : undefined}
            >
              <title>{cable.label}</title>
            </path>
          </g>
        ))}
        {dangling.map((d) => (
          <g key={d.key} data-veth-dangling>
            <path d={`M ${d.x} ${d.y} h 22`} stroke="#94a3b8" strokeWidth={3} strokeDasharray="4 4" />
            <circle cx={d.x + 26} cy={d.y} r={3.5} fill="#94a3b8" />
          </g>
        ))}
      </svg>
    </div>
  );
}

// ---------- processes by namespace ----------

function NamespacesView({ map, strings, highlight, focus }: { map: MapSnapshot; strings: UiStrings; highlight: string[]; focus?: NsType }) {
  const order = focus ? [focus, ...nsTypes.filter((t) => t !== focus)] : [...nsTypes];
  const hostname = (inode: number) => map.uts.find((u) => u.inode === inode)?.hostname;
  const mounts = (inode: number) => map.mntns.find((m) => m.inode === inode)?.mounts;
  return (
    <div className="grid gap-2.5" data-map-namespaces>
      {order.map((type) => {
        const groups = groupsOf(map, type);
        const created = groups.filter((g) => !g.base).length;
        return (
          <div
            key={type}
            className={`grid grid-cols-[5.5rem_minmax(0,1fr)] items-start gap-2 rounded-xl px-2 py-2 ${type === focus ? 'bg-sky-50 ring-1 ring-sky-200' : ''}`}
            data-ns-type={type}
            data-ns-created={created}
          >
            <div className="pt-1">
              <div className="font-mono text-sm font-bold text-slate-900">{type}</div>
              <div className="text-[0.7rem] leading-tight text-slate-500">{strings.mapTypeNames[type]}</div>
            </div>
            <div className="flex flex-wrap gap-2">
              {groups.map((group) => {
                const extra = type === 'uts' ? hostname(group.inode) : type === 'mnt' ? mounts(group.inode) : undefined;
                return (
                  <div
                    key={group.inode}
                    className={`min-w-36 rounded-lg border px-2.5 py-1.5 ${
                      group.base ? 'border-slate-200 bg-white' : 'border-sky-300 bg-sky-50/70 shadow-sm'
                    }`}
                    data-ns-inode={group.inode}
                    data-ns-base={group.base ? 'true' : 'false'}
                  >
                    <div className="flex items-center gap-1.5">
                      <span className="font-mono text-[0.72rem] text-slate-600">
                        {type}:[{inodeText(map, group.inode)}]
                      </span>
                      <span
                        className={`rounded-full px-1.5 text-[0.65rem] font-bold ${group.base ? 'bg-slate-100 text-slate-600' : 'bg-sky-700 text-white'}`}
                        title={group.base ? strings.mapBaseLong : undefined}
                      >
                        {group.base ? strings.mapBase : strings.mapNew}
                      </span>
                    </div>
                    {extra !== undefined && (
                      <div className="text-[0.72rem] text-slate-700">
                        {type === 'uts' ? <span className="font-mono">{String(extra)}</span> : strings.mapMounts(Number(extra))}
                      </div>
                    )}
                    <ul className="m-0 mt-1 flex list-none flex-wrap gap-1 p-0">
                      {group.members.slice(0, 8).map((p) => {
                        const hot = highlight.includes(p.comm);
                        return (
                          <li
                            key={p.pid}
                            title={p.cmdline}
                            className={`rounded px-1.5 py-0.5 font-mono text-[0.7rem] ${hot ? 'bg-amber-200 font-bold text-amber-950 ring-1 ring-amber-400' : 'bg-slate-100 text-slate-700'}`}
                            data-map-process={p.comm}
                            data-highlight={hot ? 'true' : undefined}
                          >
                            {p.comm} <span className="text-slate-500">{pidText(map, p.pid)}</span>
                          </li>
                        );
                      })}
                      {group.members.length > 8 && (
                        <li className="px-1 text-[0.7rem] text-slate-500">{strings.mapMore(group.members.length - 8)}</li>
                      )}
                      {group.members.length === 0 && <li className="text-[0.7rem] text-slate-500">{strings.mapNoProcess}</li>}
                    </ul>
                  </div>
                );
              })}
            </div>
          </div>
        );
      })}
    </div>
  );
}

// ---------- tables (screen readers; also a visible view) ----------

function TableView({ map, strings, focus }: { map: MapSnapshot; strings: UiStrings; focus?: NsType }) {
  const order = focus ? [focus, ...nsTypes.filter((t) => t !== focus)] : [...nsTypes];
  const where = (inode: number | null) => {
    const netns = map.netns.find((n) => n.inode === inode);
    return netns ? netnsLabel(map, netns, strings) : inode === null ? '?' : `net:[${inodeText(map, inode)}]`;
  };
  const peerName = (iface: MapInterface, inode: number) => {
    if (!iface.peer) return null;
    const netnsInode = iface.peer.netnsInode ?? inode;
    const peer = map.netns.find((n) => n.inode === netnsInode)?.interfaces.find((i) => i.ifindex === iface.peer?.ifindex);
    return peer ? strings.mapVethTo(peer.name, where(netnsInode)) : strings.mapVethDangling;
  };
  const cell = 'border-b border-slate-200 px-2 py-1 text-left align-top';
  return (
    <div className="grid gap-4 overflow-x-auto text-sm" data-map-table>
      <table className="w-full border-collapse">
        <caption className="mb-1 text-left text-xs font-semibold tracking-wide text-slate-600 uppercase">{strings.mapViewNetwork}</caption>
        <thead>
          <tr className="bg-slate-50">
            <th scope="col" className={cell}>{strings.mapTableNs}</th>
            <th scope="col" className={cell}>{strings.mapTableInterface}</th>
            <th scope="col" className={cell}>{strings.mapTableKind}</th>
            <th scope="col" className={cell}>{strings.mapTableState}</th>
            <th scope="col" className={cell}>{strings.mapTableAddresses}</th>
            <th scope="col" className={cell}>{strings.mapTableLink}</th>
          </tr>
        </thead>
        <tbody>
          {map.netns.flatMap((netns) =>
            netns.interfaces.map((iface) => (
              <tr key={`${netns.inode}/${iface.ifindex}`} data-table-iface={iface.name}>
                <td className={cell}>
                  {netnsLabel(map, netns, strings)} <span className="font-mono text-xs text-slate-500">net:[{inodeText(map, netns.inode)}]</span>
                </td>
                <td className={`${cell} font-mono`}>{iface.name}</td>
                <td className={cell}>{iface.kind ?? (iface.name === 'lo' ? 'loopback' : '')}</td>
                <td className={cell}>{ifaceState(iface, strings).text}</td>
                <td className={`${cell} font-mono text-xs`}>{iface.addresses.filter((a) => !a.startsWith('fe80:')).join(', ')}</td>
                <td className={cell}>
                  {[iface.master ? strings.mapPortOf(iface.master) : null, peerName(iface, netns.inode)].filter(Boolean).join('; ')}
                </td>
              </tr>
            )),
          )}
        </tbody>
      </table>
      <table className="w-full border-collapse">
        <caption className="mb-1 text-left text-xs font-semibold tracking-wide text-slate-600 uppercase">{strings.mapViewNamespaces}</caption>
        <thead>
          <tr className="bg-slate-50">
            <th scope="col" className={cell}>{strings.mapTableType}</th>
            <th scope="col" className={cell}>{strings.mapTableNs}</th>
            <th scope="col" className={cell}>{strings.mapTableMembers}</th>
          </tr>
        </thead>
        <tbody>
          {order.flatMap((type) =>
            groupsOf(map, type).map((group) => (
              <tr key={`${type}/${group.inode}`}>
                <td className={cell}>{strings.mapTypeNames[type]}</td>
                <td className={cell}>
                  <span className="font-mono">
                    {type}:[{group.inode}]
                  </span>{' '}
                  ({group.base ? strings.mapBase : strings.mapNew})
                </td>
                <td className={cell}>{group.members.map((p) => `${p.comm} (${pidText(map, p.pid)})`).join(', ') || strings.mapNoProcess}</td>
              </tr>
            )),
          )}
        </tbody>
      </table>
    </div>
  );
}
