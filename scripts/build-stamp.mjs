// Decides whether `next build` output matches the sources, so `npm start` builds only when needed.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const inputs = ['app', 'labs', 'content', 'sandbox-agent/protocol', 'instrumentation.ts', 'next.config.mjs', 'postcss.config.mjs', 'tsconfig.json', 'package-lock.json'];

function walk(root, rel, out) {
  const full = path.join(root, rel);
  let stat;
  try {
    stat = fs.statSync(full);
  } catch {
    return;
  }
  if (stat.isDirectory()) {
    for (const name of fs.readdirSync(full).sort()) {
      if (name === 'node_modules' || name.startsWith('.')) continue;
      walk(root, path.join(rel, name), out);
    }
  } else if (!/\.test\.tsx?$/.test(rel)) {
    out.push(`${rel}:${stat.size}:${stat.mtimeMs}`);
  }
}

export function sourceHash(root) {
  const entries = [];
  for (const input of inputs) walk(root, input, entries);
  return crypto.createHash('sha256').update(entries.join('\n')).digest('hex');
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
