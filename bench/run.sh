#!/usr/bin/env bash
# The benchmark of docs/benchmarks.md, in one run on one machine (as root: it makes network
# namespaces):
#   a. session set-up rate of l2tpd (dataplane none) and of xl2tpd (with a stub pppd) as LNS,
#      driven by l2tp-loadgen, and e. their teardown rate;
#   b. l2tpd's resident memory with 0, 10 000 and 100 000 sessions established;
#   c. l2tpd's CPU while it holds 10 000 idle tunnels (60 s hello);
#   d. TCP throughput (iperf3) over a bare veth pair, over OpenVPN in TAP mode without crypto,
#      and over a userspace L2TPv3 Ethernet pseudowire (two l2tpd; l2tp-static as well).
#
# Usage: bench/run.sh [--smoke] [--out FILE]
#   (default)  the full run; rewrites the generated part of docs/benchmarks.md.
#   --smoke    small counts and short windows (CI, under 2 minutes); checks that every part
#              runs and its figures are sane, writes them to FILE (default: a temp file), and
#              leaves docs/benchmarks.md alone.
# Every load runs on loopback or between network namespaces made here, and is bounded in count
# and time. Exit status 0 when every part ran and every l2tpd figure is complete.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

MODE=full
OUT=
while [ $# -gt 0 ]; do
    case "$1" in
        --smoke) MODE=smoke ;;
        --out) OUT=$2; shift ;;
        *) echo "usage: bench/run.sh [--smoke] [--out FILE]" >&2; exit 2 ;;
    esac
    shift
done
[ "$(id -u)" = 0 ] || { echo "bench: needs root (network namespaces)" >&2; exit 1; }
for t in ip iperf3 xl2tpd openvpn python3 taskset; do
    command -v "$t" >/dev/null || { echo "bench: $t not found (scripts/deps.sh installs it)" >&2; exit 1; }
done

if [ "$MODE" = full ]; then
    SIZES=("1 1000" "10 1000" "100 1000")
    RSS_SIZES=("10 1000" "100 1000")
    IDLE_TUNNELS=10000 IDLE_WINDOW=${IDLE_WINDOW:-120} IPERF_SECONDS=10 XL2TPD_TIMEOUT=60
else
    SIZES=("1 100" "4 100")
    RSS_SIZES=("2 500")
    IDLE_TUNNELS=200 IDLE_WINDOW=3 IPERF_SECONDS=2 XL2TPD_TIMEOUT=20
fi

echo "== bench ($MODE): building"
nice -n 10 cargo build -q --release -p l2tpd -p l2tp-loadgen -p l2tpctl -p l2tp-dataplane
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release
L2TPD=$BIN/l2tpd LOADGEN=$BIN/l2tp-loadgen L2TPCTL=$BIN/l2tpctl STATIC=$BIN/l2tp-static

W=$(mktemp -d /tmp/l2tp-bench.XXXXXX)
P=lb$$
NS_LNS=$P-lns NS_A=$P-a NS_B=$P-b
PIDS=()
cleanup() {
    set +e
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    sleep 0.3
    for ns in "$NS_LNS" "$NS_A" "$NS_B"; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
        ip netns del "$ns" 2>/dev/null
    done
    rm -rf "$W"
}
trap cleanup EXIT
for ns in "$NS_LNS" "$NS_A" "$NS_B"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip link add "${P}a" netns "$NS_A" type veth peer name "${P}b" netns "$NS_B"
ip -n "$NS_A" addr add 192.0.2.1/24 dev "${P}a"; ip -n "$NS_A" link set "${P}a" up
ip -n "$NS_B" addr add 192.0.2.2/24 dev "${P}b"; ip -n "$NS_B" link set "${P}b" up

