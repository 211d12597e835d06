// Where the agent's own files are (the sandbox setup scripts, the native reader's source): beside
// its TypeScript sources. The production bundle (dist/agent/main.mjs, built by scripts/start.mjs)
// lives elsewhere, so the launcher tells it with NSLAB_AGENT_SRC_DIR.
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** sandbox-agent/src */
export const agentSrcDir = process.env.NSLAB_AGENT_SRC_DIR || path.dirname(fileURLToPath(import.meta.url));
