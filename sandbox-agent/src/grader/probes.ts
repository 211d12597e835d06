// Host-side probes a lab step declares (labs/core/model.ts ProbeSpec), run by the agent just before
// the checks so that checks stay pure: today one kind, `ping`. The host's own /usr/bin/ping runs
// inside ONE network namespace OF THE SANDBOX (entered through an fd whose inode is proven by
// openNetnsFd, never the host's namespace), bounded in count and time, and only towards an address
// that an interface of the sandbox's own namespaces holds in the snapshot (the lab's topology). The
// sandbox's namespaces have no route out by construction, so nothing can leave the sandbox anyway.
// ping runs UNPRIVILEGED: after nsenter (host root) has joined the namespace, setpriv drops to the
// sandbox's own host uid (uid 0 inside it) with no groups and no_new_privs (so ping's file
// capability is not granted): it then has no capability on the host, only those the kernel gives the
// owner of the sandbox's user namespace over the sandbox's own objects (a raw ICMP socket there).
import type { ProbeSpec, NetnsSelector } from '../../../labs/core/model';
import type { ProbeResult, Snapshot } from '../../../labs/core/snapshot';
import { runInNetnsFd } from './exec';
import { hostNetInodes, openNetnsFd, type NetnsHandle } from './netns-handle';
import * as fs from 'node:fs';

const PING = '/usr/bin/ping';
const SETPRIV = '/usr/bin/setpriv';

/** The command that runs ping as the sandbox's host uid (never host root), no new privileges. */
export function unprivilegedPing(uidBase: number, pingArgs: string[]): { file: string; args: string[] } {
  if (!Number.isInteger(uidBase) || uidBase < 100_000) throw new Error(`refusing to ping as host uid ${uidBase}`);
  const id = String(uidBase);
  return { file: SETPRIV, args: [`--reuid=${id}`, `--regid=${id}`, '--clear-groups', '--no-new-privs', '--', PING, ...pingArgs] };
}
export const probeLimits = { maxProbes: 8, maxCount: 3, minTimeoutMs: 200, maxTimeoutMs: 3_000 } as const;

const ipv4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Every IPv4 address some interface of the sandbox's network namespaces holds. */
export function sandboxAddresses(snapshot: Snapshot): Set<string> {
  const out = new Set<string>();
  for (const n of snapshot.netns) {
    for (const i of n.interfaces) for (const a of i.addresses) if (a.family === 'inet') out.add(a.address);
  }
  return out;
}

/** The sandbox network namespace a selector names, and how to reach it; null when none matches. */
export function resolveSelector(snapshot: Snapshot, from: NetnsSelector): NetnsHandle | null {
  const base = snapshot.sandbox.baseNs.net;
  let inode: number | undefined;
  if ('base' in from) inode = base;
  else if ('holdingAddress' in from) {
    inode = snapshot.netns.find(
      (n) => n.inode !== base && n.interfaces.some((i) => i.addresses.some((a) => a.family === 'inet' && a.address === from.holdingAddress)),
    )?.inode;
  } else inode = snapshot.namedNetns?.find((n) => n.name === from.named)?.inode;
  if (inode === undefined) return null;
  const netns = snapshot.netns.find((n) => n.inode === inode);
  if (!netns) return null;
  // Held by a process of the sandbox: enter through that process.
  const member = snapshot.processes.find((p) => p.ns.net === inode);
  if (member) return { inode, hostPid: member.hostPid };
  // Held only by a /run/netns bind mount: enter through the mount namespace holding it.
  const named = snapshot.namedNetns?.find((n) => n.inode === inode);
  const mnt = named ? snapshot.mntns?.find((m) => m.inode === named.mntInode) : undefined;
  if (named && mnt && snapshot.processes.some((p) => p.hostPid === mnt.viaHostPid)) {
    return { inode, hostPid: mnt.viaHostPid, mountPoint: `/run/netns/${named.name}` };
  }
  return null;
}

export function validateProbe(spec: ProbeSpec): string | null {
  if (spec.kind !== 'ping') return `unknown probe kind`;
  if (!ipv4.test(spec.to)) return `target ${spec.to} is not a literal IPv4 address`;
  if (!Number.isInteger(spec.count) || spec.count < 1 || spec.count > probeLimits.maxCount) return 'count out of range';
  if (!(spec.timeoutMs >= probeLimits.minTimeoutMs && spec.timeoutMs <= probeLimits.maxTimeoutMs)) return 'timeoutMs out of range';
  return null;
}

export function parsePingSummary(output: string): { transmitted: number; received: number } {
  const m = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(output);
  return m ? { transmitted: Number(m[1]), received: Number(m[2]) } : { transmitted: 0, received: 0 };
}

async function runOne(spec: ProbeSpec, snapshot: Snapshot): Promise<ProbeResult> {
  const started = performance.now();
  const skipped = (reason: string, fromNetnsInode: number | null = null): ProbeResult => ({
    id: spec.id,
    kind: 'ping',
    fromNetnsInode,
    to: spec.to,
    status: 'skipped',
    ok: false,
    transmitted: 0,
    received: 0,
    reason,
    durationMs: performance.now() - started,
  });
  const invalid = validateProbe(spec);
  if (invalid) return skipped(`invalid probe: ${invalid}`);
  // Only addresses of the sandbox's own topology, as the host read it.
  if (!sandboxAddresses(snapshot).has(spec.to)) return skipped(`no interface of the sandbox holds ${spec.to}`);
  const handle = resolveSelector(snapshot, spec.from);
  if (!handle) return skipped('no network namespace of the sandbox matches the probe');
  if (hostNetInodes().has(handle.inode)) return skipped('refusing to enter the host network namespace', handle.inode);
  const fd = openNetnsFd(handle);
  if (fd === null) return skipped('the namespace went away before the probe', handle.inode);
  try {
    const waitS = Math.max(0.2, spec.timeoutMs / 1000 / spec.count).toFixed(1);
    const deadlineS = String(Math.max(1, Math.ceil(spec.timeoutMs / 1000)));
    const cmd = unprivilegedPing(snapshot.sandbox.uidBase, ['-n', '-q', '-c', String(spec.count), '-i', '0.2', '-W', waitS, '-w', deadlineS, spec.to]);
    const res = await runInNetnsFd(fd, cmd.file, cmd.args, spec.timeoutMs + 500);
    const { transmitted, received } = parsePingSummary(res.stdout);
    const ok = res.ok && received > 0;
    return {
      id: spec.id,
      kind: 'ping',
      fromNetnsInode: handle.inode,
      to: spec.to,
      status: 'ran',
      ok,
      transmitted,
      received,
      ...(ok ? {} : { reason: (res.error ?? 'no reply').slice(0, 200) }),
      durationMs: performance.now() - started,
    };
  } finally {
    fs.closeSync(fd);
  }
}

/** Runs the probes (deduplicated by id, at most maxProbes) in parallel; never throws. */
export async function runProbes(specs: ProbeSpec[], snapshot: Snapshot): Promise<ProbeResult[]> {
  const unique = [...new Map(specs.map((s) => [s.id, s])).values()].slice(0, probeLimits.maxProbes);
  return Promise.all(
    unique.map((spec) =>
      runOne(spec, snapshot).catch(
        (error: unknown): ProbeResult => ({
          id: spec.id,
          kind: 'ping',
          fromNetnsInode: null,
          to: spec.to,
          status: 'skipped',
          ok: false,
          transmitted: 0,
          received: 0,
          reason: `probe failed: ${error instanceof Error ? error.message : String(error)}`.slice(0, 200),
          durationMs: 0,
        }),
      ),
    ),
  );
}
