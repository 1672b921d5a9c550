#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks for building and testing tedge-ts. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need_apt+=(mosquitto)
command -v mosquitto_pub >/dev/null 2>&1 || need_apt+=(mosquitto-clients)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
# The native addon and its host tests (native/, npm run build:native / test:native): CMake, a C++17
# compiler, Ninja; valgrind for the leak check. Without them the build falls back to the TS path.
command -v cmake >/dev/null 2>&1 || need_apt+=(cmake)
command -v g++ >/dev/null 2>&1 || need_apt+=(g++)
command -v ninja >/dev/null 2>&1 || need_apt+=(ninja-build)
command -v valgrind >/dev/null 2>&1 || need_apt+=(valgrind)
# libFuzzer harnesses (npm run fuzz), only when asked for: TEDGE_FUZZ=1.
if [ "${TEDGE_FUZZ:-0}" = "1" ]; then
  command -v clang++ >/dev/null 2>&1 || need_apt+=(clang)
  dpkg -s libfuzzer-14-dev >/dev/null 2>&1 || need_apt+=(libfuzzer-14-dev)
  dpkg -s libclang-rt-14-dev >/dev/null 2>&1 || need_apt+=(libclang-rt-14-dev)
fi
# The RAUC firmware backend test (test/integration/agent/firmware-rauc.test.ts), only when asked for: TEDGE_SETUP_RAUC=1.
# rauc talks to its service over D-Bus (dbus-daemon); plain bundles are squashfs images (mksquashfs).
if [ "${TEDGE_SETUP_RAUC:-0}" = "1" ]; then
  command -v rauc >/dev/null 2>&1 || need_apt+=(rauc)
  command -v dbus-daemon >/dev/null 2>&1 || need_apt+=(dbus-daemon)
  command -v mksquashfs >/dev/null 2>&1 || need_apt+=(squashfs-tools)
  command -v debugfs >/dev/null 2>&1 || [ -x /usr/sbin/debugfs ] || [ -x /sbin/debugfs ] || need_apt+=(e2fsprogs)
fi
# Packaging (scripts/package.sh, scripts/test-packages.sh), only when asked for: TEDGE_PACKAGING=1.
if [ "${TEDGE_PACKAGING:-0}" = "1" ]; then
  command -v fakeroot >/dev/null 2>&1 || need_apt+=(fakeroot)
  command -v lintian >/dev/null 2>&1 || need_apt+=(lintian)
  [ -x /usr/sbin/debootstrap ] || need_apt+=(debootstrap)
  command -v qemu-aarch64-static >/dev/null 2>&1 || need_apt+=(qemu-user-static)
  command -v update-binfmts >/dev/null 2>&1 || need_apt+=(binfmt-support)
  command -v aarch64-linux-gnu-g++ >/dev/null 2>&1 || need_apt+=(g++-aarch64-linux-gnu)
  command -v arm-linux-gnueabihf-g++ >/dev/null 2>&1 || need_apt+=(g++-arm-linux-gnueabihf)
  # icupkg and genrb cut the ICU data in the packaged node down to English (scripts/lib/icu-english-only.sh).
  command -v icupkg >/dev/null 2>&1 && command -v genrb >/dev/null 2>&1 || need_apt+=(icu-devtools)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
# mosquitto lives in /usr/sbin, which a non-root PATH may lack.
case ":$PATH:" in *:/usr/sbin:*) ;; *) export PATH="$PATH:/usr/sbin" ;; esac

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund
fi
npm run build
