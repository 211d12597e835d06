// Runs a Python 3 program inside a sandbox shell: typed as base64 (the sandbox sees only the
// host's /usr, so the program cannot be dropped in from outside), decoded to /tmp, run under timeout.
import type { ShellResult } from '../sandbox-agent/src/sandbox/test-shell';
import { Skip } from './battery';

export interface Runner {
  run(command: string, timeoutMs?: number): Promise<ShellResult | { exitCode: number; output: string }>;
}

export async function runPython(box: Runner, code: string, timeoutS = 30): Promise<{ exitCode: number; output: string }> {
  const has = await box.run('test -x /usr/bin/python3 && echo yes || echo no');
  if (!has.output.includes('yes')) throw new Skip('python3 is not installed on the host /usr (bootstrap --test installs it)');
  const b64 = Buffer.from(code, 'utf8').toString('base64');
  const name = `/tmp/p${Math.random().toString(36).slice(2, 8)}.py`;
  await box.run(`: >${name}.b64`);
  for (let i = 0; i < b64.length; i += 1500) await box.run(`printf %s '${b64.slice(i, i + 1500)}' >>${name}.b64`);
  const r = await box.run(`base64 -d ${name}.b64 >${name} && timeout ${timeoutS} python3 ${name}`, (timeoutS + 10) * 1000);
  return { exitCode: r.exitCode, output: r.output };
}
