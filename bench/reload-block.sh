#!/usr/bin/env bash
# How long a config reload keeps l2tpd's main loop from answering, with a users file of N
# users (default 100 000): l2tpd (release build, `dataplane none`, no tunnels) on a loopback
# port, a ppp profile with `users_file`, and `l2tpctl reload` after one user was added to the
# file, RUNS times (default 5). Meanwhile `l2tpctl show system` is sent every 20 ms; the
# slowest of its answers is how long the loop was blocked. Prints, per run, the reload's wall
# time, the slowest `show system` during it and the daemon's CPU time for it.
#
# Usage: bench/reload-block.sh [N] [RUNS]   (no root needed; builds the release binaries)
#   BIN=DIR takes l2tpd and l2tpctl from DIR instead (another build, to compare with).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
RUNS=${2:-5}
if [ -z "${BIN:-}" ]; then
    cargo build --release -q -p l2tpd -p l2tpctl
    BIN=$PWD/target/release
fi
W=$(mktemp -d /tmp/l2tp-reload-block.XXXXXX)
DPID=
cleanup() {
    [ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "user%06d * pw%06d -\n", i, i }' >"$W/users"
cat >"$W/l2tpd.conf" <<EOF
system {
    listen 127.0.0.1:$PORT
    control_socket $W/ctl.sock
    pid_file $W/l2tpd.pid
    dataplane none
}
ppp profile "lns" {
    auth_chap true
    users_file $W/users
}
EOF
"$BIN/l2tpd" -f -c "$W/l2tpd.conf" -o "$W/l2tpd.log" &
DPID=$!
for _ in $(seq 100); do
    "$BIN/l2tpctl" -S "$W/ctl.sock" show system >/dev/null 2>&1 && break
    sleep 0.1
done
cpu() { awk '{print $14 + $15}' "/proc/$DPID/stat"; }
tick=$(getconf CLK_TCK)
echo "users: $N; $("$BIN/l2tpd" --version | head -1); load average $(cut -d" " -f1-3 /proc/loadavg)"
echo "| run | reload s | worst show system ms | daemon CPU s |"
for run in $(seq "$RUNS"); do
    echo "extra$run * pw -" >>"$W/users"
    c0=$(cpu)
    t0=$(date +%s%N)
    "$BIN/l2tpctl" -S "$W/ctl.sock" reload >"$W/reload.out" &
    rp=$!
    worst=0
    while kill -0 "$rp" 2>/dev/null; do
        a=$(date +%s%N)
        "$BIN/l2tpctl" -S "$W/ctl.sock" show system >/dev/null
        b=$(date +%s%N)
        [ $(((b - a) / 1000000)) -gt "$worst" ] && worst=$(((b - a) / 1000000))
        sleep 0.02
    done
    wait "$rp"
    t1=$(date +%s%N)
    c1=$(cpu)
    grep -q "user \"extra$run\" added" "$W/reload.out" || { cat "$W/reload.out"; exit 1; }
    printf '| %s | %s | %s | %s |\n' "$run" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", (b - a) / 1e9}')" "$worst" \
        "$(awk -v a="$c0" -v b="$c1" -v t="$tick" 'BEGIN {printf "%.2f", (b - a) / t}')"
done
