#!/usr/bin/env bash
# Soak test: builds the release binary, imports a generated data set (10 centers, 500 users,
# 20 teachers, 3,000 sessions) into a fresh SQLite file, serves it on 127.0.0.1, and runs
# scripts/soak.py against it: SOAK_CONNECTIONS persistent connections (16) for SOAK_SECONDS
# (300) of valid, malformed and hostile requests, every answer checked, RSS sampled.
#
#   scripts/soak.sh                       # 5 minutes, 16 connections
#   SOAK_SECONDS=30 SOAK_CONNECTIONS=4 scripts/soak.sh
#
# Optional: SOAK_DISABLE=kind,kind (request kinds of soak.py to leave out), SOAK_SEED,
# SOAK_RUST_LOG (server log filter, default warn), SOAK_KEEP_TMP=1 (keep the temp dir).
# PASS (exit 0) needs no wrong answer, no transport error, the server alive with /healthz 200,
# and RSS at the end <= 1.2 x RSS after the first minute.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
seconds="${SOAK_SECONDS:-300}"
connections="${SOAK_CONNECTIONS:-16}"
seed="${SOAK_SEED:-1}"

for tool in cargo python3; do
  command -v "$tool" >/dev/null || { echo "soak: $tool is not on PATH" >&2; exit 2; }
done
[[ "$seconds" =~ ^[0-9]+$ && "$seconds" -gt 0 ]] || { echo "soak: SOAK_SECONDS must be a positive integer" >&2; exit 2; }
[[ "$connections" =~ ^[0-9]+$ && "$connections" -gt 0 ]] || { echo "soak: SOAK_CONNECTIONS must be a positive integer" >&2; exit 2; }

echo "soak: building the release binary (cargo build --release --locked)"
(cd "$repo" && cargo build --release --locked)

target_dir="$(cd "$repo" && cargo metadata --format-version 1 --no-deps 2>/dev/null \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])' 2>/dev/null || true)"
if [[ -z "$target_dir" ]]; then
  target_dir="${CARGO_TARGET_DIR:-$repo/target}"
fi
bin="$target_dir/release/sessions-gateway"
[[ -x "$bin" ]] || { echo "soak: no binary at $bin" >&2; exit 2; }

tmp="$(mktemp -d "${TMPDIR:-/tmp}/sessions-gateway-soak.XXXXXX")"
server_pid=""
cleanup() {
  local status=$?
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  if [[ -n "$server_pid" ]]; then
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ "${SOAK_KEEP_TMP:-0}" == 1 ]]; then
    echo "soak: kept $tmp"
  else
    rm -rf "$tmp"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export DATABASE_URL="sqlite://$tmp/soak.db?mode=rwc"
export GATEWAY_JWT_SECRET="soak-secret-0123456789abcdefghijklmnopqr" # 40 characters
export GATEWAY_DEMO_DATA=false
export RUST_LOG="${SOAK_RUST_LOG:-warn}"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
export GATEWAY_LISTEN="127.0.0.1:$port"

echo "soak: generating the data set in $tmp"
python3 "$here/soak.py" generate "$tmp/data.json"
echo "soak: importing it"
"$bin" import "$tmp/data.json"

echo "soak: minting tokens"
ttl="$((seconds + 3600))s"
: >"$tmp/tokens"
while read -r kind user_id sub; do
  case "$kind" in
    student) role=Student ;;
    staff) role=StaffMember ;;
    *) echo "soak: unknown principal kind $kind" >&2; exit 2 ;;
  esac
  token="$("$bin" token --sub "$sub" --role "$role" --ttl "$ttl")"
  printf '%s %s %s\n' "$kind" "$user_id" "$token" >>"$tmp/tokens"
done < <(python3 "$here/soak.py" principals "$tmp/data.json")
echo "soak: $(grep -c '^student ' "$tmp/tokens") student and $(grep -c '^staff ' "$tmp/tokens") staff tokens"

echo "soak: starting the server on 127.0.0.1:$port"
"$bin" serve >"$tmp/server.out" 2>"$tmp/server.err" &
server_pid=$!
for _ in $(seq 1 300); do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "soak: the server exited at start:" >&2
    cat "$tmp/server.err" >&2
    exit 1
  fi
  if python3 -c 'import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=2)
c.request("GET", "/healthz")
sys.exit(0 if c.getresponse().status == 200 else 1)' "$port" 2>/dev/null; then
    break
  fi
  sleep 0.1
done

status=0
python3 "$here/soak.py" run --base "http://127.0.0.1:$port" --pid "$server_pid" \
  --duration "$seconds" --connections "$connections" --tokens-file "$tmp/tokens" \
  --data "$tmp/data.json" --seed "$seed" --rss-log "$tmp/rss.log" || status=$?

if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "soak: FAIL: the server process is gone" >&2
  status=1
fi
panics="$(grep -c -i 'panic' "$tmp/server.err" || true)"
errors="$(grep -c 'ERROR' "$tmp/server.err" || true)"
echo "server log: $(wc -l <"$tmp/server.err") lines, $errors ERROR, $panics panic"
if [[ "$errors" != 0 || "$panics" != 0 ]]; then
  echo "server log, first ERROR/panic lines:"
  grep -i -m 10 -E 'ERROR|panic' "$tmp/server.err" | cut -c1-400 || true
fi
if [[ "$status" != 0 ]]; then
  echo "soak: FAIL (exit $status)"
else
  echo "soak: PASS"
fi
exit "$status"
