// nslab on one machine, one port: serves the Next.js app, proxies the terminal WebSocket
// (/agent/ws) to the sandbox agent on loopback, and supervises the agent process.
//   node scripts/start.mjs          production (builds first if sources changed)
//   node scripts/start.mjs --dev    next dev (lesson edits reload without restarting sandboxes)
// Environment: PORT (3000), HOST (0.0.0.0), PUBLIC_URL (extra allowed browser origin),
// AGENT_PORT (7071), AGENT_SECRET / APP_SECRET (random or kept in var/ when unset), admission
// control (NSLAB_ADMISSION, NSLAB_TRUSTED_PROXIES, quotas: see the README's settings table),
// NSLAB_APP_USER (unset: everything runs as the user who started it, as `npm start` does).
// Started as root with NSLAB_APP_USER=<name or uid> (the image sets it), only the agent keeps root
// (it makes user namespaces, cgroups and mounts): the app server (Next.js and the WebSocket proxy)
// runs as that user, in a second copy of this script started with `--app-only` (internal). Then
// the secrets in var/ stay root's (0600; the app gets them in its environment), the agent's state
// stays in var/agent (root, 0700), and the app's SQLite database defaults to var/app/nslab.sqlite
// (var/app owned by that user, 0700).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureAgentBundle } from './agent-bundle.mjs';
import { buildIsCurrent, writeBuildStamp } from './build-stamp.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Nothing of nslab talks to the internet: no Next.js telemetry, ever.
process.env.NEXT_TELEMETRY_DISABLED = '1';
const dev = process.argv.includes('--dev');
const appOnly = process.argv.includes('--app-only');
// next dev writes its own build output: keep it away from the production build in .next.
if (dev) process.env.NSLAB_NEXT_DIST_DIR = '.next-dev';
else delete process.env.NSLAB_NEXT_DIST_DIR;

function fail(message) {
  process.stderr.write(`nslab: ${message}\n`);
  process.exit(78);
}

