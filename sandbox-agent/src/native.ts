// The agent's two small C programs (sandbox-agent/native/*.c): built with the host's `cc` when
// missing or older than their source, atomically (agents starting side by side never run a
// half-written file). scripts/bootstrap.sh installs the compiler; the Dockerfile prebuilds them.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { log } from './log';
import { agentSrcDir } from './paths';

export const nativeDir = path.resolve(agentSrcDir, '../native');

/**
 * A program's source files: native/<source>.c and its parts native/<source>-*.c, compiled together,
 * and its headers native/<source>*.h (a change to any of them rebuilds it).
 */
export function nativeSources(source: string): { c: string[]; h: string[] } {
  const files = fs.readdirSync(nativeDir).sort();
  const part = (f: string, ext: string) => f === `${source}${ext}` || (f.startsWith(`${source}-`) && f.endsWith(ext));
  return { c: files.filter((f) => part(f, '.c')).map((f) => path.join(nativeDir, f)), h: files.filter((f) => part(f, '.h')).map((f) => path.join(nativeDir, f)) };
}

/** The path of native/build/<name>, built from native/<source>*.c if needed; null when it cannot be. */
export function buildNative(name: string, source = name): string | null {
  const out = path.join(nativeDir, 'build', name);
  try {
    const { c, h } = nativeSources(source);
    if (c.length === 0) throw new Error(`no native/${source}.c`);
    const newest = Math.max(...[...c, ...h].map((f) => fs.statSync(f).mtimeMs));
    try {
      if (fs.statSync(out).mtimeMs >= newest) return out;
    } catch {
      /* not built yet */
    }
    fs.mkdirSync(path.dirname(out), { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    execFileSync('cc', ['-O2', '-Wall', '-o', tmp, ...c], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
    fs.renameSync(tmp, out);
    return out;
  } catch (error) {
    log('warn', `native ${name} could not be built`, { error });
    return null;
  }
}
