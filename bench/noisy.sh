#!/usr/bin/env bash
# What one noisy peer costs the others (docs/robustness.md, "Floods"), as root: l2tpd as LNS
# (dataplane userspace, native PPP, CHAP asked of FreeRADIUS with accounting) in a network
# namespace of its own, on 192.0.2.3, FreeRADIUS (examples/radius) on 192.0.2.10.
#
# For each MODE of bench/noisy-peer.py: a bystander (l2tp-loadgen, one PPP session of
# acct-user, an LCP echo every second) is up and held; the noisy peer (chap-user) comes up and
# makes its noise for SECONDS (at most MAX packets); `l2tpctl show system` is asked every
# 100 ms meanwhile; halfway, a second bystander brings a new session up. Printed per mode: the
# noisy peer's summary, the bystanders' reports, the worst and median `show system` answer,
# the daemon's log lines during the noise, and the counters that grew.
#
# Usage: bench/noisy.sh BINDIR [MODES...]   (BINDIR holds l2tpd, l2tpctl and l2tp-loadgen)
#   e.g. bench/noisy.sh target/debug reneg echo ipcp badchap churn hello zlb dup
# Env: SECONDS_PER_MODE (default 5), MAX_PACKETS (default 20000), MAX_RENEG (the profile's
# max_renegotiations; unset: the default).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "$1")
shift
modes=("${@:-reneg}")
secs=${SECONDS_PER_MODE:-5}
max=${MAX_PACKETS:-20000}
ns=noisy-bench
dir=$(mktemp -d /tmp/noisy-bench.XXXXXX)
cleanup() {
    [[ -n "${l2tpd_pid:-}" ]] && kill "$l2tpd_pid" 2>/dev/null || true
    [[ -n "${radius_pid:-}" ]] && kill "$radius_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$dir"
    ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT
in_ns() { ip netns exec "$ns" "$@"; }

ip netns add "$ns"
in_ns ip link set lo up
in_ns ip addr add 192.0.2.3/32 dev lo
in_ns ip addr add 192.0.2.10/32 dev lo

# FreeRADIUS: the example, listening on 192.0.2.10.
mkdir -p "$dir/raddb"/{run,log,radacct}
cp examples/radius/* "$dir/raddb/"
sed -i -e "s|^raddbdir = .*|raddbdir = $dir/raddb|" \
    -e "s|^listen_address = .*|listen_address = 192.0.2.10|" "$dir/raddb/radiusd.conf"
# Not through in_ns: a function run in the background is a subshell, and $! would name it,
# not the daemon that the cleanup must stop.
ip netns exec "$ns" freeradius -f -d "$dir/raddb" >"$dir/radius.log" 2>&1 &
radius_pid=$!
for _ in $(seq 50); do grep -q "Ready to process" "$dir/radius.log" 2>/dev/null && break; sleep 0.2; done

reneg_line=""
[[ -n "${MAX_RENEG:-}" ]] && reneg_line="    max_renegotiations $MAX_RENEG"
cat >"$dir/l2tpd.conf" <<EOF
system {
    listen 192.0.2.3:1701
    dataplane userspace
    control_socket $dir/l2tpd.sock
    pid_file $dir/l2tpd.pid
    radius_nas_identifier "nas-noisy"
    radius_nas_ip_address 192.0.2.3
}
radius server "r" {
    address 192.0.2.10
    secret "radius-test-secret"
}
ip pool "pool-chap" {
    ranges 198.51.100.11-198.51.100.19
}
ip pool "gold" {
    ranges 198.51.100.200-198.51.100.209
}
ip pool "customers" {
    ranges 198.51.100.100-198.51.100.150
}
ppp profile "default" {
    auth_mschapv2 false
    auth_source radius
    radius_accounting true
    local_ip_addr 198.51.100.1
    ip_pool_name "customers"
    ipv6cp false
    lcp_echo_interval 5
$reneg_line
}
EOF
ip netns exec "$ns" "$bin/l2tpd" -f -c "$dir/l2tpd.conf" -o "$dir/l2tpd.log" &
l2tpd_pid=$!
ctl() { in_ns "$bin/l2tpctl" -S "$dir/l2tpd.sock" "$@"; }
for _ in $(seq 50); do ctl show system >/dev/null 2>&1 && break; sleep 0.2; done

loadgen() { # USER PASSWORD HOLD
    in_ns "$bin/l2tp-loadgen" --peer 192.0.2.3 --version 2 --tunnels 1 --sessions 1 --ppp --auth chap \
        --user "$1" --password "$2" --lcp-echo-interval 1 --hold "$3" --json
}

for mode in "${modes[@]}"; do
    echo "=== $mode"
    ctl -j show system >"$dir/before.json"
    ctl -j show radius >"$dir/radius-before.json"
    log_before=$(wc -l <"$dir/l2tpd.log")
    loadgen acct-user acct-password $((secs + 6)) >"$dir/bystander.json" 2>/dev/null &
    by=$!
    sleep 2
    in_ns python3 bench/noisy-peer.py 192.0.2.3 "$mode" "$secs" "$max" chap-user chap-password \
        >"$dir/noisy.json" &
    noisy=$!
    # `show system` every 100 ms, timed; a second bystander halfway.
    (
        end=$((SECONDS + secs + 2))
        while ((SECONDS < end)); do
            t0=$(date +%s%N)
            ctl show system >/dev/null 2>&1 || echo fail
            echo $((($(date +%s%N) - t0) / 1000))
            sleep 0.1
        done
    ) >"$dir/ctl-us.txt" &
    poll=$!
    sleep $((secs / 2 + 1))
    loadgen pool-user pool-password 0 >"$dir/newcomer.json" 2>/dev/null || true
    wait "$noisy" || true
    wait "$poll" || true
    wait "$by" || true
    sleep 1
    echo "noisy:     $(cat "$dir/noisy.json")"
    ctl -j show system >"$dir/after.json"
    ctl -j show radius >"$dir/radius-after.json"
    python3 - "$dir" <<'PY'
import json, sys
d = sys.argv[1]
def ppp(name):
    try:
        r = json.load(open(f"{d}/{name}.json"))
    except Exception as e:
        return f"no report ({e})"
    return json.dumps(r.get("ppp", r))
print("bystander:", ppp("bystander"))
print("newcomer: ", ppp("newcomer"))
us = [int(l) for l in open(f"{d}/ctl-us.txt") if l.strip().isdigit()]
fails = sum(1 for l in open(f"{d}/ctl-us.txt") if l.startswith("fail"))
us.sort()
if us:
    print(f"show system: {len(us)} answers, median {us[len(us)//2]/1000:.1f} ms, "
          f"worst {us[-1]/1000:.1f} ms, {fails} failed")
def flat(o, p=""):
    if isinstance(o, dict):
        for k, v in o.items():
            yield from flat(v, f"{p}{k}.")
    elif isinstance(o, (int, float)) and not isinstance(o, bool):
        yield p[:-1], o
for before, after in [("before", "after"), ("radius-before", "radius-after")]:
    a = dict(flat(json.load(open(f"{d}/{before}.json"))))
    b = dict(flat(json.load(open(f"{d}/{after}.json"))))
    grown = {k: b[k] - a.get(k, 0) for k in b if b[k] != a.get(k, 0)
             and not any(s in k for s in ("uptime", "rss", "_ms", "time", "cpu", "heap"))}
    print(f"{after}:", json.dumps(grown))
PY
    log_after=$(wc -l <"$dir/l2tpd.log")
    echo "log: $((log_after - log_before)) lines; by level:" \
        "$(sed -n "$((log_before + 1)),${log_after}p" "$dir/l2tpd.log" | awk '{print $2}' | sort | uniq -c | tr '\n' ' ')" || true
    sed -n "$((log_before + 1)),${log_after}p" "$dir/l2tpd.log" | cut -d' ' -f2- | sed -E 's/[0-9]+/N/g' | cut -c1-160 | sort | uniq -c | sort -rn | head -6 || true
done
