// The snapshot of one sandbox's kernel state, as the agent reads it from the HOST side
// (/proc/<host-pid>/..., netlink through the host's own `ip`). Checks in labs/ read only this.
// Written once, imported by the agent (producer), labs (checks) and the browser (namespace map).
// No DOM and no Node APIs in this module.
import { z } from 'zod';

/** Namespace link names found in /proc/PID/ns/. */
export const namespaceTypes = [
  'cgroup',
  'ipc',
  'mnt',
  'net',
  'pid',
  'pid_for_children',
  'time',
  'time_for_children',
  'user',
  'uts',
] as const;
export type NamespaceType = (typeof namespaceTypes)[number];

/** type -> inode, e.g. { net: 4026532201 }. Missing keys: the link could not be read. */
export const namespaceInodesSchema = z.record(z.string(), z.number().int().nonnegative());
export type NamespaceInodes = z.infer<typeof namespaceInodesSchema>;

export const processSchema = z.object({
  /** PID in the host's initial PID namespace (what the agent used to read /proc). */
  hostPid: z.number().int().positive(),
  /** PID as the learner sees it in the sandbox's own (top-level) PID namespace. */
  pid: z.number().int().positive(),
  /** NSpid from the sandbox's PID namespace downwards: [pid, pid-in-nested-ns, ...]. */
  nsPids: z.array(z.number().int().positive()).min(1),
  /** Parent PID in the sandbox's PID namespace; 0 when the parent is outside the sandbox. */
  ppid: z.number().int().nonnegative(),
  /** /proc/PID/comm (max 15 chars; the learner can change it with prctl, so never trust it alone). */
  comm: z.string(),
  /** /proc/PID/cmdline split on NUL (the learner controls it). */
  cmdline: z.array(z.string()),
  /** Real uid as seen inside the sandbox's user namespace (host uid minus the sandbox's base). */
  uid: z.number().int(),
  /** /proc/PID/status State letter: R, S, D, Z, T... */
  state: z.string(),
  ns: namespaceInodesSchema,
});
export type ProcessInfo = z.infer<typeof processSchema>;

export const addressSchema = z.object({
  family: z.enum(['inet', 'inet6']),
  address: z.string(),
  prefixLen: z.number().int().min(0).max(128),
});
export type InterfaceAddress = z.infer<typeof addressSchema>;

export const interfaceSchema = z.object({
  name: z.string(),
  ifindex: z.number().int().positive(),
  /** Link kind from `ip -d`: 'veth', 'bridge', 'dummy', ... ; null for loopback and plain devices. */
  kind: z.string().nullable(),
  /** operstate as the kernel reports it: UP, DOWN, UNKNOWN (loopback when up), LOWERLAYERDOWN... */
  operState: z.string(),
  /** IFF_* flags, e.g. ['LOOPBACK','UP','LOWER_UP']. 'UP' here means administratively up. */
  flags: z.array(z.string()),
  mac: z.string().nullable(),
  mtu: z.number().int().nonnegative(),
  /** Name of the bridge (or other master) this interface is enslaved to, if any. */
  master: z.string().nullable(),
  /** For veth: the peer's ifindex and the inode of the netns holding it (null when unknown). */
  peer: z
    .object({ ifindex: z.number().int().nonnegative(), netnsInode: z.number().int().nullable() })
    .nullable(),
  addresses: z.array(addressSchema),
});
export type InterfaceInfo = z.infer<typeof interfaceSchema>;

export const netnsSchema = z.object({
  inode: z.number().int().nonnegative(),
  /** Host PID of one process in this namespace that the agent used to read it. */
  viaHostPid: z.number().int().positive(),
  interfaces: z.array(interfaceSchema),
  /** False when the agent could not read this namespace (process ended, timeout). */
  complete: z.boolean(),
});
export type NetnsInfo = z.infer<typeof netnsSchema>;

export const utsSchema = z.object({ inode: z.number().int().nonnegative(), hostname: z.string() });
export type UtsInfo = z.infer<typeof utsSchema>;

export const snapshotSchema = z.object({
  /** Milliseconds since the epoch when reading started. */
  takenAtMs: z.number(),
  /** How long building the snapshot took. */
  durationMs: z.number().nonnegative(),
  sandbox: z.object({
    id: z.string(),
    /** Host PID of the sandbox's init (PID 1 inside). */
    initHostPid: z.number().int().positive(),
    /** The namespaces the sandbox itself was started in (those of its PID 1): the "base". */
    baseNs: namespaceInodesSchema,
    /** First host uid of the sandbox's uid range (sandbox uid 0 = this host uid). */
    uidBase: z.number().int().nonnegative(),
  }),
  processes: z.array(processSchema),
  netns: z.array(netnsSchema),
  uts: z.array(utsSchema),
  /** Non-fatal problems met while reading (a process that ended mid-read is not one of them). */
  warnings: z.array(z.string()),
});
export type Snapshot = z.infer<typeof snapshotSchema>;
