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
  /** CapEff from /proc/PID/status (hex), relative to the process's own user namespace. */
  capEff: z.string().optional(),
  /**
   * The program it runs, read from the host: /proc/PID/exe's target as the agent sees it, and the
   * device and inode of that file (stat through the link). Unlike comm and argv[0], the learner
   * cannot choose it: a symlink /tmp/sleep -> /bin/bash runs bash's inode. null: unreadable (a
   * zombie, a kernel thread); absent: recorded before the agent read it.
   */
  exe: z.object({ path: z.string(), dev: z.number().int().nonnegative(), ino: z.number().int().nonnegative() }).nullable().optional(),
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
  /**
   * Names under which it is bind-mounted at /run/netns/<name> (`ip netns add`). A named namespace
   * that no process holds is read through its bind mount; viaHostPid is then the process whose
   * mount namespace holds that mount.
   */
  names: z.array(z.string()).optional(),
});
export type NetnsInfo = z.infer<typeof netnsSchema>;

export const utsSchema = z.object({
  inode: z.number().int().nonnegative(),
  hostname: z.string(),
  /** Inode of the user namespace that owns it (ioctl NS_GET_USERNS from the host); absent when unknown. */
  ownerUserns: z.number().int().positive().optional(),
});
export type UtsInfo = z.infer<typeof utsSchema>;

/** One line of /proc/PID/mountinfo, as seen from that process's root. */
export const mountSchema = z.object({
  mountId: z.number().int().nonnegative(),
  parentId: z.number().int().nonnegative(),
  mountPoint: z.string(),
  /** Root of the mount within its filesystem (e.g. `/` or, for nsfs, `net:[4026532201]`). */
  root: z.string(),
  fsType: z.string(),
  source: z.string(),
});
export type MountInfo = z.infer<typeof mountSchema>;

export const mntnsSchema = z.object({
  inode: z.number().int().nonnegative(),
  /** Host PID of the member whose mountinfo was read. */
  viaHostPid: z.number().int().positive(),
  mounts: z.array(mountSchema),
  /** False when the member ended or changed namespace while being read. */
  complete: z.boolean(),
  /** True when the mount table was longer than the cap and was cut. */
  truncated: z.boolean(),
});
export type MntnsInfo = z.infer<typeof mntnsSchema>;

/** One line of uid_map/gid_map: `inside` ids map to `outside` ids of the HOST (as the agent reads it). */
export const idMapEntrySchema = z.object({
  inside: z.number().int().nonnegative(),
  outside: z.number().int().nonnegative(),
  count: z.number().int().nonnegative(),
});
export type IdMapEntry = z.infer<typeof idMapEntrySchema>;

export const usernsSchema = z.object({
  inode: z.number().int().nonnegative(),
  viaHostPid: z.number().int().positive(),
  /** Empty when nothing was written yet (then every id shows as the overflow id 65534 inside). */
  uidMap: z.array(idMapEntrySchema),
  gidMap: z.array(idMapEntrySchema),
  /** Host uid of the owner (its creator's euid); null when unknown or not probed (the agent asks the kernel only when the sandbox has more than one user namespace). */
  ownerHostUid: z.number().int().nonnegative().nullable(),
  /** Inode of the parent user namespace, null when unknown. */
  parentInode: z.number().int().nonnegative().nullable(),
});
export type UsernsInfo = z.infer<typeof usernsSchema>;

export const pidnsSchema = z.object({
  inode: z.number().int().nonnegative(),
  /** 0 for the sandbox's own PID namespace, 1 for one nested in it, ... */
  level: z.number().int().nonnegative(),
  /** Its PID 1 (the member whose last NSpid is 1), null when it has none (e.g. `unshare -p` without -f). */
  init: z.object({ hostPid: z.number().int().positive(), pid: z.number().int().positive() }).nullable(),
  /** How many processes of the snapshot live in it. */
  members: z.number().int().nonnegative(),
});
export type PidnsInfo = z.infer<typeof pidnsSchema>;

