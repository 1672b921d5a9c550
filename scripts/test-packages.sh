#!/usr/bin/env bash
# Builds the single executable and .deb for each architecture and tests each package in a Debian
# chroot of its own architecture (ARM under qemu-user): install, tedge --version, config list,
# `tedge run all` converting a measurement, systemd-analyze verify, upgrade and purge.
# Needs root (debootstrap, chroot). PACKAGE_ARCHS selects a subset, e.g. PACKAGE_ARCHS=x86_64.
set -euo pipefail
cd "$(dirname "$0")/.."
archs=${PACKAGE_ARCHS:-"x86_64 aarch64 armhf"}
TEDGE_PACKAGING=1 bash scripts/setup.sh
export PATH="$PATH:/usr/sbin"
case " $archs " in *" aarch64 "*|*" armhf "*)
  update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
  update-binfmts --enable qemu-arm >/dev/null 2>&1 || true ;;
esac
PACKAGE_ARCHS="$archs" PACKAGE_LINTIAN=1 npm run package
debian_archs=$(for a in $archs; do case $a in x86_64) echo amd64;; aarch64) echo arm64;; armhf) echo armhf;; esac; done | xargs)
TEDGE_SYSTEM_TESTS=1 TEDGE_SYSTEM_ARCHS="$debian_archs" node --test --test-concurrency=1 dist/test/system/
# Footprint bars (packaging/footprint-bars.json): idle RSS of `tedge run all` (x86_64) and each .deb's size may not
# regress by more than 10 %.
bash scripts/check-footprint-bars.sh
