#!/usr/bin/env bash
# Sets up a fresh Debian machine (system packages, npm dependencies, build) and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PATH:/usr/sbin"
npm test