/** A network namespace bind-mounted at /run/netns/<name> in some mount namespace of the sandbox. */
export const namedNetnsSchema = z.object({
  name: z.string(),
  inode: z.number().int().nonnegative(),
  mntInode: z.number().int().nonnegative(),
});
export type NamedNetns = z.infer<typeof namedNetnsSchema>;

/** The result of a host-side probe a lab step asked for (see labs/core/model.ts ProbeSpec). */
export const probeResultSchema = z.object({
  /** The probe's id as the lab declared it. */
  id: z.string(),
  kind: z.literal('ping'),
  /** The network namespace it ran in (null: the selector matched none, nothing ran). */
  fromNetnsInode: z.number().int().nullable(),
  to: z.string(),
  /** ran: a ping was sent; skipped: a precondition was missing (see reason). */
  status: z.enum(['ran', 'skipped']),
  ok: z.boolean(),
  transmitted: z.number().int().nonnegative(),
  received: z.number().int().nonnegative(),
  /** Why it was skipped or what ping printed on failure (one line). */
  reason: z.string().optional(),
  durationMs: z.number().nonnegative(),
});
export type ProbeResult = z.infer<typeof probeResultSchema>;

/**
 * A time namespace's clock offsets, from the host's /proc/PID/timens_offsets of a process whose
 * time_for_children it is (seconds, with the nanoseconds as a fraction; may be negative).
 */
export const timensSchema = z.object({
  inode: z.number().int().nonnegative(),
  viaHostPid: z.number().int().positive(),
  monotonicSec: z.number(),
  boottimeSec: z.number(),
});
export type TimensInfo = z.infer<typeof timensSchema>;

/**
 * System V IPC objects of one IPC namespace, read from /proc/sysvipc/* by a host reader that joined
 * only that IPC namespace (read only when the sandbox has more than one IPC namespace).
 */
export const ipcnsSchema = z.object({
  inode: z.number().int().nonnegative(),
  viaHostPid: z.number().int().positive(),
  /** Message queues (at most 32 listed): key as a number (0 = IPC_PRIVATE) and msqid. */
  msgQueues: z.array(z.object({ key: z.number().int(), id: z.number().int().nonnegative() })),
  shmSegments: z.number().int().nonnegative(),
  semSets: z.number().int().nonnegative(),
});
export type IpcnsInfo = z.infer<typeof ipcnsSchema>;

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
    /**
     * The sandbox's own programs as files (its /usr is the host's, bound read-only): name ->
     * device and inode of /usr/bin/<name>, stat'ed on the host side where the learner cannot
     * mount over them. A process runs `sleep` when its exe has this identity (see isSleep).
     */
    programs: z.record(z.string(), z.object({ dev: z.number().int().nonnegative(), ino: z.number().int().nonnegative() })).optional(),
  }),
  processes: z.array(processSchema),
  netns: z.array(netnsSchema),
  uts: z.array(utsSchema),
  /** Mount tables per mount namespace (optional: older fixtures have none). */
  mntns: z.array(mntnsSchema).optional(),
  /** uid/gid maps per user namespace. */
  userns: z.array(usernsSchema).optional(),
  /** PID namespaces and their PID 1. */
  pidns: z.array(pidnsSchema).optional(),
  /** Named network namespaces (/run/netns/<name>). */
  namedNetns: z.array(namedNetnsSchema).optional(),
  /** Time namespaces other than the sandbox's own, with their offsets. */
  timens: z.array(timensSchema).optional(),
  /** SysV IPC objects per IPC namespace (present only when the sandbox has more than one). */
  ipcns: z.array(ipcnsSchema).optional(),
  /** Non-fatal problems met while reading (a process that ended mid-read is not one of them). */
  warnings: z.array(z.string()),
});
export type Snapshot = z.infer<typeof snapshotSchema>;
