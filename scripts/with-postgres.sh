#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL 15 server:
#   bash scripts/with-postgres.sh node --import tsx --test app/_lib/db/repository.test.ts
# Starts a fresh cluster in a temp dir (initdb + pg_ctl as the `postgres` OS user, because
# PostgreSQL refuses to run as root), listening on 127.0.0.1 only (no Unix socket in /run, no TCP
# elsewhere) on a free port, creates a database, exports NSLAB_TEST_DATABASE_URL, runs the command,
# and always stops the server and removes the dir (also on failure or Ctrl-C). Exits with the
# command's status. Installs the Debian package `postgresql` when the server binaries are missing.
# Env: NSLAB_PG_BIN  directory with initdb/pg_ctl (default: newest /usr/lib/postgresql/*/bin)
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: bash scripts/with-postgres.sh <command> [args...]" >&2
  exit 2
fi

find_bin() {
  if [ -n "${NSLAB_PG_BIN:-}" ]; then
    echo "$NSLAB_PG_BIN"
    return
  fi
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  echo "$dir"
}

PG_BIN=$(find_bin)
if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/pg_ctl" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "with-postgres: PostgreSQL server binaries not found and not root; install the Debian package 'postgresql'" >&2
    exit 1
  fi
  echo "with-postgres: installing the Debian package postgresql" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # (Debian's package also creates its own 'main' cluster; this script never uses or starts it.)
  apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  PG_BIN=$(find_bin)
fi
if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
  echo "with-postgres: no initdb found under /usr/lib/postgresql/*/bin (set NSLAB_PG_BIN)" >&2
  exit 1
fi

# Run server tools as the postgres OS user when we are root (it refuses root); as ourselves otherwise.
if [ "$(id -u)" = 0 ]; then
  if ! id postgres >/dev/null 2>&1; then
    echo "with-postgres: OS user 'postgres' is missing (the Debian package creates it)" >&2
    exit 1
  fi
  as_pg() { runuser -u postgres -- "$@"; }
  PG_OS_USER=postgres
else
  as_pg() { "$@"; }
  PG_OS_USER=$(id -un)
fi

# A free loopback port: ask the kernel for one (bind to port 0), then release it.
free_port() {
  node -e '
    const s = require("node:net").createServer();
    s.listen(0, "127.0.0.1", () => { process.stdout.write(String(s.address().port)); s.close(); });'
}

TMP_DIR=$(mktemp -d /tmp/nslab-pg.XXXXXX)
chmod 755 "$TMP_DIR"
DATA_DIR="$TMP_DIR/data"
SOCK_DIR="$TMP_DIR/sock"
LOG_FILE="$TMP_DIR/server.log"
mkdir -p "$DATA_DIR" "$SOCK_DIR"
[ "$(id -u)" = 0 ] && chown -R postgres: "$TMP_DIR"
STARTED=0

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ "$STARTED" = 1 ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$DATA_DIR" -m immediate -w -t 20 stop >/dev/null 2>&1 || {
      # pg_ctl failed: stop the postmaster we started, by its own PID file.
      pid=$(head -n 1 "$DATA_DIR/postmaster.pid" 2>/dev/null || true)
      [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
    }
  fi
  rm -rf "$TMP_DIR"
  exit "$status"
}
# Signals: stop the command (if running) first, then the EXIT trap stops the server. The command
# runs in the background with `wait` so that a signal is handled at once, not after it finishes.
CHILD=""
on_signal() {
  if [ -n "$CHILD" ] && kill -0 "$CHILD" 2>/dev/null; then
    kill -TERM "$CHILD" 2>/dev/null || true
    wait "$CHILD" 2>/dev/null || true
  fi
  exit "$1"
}
trap cleanup EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

t0=$(date +%s%N)
as_pg "$PG_BIN/initdb" -D "$DATA_DIR" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$TMP_DIR/initdb.log" 2>&1 || {
  cat "$TMP_DIR/initdb.log" >&2
  exit 1
}

PORT=""
PG_OPTIONS=""
for attempt in 1 2 3; do
  PORT=$(free_port)
  # fsync off and no full-page writes: a throwaway test server, durability is not the point here.
  PG_OPTIONS="-c listen_addresses=127.0.0.1 -p $PORT -k $SOCK_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50"
  if as_pg "$PG_BIN/pg_ctl" -D "$DATA_DIR" -l "$LOG_FILE" -w -t 20 -s -o "$PG_OPTIONS" start; then
    STARTED=1
    break
  fi
  echo "with-postgres: start on port $PORT failed (attempt $attempt):" >&2
  tail -n 5 "$LOG_FILE" >&2 || true
done
if [ "$STARTED" != 1 ]; then
  echo "with-postgres: could not start PostgreSQL" >&2
  exit 1
fi

DB_NAME=nslab_test
as_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB_NAME"
t1=$(date +%s%N)
echo "with-postgres: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT (os user $PG_OS_USER) ready in $(((t1 - t0) / 1000000)) ms" >&2

export NSLAB_TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$PORT/$DB_NAME"
# For tests that stop and start this server (security battery G02): run pg_ctl as NSLAB_TEST_PG_OS_USER
#   pg_ctl -D "$NSLAB_TEST_PG_DATA" -l "$NSLAB_TEST_PG_LOG" -o "$NSLAB_TEST_PG_OPTIONS" -w start
export NSLAB_TEST_PG_BIN="$PG_BIN" NSLAB_TEST_PG_DATA="$DATA_DIR" NSLAB_TEST_PG_LOG="$LOG_FILE" NSLAB_TEST_PG_OPTIONS="$PG_OPTIONS" NSLAB_TEST_PG_OS_USER="$PG_OS_USER"
# Explicit stdin: a background command would otherwise get /dev/null.
"$@" <&0 &
CHILD=$!
set +e
wait "$CHILD"
status=$?
set -e
CHILD=""
exit "$status"
