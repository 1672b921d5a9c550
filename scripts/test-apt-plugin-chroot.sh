#!/usr/bin/env bash
# System test of tedge-apt-plugin driving the real apt-get and dpkg, in the cached Debian 12 chroot of the
# package tests (scripts/lib/debian-chroot.sh). Needs root and dist/packages/tedge_<version>_<arch>.deb.
#   scripts/test-apt-plugin-chroot.sh [amd64|arm64|armhf]      (default amd64)
# Installs the .deb, builds two tiny local packages with dpkg-deb --build, then calls
# /etc/tedge/sm-plugins/apt (the link the .deb ships) as the agent does: list, install --file,
# update-list (a downloaded file without .deb extension + a removal), remove, and the refusals
# (a file that is another package, a usage error); each checked with dpkg-query in the chroot. Then the whole
# path: tedge-agent in the chroot (root, no sudo there) against a host mosquitto, a software_update whose module
# URL is served over HTTP from the host, and a software_list, driven over MQTT as the cloud mapper would.
# Needs mosquitto and mosquitto-clients on the host (the chroot shares the network).
# Leaves the chroot as it found it (tedge and the test packages purged).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ARCH=${1:-amd64}
WORK=$ROOT/build/apt-plugin-test-$ARCH
# shellcheck source=scripts/lib/debian-chroot.sh
. "$ROOT/scripts/lib/debian-chroot.sh"
STEP=0
PLUGIN=/etc/tedge/sm-plugins/apt

say() { STEP=$((STEP + 1)); printf '[apt-plugin %s %s] %d. %s\n' "$ARCH" "$(date +%T)" "$STEP" "$*"; }
fail() { printf '[apt-plugin %s] FAIL: %s\n' "$ARCH" "$*" >&2; exit 1; }
# "installed VERSION" / "absent": what dpkg says of a package in the chroot.
state() {
  local s
  s=$(in_chroot dpkg-query -W -f '${Status} ${Version}' "$1" 2>/dev/null || true)
  case "$s" in "install ok installed "*) echo "installed ${s#install ok installed }" ;; *) echo absent ;; esac
}
expect_state() { [ "$(state "$1")" = "$2" ] || fail "$1: expected '$2', dpkg says '$(state "$1")' ($3)"; }
# Runs the plugin in the chroot; the exit status is checked by the caller.
plugin() { in_chroot "$PLUGIN" "$@" >>"$WORK/plugin.log" 2>&1; }
MOSQUITTO_PID=
AGENT_PID=
HTTP_PID=
purge_all() { in_chroot dpkg --purge tedge-test-alpha tedge-test-beta tedge >/dev/null 2>&1 || true; }