HZ=$(getconf CLK_TCK)
RESULTS=$W/results.md
: >"$RESULTS"
FAILED=0
fail() { echo "bench: FAILED: $*" >&2; FAILED=1; }
emit() { printf '%s\n' "$*" >>"$RESULTS"; }
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d.get(sys.argv[2], ""))' "$1" "$2"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# ------------------------------------------------------------------ l2tpd as LNS
l2tpd_conf() { # FILE LISTEN DATAPLANE [EXTRA]
    cat >"$1" <<EOF
system {
    listen $2
    control_socket $W/ctl.sock
    pid_file $W/l2tpd.pid
    dataplane $3
}
${4:-}
EOF
}
DPID=
start_l2tpd() { # NS CONF [CPU]
    rm -f "$W/ctl.sock"
    local pin=()
    [ -n "${3:-}" ] && pin=(taskset -c "$3")
    ip netns exec "$1" "${pin[@]}" "$L2TPD" -f -c "$2" -o "$W/l2tpd.log" &
    DPID=$!
    PIDS+=("$DPID")
    for _ in $(seq 100); do
        "$L2TPCTL" -S "$W/ctl.sock" show system >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "bench: l2tpd did not start" >&2
    cat "$W/l2tpd.log" >&2
    return 1
}
stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
sessions_up() { "$L2TPCTL" -S "$W/ctl.sock" -j show system | python3 -c 'import json,sys; print(json.load(sys.stdin)["counts"]["sessions_up"])' 2>/dev/null || echo 0; }
tunnels_up() { "$L2TPCTL" -S "$W/ctl.sock" -j show system | python3 -c 'import json,sys; print(json.load(sys.stdin)["counts"]["tunnels_up"])' 2>/dev/null || echo 0; }

# runs l2tp-loadgen in NS_LNS; JSON to $1; its user+system CPU seconds to $1.cpu
loadgen() {
    local out=$1; shift
    local TIMEFORMAT='%U %S'
    { time in_ns "$NS_LNS" "${PIN_LOADGEN[@]}" "$LOADGEN" --json "$@" >"$out" 2>"$out.err"; } 2>"$out.time" || true
    awk '{print $1 + $2}' "$out.time" >"$out.cpu"
}
PIN_LOADGEN=()
# Interrupts the load generators running in NS_LNS (they tear down, then report).
stop_loadgens() {
    local p
    for p in $(ip netns pids "$NS_LNS"); do
        [ "$(cat "/proc/$p/comm" 2>/dev/null)" = l2tp-loadgen ] && kill -INT "$p" 2>/dev/null
    done
    return 0
}

# One set-up run against the LNS running as $DPID (0: not l2tpd); prints a table row.
setup_row() { # LABEL DAEMON_PID T S VERSION TIMEOUT
    local label=$1 pid=$2 t=$3 s=$4 v=$5 timeout=$6 out=$W/run.json c0=0 c1=0
    [ "$pid" != 0 ] && c0=$(cpu_ticks "$pid")
    loadgen "$out" --peer 127.0.0.1:1701 --tunnels "$t" --sessions "$s" --version "$v" \
        --timeout "$timeout" --teardown-timeout 30
    local gone=""
    if [ "$pid" != 0 ]; then
        if [ -r "/proc/$pid/stat" ]; then c1=$(cpu_ticks "$pid"); else gone=" (the LNS process had exited)"; c1=$c0; fi
    fi
    if [ ! -s "$out" ]; then
        emit "| $label | ${t}×${s} v$v | no report: $(head -c 200 "$out.err" | tr '\n|' '  ') | | | | | |"
        return 1
    fi
    local up el rate td tdrate fail rtx dcpu lcpu
    up=$(json "$out" sessions_up); el=$(json "$out" elapsed_s); rate=$(json "$out" sessions_per_s)
    td=$(json "$out" teardown_s); tdrate=$(json "$out" teardown_sessions_per_s)
    fail=$(json "$out" failed); rtx=$(json "$out" setup_retransmissions)
    lcpu=$(cat "$out.cpu")
    dcpu=$([ "$pid" != 0 ] && awk -v a="$c0" -v b="$c1" -v hz="$HZ" 'BEGIN {printf "%.2f", (b - a) / hz}' || echo "")
    emit "| $label | ${t}×${s} v$v | $up / $((t * s))$gone | $el | $rate | $tdrate | $rtx | ${dcpu:-n/a} s / $lcpu s |"
    echo "  $label ${t}x${s} v$v: $up up in ${el}s ($rate/s), teardown ${td}s ($tdrate/s), failed $fail"
    [ "$up" = $((t * s)) ]
}

