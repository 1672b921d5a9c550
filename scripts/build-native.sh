#!/usr/bin/env bash
# Builds the Node-API addon (native/) into build/Release/tedge_native.node with cmake-js in Node-API
# mode (no Node header download). Part of `npm run build`, which must not fail when the addon cannot
# be built: the TypeScript path then runs, and this prints why. TEDGE_NATIVE_REQUIRED=1 (CI) makes a
# failed build an error; TEDGE_NATIVE=0 skips it.
set -uo pipefail
cd "$(dirname "$0")/.."

skip() {
  echo "build:native: addon not built: $1; the TypeScript hot path will be used" >&2
  if [ "${TEDGE_NATIVE_REQUIRED:-0}" = "1" ]; then exit 1; fi
  exit 0
}

if [ "${TEDGE_NATIVE:-}" = "0" ]; then skip "TEDGE_NATIVE=0"; fi
command -v cmake >/dev/null 2>&1 || skip "cmake not found (apt-get install cmake)"
command -v c++ >/dev/null 2>&1 || command -v g++ >/dev/null 2>&1 || skip "no C++ compiler (apt-get install g++)"
[ -x node_modules/.bin/cmake-js ] || skip "cmake-js not installed (npm ci)"
[ -d node_modules/node-addon-api ] || skip "node-addon-api not installed (npm ci)"

mkdir -p build
log=build/native-build.log
if node_modules/.bin/cmake-js build -d native -O build --parallel 2 >"$log" 2>&1; then
  echo "build:native: build/Release/tedge_native.node"
else
  tail -20 "$log" >&2
  skip "cmake-js failed (full log: $log)"
fi
