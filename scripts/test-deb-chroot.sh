#!/usr/bin/env bash
# System test of dist/packages/tedge_<version>_<arch>.deb in a Debian 12 chroot of its architecture
# (ARM through qemu-user binfmt). Needs root, debootstrap, mosquitto + mosquitto-clients on the host.
#   scripts/test-deb-chroot.sh [amd64|arm64|armhf]      (default amd64)
# The chroot (debootstrap --variant=minbase) is cached in build/chroot-<arch>; TEDGE_CHROOT_REFRESH=1 rebuilds it.
#
# Checks: install; tedge --version and config list; `tedge flows test` of a .js step (the flow worker embedded
# in the single executable) and of a .ts step (refused); user, sudoers, mosquitto include_dir; systemd-analyze verify
# of every unit; `tedge run all` as user tedge against a host mosquitto (the chroot shares the network):
# both health topics up and a measurement converted; upgrade to a bumped version keeps the configuration;
# purge leaves no file, user or include line behind.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ARCH=${1:-amd64}
WORK=$ROOT/build/system-test-$ARCH
# The cached chroot (CHROOT, ensure_debian_chroot, in_chroot), shared with the apt plugin test.
# shellcheck source=scripts/lib/debian-chroot.sh
. "$ROOT/scripts/lib/debian-chroot.sh"
STEP=0
MOSQUITTO_PID=
TEDGE_PID=

