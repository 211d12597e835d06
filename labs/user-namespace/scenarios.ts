// Sessions recorded for this lab's fixture tests (see labs/core/scenario.ts).
import { line, lines, type Scenarios } from '../core/scenario';

export const scenarios: Scenarios = {
  done: 'solution',
  // A user namespace without an ID map: the shell is nobody.
  'no-map': lines(line(0, 'unshare -U bash', 800), line(0, 'id'), line(0, 'cat /proc/self/uid_map')),
  // issue 13: a UTS namespace made and renamed by the sandbox's root, then a nested user
  // namespace entered from it: renamed, nested, but not owned by the nested namespace.
  'uts-outside-userns': lines(line(0, 'unshare -u bash', 800), line(0, 'hostname box'), line(0, 'unshare -Ur bash', 800), line(0, 'hostname')),
};
