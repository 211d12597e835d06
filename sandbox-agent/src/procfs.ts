// The agent's one reader of /proc/<pid>/...: status fields, namespace links, exe, cmdline, and
// bounded asynchronous reads of the kernel-generated files (mountinfo, uid_map, net/*). The driver
// (starting, finding and ending a sandbox's processes) and the grader's snapshot readers both read
// processes through here, so "what a process is" is parsed once. Everything is read from the HOST
// side and every process may vanish mid-read: each reader returns null / false / [] then, never
// throws. (nsread, sandbox-agent/native, reads the same files in one batch when it runs; the
// snapshot decodes its answer with the parsers below, so both paths give the same result.)
import * as fs from 'node:fs';
import { namespaceTypes, type NamespaceInodes } from '../../labs/core/snapshot';

/** `/proc/<pid>/status` as `Field -> value` (value trimmed). */
export function parseStatus(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) fields.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return fields;
}

/** The status text of a process; null when it is gone. */
export function readStatusText(pid: number): string | null {
  try {
    return fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
}

export function readStatus(pid: number): Map<string, string> | null {
  const text = readStatusText(pid);
  return text === null ? null : parseStatus(text);
}

/** Running: not gone, not a zombie. */
export function processRuns(pid: number): boolean {
  const text = readStatusText(pid);
  return text !== null && !/^State:\s+Z/m.test(text);
}

/** The parent's host PID; null when the process is gone. */
export function readPpid(pid: number): number | null {
  const m = /^PPid:\s+(\d+)$/m.exec(readStatusText(pid) ?? '');
  return m ? Number(m[1]) : null;
}

/** PID 1 of a PID namespace one level below ours (NSpid: <host pid> 1). */
export function isNamespaceInit(pid: number): boolean {
  const m = /^NSpid:\s+(.*)$/m.exec(readStatusText(pid) ?? '');
  const ids = m ? m[1]!.trim().split(/\s+/) : [];
  return ids.length === 2 && ids[1] === '1';
}

/** The link text of /proc/<pid>/ns/<type> (`net:[4026531840]`); null when unreadable. */
export function nsLink(pid: number | 'self', type: string): string | null {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/${type}`);
  } catch {
    return null;
  }
}

/** The inode a namespace link names; null when unreadable. */
export function nsInode(pid: number | 'self', type: string): number | null {
  const m = /^[a-z_]+:\[(\d+)\]$/.exec(nsLink(pid, type) ?? '');
  return m ? Number(m[1]) : null;
}

/** Every namespace inode of a process this kernel shows. */
export function readNsInodes(pid: number): NamespaceInodes {
  const ns: NamespaceInodes = {};
  for (const type of namespaceTypes) {
    const inode = nsInode(pid, type);
    if (inode !== null) ns[type] = inode;
  }
  return ns;
}

/** /proc/PID/exe as the host sees it: the target path and the file's device and inode. */
export type ExeIdentity = { path: string; dev: number; ino: number };

export function readExe(pid: number): ExeIdentity | null {
  try {
    const target = fs.readlinkSync(`/proc/${pid}/exe`);
    const st = fs.statSync(`/proc/${pid}/exe`);
    return { path: target.slice(0, 256), dev: st.dev, ino: st.ino };
  } catch {
    return null;
  }
}

/** A process's argv from its NUL-separated cmdline bytes: at most maxBytes and maxArgs. */
export function splitCmdline(buf: Buffer, maxBytes: number, maxArgs: number): string[] {
  const parts = buf.subarray(0, maxBytes).toString('utf8').split('\0');
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts.slice(0, maxArgs);
}

export function readCmdline(pid: number, maxBytes: number, maxArgs: number): string[] {
  let buf: Buffer;
  try {
    const fd = fs.openSync(`/proc/${pid}/cmdline`, 'r');
    try {
      buf = Buffer.alloc(maxBytes);
      buf = buf.subarray(0, fs.readSync(fd, buf, 0, buf.length, 0));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return [];
  }
  return splitCmdline(buf, maxBytes, maxArgs);
}

export function readComm(pid: number): string | null {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8');
  } catch {
    return null;
  }
}

/**
 * Reads a /proc file asynchronously (the kernel generates it on a libuv thread, not on the event
 * loop), at most maxBytes; `cut`: there was more.
 */
export async function readBoundedAsync(file: string, maxBytes: number): Promise<{ text: string; cut: boolean } | null> {
  let handle: fs.promises.FileHandle | null = null;
  try {
    handle = await fs.promises.open(file, 'r');
    const buf = Buffer.alloc(Math.min(maxBytes + 1, 64 * 1024));
    const chunks: Buffer[] = [];
    let n = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, maxBytes + 1 - n), null);
      if (bytesRead <= 0) break;
      chunks.push(Buffer.from(buf.subarray(0, bytesRead)));
      n += bytesRead;
      if (n > maxBytes) break;
    }
    return { text: Buffer.concat(chunks).subarray(0, Math.min(n, maxBytes)).toString('utf8'), cut: n > maxBytes };
  } catch {
    return null;
  } finally {
    await handle?.close().catch(() => {});
  }
}

/** Host facts read once: they cannot change while the agent runs. */
let nsfsDevCache: number | null = null;
let hostNetCache: Set<number> | null = null;

/** The device number of nsfs (every namespace file lives on it). */
export function nsfsDev(): number {
  nsfsDevCache ??= fs.statSync('/proc/self/ns/net').dev;
  return nsfsDevCache;
}

/** The agent's own and the host init's network namespaces: never to be entered. */
export function hostNetInodes(): Set<number> {
  if (hostNetCache) return hostNetCache;
  const set = new Set<number>();
  for (const pid of ['self', 1] as const) {
    const inode = nsInode(pid, 'net');
    if (inode !== null) set.add(inode);
  }
  hostNetCache = set;
  return set;
}
