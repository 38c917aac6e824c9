# The guest side of bench/guest-ppp.sh (run in the qemu guest of tests/vm, not on the host).
#
# In one guest run, l2tp-loadgen --ppp brings up N PPP sessions (L2TPv2, CHAP, user benchK for
# session K) against three LNSes in turn, each in a fresh pair of network namespaces ("lac"
# 192.0.2.1, the load generator; "lns" 192.0.2.2, the LNS) joined by a veth pair:
#   native  l2tpd terminating PPP itself on the kernel data plane: a pool, a users file, CHAP;
#   pppd    l2tpd with `use_pppd true`: a pppd per session (pppol2tp plugin), CHAP against
#           /etc/ppp/chap-secrets, which gives each user its address;
#   xl2tpd  xl2tpd with a pppd per call (pppol2tp plugin): its `ip range`, CHAP.
# Every LNS gives the links the address 192.0.2.2 and each peer one of 198.51.100.1-254,
# 203.0.113.1-254 (so at most 508 sessions), sends LCP echoes every 30 s, and runs no CCP, VJ
# or IPv6CP.
#
# For each it records, in /mnt/host/results/LNS/: the load generator's JSON report (set-up
# rate), the sessions up over time, and two snapshots of memory, before the load (the LNS
# started and idle) and with the sessions up: /proc/meminfo, the per-CPU free pages of
# /proc/zoneinfo, the PSS (smaps_rollup) of every process of the LNS's namespace and of every
# process of the guest, the load generator's page tables. bench/guest-ppp.sh turns them into
# figures on the host.
#
# Parameters come from /mnt/host/params.sh: N, TUNNELS, CONCURRENCY, LNSES, SETUP_TIMEOUT, STALL, SETTLE,
# PROFILE (an LNS whose set-up perf records: profile.txt; the guest then needs perf), and
# PPPD_LOG (non-empty: pppd logs to its stderr, which l2tpd logs at info, so lns.log says why a
# pppd gave up; not for figures, it costs CPU).
set -u
S=/mnt/host
. $S/params.sh
R=$S/results
W=/tmp/bench
BIN=/tmp/bench-bin
mkdir -p "$R" "$W" "$BIN"
cp $S/bin/l2tpd $S/bin/l2tpctl $S/bin/l2tp-loadgen "$BIN/"
# As an operator would for many sessions (LimitNOFILE=): l2tpd holds three descriptors per
# native PPP session, xl2tpd one per call.
ulimit -Hn 1048576
ulimit -n 1048576
PASSWORD=bench-secret
SESSIONS=$((N))
PER=$(((N + TUNNELS - 1) / TUNNELS))

# The kernel's module requests (each runs modprobe and waits for it), traced per LNS: an LNS
# that looks up a missing interface name with an ioctl makes the kernel ask for a module of
# that name.
TR=/sys/kernel/tracing
mount -t tracefs tracefs $TR 2>/dev/null
echo 1 >$TR/events/module/module_request/enable 2>/dev/null || echo "guest: no module_request tracing"

step() { echo "[$(cut -d' ' -f1 /proc/uptime)] $*"; }

# addr K: the peer address of session K (1..508).
addr() {
    local k=$1
    if [ "$k" -le 254 ]; then echo "198.51.100.$k"; else echo "203.0.113.$((k - 254))"; fi
}
POOL="198.51.100.1-198.51.100.254 203.0.113.1-203.0.113.254"

# users_file FILE WITH_ADDRESSES: the users bench1..benchN in chap-secrets format, each with
# its own address or with "*" (any: the LNS's pool or range gives it).
users_file() {
    local k a
    for k in $(seq "$((PER * TUNNELS))"); do
        a='*'
        [ "$2" = yes ] && a=$(addr "$k")
        printf 'bench%d * "%s" %s\n' "$k" "$PASSWORD" "$a"
    done >"$1"
    chmod 600 "$1"
}

netns_up() {
    ip netns add lac; ip netns add lns
    ip link add vlac netns lac type veth peer name vlns netns lns
    ip -n lac addr add 192.0.2.1/24 dev vlac; ip -n lac link set vlac up; ip -n lac link set lo up
    ip -n lns addr add 192.0.2.2/24 dev vlns; ip -n lns link set vlns up; ip -n lns link set lo up
}

