SUMMARY = "tedge-ts: thin-edge.io agent, cloud mappers and CLI in one Node.js single executable"
DESCRIPTION = "The tedge command (also tedge-agent and tedge-mapper through links) built by \
'npm run package' of tedge-ts: the official Node.js 20 binary of the target architecture with the \
tedge-ts JavaScript and its native addon injected. 'tedge run all' runs the agent and the mappers \
in one process (tedge-run-all.service, enabled), the default for constrained devices."
HOMEPAGE = "https://thin-edge.io"
# tedge-ts is Apache-2.0; the embedded Node.js runtime is MIT (with its bundled libraries' licences).
LICENSE = "Apache-2.0 & MIT"
LIC_FILES_CHKSUM = "file://${COMMON_LICENSE_DIR}/Apache-2.0;md5=89aea4e17d99a7cacdbeed46a0096b10 \
                    file://${COMMON_LICENSE_DIR}/MIT;md5=0835ade698e0bcf8506ecda2f7b4f302"

# Prebuilt: x86-64, aarch64 and 32-bit ARMv7-A hard-float (the official armv7l Node.js baseline).
TEDGE_SEA_ARCH = "unsupported"
TEDGE_SEA_ARCH:x86-64 = "x86_64"
TEDGE_SEA_ARCH:aarch64 = "aarch64"
TEDGE_SEA_ARCH:arm = "armhf"
COMPATIBLE_HOST = "(x86_64|aarch64|arm).*-linux.*"

python () {
    if d.getVar('TARGET_ARCH') == 'arm':
        tune = (d.getVar('TUNE_FEATURES') or '').split()
        if 'callconvention-hard' not in tune or not any(t.startswith('armv7') for t in tune):
            raise bb.parse.SkipRecipe("tedge-ts needs ARMv7-A hard-float on 32-bit ARM (TUNE_FEATURES: %s)" % ' '.join(tune))
}

# The single executables come from the checkout's dist/packages (npm run package), the rest from packaging/.
TEDGE_DIST_DIR ?= "${TEDGE_TS_REPO}/dist/packages"
FILESEXTRAPATHS:prepend := "${TEDGE_DIST_DIR}:${TEDGE_TS_REPO}/packaging:${TEDGE_TS_REPO}/packaging/systemd:${TEDGE_TS_REPO}/packaging/config:${TEDGE_TS_REPO}/packaging/deb:"

TEDGE_UNITS = "tedge-run-all.service tedge-agent.service tedge-mapper-c8y.service tedge-mapper-az.service \
               tedge-mapper-aws.service tedge-mapper-collectd.service tedge-watchdog.service \
               tedge-mapper-c8y@.service tedge-mapper-az@.service tedge-mapper-aws@.service"

SRC_URI = "file://tedge-${TEDGE_SEA_ARCH} \
           file://tedge-run-all.service \
           file://tedge-agent.service \
           file://tedge-mapper-c8y.service \
           file://tedge-mapper-az.service \
           file://tedge-mapper-aws.service \
           file://tedge-mapper-collectd.service \
           file://tedge-watchdog.service \
           file://tedge-mapper-c8y@.service \
           file://tedge-mapper-az@.service \
           file://tedge-mapper-aws@.service \
           file://runtime.env \
           file://tedge.ini \
           file://tedge-mosquitto.conf \
           file://sudoers \
           file://mappers \
           file://install-builtin-flows \
"
S = "${WORKDIR}"

inherit systemd useradd

USERADD_PACKAGES = "${PN}"
GROUPADD_PARAM:${PN} = "--system tedge"
USERADD_PARAM:${PN} = "--system --no-create-home --home-dir /nonexistent --shell /sbin/nologin --gid tedge tedge"

# One process for the whole device stack; the per-daemon units are installed, not enabled.
SYSTEMD_PACKAGES = "${PN}"
SYSTEMD_SERVICE:${PN} = "tedge-run-all.service"
SYSTEMD_AUTO_ENABLE:${PN} = "enable"

do_configure[noexec] = "1"
do_compile[noexec] = "1"