echo "== a/e. set-up and teardown rate"
emit "### Session set-up and teardown (a, e)"
emit ""
emit "| LNS | tunnels × sessions | sessions up | set-up s | set-up sessions/s | teardown sessions/s | set-up retransmissions | CPU s: LNS / loadgen |"
emit "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"
l2tpd_conf "$W/lns.conf" 127.0.0.1:1701 none
for v in 2 3; do
    for size in "${SIZES[@]}"; do
        read -r t s <<<"$size"
        start_l2tpd "$NS_LNS" "$W/lns.conf"
        setup_row "l2tpd" "$DPID" "$t" "$s" "$v" 120 || fail "l2tpd ${t}x${s} v$v"
        stop_pid "$DPID"
    done
done
if [ "$MODE" = full ]; then
    # Is the load generator the bottleneck? The largest run again with the daemon and the
    # generator pinned to a core each, and with two generators sharing the load.
    read -r t s <<<"${SIZES[-1]}"
    start_l2tpd "$NS_LNS" "$W/lns.conf" 0
    PIN_LOADGEN=(taskset -c 1)
    setup_row "l2tpd (pinned: cpu 0; loadgen cpu 1)" "$DPID" "$t" "$s" 3 120 || fail "pinned run"
    PIN_LOADGEN=()
    stop_pid "$DPID"
    start_l2tpd "$NS_LNS" "$W/lns.conf"
    half=$((t / 2))
    c0=$(cpu_ticks "$DPID"); t0=$(date +%s.%N)
    loadgen "$W/g1.json" --peer 127.0.0.1:1701 --tunnels "$half" --sessions "$s" --timeout 120 &
    g1=$!
    loadgen "$W/g2.json" --peer 127.0.0.1:1701 --tunnels "$half" --sessions "$s" --timeout 120
    wait "$g1" || true
    c1=$(cpu_ticks "$DPID")
    up=$(( $(json "$W/g1.json" sessions_up) + $(json "$W/g2.json" sessions_up) ))
    el=$(python3 -c 'import sys; print(max(float(sys.argv[1]), float(sys.argv[2])))' "$(json "$W/g1.json" elapsed_s)" "$(json "$W/g2.json" elapsed_s)")
    rate=$(awk -v u="$up" -v e="$el" 'BEGIN {printf "%.1f", u / e}')
    emit "| l2tpd (two loadgens, ${half}×${s} each) | ${t}×${s} v3 | $up / $((t * s)) | $el | $rate | | | $(awk -v a="$c0" -v b="$c1" -v hz="$HZ" 'BEGIN {printf "%.2f", (b - a) / hz}') s / $(cat "$W/g1.json.cpu") + $(cat "$W/g2.json.cpu") s |"
    echo "  two loadgens: $up up in ${el}s ($rate/s)"
    stop_pid "$DPID"
fi

