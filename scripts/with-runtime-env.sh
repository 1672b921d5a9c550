#!/bin/sh
# Runs a command with the runtime flags of the shipped executable (packaging/runtime.env, the units'
# EnvironmentFile), e.g. the whole test suite: scripts/with-runtime-env.sh npm test
set -eu
set -a
. "$(dirname "$0")/../packaging/runtime.env"
set +a
exec "$@"
