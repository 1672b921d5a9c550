#!/usr/bin/env bash
# Sets up a fresh Debian machine (system packages, npm dependencies, build) and runs the whole test suite:
# TypeScript unit, contract and real-mosquitto integration tests, the fault-injection suite, then the C++ host tests with a leak
# check, then a bounded fuzz run of each libFuzzer harness.
set -euo pipefail
cd "$(dirname "$0")/.."
# TEDGE_SETUP_RAUC=1: rauc for the RAUC firmware backend test (it needs root for loop devices and skips otherwise).
export TEDGE_FUZZ=1 TEDGE_NATIVE_REQUIRED=1 TEDGE_SETUP_RAUC=1
bash scripts/setup.sh
export PATH="$PATH:/usr/sbin"
# The suites run with the shipped executable's runtime flags (packaging/runtime.env), so what is tested is what runs.
scripts/with-runtime-env.sh npm test
# The fault-injection suite (test/faults): SIGTERM, kill -9, broker restarts, a refusing cloud, a full disk.
scripts/with-runtime-env.sh npm run test:faults
npm run test:native
npm run fuzz -- "${TEDGE_FUZZ_SECONDS:-20}"
