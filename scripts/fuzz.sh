#!/usr/bin/env bash
# Builds the libFuzzer harnesses of native/fuzz (clang, ASan + UBSan) and runs each for a bounded
# time, seeded from the shared fixtures. Usage: scripts/fuzz.sh [seconds per harness, default 30]
# Needs: clang libfuzzer-14-dev libclang-rt-14-dev (scripts/setup.sh installs them with TEDGE_FUZZ=1).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-${FUZZ_SECONDS:-30}}"
out="build/fuzz"

if ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz: clang++ not found (apt-get install clang libfuzzer-14-dev libclang-rt-14-dev)" >&2
  exit 1
fi
CC=clang CXX=clang++ cmake -S native -B "$out" -G Ninja -DTEDGE_FUZZ=ON -DTEDGE_SANITIZE=ON >/dev/null
cmake --build "$out" -j2 --target fuzz_frame_parser fuzz_measurement

# Seeds: every MQTT fixture frame (with the harness's 2 option bytes in front) and every measurement payload.
mkdir -p "$out/corpus/frame_parser" "$out/corpus/measurement"
node - "$out/corpus" <<'JS'
const fs = require('fs'), path = require('path');
const [corpus] = process.argv.slice(2);
const bytes = (lines) => Buffer.from(lines.flatMap((l) => (l.split('#')[0] ?? '').trim().split(/\s+/).filter(Boolean)
  .flatMap((t) => { const [h, n] = t.split('*'); return Array(n ? +n : 1).fill(parseInt(h, 16)); })));
let n = 0;
for (const f of fs.readdirSync('test/fixtures/mqtt')) {
  for (const c of JSON.parse(fs.readFileSync(path.join('test/fixtures/mqtt', f))).cases) {
    const version = { 3: 1, 4: 2, 5: 3 }[c.protocolVersion] ?? 0;
    fs.writeFileSync(path.join(corpus, 'frame_parser', `seed-${n++}`), Buffer.concat([Buffer.from([version, 16]), bytes(c.frame)]));
  }
}
const cases = JSON.parse(fs.readFileSync('test/fixtures/measurement-c8y/cases.json')).cases;
cases.forEach((c, i) => fs.writeFileSync(path.join(corpus, 'measurement', `case-${i}`), c.payloadHex !== undefined ? Buffer.from(c.payloadHex, 'hex') : Buffer.from(c.payload)));
const shared = path.join(process.env.TEDGE_SHARED_DIR ?? '../shared', 'fixtures/thin-edge-measurements');
const walk = (d) => fs.existsSync(d) ? fs.readdirSync(d).flatMap((e) => { const p = path.join(d, e); return fs.statSync(p).isDirectory() ? walk(p) : p.endsWith('.json') ? [p] : []; }) : [];
walk(shared).forEach((p, i) => fs.copyFileSync(p, path.join(corpus, 'measurement', `shared-${i}`)));
JS

status=0
for h in frame_parser measurement; do
  echo "fuzz: fuzz_$h for ${seconds}s"
  mkdir -p "$out/artifacts/$h"
  if ! "$out/fuzz_$h" "$out/corpus/$h" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$out/artifacts/$h/" 2>"$out/fuzz_$h.log"; then
    echo "fuzz: fuzz_$h FAILED; see $out/fuzz_$h.log and $out/artifacts/$h/" >&2
    tail -40 "$out/fuzz_$h.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$out/fuzz_$h.log" | sed "s/^/fuzz: fuzz_$h /"
  fi
done
exit $status
