#!/bin/bash
# bench/compare.sh OLD_L2TPD NEW_L2TPD [ROUNDS]: two builds of l2tpd side by side in one run,
# dataplane none, the same load generator: session set-up rate (10×1000 and 100×1000 L2TPv3
# sessions), the daemon's CPU for it, and resident memory per session at 100 000 sessions.
# The builds take turns, ROUNDS times (default 3), so that a busy machine slows both alike;
# the table gives each round and the median. Needs root (a network namespace).
#
# Example (the engine before and after a refactor):
#   git worktree add /tmp/before OLD_COMMIT && cargo build --release -p l2tpd --manifest-path /tmp/before/Cargo.toml
#   bench/compare.sh /tmp/before/target/release/l2tpd target/release/l2tpd
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: bench/compare.sh OLD_L2TPD NEW_L2TPD [ROUNDS]" >&2; exit 2; }
OLD=$(realpath "$1") NEW=$(realpath "$2") ROUNDS=${3:-3}
[ "$(id -u)" = 0 ] || { echo "compare: needs root (a network namespace)" >&2; exit 1; }
nice -n 10 cargo build -q --release -p l2tp-loadgen -p l2tpctl
BIN=${CARGO_TARGET_DIR:-$PWD/target}/release
LOADGEN=$BIN/l2tp-loadgen L2TPCTL=$BIN/l2tpctl
W=$(mktemp -d /tmp/l2tp-compare.XXXXXX)
NS=lc$$
DPID=
# shellcheck source=bench/common.sh
source bench/common.sh
# shellcheck disable=SC2086 # the pid when set
trap 'netns_cleanup "$NS" "$W" $DPID' EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
cat >"$W/l2tpd.conf" <<EOF
system {
    listen 127.0.0.1:1701
    control_socket $W/ctl.sock
    pid_file $W/l2tpd.pid
    dataplane none
}
EOF
HZ=$(getconf CLK_TCK)
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
json() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' "$1" "$2"; }
start() { # BINARY
    rm -f "$W/ctl.sock"
    ip netns exec "$NS" "$1" -f -c "$W/l2tpd.conf" -o "$W/l2tpd.log" &
    DPID=$!
    for _ in $(seq 100); do
        "$L2TPCTL" -S "$W/ctl.sock" show system >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "compare: $1 did not start" >&2
    cat "$W/l2tpd.log" >&2
    exit 1
}
stop() { kill "$DPID" 2>/dev/null || true; wait "$DPID" 2>/dev/null || true; DPID=; }
# One set-up run: "rate daemon-cpu-seconds" on stdout.
setup() { # T S
    local c0 c1
    c0=$(cpu_ticks "$DPID")
    ip netns exec "$NS" "$LOADGEN" --json --peer 127.0.0.1:1701 --tunnels "$1" --sessions "$2" \
        --timeout 120 --teardown-timeout 30 >"$W/run.json" 2>"$W/run.err" || true
    c1=$(cpu_ticks "$DPID")
    [ "$(json "$W/run.json" sessions_up)" = $(($1 * $2)) ] || { echo "compare: not every session came up" >&2; cat "$W/run.err" >&2; exit 1; }
    echo "$(json "$W/run.json" sessions_per_s) $(awk -v a="$c0" -v b="$c1" -v hz="$HZ" 'BEGIN {printf "%.2f", (b - a) / hz}')"
}
# RSS per session with 100 000 sessions held: "bytes-per-session".
memory() {
    local base got rss lg
    base=$(rss_kib "$DPID")
    ip netns exec "$NS" "$LOADGEN" --json --peer 127.0.0.1:1701 --tunnels 100 --sessions 1000 \
        --timeout 120 --hold 600 >"$W/hold.json" 2>/dev/null &
    lg=$!
    for _ in $(seq 600); do
        got=$("$L2TPCTL" -S "$W/ctl.sock" -j show system | python3 -c 'import json,sys; print(json.load(sys.stdin)["counts"]["sessions_up"])')
        [ "$got" = 100000 ] && break
        sleep 0.25
    done
    sleep 1
    rss=$(rss_kib "$DPID")
    kill -INT "$lg" 2>/dev/null; wait "$lg" 2>/dev/null || true
    awk -v r="$rss" -v b="$base" -v n="$got" 'BEGIN {printf "%.0f", (r - b) * 1024 / n}'
}
declare -A R
for round in $(seq "$ROUNDS"); do
    for which in old new; do
        bin=$OLD; [ $which = new ] && bin=$NEW
        # Memory in a daemon of its own: a heap grown by earlier runs would hide the cost.
        start "$bin"
        R[$which,$round,mem]=$(memory)
        stop
        start "$bin"
        R[$which,$round,10]=$(setup 10 1000)
        R[$which,$round,100]=$(setup 100 1000)
        stop
        echo "round $round $which: 10×1000 ${R[$which,$round,10]}; 100×1000 ${R[$which,$round,100]}; ${R[$which,$round,mem]} B/session" >&2
    done
done
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
echo "| build | round | 10×1000 sessions/s | daemon CPU s | 100×1000 sessions/s | daemon CPU s | bytes per session at 100 000 |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for which in old new; do
    for round in $(seq "$ROUNDS"); do
        read -r r10 c10 <<<"${R[$which,$round,10]}"
        read -r r100 c100 <<<"${R[$which,$round,100]}"
        echo "| $which | $round | $r10 | $c10 | $r100 | $c100 | ${R[$which,$round,mem]} |"
    done
    m10=$(for r in $(seq "$ROUNDS"); do echo "${R[$which,$r,10]}" | cut -d' ' -f1; done | median)
    m100=$(for r in $(seq "$ROUNDS"); do echo "${R[$which,$r,100]}" | cut -d' ' -f1; done | median)
    mm=$(for r in $(seq "$ROUNDS"); do echo "${R[$which,$r,mem]}"; done | median)
    echo "| $which | median | $m10 | | $m100 | | $mm |"
done
