#!/usr/bin/env bash
# Makes sure the PostgreSQL server named by TEST_POSTGRES_URL answers; starts the machine's
# local cluster when it is down. Exits 1 (loudly) when it cannot be reached.
set -u
url="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
hostport="${url#*@}"
hostport="${hostport%%/*}"
host="${hostport%%:*}"
port="${hostport##*:}"
[ "$port" = "$hostport" ] && port=5432

ready() { pg_isready -q -h "$host" -p "$port" >/dev/null 2>&1; }

if ! command -v pg_isready >/dev/null 2>&1; then
  echo "ensure-postgres: pg_isready not found; trying $host:$port directly" >&2
  exec 3<>"/dev/tcp/$host/$port" 2>/dev/null && exit 0
  echo "ensure-postgres: ERROR: PostgreSQL at $host:$port is unreachable" >&2
  exit 1
fi
ready && exit 0
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  for version in /etc/postgresql/*; do
    echo "ensure-postgres: starting the local cluster $(basename "$version")/main" >&2
    pg_ctlcluster --skip-systemctl-redirect "$(basename "$version")" main start || true
  done
  for _ in $(seq 1 30); do
    ready && exit 0
    sleep 1
  done
fi
echo "################################################################" >&2
echo "ensure-postgres: ERROR: PostgreSQL at $host:$port is unreachable" >&2
echo "################################################################" >&2
exit 1
