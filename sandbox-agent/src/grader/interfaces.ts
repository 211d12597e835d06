// A network namespace's interfaces from `ip -j -d addr show` (or nsread's answer, which has the
// same shape): the fields the labs check, bounded, and veth peers matched across namespaces.
import type { InterfaceInfo } from '../../../labs/core/snapshot';
import { snapshotLimits } from './limits';

/** The subset of `ip -j -d addr show` output we read. */
interface IpLink {
  ifindex?: number;
  ifname?: string;
  flags?: string[];
  mtu?: number;
  operstate?: string;
  address?: string;
  master?: string;
  link_index?: number;
  /** Peer's name when it is in the same namespace (ip prints no link_index then). */
  link?: string;
  link_netnsid?: number;
  linkinfo?: { info_kind?: string };
  addr_info?: Array<{ family?: string; local?: string; prefixlen?: number }>;
}

export interface ParsedIface {
  info: InterfaceInfo;
  linkIndex: number | null;
  linkName: string | null;
  otherNetns: boolean;
}

export function parseIpJson(stdout: string, warnings: string[], nsInode: number, total?: number): ParsedIface[] {
  let data: unknown;
  try {
    data = JSON.parse(stdout);
  } catch {
    warnings.push(`net:[${nsInode}]: could not parse ip -j output`);
    return [];
  }
  if (!Array.isArray(data)) return [];
  const count = Math.max(data.length, total ?? 0);
  if (count > snapshotLimits.maxInterfacesPerNetns) {
    warnings.push(
      `net:[${nsInode}] has ${count} interfaces; only the first ${snapshotLimits.maxInterfacesPerNetns} are reported`,
    );
  }
  const out: ParsedIface[] = [];
  for (const raw of data.slice(0, snapshotLimits.maxInterfacesPerNetns) as IpLink[]) {
    if (typeof raw !== 'object' || raw === null) continue;
    if (typeof raw.ifindex !== 'number' || raw.ifindex < 1 || typeof raw.ifname !== 'string') continue;
    const kind = typeof raw.linkinfo?.info_kind === 'string' ? raw.linkinfo.info_kind : null;
    const addresses = (Array.isArray(raw.addr_info) ? raw.addr_info : [])
      .filter(
        (a) =>
          (a.family === 'inet' || a.family === 'inet6') &&
          typeof a.local === 'string' &&
          typeof a.prefixlen === 'number' &&
          a.prefixlen >= 0 &&
          a.prefixlen <= 128,
      )
      .slice(0, snapshotLimits.maxAddressesPerInterface)
      .map((a) => ({ family: a.family as 'inet' | 'inet6', address: a.local!, prefixLen: a.prefixlen! }));
    out.push({
      info: {
        name: raw.ifname,
        ifindex: raw.ifindex,
        kind,
        operState: typeof raw.operstate === 'string' ? raw.operstate : 'UNKNOWN',
        flags: Array.isArray(raw.flags) ? raw.flags.filter((f): f is string => typeof f === 'string') : [],
        mac: typeof raw.address === 'string' ? raw.address : null,
        mtu: typeof raw.mtu === 'number' && raw.mtu >= 0 ? raw.mtu : 0,
        master: typeof raw.master === 'string' ? raw.master : null,
        peer: null,
        addresses,
      },
      linkIndex: typeof raw.link_index === 'number' ? raw.link_index : null,
      linkName: typeof raw.link === 'string' ? raw.link : null,
      otherNetns: typeof raw.link_netnsid === 'number',
    });
  }
  return out;
}

/** Fill veth peers: same netns when ip says so, else the unique mutual match in another netns. */
export function matchPeers(parsed: Map<number, ParsedIface[]>): void {
  for (const [inode, ifaces] of parsed) {
    for (const p of ifaces) {
      if (p.info.kind !== 'veth') continue;
      if (p.linkIndex === null && p.linkName !== null && !p.otherNetns) {
        // Both ends in this namespace: ip names the peer instead of giving its index.
        const peer = ifaces.find((o) => o.info.name === p.linkName && o.info.kind === 'veth');
        if (peer) p.info.peer = { ifindex: peer.info.ifindex, netnsInode: inode };
        continue;
      }
      if (p.linkIndex === null) continue;
      if (!p.otherNetns) {
        p.info.peer = { ifindex: p.linkIndex, netnsInode: inode };
        continue;
      }
      const candidates: number[] = [];
      for (const [otherInode, others] of parsed) {
        if (otherInode === inode) continue;
        if (others.some((o) => o.info.kind === 'veth' && o.info.ifindex === p.linkIndex && o.linkIndex === p.info.ifindex)) {
          candidates.push(otherInode);
        }
      }
      p.info.peer = { ifindex: p.linkIndex, netnsInode: candidates.length === 1 ? candidates[0]! : null };
    }
  }
}
