#!/usr/bin/env bash
# Installs what nslab needs on a fresh Debian 12 machine (as root), idempotently and quickly when
# everything is already there. `npm start` and `npm test` both run it first.
#   --test   also install what the test suite needs (Debian's Chromium for Playwright, CJK fonts,
#            podman and mmdebstrap for the image stage)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

if [ "$(id -u)" != 0 ]; then
  echo "nslab: the sandbox agent needs root (user namespaces with full uid ranges, cgroups); run as root" >&2
  exit 1
fi

# Debian packages: tools learners use inside sandboxes (the sandbox sees the host's /usr read-only),
# the tools the agent itself runs (unshare, nsenter, ip), and a C/C++ toolchain: node-pty is built
# from source by npm ci (node-gyp: python3, make, g++), and the agent builds its namespace reader
# (sandbox-agent/native/nsread*.c) with cc.
# strace is a learner's tool too: the clone-setns-unshare lesson shows `unshare -f` as unshare() + fork().
pkgs=(util-linux iproute2 procps iputils-ping psmisc vim-tiny less bash-completion ca-certificates python3 make g++ gcc libc6-dev strace)
[ "$want_test" = 1 ] && pkgs+=(chromium fonts-noto-cjk)
# The stock-kernel stage: Debian's kernel as a process (user-mode-linux), kmod to load its veth and
# bridge modules, python3 for the memory-hog case.
[ "$want_test" = 1 ] && pkgs+=(user-mode-linux kmod)
# The image stage: podman (with runc, which works on the hybrid cgroup layout) builds and runs the
# Dockerfile; mmdebstrap builds its base image from Debian packages (no image registry needed).
[ "$want_test" = 1 ] && pkgs+=(podman buildah runc mmdebstrap)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "nslab: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages, when node_modules is missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "nslab: installing npm packages"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
fi