cleanup() {
  for pid in $AGENT_PID $HTTP_PID $MOSQUITTO_PID; do kill "$pid" 2>/dev/null || true; done
  if [ -n "${CHROOT:-}" ]; then
    # The agent step hides apt's sources so that `prepare` (apt-get update) needs no network.
    [ -f "$CHROOT/etc/apt/sources.list.tedge-test" ] && mv "$CHROOT/etc/apt/sources.list.tedge-test" "$CHROOT/etc/apt/sources.list"
    purge_all
    rm -f "$CHROOT"/tmp/tedge-test-* "$CHROOT/tmp/tedge.deb"
    release_debian_chroot
  fi
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || fail "needs root (debootstrap, chroot, dpkg)"
DEB=$(ls -t "$ROOT"/dist/packages/tedge_*_"$ARCH".deb 2>/dev/null | head -1 || true)
[ -n "$DEB" ] || fail "no dist/packages/tedge_*_$ARCH.deb: run PACKAGE_ARCHS=... npm run package first"
ensure_debian_chroot "$ARCH" || fail "no chroot"
rm -rf "$WORK" && mkdir -p "$WORK"
purge_all

say "two local packages (dpkg-deb --build)"
# tiny_deb NAME VERSION: an Architecture: all package with one file, no dependencies.
tiny_deb() {
  local dir=$WORK/$1_$2
  mkdir -p "$dir/DEBIAN" "$dir/usr/share/$1"
  printf 'Package: %s\nVersion: %s\nArchitecture: all\nMaintainer: tedge-ts tests <tests@example.org>\nDescription: test package of the apt plugin\n' "$1" "$2" >"$dir/DEBIAN/control"
  echo "$1 $2" >"$dir/usr/share/$1/version"
  dpkg-deb --root-owner-group --build "$dir" "$WORK/$1_$2.deb" >/dev/null
}
tiny_deb tedge-test-alpha 1.0
tiny_deb tedge-test-beta 2.0
cp "$WORK/tedge-test-alpha_1.0.deb" "$CHROOT/tmp/tedge-test-alpha_1.0.deb"
# As the agent leaves a downloaded module: <tmp.path>/<name>_<version>, no extension.
cp "$WORK/tedge-test-beta_2.0.deb" "$CHROOT/tmp/tedge-test-beta_2.0"

say "dpkg -i $(basename "$DEB"): $PLUGIN is the link the package ships"
cp "$DEB" "$CHROOT/tmp/tedge.deb"
in_chroot dpkg -i /tmp/tedge.deb >"$WORK/install.log" 2>&1 || { cat "$WORK/install.log"; fail "dpkg -i"; }
[ "$(readlink "$CHROOT$PLUGIN")" = /usr/bin/tedge-apt-plugin ] || fail "$PLUGIN is not a link to /usr/bin/tedge-apt-plugin"

say "list: installed packages as name<TAB>version"
in_chroot "$PLUGIN" list >"$WORK/list.txt" 2>"$WORK/list.err" || { cat "$WORK/list.err"; fail "list exited $?"; }
grep -qP '^dpkg\t1\.21\.' "$WORK/list.txt" || fail "list has no dpkg line: $(head -5 "$WORK/list.txt")"
grep -qP "^tedge\t$(dpkg-deb -f "$DEB" Version | sed 's/\./\\./g')$" "$WORK/list.txt" || fail "list has no tedge line"
[ "$(grep -cvP '^[^\t]+\t[^\t]+$' "$WORK/list.txt")" = 0 ] || fail "list lines that are not name<TAB>version: $(grep -vP '^[^\t]+\t[^\t]+$' "$WORK/list.txt" | head -3)"
in_chroot "$PLUGIN" list --name 'tedge$' >"$WORK/list-name.txt" || fail "list --name"
[ "$(cut -f1 "$WORK/list-name.txt")" = tedge ] || fail "list --name 'tedge\$': $(cat "$WORK/list-name.txt")"

say "install --file of a local .deb (apt-get install -y <file>)"
plugin install tedge-test-alpha --module-version 1.0 --file /tmp/tedge-test-alpha_1.0.deb || fail "install --file exited $? ($(tail -5 "$WORK/plugin.log"))"
expect_state tedge-test-alpha "installed 1.0" "after install --file"
[ -f "$CHROOT/usr/share/tedge-test-alpha/version" ] || fail "the package's file is not there"
in_chroot "$PLUGIN" list | grep -qP '^tedge-test-alpha\t1\.0$' || fail "list does not show tedge-test-alpha 1.0"

say "a file that is another package, a version that does not match: refused with exit 2"
rc=0; plugin install tedge-test-gamma --file /tmp/tedge-test-alpha_1.0.deb || rc=$?
[ "$rc" = 2 ] || fail "install of a mismatching file exited $rc, not 2"
rc=0; plugin install tedge-test-alpha --module-version 9 --file /tmp/tedge-test-alpha_1.0.deb || rc=$?
[ "$rc" = 2 ] || fail "install of a mismatching version exited $rc, not 2"
rc=0; plugin frobnicate || rc=$?
[ "$rc" = 1 ] || fail "a usage error exited $rc, not 1"

say "update-list: install a downloaded file (no .deb extension), remove another, in one apt-get call"
printf 'install\ttedge-test-beta\t2.0\t/tmp/tedge-test-beta_2.0\nremove\ttedge-test-alpha\t1.0\t\n' >"$WORK/update-list.txt"
chroot "$CHROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$PLUGIN" update-list <"$WORK/update-list.txt" >>"$WORK/plugin.log" 2>&1 ||
  fail "update-list exited $? ($(tail -5 "$WORK/plugin.log"))"
expect_state tedge-test-beta "installed 2.0" "after update-list"
expect_state tedge-test-alpha absent "after update-list"
[ ! -e "$CHROOT/tmp/tedge-test-beta_2.0.deb" ] || fail "the temporary .deb link was left behind"

say "remove"
plugin remove tedge-test-beta --module-version 2.0 || fail "remove exited $? ($(tail -5 "$WORK/plugin.log"))"
expect_state tedge-test-beta absent "after remove"
in_chroot "$PLUGIN" list | grep -q '^tedge-test-' && fail "list still shows a test package"

say "finalize (apt-get autoremove)"
plugin finalize || fail "finalize exited $? ($(tail -5 "$WORK/plugin.log"))"

say "tedge-agent in the chroot: software_update of a module URL, then software_list, over MQTT"
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
PORT=$(free_port)
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$PORT" >"$WORK/mosquitto.conf"
"$(command -v mosquitto || echo /usr/sbin/mosquitto)" -c "$WORK/mosquitto.conf" >"$WORK/mosquitto.log" 2>&1 &
MOSQUITTO_PID=$!
for _ in $(seq 50); do mosquitto_pub -p "$PORT" -t probe -m x 2>/dev/null && break; sleep 0.1; done
# The module "repository": the test packages over HTTP.
HTTP=$(free_port)
node -e "const fs=require('fs'),path=require('path');require('http').createServer((q,r)=>fs.createReadStream(path.join(process.argv[1],path.basename(q.url))).on('error',()=>r.writeHead(404).end()).pipe(r)).listen(Number(process.argv[2]),'127.0.0.1')" "$WORK" "$HTTP" &
HTTP_PID=$!
[ -f "$CHROOT/etc/apt/sources.list" ] && mv "$CHROOT/etc/apt/sources.list" "$CHROOT/etc/apt/sources.list.tedge-test"
chroot "$CHROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TEDGE_MQTT_CLIENT_PORT="$PORT" \
  TEDGE_HTTP_BIND_PORT="$(free_port)" /usr/bin/tedge-agent >"$WORK/agent.log" 2>&1 &
AGENT_PID=$!
# wait_for TOPIC PATTERN SECONDS: the retained message of TOPIC once it matches PATTERN (commands and
# capabilities are retained, so polling the current one sees every state that lasts).
wait_for() {
  local deadline=$((SECONDS + $3)) current=
  while [ "$SECONDS" -lt "$deadline" ]; do
    current=$(mosquitto_sub -p "$PORT" -t "$1" -C 1 -W 1 2>/dev/null || true)
    if echo "$current" | grep -qE "$2"; then echo "$current"; return 0; fi
    sleep 0.2
  done
  cat "$WORK/agent.log" >&2
  fail "nothing like '$2' on $1 within $3 s (last: $current)"
}
wait_for te/device/main///cmd/software_update '"apt"' 30 >/dev/null
UPDATE=te/device/main///cmd/software_update/chroot-1
mosquitto_pub -p "$PORT" -r -q 1 -t "$UPDATE" -m "{\"status\":\"init\",\"updateList\":[{\"type\":\"apt\",\"modules\":[{\"name\":\"tedge-test-alpha\",\"version\":\"1.0\",\"url\":\"http://127.0.0.1:$HTTP/tedge-test-alpha_1.0.deb\",\"action\":\"install\"}]}]}"
done=$(wait_for "$UPDATE" '"(successful|failed)"' 90)
echo "$done" | grep -q '"successful"' || { cat "$WORK/agent.log"; fail "software_update: $done"; }
expect_state tedge-test-alpha "installed 1.0" "after the agent's software_update"
LIST=te/device/main///cmd/software_list/chroot-2
mosquitto_pub -p "$PORT" -r -q 1 -t "$LIST" -m '{"status":"init"}'
listed=$(wait_for "$LIST" '"(successful|failed)"' 60)
echo "$listed" | grep -q '"successful"' || fail "software_list: $listed"
echo "$listed" | grep -q '{"name":"tedge-test-alpha","version":"1.0"}' || fail "software_list lacks tedge-test-alpha 1.0: $listed"
kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true; AGENT_PID=

say "OK ($(basename "$DEB"))"
