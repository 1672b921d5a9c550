#!/usr/bin/env bash
# Fails when the idle RSS of `tedge run all` (x86_64) or a .deb's size regressed by more than the tolerance
# over packaging/footprint-bars.json. Run after `npm run package` (and `npm run build`); needs mosquitto.
# BARS_SKIP_RSS=1: sizes only. Update the bars in that file when a change lowers a figure for good.
set -euo pipefail
cd "$(dirname "$0")/.."
exec node dist/test/bench/footprint-bars.js
