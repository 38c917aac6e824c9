#!/usr/bin/env bash
# Captures real PPP negotiations of pppd, as decoding vectors for ppp-proto: xl2tpd as LAC and
# LNS in two network namespaces of the qemu test guest (tests/vm), each handing its L2TPv2 call
# to a real pppd on the kernel data plane. The LNS's pppd authenticates the LAC's ("alice"),
# assigns 198.51.100.10, offers DNS 203.0.113.53 and .54 and runs IPv6CP; both send LCP echoes
# every second. tcpdump records the L2TP traffic on the LAC's veth.
#
# Usage: tools/capture-pppd.sh OUTDIR [SCENARIO...]
#   SCENARIO: pap | chap | mschapv2 | mschapv2-fail (default: all four)
#   writes OUTDIR/SCENARIO.pcap (Ethernet, UDP port 1701); KEEP=1 also keeps SCENARIO.log,
#   the logs of both xl2tpd and both pppd.
# Needs root the first time (tests/vm/build-guest.sh installs the guest's packages and builds
# it in $L2TP_VM_DIR). One guest boot runs every scenario, about 25 s; each wait in the guest is
# bounded and the guest is killed after 300 s.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
OUT=${1:?usage: $0 OUTDIR [pap|chap|mschapv2|mschapv2-fail ...]}
shift
SCENARIOS=("$@")
[ ${#SCENARIOS[@]} -gt 0 ] || SCENARIOS=(pap chap mschapv2 mschapv2-fail)
for sc in "${SCENARIOS[@]}"; do
    case $sc in pap | chap | mschapv2 | mschapv2-fail) ;; *) echo "unknown scenario: $sc" >&2; exit 2 ;; esac
done
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=${L2TP_VM_DIR:-/var/tmp/l2tp-vm}

bash "$ROOT/tests/vm/build-guest.sh" >/dev/null
SHARE=$(mktemp -d "$WORK/capture-pppd.XXXXXX")
trap 'rm -rf "$SHARE"' EXIT
mkdir "$SHARE/out"
cp "$HERE/capture-pppd-guest.sh" "$SHARE/"
printf '#!/bin/bash\nexec bash /mnt/host/capture-pppd-guest.sh /mnt/host/out %s\n' "${SCENARIOS[*]}" >"$SHARE/run.sh"
bash "$ROOT/tests/vm/run-guest.sh" -n capture-pppd -s "$SHARE" -r /mnt/host/run.sh -T 300 |
    grep -E '^\[capture-pppd\] (== |[a-z0-9-]+: [0-9]+ bytes|guest status)' || true
status=0
for sc in "${SCENARIOS[@]}"; do
    if [ -s "$SHARE/out/$sc.pcap" ]; then
        cp "$SHARE/out/$sc.pcap" "$OUT/$sc.pcap"
        [ "${KEEP:-0}" = 1 ] && cp "$SHARE/out/$sc.log" "$OUT/$sc.log"
        echo "-> $OUT/$sc.pcap"
        if command -v tshark >/dev/null; then
            tshark -r "$OUT/$sc.pcap" -Y ppp 2>/dev/null | sed 's/^/   /' | head -40
        fi
    else
        echo "!! $sc: no capture (see $WORK/logs/capture-pppd.log)" >&2
        status=1
    fi
done
exit $status
