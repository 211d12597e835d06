# nslab in one image: the Next.js app, the sandbox agent and the tools learners use in sandboxes.
# Sandboxes see this image's /usr read-only (never the host's), so what is installed here is the
# learner's toolbox.
#
# Build:  docker build -t nslab .
# Run:    docker run --privileged --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
#           -p 3000:3000 -v nslab-var:/app/var nslab
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
      util-linux iproute2 procps iputils-ping psmisc vim-tiny less bash-completion ca-certificates \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json ./
RUN PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
COPY . .
# The grader's namespace reader (C, no dependencies); the agent would build it at start otherwise.
RUN mkdir -p sandbox-agent/native/build && cc -O2 -Wall -o sandbox-agent/native/build/nsread sandbox-agent/native/nsread.c
RUN node -e "import('./scripts/agent-bundle.mjs').then((m) => m.ensureAgentBundle('/app'))"
RUN NEXT_TELEMETRY_DISABLED=1 node node_modules/next/dist/bin/next build \
 && node -e "import('./scripts/build-stamp.mjs').then((m) => m.writeBuildStamp('/app'))"

ENV NODE_ENV=production PORT=3000 HOST=0.0.0.0 NEXT_TELEMETRY_DISABLED=1
EXPOSE 3000
# Secrets: set APP_SECRET and AGENT_SECRET, or keep the generated ones in the /app/var volume.
CMD ["node", "scripts/start.mjs"]