function intEnv(name, fallback, min, max) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) fail(`${name} must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) fail(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

const port = intEnv('PORT', 3000, 1, 65535);
intEnv('NSLAB_WORKSHOP_SWEEP_MS', 15_000, 500, 600_000); // checked here so a bad value stops the launch, named
const agentPort = intEnv('AGENT_PORT', 7071, 1, 65535);
if (agentPort === port) fail(`AGENT_PORT (${agentPort}) must differ from PORT`);
const host = process.env.HOST?.trim() || '0.0.0.0';
if (net.isIP(host) === 0 && host !== 'localhost') fail(`HOST must be an IP address or localhost, got "${host}"`);

// Admission control (app/_lib/admission-config.mjs, the same parser the app uses): NSLAB_ADMISSION,
// NSLAB_TRUSTED_PROXIES, NSLAB_LEARNER_* and NSLAB_CLIENT_* quotas.
const { parseAdmissionConfig } = await import('../app/_lib/admission-config.mjs');
const { clientAddress, TrustedProxies } = await import('../app/_lib/client-address.mjs');
let trustedProxies;
try {
  trustedProxies = new TrustedProxies(parseAdmissionConfig(process.env).trustedProxies);
} catch (error) {
  fail(error instanceof Error ? error.message.split('\n').join('\nnslab: ') : String(error));
}

// The app's rate limiters key on the client address: the TCP peer, given to the app in this header
// (any copy the client sent is replaced), or X-Forwarded-For only when the peer is one of
// NSLAB_TRUSTED_PROXIES (app/_lib/client-address.mjs).
const PEER_HEADER = 'x-nslab-peer';

// A path whose percent-encoding is not valid UTF-8 (/en/join/%E0) makes Next fail while it decodes
// the route's parameters, and its error page then crashes into a 500; answer a clear 400 first.
const BAD_URL_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>400 Bad request</title><meta name="viewport" content="width=device-width"></head>
<body style="font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1.5rem;line-height:1.5">
<p style="color:#0369a1;font-weight:600">400</p><h1>This address is not valid.</h1><p>It contains a broken %-escape. Check the link or the code you typed.</p>
<p lang="zh-Hans">这个网址无效：其中的 % 转义不完整。请检查链接或你输入的代码。</p><p><a href="/en">Lessons</a> · <a href="/zh" lang="zh-Hans">课程</a></p></body></html>\n`;
function malformedPath(url) {
  try {
    decodeURIComponent((url ?? '/').split('?')[0]);
    return false;
  } catch {
    return true;
  }
}

const origins = new Set([`http://localhost:${port}`, `http://127.0.0.1:${port}`, `http://[::1]:${port}`]);
if (process.env.PUBLIC_URL) {
  try {
    origins.add(new URL(process.env.PUBLIC_URL).origin);
  } catch {
    fail(`PUBLIC_URL must be a URL such as https://labs.example.org, got "${process.env.PUBLIC_URL}"`);
  }
}

/** A secret from the environment, or one generated once and kept in var/ (0600). */
function secret(name) {
  const given = process.env[name];
  if (given) {
    if (given.length < 32) fail(`${name} must be at least 32 characters`);
    return given;
  }
  const dir = path.join(root, 'var');
  const file = path.join(dir, name.toLowerCase().replace(/_/g, '-'));
  try {
    const kept = fs.readFileSync(file, 'utf8').trim();
    if (kept.length >= 32) return kept;
  } catch {
    // first start
  }
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const value = randomBytes(32).toString('base64url');
  fs.writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return value;
}

/** NSLAB_APP_USER as {name, uid, gid, home} from /etc/passwd, or null when the app runs as we do. */
function appUserFromEnv() {
  const wanted = process.env.NSLAB_APP_USER?.trim();
  if (!wanted || appOnly) return null;
  if (process.getuid?.() !== 0) {
    process.stderr.write(`nslab: NSLAB_APP_USER=${wanted} ignored: it takes effect only when started as root\n`);
    return null;
  }
  if (dev) {
    process.stderr.write(`nslab: NSLAB_APP_USER=${wanted} ignored with --dev (next dev writes its build as this user)\n`);
    return null;
  }
  let passwd = '';
  try {
    passwd = fs.readFileSync('/etc/passwd', 'utf8');
  } catch {
    fail('NSLAB_APP_USER is set but /etc/passwd cannot be read');
  }
  for (const line of passwd.split('\n')) {
    const [name, , uid, gid, , home] = line.split(':');
    if (name === undefined || uid === undefined || gid === undefined) continue;
    if (name !== wanted && uid !== wanted) continue;
    if (Number(uid) === 0) fail(`NSLAB_APP_USER must not be root (got "${wanted}")`);
    return { name, uid: Number(uid), gid: Number(gid), home: home || '/' };
  }
  fail(`NSLAB_APP_USER "${wanted}" is not a user in /etc/passwd (create it, or unset NSLAB_APP_USER)`);
}
const appUser = appUserFromEnv();

const agentSecret = secret('AGENT_SECRET');
process.env.APP_SECRET = secret('APP_SECRET');
process.env.AGENT_SECRET = agentSecret;
process.env.AGENT_URL = `http://127.0.0.1:${agentPort}`;

if (appUser) {
  // The app user may pass through var/ (0711) to its own var/app; the secret files stay 0600 root.
  const varDir = path.join(root, 'var');
  fs.mkdirSync(varDir, { recursive: true, mode: 0o700 }); // absent when both secrets come from the environment
  fs.chmodSync(varDir, 0o711);
  const appDir = path.join(varDir, 'app');
  fs.mkdirSync(appDir, { recursive: true, mode: 0o700 });
  fs.lchownSync(appDir, appUser.uid, appUser.gid);
  fs.chmodSync(appDir, 0o700);
  process.env.NSLAB_SQLITE_PATH ||= path.join(appDir, 'nslab.sqlite');
}

if (!dev && !appOnly && !buildIsCurrent(root)) {
  process.stdout.write('nslab: building the app (sources changed since the last build)…\n');
  const built = spawnSync(process.execPath, [path.join(root, 'node_modules/next/dist/bin/next'), 'build'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
  });
  if (built.status !== 0) fail('next build failed');
  writeBuildStamp(root);
}

// ---- the agent, supervised: restarted with backoff if it dies ----
// Production runs the agent bundled (dist/agent/main.mjs); `--dev` runs its TypeScript with tsx.
const agentCommand = appOnly
  ? null
  : dev
    ? { args: ['--import', 'tsx', path.join(root, 'sandbox-agent/src/main.ts')], env: {} }
    : await ensureAgentBundle(root).then((b) => ({ args: [...b.nodeArgs, b.file], env: b.env }));
let agent = null;
let appChild = null;
let server = null;
let stopping = false;
let restarts = [];
function startAgent() {
  const env = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    NODE_ENV: dev ? 'development' : 'production',
    AGENT_HOST: '127.0.0.1',
    AGENT_PORT: String(agentPort),
    AGENT_SECRET: agentSecret,
    AGENT_ALLOWED_ORIGINS: [...origins].join(','),
    // Passed steps go from the agent's durable outbox to the app's progress database.
    AGENT_PROGRESS_URL: `http://${host === '0.0.0.0' || host === 'localhost' ? '127.0.0.1' : host}:${port}/api/internal/progress`,
    AGENT_STATE_DIR: path.join(root, 'var', 'agent'),
  };
  for (const [key, value] of Object.entries(process.env)) if (key.startsWith('AGENT_') && !(key in env)) env[key] = value;
  env.AGENT_ALLOWED_ORIGINS = [...origins].join(',');
  Object.assign(env, agentCommand.env);
  agent = spawn(process.execPath, agentCommand.args, {
    cwd: root,
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  agent.on('exit', (code, signal) => {
    agent = null;
    if (stopping) return;
    if (code === 78) fail('the agent refused its configuration (see above)');
    const now = Date.now();
    restarts = restarts.filter((t) => now - t < 60_000);
    restarts.push(now);
    if (restarts.length > 5) fail('the agent keeps dying (5 times in a minute); giving up');
    const delayMs = 250 * 2 ** (restarts.length - 1);
    process.stderr.write(`nslab: agent exited (${signal ?? code}); restarting in ${delayMs} ms\n`);
    setTimeout(startAgent, delayMs);
  });
}
if (!appOnly) startAgent();

// ---- the app as NSLAB_APP_USER: this script again, --app-only, supervised like one process ----
function startAppAs(user) {
  appChild = spawn(process.execPath, [fileURLToPath(import.meta.url), '--app-only'], {
    cwd: root,
    uid: user.uid,
    gid: user.gid, // libuv also drops root's supplementary groups
    env: { ...process.env, HOME: user.home, USER: user.name, LOGNAME: user.name },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  appChild.on('exit', (code, signal) => {
    appChild = null;
    if (stopping) return;
    process.stderr.write(`nslab: the app server (${user.name}) exited (${signal ?? code}); stopping\n`);
    void shutdown('app exit', code || 1);
  });
}

// ---- the app, with the WebSocket proxy on the same port ----
async function serveApp() {
  const { default: next } = await import('next');
  const app = next({ dev, dir: root, hostname: host, port });
  await app.prepare();
  const handle = app.getRequestHandler();
  const nextUpgrade = typeof app.getUpgradeHandler === 'function' ? app.getUpgradeHandler() : null;

  function proxyUpgrade(req, socket, head) {
    const upstream = net.connect(agentPort, '127.0.0.1');
    upstream.setNoDelay(true);
    socket.setNoDelay(true);
    upstream.on('connect', () => {
      let raw = `${req.method} ${req.url} HTTP/1.1\r\n`;
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        if (/^x-forwarded-/i.test(req.rawHeaders[i])) continue;
        raw += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
      }
      // The agent's per-address socket limit sees the client: the peer, or behind a trusted proxy
      // the address it forwarded (the same rule as the app's limiters).
      raw += `X-Forwarded-For: ${clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], trustedProxies)}\r\n\r\n`;
      upstream.write(raw);
      if (head.length > 0) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    const close = () => {
      upstream.destroy();
      socket.destroy();
    };
    upstream.on('error', () => {
      if (!socket.destroyed && upstream.bytesRead === 0) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nRetry-After: 2\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      } else close();
    });
    socket.on('error', close);
    upstream.on('close', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
  }

  server = http.createServer((req, res) => {
    req.headers[PEER_HEADER] = req.socket.remoteAddress ?? '';
    if (malformedPath(req.url)) {
      res.writeHead(400, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(BAD_URL_PAGE);
      return;
    }
    handle(req, res).catch((error) => {
      process.stderr.write(`nslab: request error: ${error?.message ?? error}\n`);
      if (!res.headersSent) res.writeHead(500).end('internal error');
    });
  });
  server.on('upgrade', (req, socket, head) => {
    if ((req.url ?? '').split('?')[0] === '/agent/ws') return proxyUpgrade(req, socket, head);
    if (nextUpgrade) return nextUpgrade(req, socket, head);
    socket.destroy();
  });
  server.listen(port, host, () => {
    const as = appOnly ? ` as ${os.userInfo().username}` : '';
    process.stdout.write(
      `nslab: ready on http://${host === '0.0.0.0' ? 'localhost' : host}:${port} (${dev ? 'dev' : 'production'}${as})\n`,
    );
  });
}
if (appUser) startAppAs(appUser);
else await serveApp();

async function shutdown(signal, exitCode = 0) {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`nslab: ${signal}, stopping\n`);
  server?.close();
  server?.closeAllConnections?.();
  if (appChild) {
    const exited = new Promise((resolve) => appChild.once('exit', resolve));
    appChild.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 12_000))]);
  }
  if (agent) {
    const exited = new Promise((resolve) => agent.once('exit', resolve));
    agent.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 12_000))]);
  }
  process.exit(exitCode);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
