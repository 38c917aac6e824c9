# Helpers for the guest cases that run the project's own l2tpd (sourced, not a case).
# The binaries (l2tpd, l2tpctl, l2tpwatch, l2tp-loadgen) are in /mnt/host/bin (run-all.sh puts
# them there).
# They are copied to the guest's memory first: each exec from the 9p share reads the whole file.
W=/tmp/l2tpd-case; mkdir -p $W
BIN=/tmp/l2tpd-bin
if [ ! -x $BIN/l2tpctl ]; then
    # l2tpwatch and l2tp-loadgen where the share has them (run-all.sh's does; a test with a
    # share of its own may hold only l2tpd and l2tpctl).
    mkdir -p $BIN.tmp && cp /mnt/host/bin/l2tpd /mnt/host/bin/l2tpctl $BIN.tmp/ &&
        { [ ! -e /mnt/host/bin/l2tpwatch ] || cp /mnt/host/bin/l2tpwatch $BIN.tmp/; } &&
        { [ ! -e /mnt/host/bin/l2tp-loadgen ] || cp /mnt/host/bin/l2tp-loadgen $BIN.tmp/; } &&
        mv $BIN.tmp $BIN
fi

# netns_pair A B: namespaces A (192.0.2.1, 2001:db8::1) and B (192.0.2.2, 2001:db8::2) joined
# by a veth pair.
netns_pair() {
    ip netns add "$1"; ip netns add "$2"
    ip link add "v$1" netns "$1" type veth peer name "v$2" netns "$2"
    ip -n "$1" addr add 192.0.2.1/24 dev "v$1"; ip -n "$1" link set "v$1" up; ip -n "$1" link set lo up
    ip -n "$2" addr add 192.0.2.2/24 dev "v$2"; ip -n "$2" link set "v$2" up; ip -n "$2" link set lo up
    ip -n "$1" addr add 2001:db8::1/64 dev "v$1" nodad
    ip -n "$2" addr add 2001:db8::2/64 dev "v$2" nodad
}

# start_l2tpd NS NAME CONF_TEXT: writes $W/NAME.conf and starts l2tpd in NS in the foreground,
# its control socket at $W/NAME.sock and its log in $W/NAME.log; sets PID_<NAME>.
start_l2tpd() {
    local ns=$1 name=$2
    printf '%s\n' "$3" >"$W/$name.conf"
    ip netns exec "$ns" "$BIN/l2tpd" -f -d -d -c "$W/$name.conf" -o "$W/$name.log" >>"$W/$name.out" 2>&1 &
    eval "PID_$name=$!"
    for _ in $(seq 100); do
        ctl "$name" show system >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "l2tpd $name did not start"; cat "$W/$name.out" "$W/$name.log"; return 1
}

# l2tpd_system NAME LISTEN DATAPLANE [EXTRA]: the system block of daemon NAME (for start_l2tpd):
# it listens on LISTEN, with its control socket and pid file in $W, and EXTRA (whole lines).
l2tpd_system() {
    printf 'system {\n    listen %s\n    dataplane %s\n    control_socket %s\n    pid_file %s\n%s}' \
        "$2" "$3" "$W/$1.sock" "$W/$1.pid" "${4:-}"
}

# metric NS URL SERIES: the value of SERIES (name and labels as a scrape writes them, without
# spaces) in a scrape of URL from namespace NS.
metric() {
    ip netns exec "$1" wget -q -O - "$2" | awk -v s="$3" '$1 == s { print $2 }'
}

# ctl NAME ARGS...: l2tpctl against daemon NAME.
ctl() { local n=$1; shift; "$BIN/l2tpctl" -S "$W/$n.sock" "$@"; }

# wait_until SECONDS COMMAND...: retries COMMAND every 0.2 s.
wait_until() {
    local n=$(($1 * 5)); shift
    for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
    return 1
}

# session_up NAME: the daemon has a session in state up.
session_up() { ctl "$1" -j show sessions 2>/dev/null | grep -q '"state": *"up"'; }

show_logs() { local f; for f in "$@"; do echo "---- $f"; tail -n 60 "$W/$f"; done; }

# step TEXT: prints the guest's uptime and TEXT (where the time goes).
step() { echo "[$(cut -d' ' -f1 /proc/uptime)] $*"; }
