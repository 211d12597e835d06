// Decides whether `next build` output matches the sources, so `npm start` builds only when needed.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const inputs = ['app', 'labs', 'content', 'sandbox-agent/protocol', 'instrumentation.ts', 'next.config.mjs', 'postcss.config.mjs', 'tsconfig.json', 'package-lock.json'];

/** Files under `rel` as "path:size:mtime" lines; `keepFile(rel)` and `skipDir(name)` choose what counts. */
function walk(root, rel, out, keepFile, skipDir) {
  const full = path.join(root, rel);
  let stat;
  try {
    stat = fs.statSync(full);
  } catch {
    return;
  }
  if (stat.isDirectory()) {
    for (const name of fs.readdirSync(full).sort()) {
      if (name === 'node_modules' || name.startsWith('.') || skipDir(name)) continue;
      walk(root, path.join(rel, name), out, keepFile, skipDir);
    }
  } else if (keepFile(rel)) {
    out.push(`${rel}:${stat.size}:${stat.mtimeMs}`);
  }
}

/** A hash of the names, sizes and mtimes of the files under `inputs` (also used for the agent bundle). */
export function hashSources(root, inputs, keepFile = (rel) => !/\.test\.tsx?$/.test(rel), skipDir = () => false) {
  const entries = [];
  for (const input of inputs) walk(root, input, entries, keepFile, skipDir);
  return crypto.createHash('sha256').update(entries.join('\n')).digest('hex');
}

export function sourceHash(root) {
  return hashSources(root, inputs);
}

const stampFile = (root) => path.join(root, '.next', 'nslab-build-stamp');

export function buildIsCurrent(root) {
  try {
    return fs.existsSync(path.join(root, '.next', 'BUILD_ID')) && fs.readFileSync(stampFile(root), 'utf8') === sourceHash(root);
  } catch {
    return false;
  }
}

export function writeBuildStamp(root) {
  fs.writeFileSync(stampFile(root), sourceHash(root));
}
