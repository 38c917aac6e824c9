#!/usr/bin/env bash
# The benchmark of docs/benchmarks.md, in one run on one machine (as root: it makes network
# namespaces):
#   a. session set-up rate of l2tpd (dataplane none) and of xl2tpd (with a stub pppd) as LNS,
#      driven by l2tp-loadgen, and e. their teardown rate;
#   b. l2tpd's resident memory with 0, 10 000 and 100 000 sessions established, and with
#      them up, l2tpctl's listings and other commands, what an l2tpwatch printed, and SIGTERM;
#   c. l2tpd's CPU while it holds 10 000 idle tunnels (60 s hello);
#   d. single-stream and eight-stream TCP throughput and the rate of 64-octet UDP datagrams
#      (iperf3) over a bare veth pair, over OpenVPN in TAP mode without crypto, and over a
#      userspace L2TPv3 Ethernet pseudowire (two l2tpd with offloads on and off; l2tp-static in
#      the full run), with the data-path threads' CPU during the UDP run;
#   f. the PPP set-up rate of l2tpd (dataplane userspace) terminating PPP itself, its users
#      local and then authenticated and accounted by FreeRADIUS, 10 000 sessions each, with
#      the CPU of l2tpd and of FreeRADIUS.
#   p. native PPP on the userspace data plane (l2tpd terminating PPP itself, CHAP against a
#      users file, a pool, one shared TUN), driven by l2tp-loadgen --ppp: the PPP set-up rate,
#      the resident memory with 10 000 and 100 000 PPP sessions up, and the CPU of the 100 000
#      held idle while l2tpd sends each an LCP Echo-Request every 30 s.
#
# PROFILE=1 also records a profile of the whole machine (perf, cpu-clock) while one TCP stream
# crosses the pseudowire with offloads on, and writes its hottest symbols to PROFILE_OUT
# (default /tmp/l2tp-bench-profile.txt).
#
# Usage: bench/run.sh [--smoke] [--out FILE] [--parts LETTERS]
#   (default)  the full run; rewrites the generated part of docs/benchmarks.md.
#   --parts    only these parts (e.g. `d`, `p`); the figures then go to FILE, not to the page.
#   --smoke    small counts and short windows (CI, under 2 minutes); checks that every part
#              runs and its figures are sane, writes them to FILE (default: a temp file), and
#              leaves docs/benchmarks.md alone.
# PPP_SETUP="T S" (with --parts p) measures the native-PPP set-up rate of T tunnels x S sessions
# only, PPP_RUNS times (default 1), without the memory and idle figures: a run of about 10 s
# for comparing two builds, e.g. PPP_SETUP="10 1000" PPP_RUNS=5 bench/run.sh --parts p.
# PPP_IDLE="T S" (with --parts p) takes only the memory and idle-CPU figures, with T tunnels x
# S sessions; PPP_ECHO sets the LCP echo interval (default 30 s), e.g. for a short comparison:
# PPP_IDLE="100 100" PPP_ECHO=1 PPP_IDLE_WINDOW=30 bench/run.sh --parts p.
# Every load runs on loopback or between network namespaces made here, and is bounded in count
# and time. Exit status 0 when every part ran and every l2tpd figure is complete.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

MODE=full
OUT=
PARTS=abcdfp
while [ $# -gt 0 ]; do
    case "$1" in
        --smoke) MODE=smoke ;;
        --out) OUT=$2; shift ;;
        --parts) PARTS=$2; shift ;;
        *) echo "usage: bench/run.sh [--smoke] [--out FILE] [--parts LETTERS]" >&2; exit 2 ;;
    esac
    shift
done
[ "$(id -u)" = 0 ] || { echo "bench: needs root (network namespaces)" >&2; exit 1; }
for t in ip iperf3 xl2tpd openvpn python3 taskset; do
    command -v "$t" >/dev/null || { echo "bench: $t not found (scripts/deps.sh installs it)" >&2; exit 1; }
done
if [[ "$PARTS" == *f* ]] && ! command -v freeradius >/dev/null; then
    echo "bench: freeradius not found (scripts/deps.sh installs it)" >&2
    exit 1
fi

if [ "$MODE" = full ]; then
    SIZES=("1 1000" "10 1000" "100 1000")
    RSS_SIZES=("10 1000" "100 1000")
    IDLE_TUNNELS=10000 IDLE_WINDOW=${IDLE_WINDOW:-120} IPERF_SECONDS=10 XL2TPD_TIMEOUT=60
    PPP_ROUNDS=20 PPP_TUNNELS=5 PPP_SESSIONS=100 PPP_CONCURRENCY=${PPP_CONCURRENCY:-400}
    PPP_SIZES=("1 1000" "10 1000" "100 1000")
    PPP_RSS_SIZES=("10 1000" "100 1000")
    # Four echo rounds of 30 s.
    PPP_ECHO=${PPP_ECHO:-30} PPP_IDLE_WINDOW=${PPP_IDLE_WINDOW:-120}
else
    SIZES=("1 100" "4 100")
    RSS_SIZES=("2 500")
    IDLE_TUNNELS=200 IDLE_WINDOW=3 IPERF_SECONDS=2 XL2TPD_TIMEOUT=20
    PPP_ROUNDS=2 PPP_TUNNELS=2 PPP_SESSIONS=25 PPP_CONCURRENCY=100
    PPP_SIZES=("1 50" "4 50")
    PPP_RSS_SIZES=("2 100")
    # Echoes every second, so that the short window holds three rounds.
    PPP_ECHO=1 PPP_IDLE_WINDOW=3
fi

