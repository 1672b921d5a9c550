#!/usr/bin/env bash
# The main job, end to end on this machine: a local mosquitto, tedge-agent and tedge-mapper c8y,
# sample telemetry published on te/… and shown as it arrives converted on c8y/….
# Everything lives in a temp dir and is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
export PATH="$PATH:/usr/sbin"

work=$(mktemp -d /tmp/tedge-demo.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

tedge() { node dist/src/bin/tedge.js "$@"; }
port=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$port" > "$work/mosquitto.conf"
mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 & pids+=($!)

export TEDGE_CONFIG_DIR="$work/etc"
tedge config set device.id demo-device
tedge config set mqtt.client.port "$port"
tedge config set agent.state.path "$work/agent"
echo "== config ($TEDGE_CONFIG_DIR/tedge.ini)"; cat "$TEDGE_CONFIG_DIR/tedge.ini"

sleep 0.5
node dist/src/bin/tedge-agent.js >"$work/agent.log" 2>&1 & pids+=($!)
node dist/src/bin/tedge-mapper.js c8y >"$work/mapper.log" 2>&1 & pids+=($!)
tedge mqtt sub 'te/device/main/service/+/status/health' -C 2 -W 10 >/dev/null   # both daemons are up

echo "== what arrives on c8y/# and te/errors"
tedge mqtt sub 'c8y/#' -W 6 & sub=$!
tedge mqtt sub 'te/errors' -W 6 & suberr=$!
sleep 0.5
echo "== publishing sample telemetry on te/…" >&2
tedge mqtt pub -r te/device/main///m/environment/meta '{"temperature":{"unit":"°C"}}'
tedge mqtt pub te/device/main///m/environment '{"temperature":21.5,"humidity":{"relative":48}}'
tedge mqtt pub te/device/main///e/login '{"text":"A user just logged in"}'
tedge mqtt pub -r te/device/main///a/temperature_high '{"severity":"major","text":"Temperature is high"}'
tedge mqtt pub te/device/sensor01/service/app/m/ '{"pressure":1013}'
tedge mqtt pub te/device/main///m/ '{"temperature":true}'
wait "$sub" "$suberr"