# xl2tpd, with a stub in place of /usr/sbin/pppd (bind-mounted in the private mount namespace
# that `ip netns exec` makes): xl2tpd runs its pppd path, which is built in.
cat >"$W/pppd-stub" <<'EOF'
#!/bin/sh
# stands in for pppd: holds the pty xl2tpd gives it until xl2tpd ends the call
exec sleep 86400 <"$1" >"$1"
EOF
chmod +x "$W/pppd-stub"
: >"$W/pppd-options"
cat >"$W/xl2tpd.conf" <<EOF
[global]
listen-addr = 127.0.0.1
port = 1701
[lns default]
hostname = xl2tpd-lns
assign ip = no
require authentication = no
refuse pap = yes
refuse chap = yes
pppoptfile = $W/pppd-options
length bit = yes
EOF
XL2TPD_LIMIT=""
for size in "${SIZES[@]}"; do
    read -r t s <<<"$size"
    if [ -n "$XL2TPD_LIMIT" ]; then
        emit "| xl2tpd | ${t}×${s} v2 | not run: $XL2TPD_LIMIT | | | | | |"
        continue
    fi
    mkdir -p "$W/xl2tpd-run"
    ip netns exec "$NS_LNS" sh -c 'mkdir -p /var/run/xl2tpd && mount --bind "$0" /usr/sbin/pppd && exec "$@"' \
        "$W/pppd-stub" xl2tpd -D -c "$W/xl2tpd.conf" -p "$W/xl2tpd-run/pid" -C "$W/xl2tpd-run/ctl" \
        >"$W/xl2tpd.log" 2>&1 &
    XPID=$!
    PIDS+=("$XPID")
    for _ in $(seq 50); do
        in_ns "$NS_LNS" ss -ulnp 2>/dev/null | grep -q '127.0.0.1:1701' && break
        sleep 0.1
    done
    setup_row "xl2tpd $(xl2tpd -v 2>&1 | awk '/version/ {print $NF}')" "$XPID" "$t" "$s" 2 "$XL2TPD_TIMEOUT" || true
    # Larger runs only while xl2tpd lives through a run and brings up most of its sessions.
    up=$(json "$W/run.json" sessions_up 2>/dev/null || echo 0)
    if [ ! -r "/proc/$XPID/stat" ] || [ "${up:-0}" -lt $((t * s / 2)) ]; then
        XL2TPD_LIMIT="xl2tpd stopped at ${t}×${s} (see above)"
        why=$(grep -m3 -i -E 'error|unable|fail|max|limit' "$W/xl2tpd.log" | tr '\n|' '  ' | head -c 300 || true)
        [ -n "$why" ] && emit "|  | xl2tpd's log | $why | | | | | |"
    fi
    stop_pid "$XPID"
    ip netns pids "$NS_LNS" | xargs -r kill -9 2>/dev/null || true
    sleep 0.5
done
emit ""

# Times l2tpctl's listings with $1 sessions up (into LISTING), and the slowest `show system`
# while a listing pages through.
LISTING=$W/listing.md
: >"$LISTING"
listing_rows() {
    local n=$1 t0 what args secs lines
    for what in "show sessions" "--json show sessions" "show tunnels" "show sessions state up limit 10"; do
        read -r -a args <<<"$what"
        t0=$(date +%s.%N)
        lines=$("$L2TPCTL" -S "$W/ctl.sock" "${args[@]}" | wc -l) || fail "l2tpctl $what"
        secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}')
        printf '| %s | `l2tpctl %s` | %s | %s |\n' "$n" "$what" "$secs" "$lines" >>"$LISTING"
        echo "  $n sessions: l2tpctl $what: ${secs}s, $lines lines"
    done
    # The slowest `show system` while `show sessions` pages through every session.
    "$L2TPCTL" -S "$W/ctl.sock" --json show sessions >/dev/null &
    local lp=$! worst=0 a b
    while kill -0 "$lp" 2>/dev/null; do
        a=$(date +%s%N)
        "$L2TPCTL" -S "$W/ctl.sock" show system >/dev/null
        b=$(date +%s%N)
        [ $(((b - a) / 1000000)) -gt "$worst" ] && worst=$(((b - a) / 1000000))
    done
    wait "$lp" || true
    printf '| %s | slowest `l2tpctl show system` during a listing | %s ms | |\n' "$n" "$worst" >>"$LISTING"
    echo "  $n sessions: slowest show system during a listing: ${worst} ms"
}

# ------------------------------------------------------------------ b. memory
echo "== b. resident memory"
emit "### Resident memory of l2tpd, dataplane none (b)"
emit ""
emit "| sessions established | VmRSS KiB | above baseline KiB | bytes per session above baseline |"
emit "| ---: | ---: | ---: | ---: |"
for size in "${RSS_SIZES[@]}"; do
    read -r t s <<<"$size"
    n=$((t * s))
    start_l2tpd "$NS_LNS" "$W/lns.conf"
    base=$(rss_kib "$DPID")
    loadgen "$W/hold.json" --peer 127.0.0.1:1701 --tunnels "$t" --sessions "$s" --timeout 120 --hold 600 &
    lg=$!
    end=$((SECONDS + 150))
    while [ "$(sessions_up)" -lt "$n" ] && [ $SECONDS -lt $end ]; do sleep 0.5; done
    sleep 1
    got=$(sessions_up)
    rss=$(rss_kib "$DPID")
    [ -z "${BASE_DONE:-}" ] && { emit "| 0 | $base | 0 | |"; BASE_DONE=1; }
    per=$(awk -v r="$rss" -v b="$base" -v n="$got" 'BEGIN {if (n > 0) printf "%.0f", (r - b) * 1024 / n}')
    emit "| $got | $rss | $((rss - base)) | $per |"
    echo "  $got sessions: VmRSS $rss KiB (baseline $base KiB): $per bytes per session"
    [ "$got" = "$n" ] || fail "only $got of $n sessions up for the memory figure"
    listing_rows "$got"
    stop_loadgens
    wait "$lg" 2>/dev/null || true
    stop_pid "$DPID"