if [ -n "${PPP_IDLE:-}" ]; then
    PPP_SIZES=()
    PPP_RSS_SIZES=("$PPP_IDLE")
fi
if [ -n "${PPP_SETUP:-}" ]; then
    PPP_SIZES=()
    for _ in $(seq "${PPP_RUNS:-1}"); do PPP_SIZES+=("$PPP_SETUP"); done
    PPP_RSS_SIZES=()
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
part() { [[ "$PARTS" == *"$1"* ]]; }
# shellcheck source=bench/common.sh
source "$ROOT/bench/common.sh"

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

if part a; then
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

fi

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

# Times other operator commands with $1 sessions of $2 tunnels up (into OPS): one tunnel and
# one session shown, a reload with nothing changed, a tunnel of them deleted, what the watcher
# started before the set-up ($3) printed, and SIGTERM until the daemon has exited.
OPS=$W/ops.md
: >"$OPS"
ops_rows() {
    local n=$1 t=$2 wpid=$3 tid sid what t0 secs lines
    tid=$("$L2TPCTL" -S "$W/ctl.sock" -j show tunnels | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["tid"])')
    sid=$("$L2TPCTL" -S "$W/ctl.sock" -j show sessions "$tid" | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["sid"])')
    lines=$(wc -l <"$W/watch.out")
    printf '| %s | `l2tpwatch` during the set-up: lines printed / events | %s / %s | |\n' "$n" "$lines" $((2 * t + 2 * n)) >>"$OPS"
    [ "$lines" = $((2 * t + 2 * n)) ] || fail "l2tpwatch printed $lines lines for $((2 * t + 2 * n)) events"
    for what in "show tunnel $tid" "show session $tid $sid" "reload" "delete tunnel $tid"; do
        read -r -a args <<<"$what"
        t0=$(date +%s.%N)
        "$L2TPCTL" -S "$W/ctl.sock" "${args[@]}" >/dev/null || fail "l2tpctl $what"
        secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.3f", b - a}')
        printf '| %s | `l2tpctl %s` | %s | |\n' "$n" "${what/[0-9]*/ID}" "$secs" >>"$OPS"
        echo "  $n sessions: l2tpctl $what: ${secs}s"
    done
    sleep 2
    # Each session down and deleted, the tunnel down (deleted once the peer acknowledges).
    lines=$(grep -c -E '^(SESSION (DOWN|DELETED)|TUNNEL DOWN):' "$W/watch.out" || true)
    printf '| %s | `l2tpwatch` after the delete: lines printed / events | %s / %s | |\n' "$n" "$lines" $((2 * n / t + 1)) >>"$OPS"
    [ "$lines" = $((2 * n / t + 1)) ] || fail "l2tpwatch printed $lines lines for $((2 * n / t + 1)) events"
    grep -q '^EVENTS LOST' "$W/watch.out" && fail "l2tpwatch lost events"
    t0=$(date +%s.%N)
    kill -TERM "$DPID"
    wait "$DPID" 2>/dev/null || true
    secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}')
    printf '| %s | SIGTERM until l2tpd has exited | %s | |\n' "$((n - n / t))" "$secs" >>"$OPS"
    echo "  $((n - n / t)) sessions: SIGTERM until exit: ${secs}s"
    kill "$wpid" 2>/dev/null || true
    wait "$wpid" 2>/dev/null || true
}

# ------------------------------------------------------------------ b. memory
if part b; then
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
    in_ns "$NS_LNS" "$BIN/l2tpwatch" -S "$W/ctl.sock" >"$W/watch.out" 2>&1 &
    wpid=$!
    PIDS+=("$wpid")
    sleep 0.5
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
    ops_rows "$got" "$t" "$wpid"
    stop_loadgens
    wait "$lg" 2>/dev/null || true
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

emit "### Other operator commands at scale (b)"
emit ""
emit 'With the same sessions up: one tunnel and one session shown, `reload` with nothing changed,'
emit 'one tunnel of them deleted (with its sessions), what an `l2tpwatch` started before the set-up'
emit 'printed, and how long the daemon takes to stop (StopCCN to every tunnel) on SIGTERM.'
emit ""
emit "| sessions established | command | seconds or count | |"
emit "| ---: | --- | ---: | --- |"
cat "$OPS" >>"$RESULTS"
emit ""

fi
# ------------------------------------------------------------------ c. idle tunnels
if part c; then
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

fi
# ------------------------------------------------------------------ p. native PPP, userspace
if part p; then
echo "== p. native PPP on the userspace data plane"
# l2tpd terminates PPP itself (L2TPv2, CHAP-MD5 against a users file, an address from a pool,
# IPv4 through one shared TUN); l2tp-loadgen --ppp runs a PPP client in every session, user
# benchK for session K. The pool holds the largest run (the full run's 100 000 addresses are
# beyond the documentation blocks: they stay in the LNS's namespace, on its TUN's routes).
if [ "$MODE" = full ]; then PPP_POOL=10.64.0.1-10.65.255.254; else PPP_POOL=203.0.113.1-203.0.113.254; fi
PPP_USERS=0
for size in "${PPP_SIZES[@]}" ${PPP_RSS_SIZES[@]+"${PPP_RSS_SIZES[@]}"}; do
    read -r t s <<<"$size"
    [ $((t * s)) -gt $PPP_USERS ] && PPP_USERS=$((t * s))
done
PPP_PASSWORD=bench-ppp-secret
awk -v n="$PPP_USERS" -v pw="$PPP_PASSWORD" \
    'BEGIN { for (i = 1; i <= n; i++) printf "bench%d * \"%s\" *\n", i, pw }' >"$W/ppp-users"