# The sessions up on the LNS: the routes to their peers through ppp interfaces, in the LNS's
# namespace (as its process sees it: cheaper than `ip`, which would load the guest with 500
# interfaces to list every second).
ppp_up() { awk '/^ppp/ { n++ } END { print n + 0 }' "/proc/$LNS_PID/net/route" 2>/dev/null || echo 0; }

# snapshot FILE: "key value" lines (kB unless named otherwise), after dropping the caches.
snapshot() {
    sync
    echo 3 >/proc/sys/vm/drop_caches
    sleep 1
    local lns lac
    lns=$(ip netns pids lns 2>/dev/null | tr '\n' ' ')
    lac=$(ip netns pids lac 2>/dev/null | tr '\n' ' ')
    {
        awk '{ sub(":", "", $1); print "meminfo_" $1, $2 }' /proc/meminfo
        # Free pages held in the per-CPU lists, which MemFree (and so MemAvailable) leaves out.
        awk '$1 == "count:" { s += $2 } END { print "pcp_pages", s }' /proc/zoneinfo
        # Every process of the guest (kernel threads have no memory of their own).
        cat /proc/[0-9]*/smaps_rollup 2>/dev/null |
            awk '$1 == "Pss:" { p += $2 } $1 == "Pss_Anon:" { a += $2 } $1 == "Pss_Shmem:" { s += $2 }
                 END { print "all_pss", p; print "all_pss_anon", a; print "all_pss_shmem", s }'
        # The LNS: every process of its namespace.
        echo "lns_procs $(echo "$lns" | wc -w)"
        for p in $lns; do cat "/proc/$p/smaps_rollup" 2>/dev/null; done |
            awk '$1 == "Pss:" { p += $2 } $1 == "Pss_Anon:" { a += $2 } $1 == "Pss_File:" { f += $2 } $1 == "Rss:" { r += $2 }
                 END { print "lns_pss", p + 0; print "lns_pss_anon", a + 0; print "lns_pss_file", f + 0; print "lns_rss", r + 0 }'
        for p in $lns; do cat "/proc/$p/status" 2>/dev/null; done |
            awk '$1 == "VmPTE:" { s += $2 } END { print "lns_pte", s + 0 }'
        for p in $lns; do cat "/proc/$p/stat" 2>/dev/null; echo; done |
            awk 'NF { sub(/.*\) /, ""); t += $12 + $13 } END { print "lns_cpu_ticks", t + 0 }'
        # The load generator: its memory is not the LNS's, nor are its page tables.
        for p in $lac; do cat "/proc/$p/smaps_rollup" 2>/dev/null; done |
            awk '$1 == "Pss:" { p += $2 } END { print "lac_pss", p + 0 }'
        for p in $lac; do cat "/proc/$p/status" 2>/dev/null; done |
            awk '$1 == "VmPTE:" { s += $2 } END { print "lac_pte", s + 0 }'
        echo "ppp_up $(ppp_up)"
        echo "clk_tck $(getconf CLK_TCK 2>/dev/null || echo 100)"
        echo "uptime $(cut -d' ' -f1 /proc/uptime)"
    } >"$1"
}

# cpu_snapshot FILE: the guest's CPU time (the "cpu" line of /proc/stat) and every process's
# (pid, name, user + system ticks of it and of its children it has reaped).
# One process reads them all, so that taking a snapshot costs the guest little.
cpu_snapshot() {
    awk 'FILENAME == "/proc/stat" { if ($1 == "cpu") print; next }
         { i = index($0, "("); j = match($0, /\) [A-Za-z] /)
           split(substr($0, j + 2), f, " ")
           print "proc", $1, substr($0, i + 1, j - i - 1), f[12] + f[13] + f[14] + f[15] }' \
        /proc/stat /proc/[0-9]*/stat >"$1" 2>/dev/null
}

# start_lns NAME: starts LNS NAME in namespace lns; sets LNS_PID.
start_lns() {
    case $1 in
    native | pppd) start_l2tpd "$1" ;;
    xl2tpd) start_xl2tpd ;;
    esac
}