done
emit ""

emit "### Listing sessions and tunnels with l2tpctl (b)"
emit ""
emit "The daemon answers in pages of at most 1 024 tunnels or sessions, serving its tunnels between"
emit 'two pages; `l2tpctl` prints the whole list (time: the whole command, output to a pipe).'
emit ""
emit "| sessions established | command | seconds | lines |"
emit "| ---: | --- | ---: | ---: |"
cat "$LISTING" >>"$RESULTS"
emit ""

# ------------------------------------------------------------------ c. idle tunnels
echo "== c. CPU of $IDLE_TUNNELS idle tunnels over ${IDLE_WINDOW}s"
start_l2tpd "$NS_LNS" "$W/lns.conf"
loadgen "$W/idle.json" --peer 127.0.0.1:1701 --tunnels "$IDLE_TUNNELS" --sessions 0 \
    --timeout 120 --hold $((IDLE_WINDOW + 200)) &
lg=$!
end=$((SECONDS + 150))
while [ "$(tunnels_up)" -lt "$IDLE_TUNNELS" ] && [ $SECONDS -lt $end ]; do sleep 0.5; done
got=$(tunnels_up)
sleep 2
c0=$(cpu_ticks "$DPID"); t0=$(date +%s.%N)
sleep "$IDLE_WINDOW"
c1=$(cpu_ticks "$DPID"); t1=$(date +%s.%N)
still=$(tunnels_up)
pct=$(awk -v a="$c0" -v b="$c1" -v hz="$HZ" -v t0="$t0" -v t1="$t1" 'BEGIN {printf "%.2f", 100 * (b - a) / hz / (t1 - t0)}')
rss=$(rss_kib "$DPID")
emit "### CPU of idle tunnels (c)"
emit ""
emit "| idle tunnels | hello | window s | l2tpd CPU (user+system) | % of a core | VmRSS KiB |"
emit "| ---: | ---: | ---: | ---: | ---: | ---: |"
emit "| $still | 60 s | $IDLE_WINDOW | $(awk -v a="$c0" -v b="$c1" -v hz="$HZ" 'BEGIN {printf "%.2f s", (b - a) / hz}') | $pct | $rss |"
emit ""
echo "  $still tunnels held: $pct % of a core"
# A few tunnels of the burst may fail to come up (the daemon caps tunnels in set-up); the
# figure counts those held.
[ "$still" -ge $((IDLE_TUNNELS * 99 / 100)) ] || fail "idle tunnels: $got up, $still still up"
stop_loadgens
wait "$lg" 2>/dev/null || true
stop_pid "$DPID"

