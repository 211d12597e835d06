// The agent's two small C programs (sandbox-agent/native/*.c): built with the host's `cc` when
// missing or older than their source, atomically (agents starting side by side never run a
// half-written file). scripts/bootstrap.sh installs the compiler; the Dockerfile prebuilds them.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { log } from './log';
import { agentSrcDir } from './paths';

export const nativeDir = path.resolve(agentSrcDir, '../native');

/** The path of native/build/<name>, built from native/<source>.c if needed; null when it cannot be. */
export function buildNative(name: string, source = name): string | null {
  const src = path.join(nativeDir, `${source}.c`);
  const out = path.join(nativeDir, 'build', name);
  try {
    const srcStat = fs.statSync(src);
    try {
      if (fs.statSync(out).mtimeMs >= srcStat.mtimeMs) return out;
    } catch {
      /* not built yet */
    }
    fs.mkdirSync(path.dirname(out), { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    execFileSync('cc', ['-O2', '-Wall', '-o', tmp, src], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
    fs.renameSync(tmp, out);
    return out;
  } catch (error) {
    log('warn', `native ${name} could not be built`, { error });
    return null;
  }
}