chmod 600 "$W/ppp-users"
ppp_lns_conf "$W/ppp.conf" "$W" "${P}ppp" "$W/ppp-users" "$PPP_POOL" "$PPP_ECHO"
ppp_loadgen() { # OUT T S [ARGS...]: l2tp-loadgen --ppp against the LNS
    local out=$1 t=$2 s=$3; shift 3
    loadgen "$out" --peer 127.0.0.1:1701 --version 2 --tunnels "$t" --sessions "$s" --ppp \
        --user 'bench%d' --password "$PPP_PASSWORD" --auth chap --timeout 300 --teardown-timeout 60 "$@"
}
# PPP links of the LNS whose network is up: came up less went down.
ppp_online() {
    "$L2TPCTL" -S "$W/ctl.sock" -j show system | python3 -c '
import json, sys
s = json.load(sys.stdin)["statistics"]
print(s.get("ppp_up", 0) - sum(s.get("ppp_down", {}).values()))' 2>/dev/null || echo 0
}
pj() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d.get("ppp", {}).get(sys.argv[2], ""))' "$1" "$2"; }

emit "### Native PPP on the userspace data plane: set-up rate (p)"
emit ""
emit "L2TPv2, CHAP-MD5 against a users file of $PPP_USERS users, an address from a pool; PPP up means"
emit "IPCP opened (the time is from the start of the run, so it includes the L2TP set-up)."
emit ""
emit "| LNS | tunnels × sessions | PPP sessions up | PPP set-up s | PPP sessions/s | PPP set-up ms p50 / p99 | CPU s: LNS / loadgen | failures |"
emit "| --- | --- | ---: | ---: | ---: | --- | --- | --- |"
for size in "${PPP_SIZES[@]}"; do
    read -r t s <<<"$size"
    rm -f "$W/l2tpd.log"
    start_l2tpd "$NS_LNS" "$W/ppp.conf"
    c0=$(cpu_ticks "$DPID")
    ppp_loadgen "$W/ppp.json" "$t" "$s"
    c1=$(cpu_ticks "$DPID")
    if [ ! -s "$W/ppp.json" ]; then
        emit "| l2tpd native PPP | ${t}×${s} | no report: $(head -c 200 "$W/ppp.json.err" | tr '\n|' '  ') | | | | | |"
        fail "native PPP ${t}x${s}: no report"
        stop_pid "$DPID"
        continue
    fi
    up=$(pj "$W/ppp.json" sessions_up); el=$(pj "$W/ppp.json" elapsed_s); rate=$(pj "$W/ppp.json" sessions_per_s)
    lat=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])).get("ppp", {}).get("setup_ms") or {}; print(m.get("p50", "?"), "/", m.get("p99", "?"))' "$W/ppp.json")
    why=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])).get("failure_reasons") or {}; print("; ".join(f"{k}: {v}" for k, v in sorted(r.items(), key=lambda kv: -kv[1])[:3]) or "none")' "$W/ppp.json")
    dcpu=$(awk -v a="$c0" -v b="$c1" -v hz="$HZ" 'BEGIN {printf "%.2f", (b - a) / hz}')
    emit "| l2tpd native PPP | ${t}×${s} | $up / $((t * s)) | $el | $rate | $lat | $dcpu s / $(cat "$W/ppp.json.cpu") s | $why |"
    echo "  native PPP ${t}x${s}: $up up in ${el}s ($rate/s), LNS CPU ${dcpu}s"
    [ "$up" = $((t * s)) ] || fail "native PPP ${t}x${s}: $up of $((t * s)) up"
    stop_pid "$DPID"
    # A set-up and a teardown without trouble leave no warning in the log (but the one about
    # the file limit).
    if grep -v RLIMIT_NOFILE "$W/l2tpd.log" | grep -q ' warning: '; then
        fail "native PPP ${t}x${s}: warnings in l2tpd's log: $(grep -v RLIMIT_NOFILE "$W/l2tpd.log" | grep -m1 ' warning: ')"
    fi
done
emit ""

