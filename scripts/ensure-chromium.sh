#!/usr/bin/env bash
# Print the path of a usable Chromium, installing Debian's package if needed.
#
# Looks at, in order: $CHROMIUM, /usr/bin/chromium, `chromium` on PATH.
# If none is usable and we are root with apt-get, installs Debian's `chromium`
# package (apt output goes to stderr) and prints its path.
# stdout carries only the path, so:   CHROMIUM="$(scripts/ensure-chromium.sh)"
# Otherwise: nothing on stdout, a loud message on stderr, exit 1.
set -u

usable() {
  # An executable file that can at least report its version (catches missing
  # shared libraries). Debian's wrapper prints a harmless shell warning on
  # stderr, hence 2>/dev/null.
  [ -n "$1" ] && [ -f "$1" ] && [ -x "$1" ] && "$1" --version >/dev/null 2>&1
}

find_chromium() {
  if [ -n "${CHROMIUM:-}" ]; then
    if usable "$CHROMIUM"; then
      printf '%s\n' "$CHROMIUM"
      return 0
    fi
    echo "ensure-chromium: warning: CHROMIUM=$CHROMIUM is not a usable Chromium; looking elsewhere" >&2
  fi
  if usable /usr/bin/chromium; then
    printf '%s\n' /usr/bin/chromium
    return 0
  fi
  local p
  p="$(command -v chromium 2>/dev/null || true)"
  if [ -n "$p" ] && usable "$p"; then
    printf '%s\n' "$p"
    return 0
  fi
  return 1
}

if find_chromium; then
  exit 0
fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: no Chromium found; installing Debian's chromium package" >&2
  if apt-get update -qq >&2 &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2; then
    if find_chromium; then
      exit 0
    fi
    echo "ensure-chromium: apt-get installed chromium but no usable binary was found" >&2
  else
    echo "ensure-chromium: apt-get install chromium failed" >&2
  fi
fi

cat >&2 <<'MSG'
################################################################################
ensure-chromium: ERROR: no usable Chromium on this machine.
  Looked at $CHROMIUM, /usr/bin/chromium and `chromium` on PATH.
  Install it (Debian: apt-get install chromium, as root), or set CHROMIUM to
  the path of a Chromium binary. The browser checks cannot run without it.
################################################################################
MSG
exit 1
