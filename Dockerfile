# nslab in one image: the Next.js app, the sandbox agent and the tools learners use in sandboxes.
# Sandboxes see this image's /usr read-only (never the host's), so what is installed here is the
# learner's toolbox.
#
# Build:  docker build -t nslab .
# Run:    docker run --privileged --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
#           -p 3000:3000 -v nslab-var:/app/var nslab
# Build with podman: podman build --network host --runtime runc -t nslab .
# Run with podman: podman run --runtime runc --privileged --cgroupns=host \
#           -v /sys/fs/cgroup:/sys/fs/cgroup:rw --network host \
#           --ulimit nofile=20000:20000 --ulimit nproc=20000:20000 -v nslab-var:/app/var nslab
#   (`npm run test:image` runs this very line, read from here: without the named volume, with -d,
#   --name, a label and -e PORT/HOST=127.0.0.1/AGENT_PORT/AGENT_CGROUP_NAME of its own.)
#   Why these podman flags: crun (podman's usual runtime) refuses a hybrid cgroup v1/v2 host, runc
#   works; --network host because podman's default bridge turns on the host's ip_forward and adds
#   firewall rules (set HOST=127.0.0.1 to serve on loopback only); --ulimit no higher than your
#   shell's hard limits (`ulimit -Hn`, `ulimit -Hu`): podman's default (nofile 1048576) needs
#   CAP_SYS_RESOURCE, which a container host may not give (ours does not).
#
# Who runs as whom: `node scripts/start.mjs` (the launcher, PID 1) and the sandbox agent run as
# root; the app server (Next.js and the terminal WebSocket proxy, `start.mjs --app-only`) runs as
# the unprivileged user `nslab` (uid 10001; NSLAB_APP_USER). The secrets the launcher keeps in
# /app/var are root's (0600): the app gets them in its environment. The app's SQLite database is
# /app/var/app/nslab.sqlite (owned by nslab); the agent's state is /app/var/agent (root, 0700).
# Learners' sandboxes run as unprivileged host uids from 1000000 up (65536 per sandbox).
#
# Why privileged: the agent (root in the container) creates user namespaces and writes full
# 65536-id uid/gid maps for them (CAP_SETUID/CAP_SETGID over the host range), mounts inside new
# mount namespaces and pivots into them (CAP_SYS_ADMIN, unconfined seccomp/AppArmor for mount,
# pivot_root, unshare, setns), and creates per-sandbox cgroups (a writable /sys/fs/cgroup with the
# pids, memory and cpu controllers, plus cgroup2 for cgroup.kill). Learners never get these
# powers: each sandbox's root is an unprivileged host uid range. See SECURITY notes in README.md.
FROM node:20-bookworm

RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      util-linux iproute2 procps iputils-ping psmisc vim-tiny less bash-completion ca-certificates strace \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin nslab

WORKDIR /app
COPY package.json package-lock.json ./
# npm ls: npm 10 can end `npm ci` with "Exit handler never called!" and status 0 after failed
# fetches; without this check the layer cache would keep a half-installed node_modules.
RUN PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund && npm ls >/dev/null
COPY . .
# The grader's namespace reader (C, no dependencies); the agent would build it at start otherwise.
RUN mkdir -p sandbox-agent/native/build && cc -O2 -Wall -o sandbox-agent/native/build/nsread sandbox-agent/native/nsread.c sandbox-agent/native/nsread-*.c
RUN node -e "import('./scripts/agent-bundle.mjs').then((m) => m.ensureAgentBundle('/app'))"
RUN NEXT_TELEMETRY_DISABLED=1 node node_modules/next/dist/bin/next build \
 && node -e "import('./scripts/build-stamp.mjs').then((m) => m.writeBuildStamp('/app'))" \
 && mkdir -p .next/cache && chown nslab:nslab .next/cache

ENV NODE_ENV=production PORT=3000 HOST=0.0.0.0 NEXT_TELEMETRY_DISABLED=1 NSLAB_APP_USER=nslab
EXPOSE 3000
# Secrets: set APP_SECRET and AGENT_SECRET, or keep the generated ones in the /app/var volume.
CMD ["node", "scripts/start.mjs"]
