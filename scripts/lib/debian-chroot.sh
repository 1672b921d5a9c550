# shellcheck shell=bash
# The Debian 12 chroots of the system tests, one per architecture (ARM through qemu-user binfmt),
# cached in build/chroot-<arch>: sourced by scripts/test-deb-chroot.sh and scripts/test-apt-plugin-chroot.sh
# so that both tests share one debootstrap. TEDGE_CHROOT_REFRESH=1 rebuilds it; DEBIAN_MIRROR overrides the mirror.
# Needs ROOT (the repository). Defines CHROOT, ensure_debian_chroot, in_chroot, release_debian_chroot.

# ensure_debian_chroot ARCH: sets CHROOT; debootstraps it unless cached with the same packages; mounts /proc.
ensure_debian_chroot() {
  local arch=$1 include=systemd,adduser,mosquitto mirror
  CHROOT=$ROOT/build/chroot-$arch
  # The armv7l Node binary links libatomic.so.1 (the package Depends on libatomic1 there).
  [ "$arch" = armhf ] && include=$include,libatomic1
  if [ "${TEDGE_CHROOT_REFRESH:-0}" = 1 ] || [ ! -f "$CHROOT/.tedge-chroot-ok" ] || [ "$(cat "$CHROOT/.tedge-chroot-ok")" != "$include" ]; then
    # The Debian mirror apt already uses on this machine (deb822 sources, else the classic sources.list).
    mirror=${DEBIAN_MIRROR:-$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}
    mirror=${mirror:-$(awk '$1 == "deb" {print ($2 ~ /^\[/) ? $3 : $2; exit}' /etc/apt/sources.list 2>/dev/null || true)}
    [ -n "$mirror" ] || { echo "no Debian mirror found in apt's sources; set DEBIAN_MIRROR" >&2; return 1; }
    printf '[chroot %s %s] debootstrap bookworm (minbase + %s) from the mirror apt uses\n' "$arch" "$(date +%T)" "$include"
    mountpoint -q "$CHROOT/proc" && umount "$CHROOT/proc"
    rm -rf --one-file-system "$CHROOT"
    mkdir -p "$ROOT/build"
    debootstrap --arch="$arch" --variant=minbase --include="$include" bookworm "$CHROOT" "$mirror" >"$ROOT/build/debootstrap-$arch.log" 2>&1 ||
      { echo "debootstrap failed: see build/debootstrap-$arch.log" >&2; return 1; }
    echo "$include" >"$CHROOT/.tedge-chroot-ok"
  fi
  mountpoint -q "$CHROOT/proc" || mount -t proc proc "$CHROOT/proc"
}

# A command in the chroot with a clean environment (the host's NODE_EXTRA_CA_CERTS, NODE_OPTIONS... stay out).
in_chroot() { chroot "$CHROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

release_debian_chroot() { mountpoint -q "$CHROOT/proc" && umount "$CHROOT/proc" || true; }
