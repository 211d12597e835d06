// `import 'server-only'` marks the app's server modules: Next resolves it to an empty module on the
// server and fails the build when a client component imports one. It is not an npm dependency
// (Next bundles its own copy), so plain Node cannot resolve it; this hook resolves it to an empty
// module as Next does on the server. scripts/test.mjs passes it to every node:test stage; to run a
// test of a server module by hand:
//   node --import tsx --import ./scripts/server-only-hook.mjs --test app/_lib/auth.test.ts
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(
      "export async function resolve(specifier, context, next) { if (specifier === 'server-only') return { url: 'data:text/javascript,', shortCircuit: true }; return next(specifier, context); }",
    ),
);
