// Test support for the exe identity (issue 13): gives a snapshot recorded before the agent read
// /proc/PID/exe the identities it would have had, so fixture tests can swap one for a forgery.
import assert from 'node:assert/strict';
import type { LabDef, Observation } from '../model';
import { gradeAll } from './fixtures';
import type { ProcessInfo } from '../snapshot';

/** Stand-in identities of the sandbox's /usr/bin/sleep and /usr/bin/bash (device, inode). */
export const programIds = { sleep: { dev: 65024, ino: 11 }, bash: { dev: 65024, ino: 12 } } as const;

/** The observation as an agent that reads exe would have recorded it: each sleep/bash runs its file. */
export function withExe(obs: Observation, edit: (p: ProcessInfo) => ProcessInfo['exe'] = (p) => exeOf(p.comm)): Observation {
  const out = structuredClone(obs);
  out.snapshot.sandbox.programs = { ...programIds };
  out.snapshot.processes = out.snapshot.processes.map((p) => ({ ...p, exe: edit(p) }));
  return out;
}

/** The exe a process named `comm` has when it really runs that program. */
export function exeOf(comm: string): ProcessInfo['exe'] {
  const id = programIds[comm as keyof typeof programIds];
  return id ? { path: `/usr/bin/${comm}`, ...id } : { path: `/usr/bin/${comm}`, dev: 65024, ino: 99 };
}

/** `ln -s /bin/bash /tmp/sleep; /tmp/sleep`: comm and argv[0] say sleep, the exe is bash's file. */
export function bashPosingAsSleep(p: ProcessInfo): ProcessInfo['exe'] {
  return p.comm === 'sleep' ? { path: '/usr/bin/bash', ...programIds.bash } : exeOf(p.comm);
}

/** The step passes on the recorded state with real exes, and fails when its sleeps are bash posing as sleep. */
export function assertRefusesBashAsSleep(lab: LabDef, obs: Observation, stepIds: string[]): void {
  const real = gradeAll(lab, withExe(obs));
  const fake = gradeAll(lab, withExe(obs, bashPosingAsSleep));
  for (const id of stepIds) {
    assert.equal(real[id]?.status, 'passed', `${id} with the real sleep`);
    assert.equal(fake[id]?.status, 'failed', `${id} with bash posing as sleep`);
  }
}
