// Network namespaces: interfaces, addresses and the bridge/veth topology of a Snapshot, what `ip
// addr`/`ip link` printed, and host-side probe results.
// Pure functions: no DOM, no Node APIs (imported by the agent, the app and tests).
import type { Observation } from './model';
import { baseNs, nsLabel } from './procs';
import { programOf } from './shell';
import { stripAnsi } from './transcript';
import type { InterfaceInfo, NetnsInfo, ProbeResult, Snapshot } from './snapshot';

/** The network namespace with this inode, as the agent read it. */
export function netnsOf(snapshot: Snapshot, inode: number | undefined): NetnsInfo | undefined {
  if (inode === undefined) return undefined;
  return snapshot.netns.find((n) => n.inode === inode);
}

export function isLoopback(iface: InterfaceInfo): boolean {
  return iface.name === 'lo' || iface.flags.includes('LOOPBACK');
}

/** True when the namespace was fully read and holds exactly one interface: its loopback `lo`. */
export function onlyLoopback(netns: NetnsInfo | undefined): boolean {
  if (!netns || !netns.complete) return false;
  const [only, ...rest] = netns.interfaces;
  return only !== undefined && rest.length === 0 && only.name === 'lo' && isLoopback(only);
}

export function loopbackOf(netns: NetnsInfo | undefined): InterfaceInfo | undefined {
  return netns?.interfaces.find((i) => i.name === 'lo');
}

/** True when the interface is administratively up (IFF_UP). */
export function isUp(iface: InterfaceInfo): boolean {
  return iface.flags.includes('UP');
}

/** The state a learner would read in `ip a` for this interface: UP, DOWN, UNKNOWN... */
export function ifaceState(iface: InterfaceInfo): string {
  if (iface.operState && iface.operState !== 'UNKNOWN') return iface.operState;
  return isUp(iface) ? 'UNKNOWN' : 'DOWN';
}

/** Names of the interfaces of a namespace, e.g. 'lo, veth1'. */
export function interfaceNames(netns: NetnsInfo | undefined): string[] {
  return netns ? netns.interfaces.map((i) => i.name) : [];
}

export interface ListedInterface {
  name: string;
  /** `state DOWN` from `ip a`/`ip link`, or the brief state column; null when not shown. */
  state: string | null;
}

const operStates = 'UP|DOWN|UNKNOWN|LOWERLAYERDOWN|DORMANT|NOTPRESENT|TESTING';

/**
 * Interfaces an `ip addr` / `ip link` output lists, in any of its formats: normal
 * (`1: lo: <LOOPBACK> ... state DOWN`), one-line (`-o`), brief (`-br`) and JSON (`-j`).
 */
export function interfacesInIpOutput(output: string): ListedInterface[] {
  const text = stripAnsi(output);
  const found = new Map<string, ListedInterface>();
  const add = (name: string, state: string | null) => {
    const existing = found.get(name);
    if (!existing) found.set(name, { name, state });
    else if (existing.state === null && state !== null) existing.state = state;
  };
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (Array.isArray(parsed)) {
        for (const item of parsed) {
          if (item && typeof item === 'object' && 'ifname' in item && typeof item.ifname === 'string') {
            const state = 'operstate' in item && typeof item.operstate === 'string' ? item.operstate : null;
            add(item.ifname, state);
          }
        }
        return [...found.values()];
      }
    } catch {
      // not JSON after all: fall through to the text formats
    }
  }
  const full = /^\d+:\s+([^\s:@]+)(?:@[^\s:]+)?:\s+</;
  const oneLineAddr = /^\d+:\s+([^\s:@]+)(?:@\S+)?\s+inet6?\s/;
  const brief = new RegExp(`^([^\\s@]+)(?:@\\S+)?\\s+(${operStates})(?:\\s|$)`);
  for (const line of text.split('\n')) {
    const f = full.exec(line);
    if (f?.[1]) {
      const state = new RegExp(`\\bstate (${operStates})\\b`).exec(line);
      add(f[1], state?.[1] ?? null);
      continue;
    }
    const o = oneLineAddr.exec(line);
    if (o?.[1]) {
      add(o[1], null);
      continue;
    }
    const b = brief.exec(line);
    if (b?.[1]) add(b[1], b[2] ?? null);
  }
  return [...found.values()];
}

