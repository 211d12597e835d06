// Moved to labs/core/test-support.ts (the one test support of the labs). This re-export keeps
// sandbox-agent/src/grader/probes.test.ts building while that part of the tree is being reworked;
// delete it once it imports labs/core/test-support.
export { loadFixture } from '../test-support';
