// The agent as production runs it: one ES module bundled by esbuild from sandbox-agent/src (npm
// packages stay external, resolved from node_modules), rebuilt only when its sources change.
// Compared with `node --import tsx main.ts` it starts faster and its idle RSS is ~30 MB lower
// (no TypeScript loader or esbuild service in the process): capacity is measured on it.
// `npm run dev` keeps tsx, so agent edits need no build step there.
import fs from 'node:fs';
import path from 'node:path';
import { hashSources } from './build-stamp.mjs';

const inputs = ['sandbox-agent/src', 'sandbox-agent/protocol', 'labs', 'package-lock.json'];

function agentSourceHash(root) {
  return hashSources(
    root,
    inputs,
    (rel) => /\.(ts|mjs|js|json)$/.test(rel) && !/\.test\.ts$/.test(rel),
    (name) => name === 'fixtures',
  );
}

/** Builds dist/agent/main.mjs when its sources changed; returns how to run it. */
export async function ensureAgentBundle(root) {
  const outDir = path.join(root, 'dist', 'agent');
  const outfile = path.join(outDir, 'main.mjs');
  const stampFile = path.join(outDir, 'stamp');
  const hash = agentSourceHash(root);
  let current = false;
  try {
    current = fs.existsSync(outfile) && fs.readFileSync(stampFile, 'utf8') === hash;
  } catch {
    current = false;
  }
  if (!current) {
    const { build } = await import('esbuild');
    // Built beside, under its final name (the source map link names it), then moved into place.
    const tmpDir = path.join(outDir, `.tmp-${process.pid}`);
    await build({
      entryPoints: [path.join(root, 'sandbox-agent/src/main.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: path.join(tmpDir, 'main.mjs'),
      packages: 'external',
      sourcemap: 'linked', // for reading stack traces by hand; not loaded at run time (--enable-source-maps costs ~10 MB RSS)
      logLevel: 'warning',
    });
    fs.renameSync(path.join(tmpDir, 'main.mjs.map'), `${outfile}.map`);
    fs.renameSync(path.join(tmpDir, 'main.mjs'), outfile); // atomic: a second launcher never runs half a file
    fs.rmSync(tmpDir, { recursive: true, force: true });
    fs.writeFileSync(stampFile, hash);
  }
  return {
    file: outfile,
    // Memory settings measured with `npm run bench -- --only capacity` (200 idle learners, two
    // terminals each): agent RSS 164 MiB with node's defaults, 126 MiB with these. node-pty runs a
    // thread per terminal, and glibc gives threads their own malloc arenas (up to 8 per core) unless
    // told otherwise; V8's young generation need not be 16 MiB per semi-space for this workload.
    nodeArgs: ['--max-semi-space-size=2'],
    env: {
      /** The bundle finds the agent's non-code files (sandbox scripts, native sources) through this. */
      NSLAB_AGENT_SRC_DIR: path.join(root, 'sandbox-agent', 'src'),
      MALLOC_ARENA_MAX: '2',
    },
  };
}