/**
 * If these words are an `ip` invocation that lists interfaces of the current namespace without
 * filtering them (`ip a`, `ip addr show`, `ip -br a`, `ip link`, `ip -c l s`...), returns which
 * object it shows; otherwise null. `ip -n NAME ...`, `ip a show dev X` and changes are rejected.
 */
export function ipListingObject(words: string[]): 'address' | 'link' | null {
  if (programOf(words) !== 'ip') return null;
  let k = 1;
  for (; k < words.length; k++) {
    const w = words[k] as string;
    if (!w.startsWith('-')) break;
    // -n/-netns/-b/-batch switch namespace or read commands from elsewhere: not a plain listing.
    if (/^-(n|ne|net|netn|netns|b|ba|bat|batch|force)$/.test(w)) return null;
    if (/^-(f|fa|fam|family|rc|rcvbuf)$/.test(w)) k++; // options that take an argument
  }
  const object = words[k];
  if (object === undefined) return null;
  const isPrefix = (full: string) => object.length > 0 && full.startsWith(object);
  const kind = isPrefix('address') ? 'address' : isPrefix('link') ? 'link' : null;
  if (!kind) return null;
  const rest = words.slice(k + 1);
  if (rest.length === 0) return kind;
  const verb = rest[0] as string;
  const verbOk = ['show', 'list', 'lst', 'ls'].some((v) => v.startsWith(verb)) && verb.length > 0;
  return verbOk && rest.length === 1 ? kind : null;
}

/** Every network namespace of the sandbox other than its own (held by a process or named). */
export function otherNetns(snapshot: Snapshot): NetnsInfo[] {
  const base = baseNs(snapshot, 'net');
  return snapshot.netns.filter((n) => n.inode !== base);
}

export function interfaceNamed(netns: NetnsInfo | undefined, name: string): InterfaceInfo | undefined {
  return netns?.interfaces.find((i) => i.name === name);
}

/** The IPv4 addresses of an interface as `a.b.c.d/len`. */
export function inetAddresses(iface: InterfaceInfo | undefined): string[] {
  return iface ? iface.addresses.filter((a) => a.family === 'inet').map((a) => `${a.address}/${a.prefixLen}`) : [];
}

/** True when the interface holds exactly this IPv4 address with this prefix length. */
export function hasInetAddress(iface: InterfaceInfo | undefined, address: string, prefixLen: number): boolean {
  return !!iface?.addresses.some((a) => a.family === 'inet' && a.address === address && a.prefixLen === prefixLen);
}

/** Interfaces of a namespace enslaved to the bridge with this name (its ports). */
export function bridgePorts(netns: NetnsInfo | undefined, bridge: string): InterfaceInfo[] {
  return netns ? netns.interfaces.filter((i) => i.master === bridge) : [];
}

/** The other end of a veth, wherever it lives in the sandbox (undefined when unknown). */
export function vethPeer(snapshot: Snapshot, iface: InterfaceInfo): { netns: NetnsInfo; iface: InterfaceInfo } | undefined {
  if (iface.kind !== 'veth' || !iface.peer || iface.peer.netnsInode === null) return undefined;
  const netns = netnsOf(snapshot, iface.peer.netnsInode);
  const peer = netns?.interfaces.find((i) => i.ifindex === iface.peer?.ifindex);
  return netns && peer ? { netns, iface: peer } : undefined;
}

/** `net:[4026532201]` or `net:[4026532201] (ns1)` when it is a named namespace. */
export function netnsLabel(netns: NetnsInfo): string {
  return netns.names && netns.names.length > 0 ? `${nsLabel('net', netns.inode)} (${netns.names.join(', ')})` : nsLabel('net', netns.inode);
}

/** The result of the host-side probe with this id, if the agent ran or skipped it. */
export function probeResult(observation: Observation, id: string): ProbeResult | undefined {
  return observation.probes?.find((p) => p.id === id);
}
