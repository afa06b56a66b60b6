#!/usr/bin/env bash
# Throughput of the hot path on this machine: the release binary on a generated data set,
# measured with wrk over loopback for the REST route and the GraphQL query, self and staff.
#
#   scripts/bench.sh                      # SQLite, 15 s per scenario, 32 connections
#   BENCH_SECONDS=30 BENCH_CONNECTIONS=64 scripts/bench.sh
#   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench scripts/bench.sh   # an empty database
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${BENCH_SECONDS:-15}"
connections="${BENCH_CONNECTIONS:-32}"
threads="${BENCH_THREADS:-2}"

if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bench: installing wrk (Debian package)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  else
    echo "bench: wrk is not installed (apt-get install wrk)" >&2
    exit 1
  fi
fi

cargo build --release --locked --quiet
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
bin="$target_dir/release/sessions-gateway"

work="$(mktemp -d)"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

export DATABASE_URL="${BENCH_DATABASE_URL:-sqlite://$work/bench.db?mode=rwc}"
export GATEWAY_JWT_SECRET="bench-secret-0123456789-abcdefghijklmnopq"
export GATEWAY_DEMO_DATA=false
export RUST_LOG=warn
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export GATEWAY_LISTEN="127.0.0.1:$port"

python3 scripts/soak.py generate "$work/data.json"
"$bin" import "$work/data.json" >/dev/null
"$bin" serve >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.1
done

# A student with sessions, and a staff member assigned to that student's center.
read -r student staff login < <(python3 - "$work/data.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
counts = {}
for s in doc["sessions"]:
    for u in s["attendees"]:
        counts[u] = counts.get(u, 0) + 1
users = {u["id"]: u for u in doc["users"]}
for uid, _ in sorted(counts.items(), key=lambda kv: -kv[1]):
    user = users[uid]
    staff = [v for v in doc["users"] if set(v.get("staffCenters", [])) & set(user.get("centers", []))]
    if staff and not user.get("staffCenters"):
        print(uid, staff[0]["id"], user["login"])
        break
PY
)
student_token="$("$bin" token --sub "$student" --role Student --ttl 1h)"
staff_token="$("$bin" token --sub "$staff" --role StaffMember --ttl 1h)"
sessions="$(curl -s -H "Authorization: Bearer $student_token" "http://127.0.0.1:$port/users/me/sessions" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"

cat >"$work/graphql.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("BENCH_BODY")
LUA

run() {
  local name="$1" token="$2" path="$3" body="${4:-}"
  local args=(-t"$threads" -c"$connections" -d"${seconds}s" --latency -H "Authorization: Bearer $token")
  [ -n "$body" ] && args+=(-s "$work/graphql.lua")
  local out
  out="$(BENCH_BODY="$body" wrk "${args[@]}" "http://127.0.0.1:$port$path")"
  local rps p50 p99 errors
  rps="$(awk '/^Requests\/sec/ {print $2}' <<<"$out")"
  p50="$(awk '$1 == "50%" {print $2}' <<<"$out")"
  p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
  errors="$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out")"
  printf '%-34s %10s req/s   p50 %-9s p99 %-9s %s\n' "$name" "$rps" "$p50" "$p99" "$errors"
}

echo "bench: $(nproc) cores, ${seconds}s per scenario, $connections connections, user with $sessions sessions, $DATABASE_URL"
run "REST  /users/me/sessions (student)" "$student_token" "/users/me/sessions"
run "REST  /users/<login>/sessions (staff)" "$staff_token" "/users/$login/sessions"
run "GraphQL userSessions(me) (student)" "$student_token" "/graphql" \
  '{"query":"{ userSessions(userIdentifier: \"me\") { name contact photo startDate endDate partnerId contentItemId teacherId meetingUrl startDateTime endDateTime } }"}'
run "GraphQL userSessions(login) (staff)" "$staff_token" "/graphql" \
  "{\"query\":\"{ userSessions(userIdentifier: \\\"$login\\\") { name contact photo startDate endDate partnerId contentItemId teacherId meetingUrl startDateTime endDateTime } }\"}"