say() { STEP=$((STEP + 1)); printf '[deb-chroot %s %s] %d. %s\n' "$ARCH" "$(date +%T)" "$STEP" "$*"; }
fail() { printf '[deb-chroot %s] FAIL: %s\n' "$ARCH" "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "needs root (debootstrap, chroot, dpkg)"
DEB=$(ls -t "$ROOT"/dist/packages/tedge_*_"$ARCH".deb 2>/dev/null | head -1 || true)
[ -n "$DEB" ] || fail "no dist/packages/tedge_*_$ARCH.deb: run PACKAGE_ARCHS=... npm run package first"
VERSION=$(dpkg-deb -f "$DEB" Version)

cleanup() {
  [ -n "$TEDGE_PID" ] && kill "$TEDGE_PID" 2>/dev/null || true
  [ -n "$MOSQUITTO_PID" ] && kill "$MOSQUITTO_PID" 2>/dev/null || true
  [ -n "${CHROOT:-}" ] && release_debian_chroot
}
trap cleanup EXIT

# ---- the chroot, cached ----
ensure_debian_chroot "$ARCH" || fail "no chroot"
rm -rf "$WORK" && mkdir -p "$WORK"

# A previous run that failed half-way may have left the package in.
if in_chroot dpkg -s tedge >/dev/null 2>&1; then in_chroot dpkg --purge tedge >/dev/null; fi

# Everything on the chroot's file system but the places that change by themselves (dpkg's own records, logs, caches).
snapshot() {
  (cd "$CHROOT" && find . -xdev \( -path ./proc -o -path ./tmp -o -path ./run -o -path ./var/lib/dpkg -o -path ./var/log -o -path ./var/cache \
    -o -path ./.tedge-chroot-ok \) -prune -o -printf '%p %M %u:%g\n' | LC_ALL=C sort)
}
snapshot >"$WORK/before.txt"
cp "$CHROOT/etc/mosquitto/mosquitto.conf" "$WORK/mosquitto.conf.before"
getent_before=$(in_chroot getent passwd tedge || true)
[ -z "$getent_before" ] || fail "user tedge exists before the install"

say "dpkg -i $(basename "$DEB")"
cp "$DEB" "$CHROOT/tmp/tedge.deb"
in_chroot dpkg -i /tmp/tedge.deb >"$WORK/install.log" 2>&1 || { cat "$WORK/install.log"; fail "dpkg -i"; }

say "tedge --version, tedge config list"
out=$(in_chroot tedge --version)
[ "$out" = "tedge $(node -p "require('./package.json').version")" ] || fail "tedge --version printed '$out'"
in_chroot tedge config list >"$WORK/config-list.txt" || fail "tedge config list"
grep -q '^mqtt.client.port=1883$' "$WORK/config-list.txt" || fail "tedge config list: $(cat "$WORK/config-list.txt")"
in_chroot tedge-agent --help >/dev/null || fail "tedge-agent (link) --help"
in_chroot tedge-mapper --help >/dev/null || fail "tedge-mapper (link) --help"
[ "$(readlink "$CHROOT/etc/tedge/sm-plugins/flow")" = /usr/bin/tedge-flows-plugin ] || fail "/etc/tedge/sm-plugins/flow is not a link to /usr/bin/tedge-flows-plugin"
in_chroot /etc/tedge/sm-plugins/flow list >/dev/null || fail "/etc/tedge/sm-plugins/flow list"

say "tedge flows test: a .js step runs in the flow worker embedded in the single executable; a .ts step is refused"
mkdir -p "$CHROOT/tmp/flow"
printf 'input.mqtt.topics = ["sensors/+"]\n\n[[steps]]\nscript = "scale.js"\nconfig = { factor = 10 }\n' >"$CHROOT/tmp/flow/flow.toml"
printf '%s\n' 'export function onMessage(message, context) {' \
  '  const value = Number(new TextDecoder().decode(message.payload));' \
  '  return { topic: `scaled/${message.topic}`, payload: JSON.stringify({ value: value * context.config.factor }) };' \
  '}' >"$CHROOT/tmp/flow/scale.js"
cp "$CHROOT/tmp/flow/scale.js" "$CHROOT/tmp/flow/scale.ts"
out=$(in_chroot tedge flows test --flows-dir /tmp/flow --flow /tmp/flow/flow.toml sensors/t1 4.2 2>&1) || fail "tedge flows test (.js step): $out"
[ "$out" = '[scaled/sensors/t1] {"value":42}' ] || fail "tedge flows test (.js step) printed: $out"
rc=0
out=$(in_chroot tedge flows test --flow /tmp/flow/scale.ts sensors/t1 4.2 2>&1) || rc=$?
[ "$rc" != 0 ] && [ "$out" = 'error: /tmp/flow/scale.ts: the packaged tedge runs .js flow steps only (it has no TypeScript compiler): compile this step to .js' ] ||
  fail "tedge flows test (.ts step) exited $rc and printed: $out"
rm -rf "$CHROOT/tmp/flow"

say "user, directories, sudoers, mosquitto include_dir"
in_chroot getent passwd tedge | grep -q '^tedge:x:[0-9]*:[0-9]*:.*:/nonexistent:' || fail "no system user tedge"
in_chroot getent group tedge >/dev/null || fail "no group tedge"
[ "$(stat -c '%a %U' "$CHROOT/etc/sudoers.d/tedge")" = "440 root" ] || fail "sudoers mode: $(stat -c '%a %U' "$CHROOT/etc/sudoers.d/tedge")"
[ "$(in_chroot stat -c %U /data/tedge/agent)" = tedge ] || fail "/data/tedge/agent not owned by tedge"
grep -qx 'include_dir /etc/tedge/mosquitto-conf' "$CHROOT/etc/mosquitto/mosquitto.conf" || fail "no include_dir in mosquitto.conf"

say "firmware: backends, their sudoers drop-in, the firmware_update workflow (a conffile)"
for b in tedge-firmware-rauc tedge-firmware-script; do
  [ "$(stat -c '%a %U' "$CHROOT/usr/share/tedge/firmware/$b")" = "755 root" ] || fail "$b: $(stat -c '%a %U' "$CHROOT/usr/share/tedge/firmware/$b" 2>&1)"
done
[ "$(stat -c '%a %U' "$CHROOT/etc/sudoers.d/tedge-firmware")" = "440 root" ] || fail "tedge-firmware sudoers mode"
if in_chroot sh -c 'command -v visudo' >/dev/null; then in_chroot visudo -cf /etc/sudoers.d/tedge-firmware >/dev/null || fail "visudo rejects tedge-firmware"; fi
grep -qx '/etc/tedge/operations/firmware_update.toml' "$CHROOT/var/lib/dpkg/info/tedge.conffiles" || fail "firmware_update.toml is not a conffile"
cmp -s packaging/operations/firmware_update.toml "$CHROOT/etc/tedge/operations/firmware_update.toml" || fail "firmware_update.toml differs from packaging/operations"
[ "$(in_chroot stat -c %U /etc/tedge/operations)" = tedge ] || fail "/etc/tedge/operations not owned by tedge"

say "the built-in mappers' flows: in /etc/tedge/mappers/<cloud>/flows/ as in packaging/mappers/, owned by tedge"
for f in $(cd packaging/mappers && find . -type f | sort); do
  cmp -s "packaging/mappers/$f" "$CHROOT/etc/tedge/mappers/$f" || fail "/etc/tedge/mappers/$f differs from packaging/mappers/$f"
  [ "$(in_chroot stat -c %U "/etc/tedge/mappers/$f")" = tedge ] || fail "/etc/tedge/mappers/$f not owned by tedge"
done
[ "$(in_chroot stat -c %U /etc/tedge/mappers/c8y/flows)" = tedge ] || fail "/etc/tedge/mappers/c8y/flows not owned by tedge"

say "mosquitto installed after tedge: the file trigger adds the include_dir"
sed -i '\|^include_dir /etc/tedge/mosquitto-conf$|d' "$CHROOT/etc/mosquitto/mosquitto.conf"
in_chroot sh -c 'dpkg-trigger --no-await /etc/mosquitto && dpkg --triggers-only --pending' >/dev/null || fail "trigger"
grep -qx 'include_dir /etc/tedge/mosquitto-conf' "$CHROOT/etc/mosquitto/mosquitto.conf" || fail "the trigger did not add include_dir"

say "systemd-analyze verify (inside the chroot)"
units=$(cd "$CHROOT/lib/systemd/system" && ls tedge-*.service)
# shellcheck disable=SC2086
if ! in_chroot sh -c "cd /lib/systemd/system && systemd-analyze verify $(echo $units)" >"$WORK/verify.log" 2>&1; then
  cat "$WORK/verify.log"
  fail "systemd-analyze verify"
fi
if grep -i 'tedge' "$WORK/verify.log"; then fail "systemd-analyze verify complained about a tedge unit"; fi

say "tedge run all (as tedge) against a host mosquitto"
PORT=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$PORT" >"$WORK/mosquitto.conf"
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
"$MOSQUITTO" -c "$WORK/mosquitto.conf" >"$WORK/mosquitto.log" 2>&1 &
MOSQUITTO_PID=$!
for _ in $(seq 50); do mosquitto_pub -p "$PORT" -t probe -m x 2>/dev/null && break; sleep 0.1; done
mosquitto_sub -p "$PORT" -v -W 30 -t 'te/device/main/service/+/status/health' -t 'c8y/measurement/measurements/create' >"$WORK/sub.txt" 2>/dev/null &
SUB_PID=$!
sleep 0.3
chroot --userspec=tedge:tedge "$CHROOT" /usr/bin/env -i PATH=/usr/bin:/bin LANG=C.UTF-8 \
  TEDGE_MQTT_CLIENT_PORT="$PORT" TEDGE_DEVICE_ID=chroot-device /usr/bin/tedge run all >"$WORK/run-all.log" 2>&1 &
TEDGE_PID=$!
up() { grep -c "^te/device/main/service/\(tedge-agent\|tedge-mapper-c8y\)/status/health .*\"up\"" "$WORK/sub.txt" || true; }
for _ in $(seq 200); do [ "$(up)" -ge 2 ] && break; sleep 0.1; done
[ "$(up)" -ge 2 ] || { cat "$WORK/run-all.log"; fail "both health topics up: $(cat "$WORK/sub.txt")"; }
mosquitto_pub -p "$PORT" -t 'te/device/main///m/environment' -m '{"temperature":21.5,"time":"2021-04-30T17:03:14Z"}'
for _ in $(seq 100); do grep -q '^c8y/measurement/measurements/create ' "$WORK/sub.txt" && break; sleep 0.1; done
grep -qF 'c8y/measurement/measurements/create {"type":"environment","time":"2021-04-30T17:03:14Z","temperature":{"temperature":{"value":21.5}}}' "$WORK/sub.txt" ||
  { cat "$WORK/run-all.log"; fail "no converted measurement: $(cat "$WORK/sub.txt")"; }
pids=$(grep -o '"pid":[0-9]*' "$WORK/sub.txt" | sort -u | wc -l)
[ "$pids" = 1 ] || fail "the agent and the mapper should report the same pid: $(cat "$WORK/sub.txt")"
grep -q 'cannot install the built-in flows' "$WORK/run-all.log" && { cat "$WORK/run-all.log"; fail "the c8y mapper did not run its flows"; }
kill -TERM "$TEDGE_PID"
rc=0
wait "$TEDGE_PID" || rc=$?
TEDGE_PID=
[ "$rc" = 0 ] || { cat "$WORK/run-all.log"; fail "tedge run all exited $rc after SIGTERM"; }
kill "$SUB_PID" 2>/dev/null || true
kill "$MOSQUITTO_PID" && wait "$MOSQUITTO_PID" 2>/dev/null || true
MOSQUITTO_PID=

say "upgrade to a bumped version keeps the configuration"
in_chroot tedge config set c8y.url example.cumulocity.com
printf '\n# edited by the user\n' >>"$CHROOT/etc/tedge/operations/firmware_update.toml"
printf '\n# edited by the user\n' >>"$CHROOT/etc/tedge/mappers/az/flows/mea.toml"
NEXT=$VERSION.1
rm -rf "$WORK/repack" && dpkg-deb -R "$DEB" "$WORK/repack"
sed -i "s/^Version: .*/Version: $NEXT/" "$WORK/repack/DEBIAN/control"
fakeroot dpkg-deb --root-owner-group -Zxz -z0 -b "$WORK/repack" "$CHROOT/tmp/tedge-next.deb" >/dev/null
in_chroot dpkg -i /tmp/tedge-next.deb >"$WORK/upgrade.log" 2>&1 || { cat "$WORK/upgrade.log"; fail "upgrade"; }
[ "$(in_chroot dpkg-query -W -f '${Version}' tedge)" = "$NEXT" ] || fail "version after upgrade"
[ "$(in_chroot tedge config get c8y.url)" = example.cumulocity.com ] || fail "c8y.url lost in the upgrade"
grep -qx '# edited by the user' "$CHROOT/etc/tedge/operations/firmware_update.toml" || fail "the user's firmware_update.toml lost in the upgrade"
grep -qx '# edited by the user' "$CHROOT/etc/tedge/mappers/az/flows/mea.toml" || fail "the user's mea.toml lost in the upgrade"
grep -q 'mappers' "$WORK/upgrade.log" && { cat "$WORK/upgrade.log"; fail "dpkg spoke of the mappers' flows in the upgrade"; }
in_chroot getent passwd tedge >/dev/null || fail "user tedge lost in the upgrade"
[ "$(grep -cx 'include_dir /etc/tedge/mosquitto-conf' "$CHROOT/etc/mosquitto/mosquitto.conf")" = 1 ] || fail "include_dir added twice"

say "purge leaves nothing behind"
in_chroot dpkg --purge tedge >"$WORK/purge.log" 2>&1 || { cat "$WORK/purge.log"; fail "purge"; }
rm -f "$CHROOT/tmp/tedge.deb" "$CHROOT/tmp/tedge-next.deb"
snapshot >"$WORK/after.txt"
if ! diff "$WORK/before.txt" "$WORK/after.txt" >"$WORK/leftovers.diff"; then cat "$WORK/leftovers.diff"; fail "files differ after purge"; fi
in_chroot getent passwd tedge >/dev/null && fail "user tedge still there"
in_chroot getent group tedge >/dev/null && fail "group tedge still there"
cmp -s "$WORK/mosquitto.conf.before" "$CHROOT/etc/mosquitto/mosquitto.conf" || fail "mosquitto.conf not restored"
in_chroot dpkg -S tedge >/dev/null 2>&1 && fail "dpkg -S still knows files of tedge"
say "OK ($(basename "$DEB"))"