do_install() {
    install -d ${D}${bindir}
    install -m 0755 ${S}/tedge-${TEDGE_SEA_ARCH} ${D}${bindir}/tedge
    ln -sf tedge ${D}${bindir}/tedge-agent
    ln -sf tedge ${D}${bindir}/tedge-mapper
    ln -sf tedge ${D}${bindir}/tedge-watchdog
    # Flows installable as software (type `flow`), as the .deb links them.
    ln -sf tedge ${D}${bindir}/tedge-flows-plugin
    install -d ${D}${sysconfdir}/tedge/sm-plugins
    ln -sf ${bindir}/tedge-flows-plugin ${D}${sysconfdir}/tedge/sm-plugins/flow

    install -d ${D}${systemd_system_unitdir}
    for unit in ${TEDGE_UNITS}; do
        install -m 0644 ${S}/$unit ${D}${systemd_system_unitdir}/$unit
    done

    # The runtime flags every unit reads (EnvironmentFile), as the .deb installs them.
    install -d ${D}${nonarch_libdir}/tedge
    install -m 0644 ${S}/runtime.env ${D}${nonarch_libdir}/tedge/runtime.env

    install -d ${D}${sysconfdir}/tedge/mosquitto-conf
    install -m 0644 ${S}/tedge.ini ${D}${sysconfdir}/tedge/tedge.ini
    install -m 0644 ${S}/tedge-mosquitto.conf ${D}${sysconfdir}/tedge/mosquitto-conf/tedge-mosquitto.conf
    chown -R tedge:tedge ${D}${sysconfdir}/tedge
    # The built-in mappers' flows as generated with default settings, as the .deb ships them: pkg_postinst copies
    # them to /etc/tedge/mappers/<cloud>/flows/. Not in the package's /etc (nor conffiles): a mapper rewrites an
    # unedited flow from its settings, and a package upgrade would overwrite an edited one.
    for cloud in c8y az aws; do
        install -d ${D}${datadir}/tedge/mappers/$cloud/flows
        install -m 0644 ${S}/mappers/$cloud/flows/* ${D}${datadir}/tedge/mappers/$cloud/flows/
    done
    install -m 0755 ${S}/install-builtin-flows ${D}${datadir}/tedge/install-builtin-flows

    install -d -m 0750 ${D}${sysconfdir}/sudoers.d
    install -m 0440 ${S}/sudoers ${D}${sysconfdir}/sudoers.d/tedge

    # State and logs are created at boot: /var/log is volatile on most images.
    install -d ${D}${nonarch_libdir}/tmpfiles.d
    printf '%s\n' \
        'd /var/tedge 0755 tedge tedge -' \
        'd /var/log/tedge 0755 tedge tedge -' \
        'd /data/tedge 0755 tedge tedge -' \
        'd /data/tedge/agent 0755 tedge tedge -' \
        > ${D}${nonarch_libdir}/tmpfiles.d/tedge.conf
}

# At rootfs time ($D set) or on the target: tedge's listener in mosquitto; the built-in flows where none is
# there (the .deb's postinst runs the same script: never over a flow, its template or its .disabled).
pkg_postinst:${PN}() {
    conf="$D${sysconfdir}/mosquitto/mosquitto.conf"
    if [ -f "$conf" ] && ! grep -qx 'include_dir /etc/tedge/mosquitto-conf' "$conf"; then
        printf '\ninclude_dir /etc/tedge/mosquitto-conf\n' >> "$conf"
    fi
    $D${datadir}/tedge/install-builtin-flows "$D"
}

FILES:${PN} += "${systemd_system_unitdir} ${datadir}/tedge/mappers ${datadir}/tedge/install-builtin-flows ${sysconfdir}/tedge ${sysconfdir}/sudoers.d ${nonarch_libdir}/tmpfiles.d ${nonarch_libdir}/tedge"
CONFFILES:${PN} = "${sysconfdir}/tedge/tedge.ini ${sysconfdir}/tedge/mosquitto-conf/tedge-mosquitto.conf ${sysconfdir}/sudoers.d/tedge"

RDEPENDS:${PN} = "mosquitto libstdc++ libgcc"
# The official armv7l Node.js binary links libatomic.so.1.
RDEPENDS:${PN}:append:arm = " libatomic"

# A prebuilt, already stripped binary: stripping it again could drop the injected SEA blob.
INHIBIT_PACKAGE_STRIP = "1"
INHIBIT_PACKAGE_DEBUG_SPLIT = "1"
INHIBIT_SYSROOT_STRIP = "1"
INSANE_SKIP:${PN} += "already-stripped textrel ldflags"