# ------------------------------------------------------------------ d. throughput
echo "== d. TCP throughput, ${IPERF_SECONDS}s each"
iperf() { # SERVER_IP LABEL
    ip netns exec "$NS_B" iperf3 -s -1 -B "$1" >/dev/null 2>&1 &
    local srv=$!
    sleep 0.5
    local bps=""
    if in_ns "$NS_A" timeout $((IPERF_SECONDS + 20)) iperf3 -c "$1" -t "$IPERF_SECONDS" -J >"$W/iperf.json" 2>/dev/null; then
        bps=$(python3 -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9))' "$W/iperf.json")
    fi
    kill "$srv" 2>/dev/null || true; wait "$srv" 2>/dev/null || true
    local mtu
    mtu=$(in_ns "$NS_A" ip route get "$1" | awk '{for (i = 1; i < NF; i++) if ($i == "dev") print $(i + 1)}' | head -1)
    mtu=$(in_ns "$NS_A" cat "/sys/class/net/$mtu/mtu" 2>/dev/null || echo "?")
    emit "| $2 | ${bps:-failed} | $mtu |"
    echo "  $2: ${bps:-failed} Gbit/s"
    [ -n "$bps" ]
}
wait_ping() { # IP
    for _ in $(seq 50); do
        in_ns "$NS_A" ping -c 1 -W 1 "$1" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    return 1
}
emit "### TCP throughput between two namespaces (d)"
emit ""
emit "| path | Gbit/s (iperf3, ${IPERF_SECONDS} s, 1 stream) | MTU of the path |"
emit "| --- | ---: | ---: |"
iperf 192.0.2.2 "bare veth pair" || fail "iperf over veth"

ovpn() { # NS LOCAL REMOTE TAPIP
    ip netns exec "$1" openvpn --dev ovtap0 --dev-type tap --proto udp --local "$2" --remote "$3" \
        --port 1194 --cipher none --data-ciphers none --auth none --disable-dco \
        --ifconfig "$4" 255.255.255.0 --verb 1 >"$W/openvpn-$1.log" 2>&1 &
    PIDS+=("$!")
    OVPIDS+=("$!")
}
OVPIDS=()
ovpn "$NS_A" 192.0.2.1 192.0.2.2 198.51.100.1
ovpn "$NS_B" 192.0.2.2 192.0.2.1 198.51.100.2
if wait_ping 198.51.100.2; then
    iperf 198.51.100.2 "OpenVPN $(openvpn --version | awk 'NR == 1 {print $2}'), TAP, no cipher, no auth, UDP" || fail "iperf over OpenVPN"
else
    fail "OpenVPN link did not come up"
fi
for p in "${OVPIDS[@]}"; do stop_pid "$p"; done

# The userspace pseudowire: two l2tpd with `dataplane userspace`, A opening an L2TPv3
# Ethernet session to B.
pw_l2tpd() {
    cat >"$W/pw-a.conf" <<EOF
system {
    listen 192.0.2.1:1701
    control_socket $W/pw-a.sock
    pid_file $W/pw-a.pid
    dataplane userspace
}
pseudowire profile "eth" {
    interface_name "l2tpeth0"
}
tunnel "b" {
    peer 192.0.2.2:1701
    local 192.0.2.1:1701
}
session "pw" {
    tunnel "b"
    pseudowire_type eth
    pseudowire_profile_name "eth"
}
EOF
    cat >"$W/pw-b.conf" <<EOF
system {
    listen 192.0.2.2:1701
    control_socket $W/pw-b.sock
    pid_file $W/pw-b.pid
    dataplane userspace
}
EOF
    ip netns exec "$NS_B" "$L2TPD" -f -c "$W/pw-b.conf" -o "$W/pw-b.log" &
    local b=$!
    PIDS+=("$b")
    sleep 0.5
    ip netns exec "$NS_A" "$L2TPD" -f -c "$W/pw-a.conf" -o "$W/pw-a.log" &
    local a=$!
    PIDS+=("$a")
    local ifb=""
    for _ in $(seq 50); do
        ifb=$(in_ns "$NS_B" ip -o link show | awk -F': ' '$2 ~ /^l2tp/ {print $2; exit}' | cut -d@ -f1)
        [ -n "$ifb" ] && in_ns "$NS_A" ip link show l2tpeth0 >/dev/null 2>&1 && break
        sleep 0.2
    done
    local rc=0
    if [ -n "$ifb" ]; then
        in_ns "$NS_A" ip addr add 198.51.100.1/24 dev l2tpeth0
        in_ns "$NS_A" ip link set l2tpeth0 up
        in_ns "$NS_B" ip addr add 198.51.100.2/24 dev "$ifb"
        in_ns "$NS_B" ip link set "$ifb" up
        if wait_ping 198.51.100.2; then
            iperf 198.51.100.2 "L2TPv3 Ethernet pseudowire, two l2tpd, dataplane userspace, UDP" || rc=1
        else
            rc=1
        fi
    else
        rc=1
    fi
    [ $rc = 0 ] || { emit "| L2TPv3 pseudowire, two l2tpd, dataplane userspace | failed: no interface or no ping | |"; tail -5 "$W/pw-a.log" "$W/pw-b.log" >&2; }
    stop_pid "$a"; stop_pid "$b"
    return $rc
}
pw_l2tpd || fail "l2tpd userspace pseudowire"

