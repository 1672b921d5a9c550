#!/usr/bin/env bash
# The main job, end to end on this machine: a local mosquitto, a local Cumulocity simulator (mTLS
# MQTT with its own CA), `tedge cert create` + `tedge connect c8y`, then tedge-agent and
# tedge-mapper c8y with its built-in bridge; sample telemetry published on te/… is shown as the
# cloud receives it. Everything lives in a temp dir and is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
export PATH="$PATH:/usr/sbin"

work=$(mktemp -d /tmp/tedge-demo.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() { exec 3>&- 2>/dev/null || true; for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

tedge() { node dist/src/bin/tedge.js "$@"; }
free_port() { node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

# The local bus.
port=$(free_port)
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$port" > "$work/mosquitto.conf"
mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 & pids+=($!)

# The device: its identity and where everything it writes goes.
export TEDGE_CONFIG_DIR="$work/etc"
tedge cert create --device-id demo-device
tedge config set mqtt.client.port "$port"
tedge config set agent.state.path "$work/agent"
tedge config set data.path "$work/data"
tedge config set logs.path "$work/logs"
tedge config set tmp.path "$work"
# A log the cloud can ask for (c8y_LogfileRequest with the type `demo`).
printf 'service started\nERROR disk almost full\nservice running\n' > "$work/demo.log"
mkdir -p "$TEDGE_CONFIG_DIR/plugins"
printf "files = [ { type = 'demo', path = '%s' } ]\n" "$work/demo.log" > "$TEDGE_CONFIG_DIR/plugins/tedge-log-plugin.toml"
# A harmless software-management plugin (type `demo`): it "installs" a package by writing its name and version to a file.
mkdir -p "$TEDGE_CONFIG_DIR/sm-plugins"
cat > "$TEDGE_CONFIG_DIR/sm-plugins/demo" <<SH
#!/bin/sh
state='$work/demo-packages'
touch "\$state"
case "\$1" in
  list) cat "\$state" ;;
  prepare|finalize) ;;
  install) { grep -v "^\$2	" "\$state"; printf '%s\t%s\n' "\$2" "\$4"; } > "\$state.new"; mv "\$state.new" "\$state" ;;
  remove) grep -v "^\$2	" "\$state" > "\$state.new"; mv "\$state.new" "\$state" ;;
  *) exit 1 ;;
esac
SH
chmod 755 "$TEDGE_CONFIG_DIR/sm-plugins/demo"
# This demo starts the daemons itself; on a real device system.toml is absent (systemd) or names OpenRC, runit…
cat > "$TEDGE_CONFIG_DIR/system.toml" <<'TOML'
[init]
name = "demo script"
is_available = ["/bin/true"]
restart = ["/bin/true", "{}"]
stop = ["/bin/true", "{}"]
start = ["/bin/true", "{}"]
enable = ["/bin/true", "{}"]
disable = ["/bin/true", "{}"]
is_active = ["/bin/true", "{}"]
TOML

# The cloud: the simulator trusts the device's self-signed certificate, as Cumulocity does after `tedge cert upload`.
# Its stdin (a fifo, fd 3 here) takes cloud-side commands: `operation {…}` as a user in the UI creates one.
mkfifo "$work/cloud.in"
node dist/test/helpers/cloud-sim-main.js --dir "$work/cloud" --trust "$TEDGE_CONFIG_DIR/device-certs/tedge-certificate.pem" < "$work/cloud.in" > "$work/cloud.out" 2>"$work/cloud.err" & pids+=($!)
exec 3> "$work/cloud.in"
for _ in $(seq 1 100); do [ -s "$work/cloud.out" ] && break; sleep 0.1; done
sim=$(head -n 1 "$work/cloud.out")
tedge config set c8y.url 127.0.0.1
tedge config set c8y.mqtt "$(node -pe "JSON.parse(process.argv[1]).mqtt" "$sim")"
tedge config set c8y.root_cert_path "$(node -pe "JSON.parse(process.argv[1]).ca" "$sim")"
tedge config set c8y.http "$(node -pe "JSON.parse(process.argv[1]).env.TEDGE_C8Y_HTTP" "$sim")"

echo "== tedge connect c8y"
tedge connect c8y

node dist/src/bin/tedge-agent.js >"$work/agent.log" 2>&1 & pids+=($!)
node dist/src/bin/tedge-mapper.js c8y >"$work/mapper.log" 2>&1 & pids+=($!)
tedge mqtt sub 'te/device/main/service/tedge-mapper-bridge-c8y/status/health' -C 1 -W 20 >/dev/null   # the bridge is up

tedge mqtt sub te/errors -W 6 > "$work/errors.txt" & errors=$!
sleep 0.5
echo "== publishing sample telemetry on te/…"
tedge mqtt pub -r te/device/main///m/environment/meta '{"temperature":{"unit":"°C"}}'
tedge mqtt pub te/device/main///m/environment '{"temperature":21.5,"humidity":{"relative":48}}'
tedge mqtt pub te/device/main///e/login '{"text":"A user just logged in"}'
tedge mqtt pub -r te/device/main///a/temperature_high '{"severity":"major","text":"Temperature is high"}'
tedge mqtt pub te/device/sensor01/service/app/m/ '{"pressure":1013}'
tedge mqtt pub te/device/main///m/ '{"temperature":true}'
echo "== a log file requested from Cumulocity: the agent puts it on its file transfer service, the mapper attaches it to an event"
echo 'operation {"c8y_LogfileRequest":{"logFile":"demo","dateFrom":"2000-01-01T00:00:00Z","dateTo":"2100-01-01T00:00:00Z","searchText":"ERROR","maximumLines":10}}' >&3
echo "== a software update from Cumulocity: the agent installs hello-demo 1.0 with the demo sm-plugin, the mapper sends the new software list"
echo 'operation {"c8y_SoftwareUpdate":[{"name":"hello-demo","version":"1.0","softwareType":"demo","action":"install","url":""}]}' >&3
# Both operations finished and the new list in the inventory (at most 30 s).
for _ in $(seq 1 300); do
  [ "$(grep -cE '^\[operation 100[01]\] (SUCCESSFUL|FAILED)' "$work/cloud.out")" -ge 2 ] && grep -q 'PUT /inventory/managedObjects/.*hello-demo' "$work/cloud.out" && break
  sleep 0.1
done
echo "== what the cloud received (device → Cumulocity, topics without the local c8y/ prefix)"
tail -n +2 "$work/cloud.out" | grep -v '^\[s/uat\]' || true
wait "$errors" || true
echo "== te/errors (nothing converted from these)"
cat "$work/errors.txt"
