#!/usr/bin/env bash
# The cost of one generic netlink dump of every kernel session's counters, what l2tpd's kernel
# data plane reads once every 30 s for its drop summary, in the qemu guest (tests/vm, Debian
# 12's Linux 6.1 under software emulation). The guest makes L2TPv3 PPP sessions (no interface,
# no socket) with l2tp-dataplane's example kernel_dump_cost and times the dumps, and the
# example's peak memory, for each "SESSIONS PER_TUNNEL DUMPS" of RUNS. docs/benchmarks.md
# ("Kernel drop counters") has the figures.
#
# Usage (as root): bench/kernel-dump-cost.sh [RUNS]
#   RUNS  default "10000 1000 3,100000 1000 3,20000 20000 1"
# Env: L2TP_VM_DIR (see tests/vm/build-guest.sh), MEMORY (guest MB, default 2048)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${1:-"10000 1000 3,100000 1000 3,20000 20000 1"}
VM=${L2TP_VM_DIR:-/var/tmp/l2tp-vm}
bash "$ROOT/tests/vm/build-guest.sh" >/dev/null
(cd "$ROOT" && cargo build -q --release -p l2tp-dataplane --example kernel_dump_cost)
SHARE=$(mktemp -d "$VM/dumpcost.XXXXXX")
trap 'rm -rf "$SHARE"' EXIT
TARGET=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
cp "$TARGET/release/examples/kernel_dump_cost" "$SHARE/"
strip --strip-debug "$SHARE/kernel_dump_cost"
{
    echo 'set -u'
    echo 'ip link set lo up; ip addr add 192.0.2.1/32 dev lo; ip addr add 192.0.2.2/32 dev lo'
    # Tunnels are deleted in the background: the next run waits for them to be gone.
    echo 'gone() { for _ in $(seq 120); do [ -z "$(ip l2tp show tunnel)" ] && return; sleep 1; done; }'
    IFS=, read -ra runs <<<"$RUNS"
    for r in "${runs[@]}"; do
        echo "echo '== $r'; /mnt/host/kernel_dump_cost $r; gone"
    done
} >"$SHARE/run.sh"
bash "$ROOT/tests/vm/run-guest.sh" -n dumpcost -s "$SHARE" -r /mnt/host/run.sh -T 1800 \
    -m "${MEMORY:-2048}" | grep -E '== |made|dump|peak|Error'
