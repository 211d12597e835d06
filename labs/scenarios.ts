// The recording scenarios of every lab, by lab id: what sandbox-agent/src/record-fixtures.ts
// records into labs/<id>/fixtures/ (see labs/core/scenario.ts). A lab without an entry has no
// recorded fixtures.
import type { Scenarios } from './core/scenario';
import { scenarios as buildABridge } from './build-a-bridge/scenarios';
import { scenarios as cloneSetnsUnshare } from './clone-setns-unshare/scenarios';
import { scenarios as containersAndOci } from './containers-and-oci/scenarios';
import { scenarios as exerciseNetNamespace } from './exercise-net-namespace/scenarios';
import { scenarios as ipcCgroupTime } from './ipc-cgroup-time/scenarios';
import { scenarios as mountNamespace } from './mount-namespace/scenarios';
import { scenarios as namespaceLifetime } from './namespace-lifetime/scenarios';
import { scenarios as namespaceTools } from './namespace-tools/scenarios';
import { scenarios as namespaceTypes } from './namespace-types/scenarios';
import { scenarios as pidNamespace } from './pid-namespace/scenarios';
import { scenarios as userNamespace } from './user-namespace/scenarios';
import { scenarios as utsNamespace } from './uts-namespace/scenarios';
import { scenarios as whatIsANamespace } from './what-is-a-namespace/scenarios';

export const labScenarios: Record<string, Scenarios> = {
  'containers-and-oci': containersAndOci,
  'what-is-a-namespace': whatIsANamespace,
  'clone-setns-unshare': cloneSetnsUnshare,
  'namespace-types': namespaceTypes,
  'namespace-tools': namespaceTools,
  'exercise-net-namespace': exerciseNetNamespace,
  'build-a-bridge': buildABridge,
  'pid-namespace': pidNamespace,
  'user-namespace': userNamespace,
  'mount-namespace': mountNamespace,
  'uts-namespace': utsNamespace,
  'ipc-cgroup-time': ipcCgroupTime,
  'namespace-lifetime': namespaceLifetime,
};
