// The registry of labs: every lab the agent can start and the app can show, by id.
import type { LabDef } from './core/model';
import { exerciseNetNamespace } from './exercise-net-namespace';

export const labs: Record<string, LabDef> = {
  [exerciseNetNamespace.id]: exerciseNetNamespace,
};

export const labIds: readonly string[] = Object.keys(labs);

export function getLab(id: string): LabDef | undefined {
  return Object.hasOwn(labs, id) ? labs[id] : undefined;
}
