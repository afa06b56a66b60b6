#!/usr/bin/env bash
# Install the Node dependencies of tools/DIR from its package-lock.json.
#
# Usage: scripts/ensure-node-tools.sh DIR      (e.g. graphql-http-audit, browser)
#
# Runs `npm ci --no-audit --no-fund` in tools/DIR when tools/DIR/node_modules is
# missing or older than package-lock.json (or package.json). Quiet and a no-op
# when it is up to date; npm's output is shown only if it fails. Exits 1 with a
# loud message if node/npm are missing or too old, or the install fails.
set -u

die() {
  {
    echo "################################################################################"
    echo "ensure-node-tools: ERROR: $*"
    echo "################################################################################"
  } >&2
  exit 1
}

[ $# -eq 1 ] || die "usage: scripts/ensure-node-tools.sh DIR   (a folder under tools/)"
case "$1" in
  '' | *[!A-Za-z0-9._-]* | . | ..) die "DIR must be a plain folder name under tools/, got '$1'" ;;
esac

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="$ROOT/tools/$1"
[ -f "$DIR/package.json" ] || die "no $DIR/package.json"
[ -f "$DIR/package-lock.json" ] || die "no $DIR/package-lock.json (npm ci needs the committed lock file)"

command -v node >/dev/null 2>&1 || die "node is not installed (Node >= 20 is needed for tools/$1)"
command -v npm >/dev/null 2>&1 || die "npm is not installed (it comes with Node >= 20; needed for tools/$1)"
major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
[ "$major" -ge 20 ] 2>/dev/null || die "node $(node -v 2>/dev/null) is too old; tools/$1 needs Node >= 20"

# npm writes node_modules/.package-lock.json on every install: use it as the
# stamp of the last successful install.
stamp="$DIR/node_modules/.package-lock.json"
if [ -f "$stamp" ] &&
  ! [ "$DIR/package-lock.json" -nt "$stamp" ] &&
  ! [ "$DIR/package.json" -nt "$stamp" ]; then
  exit 0
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! (cd "$DIR" && npm ci --no-audit --no-fund) >"$log" 2>&1; then
  cat "$log" >&2
  die "npm ci failed in tools/$1 (output above)"
fi
# Make the stamp newer than the lock file even if clocks or npm disagree.
touch "$stamp"
exit 0