start_l2tpd() {
    local pw
    if [ "$1" = native ]; then
        users_file "$W/users" no
        pw='pseudowire profile "pw" {
    ppp_profile_name "users"
}
ppp profile "users" {
    auth_chap true
    auth_mschapv2 false
    local_ip_addr 192.0.2.2
    ip_pool_name "pool"
    users_file "'$W/users'"
    ipv6cp false
    lcp_echo_interval 30
}
ip pool "pool" {
    ranges '$POOL'
}'
    else
        # pppd reads its users (and their addresses) from /etc/ppp/chap-secrets.
        users_file /etc/ppp/chap-secrets yes
        pw='pseudowire profile "pw" {
    use_pppd true
    pppd_options "require-chap" "name lns" "192.0.2.2:" "noccp" "novj" "nodefaultroute" "lcp-echo-interval 30" "lcp-echo-failure 3"'"${PPPD_LOG:+ \"logfd 2\"}"'
}'
    fi
    cat >"$W/l2tpd.conf" <<EOF
system {
    listen 192.0.2.2:1701
    dataplane kernel
    control_socket $W/l2tpd.sock
    pid_file $W/l2tpd.pid
}
peer profile "lacs" {
    peer_ipaddr 192.0.2.1
    lac_lns lac
    tunnel_profile_name "from-lacs"
    session_profile_name "ppp-in"
    pseudowire_profile_name "pw"
}
tunnel profile "from-lacs" {
    version 2
}
session profile "ppp-in" {
    pseudowire_type ppp
    session_type lnic
}
$pw
EOF
    # PPPD_LOG: pppd's own log in l2tpd's (info), to see why a pppd gave up; it costs CPU.
    ip netns exec lns "$BIN/l2tpd" -f ${PPPD_LOG:+-d} -c "$W/l2tpd.conf" -o "$W/lns.log" >"$W/lns.out" 2>&1 &
    LNS_PID=$!
    for _ in $(seq 100); do
        "$BIN/l2tpctl" -S "$W/l2tpd.sock" show system >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    echo "l2tpd did not start"; cat "$W/lns.out" "$W/lns.log"; return 1
}

start_xl2tpd() {
    users_file /etc/ppp/chap-secrets no
    printf '%s\n' noccp novj nodefaultroute "lcp-echo-interval 30" "lcp-echo-failure 3" "logfd 2" \
        >"$W/options.xl2tpd"
    cat >"$W/xl2tpd.conf" <<EOF
[global]
listen-addr = 192.0.2.2
port = 1701
[lns default]
ip range = 198.51.100.1-198.51.100.254
ip range = 203.0.113.1-203.0.113.254
local ip = 192.0.2.2
require chap = yes
refuse pap = yes
require authentication = yes
name = lns
pppoptfile = $W/options.xl2tpd
length bit = yes
EOF
    mkdir -p /var/run/xl2tpd
    ip netns exec lns xl2tpd -D -c "$W/xl2tpd.conf" -p "$W/xl2tpd.pid" -C "$W/xl2tpd.ctl" \
        >"$W/lns.log" 2>&1 &
    LNS_PID=$!
    for _ in $(seq 50); do
        grep -q 'Listening on IP address' "$W/lns.log" 2>/dev/null && return 0
        sleep 0.2
    done
    echo "xl2tpd did not start"; cat "$W/lns.log"; return 1
}

