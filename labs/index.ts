// The registry of labs: every lab the agent can start and the app can show, by id.
import type { LabDef } from './core/model';
import { cloneSetnsUnshare } from './clone-setns-unshare';
import { containersAndOci } from './containers-and-oci';
import { exerciseNetNamespace } from './exercise-net-namespace';
import { namespaceTools } from './namespace-tools';
import { namespaceTypes } from './namespace-types';
import { whatIsANamespace } from './what-is-a-namespace';
import { buildABridge } from './build-a-bridge';
import { pidNamespace } from './pid-namespace';
import { userNamespace } from './user-namespace';
import { mountNamespace } from './mount-namespace';
import { utsNamespace } from './uts-namespace';
import { ipcCgroupTime } from './ipc-cgroup-time';
import { namespaceLifetime } from './namespace-lifetime';

export const labs: Record<string, LabDef> = {
  [containersAndOci.id]: containersAndOci,
  [whatIsANamespace.id]: whatIsANamespace,
  [cloneSetnsUnshare.id]: cloneSetnsUnshare,
  [namespaceTypes.id]: namespaceTypes,
  [namespaceTools.id]: namespaceTools,
  [exerciseNetNamespace.id]: exerciseNetNamespace,
  [buildABridge.id]: buildABridge,
  [pidNamespace.id]: pidNamespace,
  [userNamespace.id]: userNamespace,
  [mountNamespace.id]: mountNamespace,
  [utsNamespace.id]: utsNamespace,
  [ipcCgroupTime.id]: ipcCgroupTime,
  [namespaceLifetime.id]: namespaceLifetime,
};

export const labIds: readonly string[] = Object.keys(labs);

export function getLab(id: string): LabDef | undefined {
  return Object.hasOwn(labs, id) ? labs[id] : undefined;
}
