#!/usr/bin/env bash
# Installs what the tests need on a Debian 12 machine (run as root). Safe to run again: it only
# installs what is missing.
set -euo pipefail

APT_PACKAGES=(tshark tcpdump xl2tpd iproute2 iputils-ping python3 xxd qemu-system-x86 busybox-static cpio kmod xz-utils zstd ppp iperf3 groff-base systemd procps openvpn
    charon-systemd strongswan-swanctl strongswan-pki nftables netbase freeradius freeradius-utils
    lintian man-db logrotate dpkg-dev binutils prometheus l2tpns)

missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # tshark asks whether non-root users may capture; the answer does not matter here.
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
    apt-get update -qq
    # No service may start while packages install: l2tpns would take UDP port 1701 on every
    # address of the machine. invoke-rc.d and deb-systemd-invoke ask policy-rc.d first.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The l2tpns tests (l2tp-loadgen/tests/l2tpns.rs, l2tpd/tests/l2tpns_client.rs) start their own
# l2tpns in network namespaces; the packaged service must not run (it would listen on port 1701 of every address) nor start at boot.
if [ -e /etc/init.d/l2tpns ]; then
    if [ -d /run/systemd/system ]; then
        systemctl disable --now l2tpns >/dev/null 2>&1 || true
    else
        update-rc.d l2tpns disable >/dev/null 2>&1 || true
        [ -s /var/run/l2tpns.pid ] && /etc/init.d/l2tpns stop >/dev/null 2>&1 || true
    fi
    rm -f /etc/systemd/system/multi-user.target.wants/l2tpns.service
fi

# The FreeRADIUS tests start their own servers in network namespaces. The packaged service is
# not wanted at boot, and its unit (MemoryLimit=) would make `systemd-analyze verify` of
# dist/l2tpd.service, which pulls in multi-user.target, report a warning.
if [ -e /etc/systemd/system/multi-user.target.wants/freeradius.service ]; then
    systemctl disable freeradius >/dev/null 2>&1 ||
        rm -f /etc/systemd/system/multi-user.target.wants/freeradius.service
fi

# The metrics test (l2tpd/tests/netns_metrics.rs) starts its own Prometheus server in a network
# namespace; the packaged service is not wanted at boot.
if [ -e /etc/systemd/system/multi-user.target.wants/prometheus.service ]; then
    systemctl disable prometheus >/dev/null 2>&1 ||
        rm -f /etc/systemd/system/multi-user.target.wants/prometheus.service
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "deps: installing cargo-fuzz"
    cargo install cargo-fuzz --locked --quiet
fi
if ! cargo deb --version >/dev/null 2>&1; then
    echo "deps: installing cargo-deb (the Debian package, scripts/package-test.sh)"
    cargo install cargo-deb --locked --quiet
fi
if ! rustup toolchain list | grep -q '^nightly'; then
    echo "deps: installing a nightly toolchain for cargo-fuzz"
    rustup toolchain install nightly --profile minimal
fi