# stop_all: the load generator and the LNS, then the namespaces; waits until the kernel has
# let go of the sessions' interfaces.
stop_all() {
    local p
    [ -n "${LG:-}" ] && kill -INT "$LG" 2>/dev/null
    for _ in $(seq 300); do kill -0 "${LG:-0}" 2>/dev/null || break; sleep 0.5; done
    kill -9 "${LG:-0}" 2>/dev/null
    kill "$LNS_PID" 2>/dev/null
    for _ in $(seq 120); do kill -0 "$LNS_PID" 2>/dev/null || break; sleep 0.5; done
    for p in $(ip netns pids lns 2>/dev/null) $(ip netns pids lac 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    ip netns del lac 2>/dev/null; ip netns del lns 2>/dev/null
    for _ in $(seq 120); do
        ip -o link show 2>/dev/null | grep -q ': ppp' || break
        sleep 0.5
    done
    LG=""
}

# run LNS: one LNS under the load.
run() {
    local name=$1 out=$R/$1 t0 last=0 since now n
    mkdir -p "$out"
    step "$name: start"
    netns_up
    start_lns "$name" || { echo "failed" >"$out/status"; stop_all; return 1; }
    sleep "$SETTLE"
    snapshot "$out/before.txt"
    step "$name: $TUNNELS tunnels x $PER sessions"
    : >$TR/trace 2>/dev/null
    cpu_snapshot "$out/cpu-before.txt"
    if [ -n "${PROFILE:-}" ] && [ "$name" = "$PROFILE" ]; then
        perf record -q -a -g -e "${PROFILE_EVENT:-cpu-clock}" -o "$W/perf.data" >/dev/null 2>&1 &
        PERF=$!
    fi
    read -r t0 _ </proc/uptime
    ip netns exec lac "$BIN/l2tp-loadgen" --peer 192.0.2.2 --version 2 --tunnels "$TUNNELS" \
        --sessions "$PER" --ppp --user 'bench%d' --password "$PASSWORD" --auth chap \
        --concurrency "$CONCURRENCY" --timeout "$SETUP_TIMEOUT" --hold 86400 --teardown-timeout 120 --json \
        >"$out/loadgen.json" 2>"$out/loadgen.err" &
    LG=$!
    # Sessions up over time, until all are up, the count stops growing for STALL seconds,
    # or the load generator's set-up time is over.
    # (Two processes a second, sleep and awk: the guest has one CPU to share.)
    t0=${t0%.*} since=${t0%.*}
    : >"$out/progress.txt"
    while :; do
        sleep 1
        read -r now _ </proc/uptime
        n=$(ppp_up)
        echo "$now $n" >>"$out/progress.txt"
        now=${now%.*}
        [ "$n" -ge "$((PER * TUNNELS))" ] && break
        kill -0 "$LG" 2>/dev/null || break
        if [ "$n" -gt "$last" ]; then last=$n since=$now; fi
        [ $((now - since)) -gt "$STALL" ] && break
        [ $((now - t0)) -gt $((SETUP_TIMEOUT + 5)) ] && break
    done
    cpu_snapshot "$out/cpu-after.txt"
    grep 'module_request:' $TR/trace >"$out/module-requests.txt" 2>/dev/null
    if [ -n "${PROFILE:-}" ] && [ "$name" = "$PROFILE" ]; then
        kill -INT "$PERF"; wait "$PERF"
        perf report -q -i "$W/perf.data" --no-children --sort comm,dso,symbol --percent-limit 0.3 \
            --stdio -g none >"$out/profile.txt" 2>&1
        perf report -q -i "$W/perf.data" --no-children --sort comm --stdio -g none >"$out/profile-comm.txt" 2>&1
        perf report -q -i "$W/perf.data" --no-children --sort comm,dso --stdio -g none >"$out/profile-dso.txt" 2>&1
        # For perf report on the host (--kallsyms).
        mv "$W/perf.data" "$out/perf.data"
        cat /proc/kallsyms >"$out/kallsyms"
    fi
    step "$name: $(ppp_up) sessions up; settling"
    sleep "$SETTLE"
    snapshot "$out/after.txt"
    step "$name: $(awk '$1 == "ppp_up" { print $2 }' "$out/after.txt") up at the snapshot; teardown"
    stop_all
    cp "$W/lns.log" "$out/lns.log" 2>/dev/null
    tail -n 200 "$W/lns.out" >"$out/lns.out" 2>/dev/null
    rm -f "$W/lns.log" "$W/lns.out"
    echo ok >"$out/status"
    step "$name: done"
}

echo "guest: $(nproc) CPU, $(awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo) kB, kernel $(uname -r)" |
    tee "$R/guest.txt"
for lns in $LNSES; do
    run "$lns"
done
dmesg | tail -n 100 >"$R/dmesg.txt"
grep -qi 'out of memory\|oom-kill' "$R/dmesg.txt" && echo "guest: the OOM killer ran (dmesg.txt)"
exit 0