# Memory with the sessions up, then the CPU of the largest number of them held idle over a
# window of several LCP echo rounds (the LNS sends the echoes, the load generator answers).
if [ ${#PPP_RSS_SIZES[@]} -gt 0 ]; then
emit "### Native PPP on the userspace data plane: resident memory and idle CPU (p)"
emit ""
emit "| PPP sessions up | VmRSS KiB | above baseline KiB | bytes per session above baseline |"
emit "| ---: | ---: | ---: | ---: |"
PPP_IDLE_ROW=""
ppp_base_done=""
for size in "${PPP_RSS_SIZES[@]}"; do
    read -r t s <<<"$size"
    n=$((t * s))
    start_l2tpd "$NS_LNS" "$W/ppp.conf"
    base=$(rss_kib "$DPID")
    ppp_loadgen "$W/ppp-hold.json" "$t" "$s" --hold $((PPP_IDLE_WINDOW + 400)) &
    lg=$!
    end=$((SECONDS + 330))
    while [ "$(ppp_online)" -lt "$n" ] && [ $SECONDS -lt $end ] && kill -0 "$lg" 2>/dev/null; do sleep 1; done
    sleep 2
    got=$(ppp_online)
    rss=$(rss_kib "$DPID")
    [ -z "$ppp_base_done" ] && { emit "| 0 | $base | 0 | |"; ppp_base_done=1; }
    per=$(awk -v r="$rss" -v b="$base" -v n="$got" 'BEGIN {if (n > 0) printf "%.0f", (r - b) * 1024 / n}')
    emit "| $got | $rss | $((rss - base)) | $per |"
    echo "  $got PPP sessions: VmRSS $rss KiB (baseline $base KiB): $per bytes per session"
    [ "$got" = "$n" ] || fail "native PPP: only $got of $n PPP sessions up for the memory figure"
    if [ "$size" = "${PPP_RSS_SIZES[-1]}" ]; then
        # The idle CPU: every session sends nothing; the LNS echoes every PPP_ECHO seconds.
        c0=$(cpu_ticks "$DPID"); t0=$(date +%s.%N)
        sleep "$PPP_IDLE_WINDOW"
        c1=$(cpu_ticks "$DPID"); t1=$(date +%s.%N)
        still=$(ppp_online)
        pct=$(awk -v a="$c0" -v b="$c1" -v hz="$HZ" -v t0="$t0" -v t1="$t1" 'BEGIN {printf "%.2f", 100 * (b - a) / hz / (t1 - t0)}')
        secs=$(awk -v a="$c0" -v b="$c1" -v hz="$HZ" 'BEGIN {printf "%.2f", (b - a) / hz}')
        win=$(awk -v t0="$t0" -v t1="$t1" 'BEGIN {printf "%.0f", t1 - t0}')
        idle_rss=$(rss_kib "$DPID")
        echo "  $still idle PPP sessions over ${win}s: $pct % of a core"
        [ "$still" = "$n" ] || fail "native PPP idle: $still of $n sessions still up after the window"
    fi
    stop_loadgens
    wait "$lg" 2>/dev/null || true
    stop_pid "$DPID"
    if [ "$size" = "${PPP_RSS_SIZES[-1]}" ]; then
        # The window held several echo rounds: the load generator answered at least one
        # Echo-Request per session and whole round of the window, less one for the rounds'
        # phase (it counts those of the whole hold, which is longer).
        echoes=$(pj "$W/ppp-hold.json" echo_requests_answered)
        rounds=$((PPP_IDLE_WINDOW / PPP_ECHO - 1))
        PPP_IDLE_ROW="| $still | $PPP_ECHO s | $win | ${echoes:-?} | $secs s | $pct | $idle_rss |"
        [ "${echoes:-0}" -ge $((n * rounds)) ] ||
            fail "native PPP idle: ${echoes:-no} LCP echoes answered, fewer than $rounds rounds of $n sessions"
    fi
done
emit ""
emit "| idle PPP sessions | LNS's LCP echo interval | window s | Echo-Requests answered by the load generator during the hold | l2tpd CPU (user+system) | % of a core | VmRSS KiB |"
emit "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
emit "${PPP_IDLE_ROW:-| not measured | | | | | | |}"
emit ""
fi

fi
# ------------------------------------------------------------------ d. throughput
if part d; then
echo "== d. throughput and packet rate, ${IPERF_SECONDS}s each"
# Waits (at most 15 s) until the iperf3 server in NS_B listens: a fixed sleep loses the race on
# a busy machine and the run reports nothing.
iperf_listening() {
    local i
    for i in $(seq 300); do
        [ -n "$(ip netns exec "$NS_B" ss -Hltn 'sport = :5201')" ] && return 0
        sleep 0.05
    done
    echo "no iperf3 server listening in $NS_B" >&2
}
# iperf3 from NS_A to a server in NS_B, its JSON report in $W/iperf.json (empty on failure).
iperf_json() { # SERVER_IP ARGS...
    local ip=$1; shift
    ip netns exec "$NS_B" iperf3 -s -1 -B "$ip" >/dev/null 2>&1 &
    local srv=$!
    iperf_listening
    in_ns "$NS_A" timeout $((IPERF_SECONDS + 20)) iperf3 -c "$ip" -t "$IPERF_SECONDS" -J "$@" >"$W/iperf.json" 2>/dev/null || : >"$W/iperf.json"
    kill "$srv" 2>/dev/null || true; wait "$srv" 2>/dev/null || true
}
tcp_gbps() { # SERVER_IP STREAMS
    iperf_json "$1" -P "$2"
    python3 -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9))' "$W/iperf.json" 2>/dev/null || true
}
# Frames that reached the receiving end: the data plane's receive counter of l2tpd's sessions
# when $CARRIED_SOCK names B's control socket, or of the l2tp-static whose PID is
# $CARRIED_STATIC (the TAP counts coalesced super-frames once), else the receive counter of the
# interface holding SERVER_IP.
carried_count() { # SERVER_IP
    if [ -n "${CARRIED_STATIC:-}" ]; then
        # l2tp-static writes its counters to its --stats-file on SIGUSR1.
        rm -f "$W/static-b.stats"
        kill -USR1 "$CARRIED_STATIC"
        for _ in $(seq 50); do [ -s "$W/static-b.stats" ] && break; sleep 0.1; done
        awk '/^session / { for (i = 1; i <= NF; i++) if ($i ~ /^rx_packets=/) { sub(/rx_packets=/, "", $i); print $i } }' "$W/static-b.stats"
    elif [ -n "${CARRIED_SOCK:-}" ]; then
        python3 - "$L2TPCTL" "$CARRIED_SOCK" <<'PY'
import json, subprocess, sys
ctl, sock = sys.argv[1], sys.argv[2]
def q(*args):
    out = subprocess.run([ctl, "-S", sock, "-j", *args], capture_output=True, text=True).stdout
    return json.loads(out)
def find(v, key):
    if isinstance(v, dict):
        if key in v:
            return v[key]
        for x in v.values():
            r = find(x, key)
            if r is not None:
                return r
    if isinstance(v, list):
        for x in v:
            r = find(x, key)
            if r is not None:
                return r
    return None
sessions = q("show", "sessions")
items = sessions if isinstance(sessions, list) else next(v for v in sessions.values() if isinstance(v, list))
total = 0
for s in items:
    d = q("show", "session", str(find(s, "tid")), str(find(s, "sid")))
    total += find(d, "stats")["rx_packets"]
print(total)
PY
    else
        local dev
        dev=$(in_ns "$NS_B" ip -o addr show to "$1" | awk '{print $2; exit}')
        in_ns "$NS_B" cat "/sys/class/net/$dev/statistics/rx_packets"
    fi
}
# 64-octet UDP datagrams as fast as one iperf3 sends them. Prints three rates per second:
# datagrams sent by iperf3, frames that reached the receiving end (what the tunnel carried),
# and datagrams the receiving iperf3 got (a single thread; often the slowest part).
udp_rates() { # SERVER_IP
    local r0 r1
    r0=$(carried_count "$1")
    iperf_json "$1" -u -l 64 -b 0
    r1=$(carried_count "$1")
    python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["end"]["sum"]
t = s["seconds"]
print("%.0f %.0f %.0f" % (s["packets"] / t, int(sys.argv[2]) / t, (s["packets"] - s["lost_packets"]) / t))
' "$W/iperf.json" "$((r1 - r0))" 2>/dev/null || true
}
# CPU ticks of the data-path threads (named l2tp-dataplane*) of PID, or of the whole process
# when it has none (OpenVPN).
dp_ticks() { # PID
    local t total=0 any=0 v
    for t in /proc/"$1"/task/*; do
        case "$(cat "$t/comm" 2>/dev/null)" in
            l2tp-dataplane*)
                any=1
                v=$(awk '{ sub(/.*\) /, ""); print $12 + $13 }' "$t/stat")
                total=$((total + v)) ;;
        esac
    done
    if [ $any = 1 ]; then echo "$total"; else cpu_ticks "$1"; fi
}
path_mtu() { # IP
    local dev
    dev=$(in_ns "$NS_A" ip route get "$1" | awk '{for (i = 1; i < NF; i++) if ($i == "dev") print $(i + 1)}' | head -1)
    in_ns "$NS_A" cat "/sys/class/net/$dev/mtu" 2>/dev/null || echo "?"
}
# One row: single-stream and eight-stream TCP, 64-octet UDP, and the data-path CPU of the two
# ends (PID_A sends the UDP, PID_B receives it) during the UDP run.
row() { # LABEL SERVER_IP [PID_A PID_B]
    local label=$1 ip=$2 pa=${3:-} pb=${4:-}
    local t1 t8 udp sent carried got a0=0 b0=0 a1 b1 s0 s1 cpu="" per=""
    t1=$(tcp_gbps "$ip" 1)
    if [ "${PROFILE_ROW:-}" = "$label" ]; then profile_tcp "$ip"; fi
    t8=$(tcp_gbps "$ip" 8)
    if [ -n "$pa" ]; then a0=$(dp_ticks "$pa"); b0=$(dp_ticks "$pb"); fi
    s0=$(date +%s.%N)
    udp=$(udp_rates "$ip")
    s1=$(date +%s.%N)
    read -r sent carried got <<<"${udp:-}"
    if [ -n "$pa" ]; then
        a1=$(dp_ticks "$pa"); b1=$(dp_ticks "$pb")
        cpu=$(awk -v a="$((a1 - a0))" -v b="$((b1 - b0))" -v hz="$HZ" -v t0="$s0" -v t1="$s1" \
            'BEGIN { printf "%.0f %% / %.0f %%", 100 * a / hz / (t1 - t0), 100 * b / hz / (t1 - t0) }')
        # The UDP run's CPU is counted over its whole wall time, iperf3's start included; the
        # rate is over its sending seconds: frames carried in all over the busier end's CPU.
        per=$(awk -v a="$((a1 - a0))" -v b="$((b1 - b0))" -v hz="$HZ" -v c="${carried:-0}" -v t="$IPERF_SECONDS" \
            'BEGIN { m = (a > b ? a : b) / hz; if (m > 0 && c > 0) printf "%.0f", c * t / m }')
    fi
    emit "| $label | ${t1:-failed} | ${t8:-failed} | ${sent:-failed} | ${carried:-failed} | ${got:-failed} | $cpu | $per | $(path_mtu "$ip") |"
    echo "  $label: TCP ${t1:-failed} Gbit/s, 8 streams ${t8:-failed} Gbit/s; UDP 64 B/s: sent ${sent:-failed}, carried ${carried:-failed}, received ${got:-failed}; data-path CPU ${cpu:-n/a}; frames/s per data-path core ${per:-n/a}"
    [ -n "$t1" ] && [ -n "$t8" ] && [ -n "$carried" ]
}
# perf over the whole machine while a single TCP stream runs (PROFILE=1): the hottest symbols.
profile_tcp() { # IP
    command -v perf >/dev/null || return 0
    local out=${PROFILE_OUT:-/tmp/l2tp-bench-profile.txt}
    ip netns exec "$NS_B" iperf3 -s -1 -B "$1" >/dev/null 2>&1 &
    local srv=$!
    iperf_listening
    in_ns "$NS_A" iperf3 -c "$1" -t $((IPERF_SECONDS + 2)) >"$W/profile-iperf.txt" 2>&1 &
    local cl=$!
    sleep 1
    perf record -q -a -g -e cpu-clock -o "$W/perf.data" -- sleep "$IPERF_SECONDS" >/dev/null 2>&1 || true
    wait "$cl" 2>/dev/null || true; kill "$srv" 2>/dev/null || true; wait "$srv" 2>/dev/null || true
    {
        grep -E "sender|receiver" "$W/profile-iperf.txt"
        perf report -q -i "$W/perf.data" --no-children --sort comm --stdio -g none
        perf report -q -i "$W/perf.data" --no-children --sort comm,dso,symbol --percent-limit 0.5 --stdio -g none
    } >"$out" 2>/dev/null || true
    echo "  profile: $out"
}
wait_ping() { # IP
    for _ in $(seq 50); do
        in_ns "$NS_A" ping -c 1 -W 1 "$1" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    return 1
}
emit "### Throughput and packet rate between two namespaces (d)"
emit ""
emit "TCP: iperf3, ${IPERF_SECONDS} s, one stream and eight (\`-P 8\`). UDP: 64-octet datagrams from"
emit "one iperf3 sender as fast as it sends them (\`-u -l 64 -b 0\`), per second: sent by iperf3,"
emit "carried (frames that reached the receiving end's interface: what the tunnel delivered) and"
emit "received by the iperf3 server (a single thread; often the slowest part). Data-path CPU: the"
emit "data-path threads of the sending and of the receiving end over the UDP run (for OpenVPN its"
emit "processes), in % of a core; frames/s per data-path core: the frames carried over the CPU"
emit "seconds of the busier end."
emit ""
emit "| path | TCP Gbit/s, 1 stream | TCP Gbit/s, 8 streams | UDP 64 B/s sent | carried | received | data-path CPU, sender / receiver | frames/s per data-path core | MTU |"
emit "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
row "bare veth pair" 192.0.2.2 || fail "veth"

ovpn() { # NS LOCAL REMOTE TAPIP
    # `ip netns exec` execs openvpn: the PID started is openvpn's.
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
    row "OpenVPN $(openvpn --version | awk 'NR == 1 {print $2}'), TAP, no cipher, no auth, UDP" 198.51.100.2 \
        "${OVPIDS[0]}" "${OVPIDS[1]}" || fail "OpenVPN"
else
    fail "OpenVPN link did not come up"
fi
for p in "${OVPIDS[@]}"; do stop_pid "$p"; done

# The userspace pseudowire: two l2tpd with `dataplane userspace`, A opening an L2TPv3
# Ethernet session to B; OFFLOADS is `dataplane_offloads`.
pw_l2tpd() { # OFFLOADS LABEL
    cat >"$W/pw-a.conf" <<EOF
system {
    listen 192.0.2.1:1701
    control_socket $W/pw-a.sock
    pid_file $W/pw-a.pid
    dataplane userspace
    dataplane_offloads $1
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
    dataplane_offloads $1
}
EOF
    # `ip netns exec` execs l2tpd: the PIDs started are the daemons'.
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
    local rc=1
    if [ -n "$ifb" ]; then
        in_ns "$NS_A" ip addr add 198.51.100.1/24 dev l2tpeth0
        in_ns "$NS_A" ip link set l2tpeth0 up
        in_ns "$NS_B" ip addr add 198.51.100.2/24 dev "$ifb"
        in_ns "$NS_B" ip link set "$ifb" up
        grep -h "userspace data plane:" "$W/pw-a.log" | head -1 | sed 's/^/  /'
        CARRIED_SOCK=$W/pw-b.sock
        if wait_ping 198.51.100.2 && row "$2" 198.51.100.2 "$a" "$b"; then rc=0; fi
        CARRIED_SOCK=
    fi
    if [ $rc != 0 ]; then
        emit "| $2 | failed: no interface, no ping or no figure | | | | | | | |"
        tail -5 "$W/pw-a.log" "$W/pw-b.log" >&2
    fi
    stop_pid "$a"; stop_pid "$b"
    return $rc
}
PROFILE_ROW=""
[ -n "${PROFILE:-}" ] && PROFILE_ROW="L2TPv3 Ethernet pseudowire, two l2tpd, offloads on"
pw_l2tpd true "L2TPv3 Ethernet pseudowire, two l2tpd, offloads on" || fail "l2tpd userspace pseudowire, offloads on"
pw_l2tpd false "L2TPv3 Ethernet pseudowire, two l2tpd, offloads off (dataplane_offloads false)" || fail "l2tpd userspace pseudowire, offloads off"

# The same data path without the control plane: two l2tp-static (full run only).
pw_static() {
    local common=(--encap udp --tunnel-id 1 --peer-tunnel-id 1 --session-id 1 --peer-session-id 1)
    ip netns exec "$NS_A" "$STATIC" --local 192.0.2.1 --peer 192.0.2.2 "${common[@]}" --ifname l2tps0 >"$W/static-a.log" 2>&1 &
    local a=$!
    ip netns exec "$NS_B" "$STATIC" --local 192.0.2.2 --peer 192.0.2.1 "${common[@]}" --ifname l2tps0 \
        --stats-file "$W/static-b.stats" >"$W/static-b.log" 2>&1 &
    local b=$!
    PIDS+=("$a" "$b")
    for _ in $(seq 50); do
        in_ns "$NS_A" ip link show l2tps0 >/dev/null 2>&1 && in_ns "$NS_B" ip link show l2tps0 >/dev/null 2>&1 && break
        sleep 0.1
    done
    in_ns "$NS_A" ip addr add 198.51.100.1/24 dev l2tps0; in_ns "$NS_A" ip link set l2tps0 up
    in_ns "$NS_B" ip addr add 198.51.100.2/24 dev l2tps0; in_ns "$NS_B" ip link set l2tps0 up
    local rc=1
    CARRIED_STATIC=$b
    if wait_ping 198.51.100.2 && row "L2TPv3 Ethernet pseudowire, two l2tp-static (the same data plane, static), offloads on" 198.51.100.2 "$a" "$b"; then rc=0; fi
    CARRIED_STATIC=
    stop_pid "$a"; stop_pid "$b"
    return $rc
}
if [ "$MODE" = full ]; then pw_static || fail "l2tp-static pseudowire"; fi
emit ""

fi
# ------------------------------------------------------------------ f. PPP set-up with RADIUS
if part f; then
echo "== f. PPP set-up: local users and FreeRADIUS, $PPP_ROUNDS rounds of ${PPP_TUNNELS}×${PPP_SESSIONS}"
# l2tpd on 192.0.2.3 and FreeRADIUS on 192.0.2.10, both on NS_LNS's loopback.
ip -n "$NS_LNS" addr add 192.0.2.3/32 dev lo
ip -n "$NS_LNS" addr add 192.0.2.10/32 dev lo
# FreeRADIUS as the project's tests run it (examples/radius), threaded and without its debug
# trace, with the benchmark's user added: an Access-Accept without an address, so that l2tpd
# gives one from its pool as it does for its local user.
RADDB=$W/raddb
mkdir -p "$RADDB/run" "$RADDB/log" "$RADDB/radacct"
for f in examples/radius/*; do [ -f "$f" ] && cp "$f" "$RADDB/"; done
sed -i -e "s|^raddbdir = .*|raddbdir = $RADDB|" -e 's|^listen_address = .*|listen_address = 192.0.2.10|' "$RADDB/radiusd.conf"
[ "$(grep -c -e "^raddbdir = $RADDB\$" -e '^listen_address = 192.0.2.10$' "$RADDB/radiusd.conf")" = 2 ] \
    || fail "f: examples/radius/radiusd.conf lost a line the benchmark sets"
cat >>"$RADDB/users" <<'USERS'

bench-user	Cleartext-Password := "bench-password"
		Service-Type = Framed-User,
		Framed-Protocol = PPP,
		Class = "bench"
USERS
ip netns exec "$NS_LNS" freeradius -f -l stdout -d "$RADDB" >"$W/freeradius.log" 2>&1 &
RPID=$!
PIDS+=("$RPID")
for _ in $(seq 100); do grep -q "Ready to process requests" "$W/freeradius.log" && break; sleep 0.1; done
grep -q "Ready to process requests" "$W/freeradius.log" || { fail "f: FreeRADIUS did not start"; tail -5 "$W/freeradius.log" >&2; }

# The pool holds a round's sessions: rounds of at most 500 (the documentation ranges have no
# room for 10 000 addresses at once), each set up, then torn down before the next.
ppp_profile() { # AUTH_SOURCE ACCOUNTING (the RADIUS server unless AUTH_SOURCE is local)
    cat <<PROFILE
ip pool "bench" {
    ranges 198.51.100.1-198.51.100.254 203.0.113.1-203.0.113.253
}
ppp profile "default" {
    auth_source $1
    radius_accounting $2
    local_ip_addr 203.0.113.254
    ip_pool_name "bench"
    ipv6cp false
}
user "bench-user" {
    password "bench-password"
}
PROFILE
    [ "$1" = local ] || printf 'radius server "freeradius" {\n    address 192.0.2.10\n    secret "radius-test-secret"\n}\n'
}
radius_json() { "$L2TPCTL" -S "$W/ctl.sock" -j show radius; }
radius_pending() { radius_json | python3 -c 'import json,sys; print(json.load(sys.stdin)["pending"])' 2>/dev/null || echo 1; }
sessions_left() { "$L2TPCTL" -S "$W/ctl.sock" -j show system | python3 -c 'import json,sys; print(json.load(sys.stdin)["counts"]["sessions"])' 2>/dev/null || echo 1; }
emit "### PPP set-up with local users and with FreeRADIUS (f)"
emit ""
emit "$PPP_ROUNDS rounds of ${PPP_TUNNELS} L2TPv2 tunnels × ${PPP_SESSIONS} PPP sessions (CHAP-MD5, IPCP with an address"
emit "from l2tpd's pool; l2tp-loadgen's concurrency $PPP_CONCURRENCY), each round set up, then torn down and its"
emit "sessions gone (and, with RADIUS, their Accounting-Stops answered) before the next;"
emit "one l2tpd (\`dataplane userspace\`) for all the rounds of a row. Set-up: from each"
emit "round's start until the last PPP session of it was up, summed. CPU: over every round, set-up,"
emit "teardown and accounting included."
emit ""
emit "| users | PPP sessions up | set-up s | PPP sessions/s | L2TP up → IPCP opened ms, p50 / p99 (median over rounds) | l2tpd CPU s | l2tpd CPU per session | FreeRADIUS CPU s | loadgen CPU s | RADIUS |"
emit "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
ppp_row() { # LABEL AUTH_SOURCE ACCOUNTING
    local label=$1 n=$((PPP_TUNNELS * PPP_SESSIONS)) r c0 c1 f0 f1 ok=1 left
    l2tpd_conf "$W/ppp.conf" 192.0.2.3:1701 userspace "$(ppp_profile "$2" "$3")"
    start_l2tpd "$NS_LNS" "$W/ppp.conf" || { emit "| $label | l2tpd did not start | | | | | | | | |"; return 1; }
    c0=$(cpu_ticks "$DPID"); f0=$(cpu_ticks "$RPID")
    rm -f "$W"/ppp-*.json*
    for r in $(seq "$PPP_ROUNDS"); do
        loadgen "$W/ppp-$r.json" --peer 192.0.2.3 --version 2 --tunnels "$PPP_TUNNELS" \
            --sessions "$PPP_SESSIONS" --ppp --auth chap --user bench-user \
            --password bench-password --concurrency "$PPP_CONCURRENCY" --timeout 120 --teardown-timeout 60
        [ -s "$W/ppp-$r.json" ] || { ok=0; head -c 300 "$W/ppp-$r.json.err" >&2; break; }
        # The next round once every session of this one is gone and every RADIUS request of
        # it answered (its Accounting-Stop).
        for _ in $(seq 600); do left=$(sessions_left); [ "$left" = 0 ] && break; sleep 0.1; done
        [ "$left" = 0 ] || { ok=0; echo "bench: f: $left sessions still there after a round" >&2; break; }
        if [ "$2" != local ]; then
            for _ in $(seq 600); do left=$(radius_pending); [ "$left" = 0 ] && break; sleep 0.1; done
            [ "$left" = 0 ] || { ok=0; echo "bench: f: $left RADIUS requests unanswered after a round" >&2; break; }
        fi
    done
    c1=$(cpu_ticks "$DPID"); f1=$(cpu_ticks "$RPID")
    local radius=""
    [ "$2" != local ] && radius=$(radius_json)
    python3 - "$W" "$PPP_ROUNDS" "$n" "$label" "$((c1 - c0))" "$((f1 - f0))" "$HZ" "$2" "$radius" "$RADDB/radacct/detail" >>"$RESULTS" <<'PY' || ok=0
import glob, json, statistics, sys
w, rounds, n, label, dticks, fticks, hz, source, radius, detail = sys.argv[1:11]
rounds, n, hz = int(rounds), int(n), int(hz)
runs = [json.load(open(f)) for f in sorted(glob.glob(w + "/ppp-*.json"))]
up = sum(r["ppp"]["sessions_up"] for r in runs)
secs = sum(r["ppp"]["elapsed_s"] for r in runs)
p50 = statistics.median(r["ppp"]["setup_ms"]["p50"] for r in runs) if runs else 0
p99 = statistics.median(r["ppp"]["setup_ms"]["p99"] for r in runs) if runs else 0
lcpu = sum(float(open(f"{w}/ppp-{i + 1}.json.cpu").read() or 0) for i in range(len(runs)))
dcpu, fcpu = int(dticks) / hz, int(fticks) / hz
rate = up / secs if secs else 0
per = f"{dcpu / up * 1000:.2f} ms" if up else ""
failed = []
if up != rounds * n:
    failed.append(f"{up} of {rounds * n} PPP sessions up")
if source == "local":
    rad, fr = "none", ""
else:
    d = json.loads(radius)
    text = open(detail, errors="replace").read() if detail else ""
    starts = text.count("Acct-Status-Type = Start")
    stops = text.count("Acct-Status-Type = Stop")
    timeouts = sum(s["timeouts"] for s in d["servers"])
    rtt = max((s["smoothed_rtt_us"] for s in d["servers"]), default=0) / 1000
    rad = (f"{d['accepts']} accepts, {d['rejects']} rejects; accounting: {starts} Starts and "
           f"{stops} Stops in the detail file, {d['accounting_lost']} lost; {timeouts} timeouts; "
           f"smoothed RTT {rtt:.1f} ms")
    fr = f"{fcpu:.2f}"
    if d["accepts"] != up or starts != up or stops != up or d["accounting_lost"] or d["no_answer"]:
        failed.append("RADIUS figures short: " + rad)
print(f"| {label} | {up} / {rounds * n} | {secs:.2f} | {rate:.1f} | {p50:.1f} / {p99:.1f} | "
      f"{dcpu:.2f} | {per} | {fr} | {lcpu:.2f} | {rad} |")
print(f"  {label}: {up} PPP sessions up in {secs:.2f}s ({rate:.1f}/s); l2tpd {dcpu:.2f} s of CPU "
      f"({per} per session), FreeRADIUS {fcpu:.2f} s", file=sys.stderr)
for f in failed:
    print("bench: f: " + f, file=sys.stderr)
sys.exit(1 if failed else 0)
PY
    stop_pid "$DPID"
    [ $ok = 1 ]
}
ppp_row "local (\`auth_source local\`, no accounting)" local false || fail "f: PPP with local users"
ppp_row "FreeRADIUS $(freeradius -v 2>/dev/null | sed -n 's/.*FreeRADIUS Version \([0-9.]*\).*/\1/p' | head -1) (\`auth_source radius\`, \`radius_accounting true\`)" radius true || fail "f: PPP with FreeRADIUS"
stop_pid "$RPID"
emit ""

fi
# ------------------------------------------------------------------ report
load=$(cut -d' ' -f1-3 /proc/loadavg)
{
    echo "<!-- bench:begin (generated by bench/run.sh; edit the script, not this part) -->"
    echo "## Benchmark run ($(date -u +%Y-%m-%d\ %H:%M) UTC)"
    echo ""
    echo "Reproduce: \`sudo bench/run.sh\` (as root; about 16 minutes; needs the packages of"
    echo "\`scripts/deps.sh\`). Machine: $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)),"
    echo "$(uname -sr), release build; load average $load at the end of the run (the machine is"
    echo "shared with other builds). l2tpd: \`dataplane none\` for a to c, \`dataplane userspace\` for p, logging to a file; every daemon"
    echo "fresh for each row; l2tp-loadgen runs in the same namespace, over loopback, at its"
    echo "default concurrency (100); the default hello of 60 s on both sides. xl2tpd is L2TPv2 only"
    echo "and starts a pppd (here a stub) per call; its file limit is the shell's ($(ulimit -n))."
    echo ""
    cat "$RESULTS"
    echo "<!-- bench:end -->"
} >"$W/block.md"

if [ "$MODE" = full ] && [ -z "$OUT" ] && [ "$PARTS" = abcdfp ]; then
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