# The same data path without the control plane: two l2tp-static.
pw_static() {
    local common=(--encap udp --tunnel-id 1 --peer-tunnel-id 1 --session-id 1 --peer-session-id 1)
    ip netns exec "$NS_A" "$STATIC" --local 192.0.2.1 --peer 192.0.2.2 "${common[@]}" --ifname l2tps0 >"$W/static-a.log" 2>&1 &
    local a=$!
    ip netns exec "$NS_B" "$STATIC" --local 192.0.2.2 --peer 192.0.2.1 "${common[@]}" --ifname l2tps0 >"$W/static-b.log" 2>&1 &
    local b=$!
    PIDS+=("$a" "$b")
    for _ in $(seq 50); do
        in_ns "$NS_A" ip link show l2tps0 >/dev/null 2>&1 && in_ns "$NS_B" ip link show l2tps0 >/dev/null 2>&1 && break
        sleep 0.1
    done
    in_ns "$NS_A" ip addr add 198.51.100.1/24 dev l2tps0; in_ns "$NS_A" ip link set l2tps0 up
    in_ns "$NS_B" ip addr add 198.51.100.2/24 dev l2tps0; in_ns "$NS_B" ip link set l2tps0 up
    local rc=1
    wait_ping 198.51.100.2 && iperf 198.51.100.2 "L2TPv3 Ethernet pseudowire, two l2tp-static (the same data plane, static)" && rc=0
    stop_pid "$a"; stop_pid "$b"
    return $rc
}
pw_static || fail "l2tp-static pseudowire"
emit ""

# ------------------------------------------------------------------ report
load=$(cut -d' ' -f1-3 /proc/loadavg)
{
    echo "<!-- bench:begin (generated by bench/run.sh; edit the script, not this part) -->"
    echo "## Benchmark run ($(date -u +%Y-%m-%d\ %H:%M) UTC)"
    echo ""
    echo "Reproduce: \`sudo bench/run.sh\` (as root; about 6 minutes; needs the packages of"
    echo "\`scripts/deps.sh\`). Machine: $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)),"
    echo "$(uname -sr), release build; load average $load at the end of the run (the machine is"
    echo "shared with other builds). l2tpd: \`dataplane none\`, logging to a file; every daemon"
    echo "fresh for each row; l2tp-loadgen runs in the same namespace, over loopback, at its"
    echo "default concurrency (100); the default hello of 60 s on both sides. xl2tpd is L2TPv2 only"
    echo "and starts a pppd (here a stub) per call; its file limit is the shell's ($(ulimit -n))."
    echo ""
    cat "$RESULTS"
    echo "<!-- bench:end -->"
} >"$W/block.md"

if [ "$MODE" = full ] && [ -z "$OUT" ]; then
    python3 - "$ROOT/docs/benchmarks.md" "$W/block.md" <<'EOF'
import re, sys
doc_path, block_path = sys.argv[1], sys.argv[2]
doc = open(doc_path).read()
block = open(block_path).read().rstrip("\n")
pat = re.compile(r"<!-- bench:begin.*?<!-- bench:end -->", re.S)
doc = pat.sub(lambda _: block, doc) if pat.search(doc) else doc.rstrip("\n") + "\n\n" + block + "\n"
open(doc_path, "w").write(doc)
EOF
    echo "== bench: docs/benchmarks.md updated"
else
    cp "$W/block.md" "${OUT:-/tmp/l2tp-bench-$MODE.md}"
    echo "== bench: figures in ${OUT:-/tmp/l2tp-bench-$MODE.md}"
fi
cat "$W/block.md"
[ $FAILED = 0 ] || { echo "bench: some parts failed" >&2; exit 1; }
echo "== bench: done"
