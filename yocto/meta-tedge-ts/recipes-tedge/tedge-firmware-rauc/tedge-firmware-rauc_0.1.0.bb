SUMMARY = "tedge-ts firmware backend over RAUC: the agent's built-in firmware_update on an A/B image"
DESCRIPTION = "packaging/firmware/tedge-firmware-rauc of tedge-ts, named by the tedge.ini key firmware.backend \
(set at first boot): install into the inactive slot with rauc install, booted slot from rauc status, \
mark-good / mark-bad after the agent's health gate. The image needs RAUC with two rootfs slots and its \
bootloader integration, and agent.state.path and tmp.path on a data partition both slots mount."
HOMEPAGE = "https://thin-edge.io"
LICENSE = "Apache-2.0"
LIC_FILES_CHKSUM = "file://${COMMON_LICENSE_DIR}/Apache-2.0;md5=89aea4e17d99a7cacdbeed46a0096b10"

FILESEXTRAPATHS:prepend := "${TEDGE_TS_REPO}/packaging/firmware:${TEDGE_TS_REPO}/packaging/operations:"
SRC_URI = "file://tedge-firmware-rauc \
           file://sudoers-firmware \
           file://firmware_update.toml \
"
S = "${WORKDIR}"

inherit allarch

do_install() {
    install -d ${D}${datadir}/tedge/firmware
    install -m 0755 ${WORKDIR}/tedge-firmware-rauc ${D}${datadir}/tedge/firmware/tedge-firmware-rauc
    install -d -m 0750 ${D}${sysconfdir}/sudoers.d
    install -m 0440 ${WORKDIR}/sudoers-firmware ${D}${sysconfdir}/sudoers.d/tedge-firmware
    # The firmware_update workflow (the agent's steps, readable and replaceable), where the .deb puts it too.
    install -d ${D}${sysconfdir}/tedge/operations
    install -m 0644 ${WORKDIR}/firmware_update.toml ${D}${sysconfdir}/tedge/operations/firmware_update.toml
}

# On the device (tedge.ini belongs to the tedge package): point the agent at the backend.
pkg_postinst_ontarget:${PN}() {
    tedge config set firmware.backend ${datadir}/tedge/firmware/tedge-firmware-rauc
}

FILES:${PN} = "${datadir}/tedge/firmware ${sysconfdir}/sudoers.d/tedge-firmware ${sysconfdir}/tedge/operations/firmware_update.toml"
CONFFILES:${PN} = "${sysconfdir}/sudoers.d/tedge-firmware ${sysconfdir}/tedge/operations/firmware_update.toml"
RDEPENDS:${PN} = "tedge rauc sudo"
