#!/usr/bin/env bash
# Operator commands at scale with native PPP: l2tpd (release build, userspace data plane, PPP
# terminated by the daemon, CHAP against a users file, addresses from a pool in 198.18.0.0/15)
# in a network namespace of its own, T tunnels x S sessions (default 100 x 1 000) brought up
# and held by `l2tp-loadgen --ppp --hold`, an `l2tpwatch` following it all. Then, each timed
# while `l2tpctl show system` is sent every 20 ms (the slowest answer is how long the main loop
# was held): show sessions, show session, disconnect user, disconnect address, delete session,
# delete tunnel, a reload that changes the ppp profile every session uses, and SIGTERM.
# Checks what each did; prints a table, the daemon's CPU and RSS, and what the load generator
# and the watcher saw. Exit status 1 if a check failed.
#
# Usage: bench/ppp-ops.sh [T] [S]   (root: network namespaces; builds the release binaries)
#   BIN=DIR takes the binaries from DIR instead (another build, to compare with).
set -euo pipefail
cd "$(dirname "$0")/.."
T=${1:-100}
S=${2:-1000}
N=$((T * S))
[ "$(id -u)" = 0 ] || { echo "ppp-ops: needs root (network namespaces)" >&2; exit 1; }
if [ -z "${BIN:-}" ]; then
    nice cargo build --release -q -p l2tpd -p l2tpctl -p l2tp-loadgen
    BIN=$PWD/target/release
fi
W=$(mktemp -d /tmp/l2tp-ppp-ops.XXXXXX)
NS=lpo$$
DPID= LPID= WPID=
# shellcheck source=bench/common.sh
source bench/common.sh
# shellcheck disable=SC2086 # the pids that are set
trap 'netns_cleanup "$NS" "$W" $LPID $WPID $DPID' EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
FAILED=0
fail() { echo "ppp-ops: FAILED: $*" >&2; FAILED=1; }
PW=ppp-ops-secret
awk -v n="$N" -v pw="$PW" 'BEGIN { for (i = 1; i <= n; i++) printf "user%d * \"%s\" *\n", i, pw }' >"$W/users"
chmod 600 "$W/users"
conf() { # ECHO: the ppp profile's lcp_echo_interval (a reload changes it)
    ppp_lns_conf "$W/l2tpd.conf" "$W" "${NS}ppp" "$W/users" 198.18.0.1-198.19.255.254 "$1"
}
ctl() { "$BIN/l2tpctl" -S "$W/ctl.sock" "$@"; }
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$DPID/status"; }
cpu() { awk -v t="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.2f", ($12 + $13) / t }' "/proc/$DPID/stat"; }
ppp_up() {
    ctl -j show system | python3 -c '
import json, sys
s = json.load(sys.stdin)["statistics"]
print(s.get("ppp_up", 0) - sum(s.get("ppp_down", {}).values()))'
}
ms() { date +%s%N; }
# timed LABEL SETTLE CMD...: runs CMD, samples `show system` every 20 ms while it runs and
# for SETTLE seconds after (a command's work may follow its answer); prints a table row.
timed() {
    local label=$1 settle=$2 worst=0 a b t0 t1 end; shift 2
    t0=$(ms)
    "$@" >"$W/out" 2>&1 &
    local cp=$!
    while kill -0 "$cp" 2>/dev/null; do
        a=$(ms); ctl show system >/dev/null; b=$(ms)
        [ $(((b - a) / 1000000)) -gt "$worst" ] && worst=$(((b - a) / 1000000))
        sleep 0.02
    done
    wait "$cp" || fail "$label: exit status $?: $(head -c 200 "$W/out")"
    t1=$(ms)
    end=$(($(ms) + settle * 1000000000))
    while [ "$(ms)" -lt "$end" ]; do
        a=$(ms); ctl show system >/dev/null; b=$(ms)
        [ $(((b - a) / 1000000)) -gt "$worst" ] && worst=$(((b - a) / 1000000))
        sleep 0.02
    done
    printf '| %s | %s | %s |\n' "$label" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) / 1e9}')" "$worst"
}

conf 30
ip netns exec "$NS" "$BIN/l2tpd" -f -c "$W/l2tpd.conf" -o "$W/l2tpd.log" &
DPID=$!
for _ in $(seq 100); do ctl show system >/dev/null 2>&1 && break; sleep 0.1; done
rss0=$(rss)
ip netns exec "$NS" "$BIN/l2tpwatch" -S "$W/ctl.sock" >"$W/watch.out" 2>&1 &
WPID=$!
ip netns exec "$NS" "$BIN/l2tp-loadgen" --json --peer 127.0.0.1:1701 --version 2 --tunnels "$T" \
    --sessions "$S" --ppp --user 'user%d' --password "$PW" --auth chap --concurrency 400 \
    --timeout 600 --teardown-timeout 60 --hold 3600 >"$W/lg.json" 2>"$W/lg.err" &
LPID=$!
t0=$(ms)
end=$((SECONDS + 600))
while [ "$(ppp_up 2>/dev/null || echo 0)" -lt "$N" ] && [ $SECONDS -lt $end ]; do sleep 1; done
up=$(ppp_up)
echo "$up of $N PPP sessions up in $(awk -v a="$t0" -v b="$(ms)" 'BEGIN {printf "%.0f", (b - a) / 1e9}') s; $("$BIN/l2tpd" --version | head -1); load average $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$up" = "$N" ] || fail "only $up of $N PPP sessions up"
sleep 2
rss1=$(rss) cpu1=$(cpu)
echo "l2tpd VmRSS: $rss0 KiB idle, $rss1 KiB with $up PPP sessions; CPU so far ${cpu1} s"

read -r tid sid user addr < <(ctl show sessions limit 5 | awk 'NR > 1 && $7 == "up" {print $2, $3, $11, $12; exit}')
read -r tid2 sid2 < <(ctl show sessions "$tid" | awk -v s="$sid" 'NR > 1 && $3 != s {print $2, $3; exit}')
echo "| command ($up PPP sessions up) | seconds | worst show system ms (during and 1 s after) |"
echo "| --- | ---: | ---: |"
timed "show system" 0 ctl show system
timed "show sessions ($(ctl show sessions | wc -l) lines)" 0 ctl show sessions
timed "--json show sessions" 0 ctl -j show sessions
timed "show session TID SID" 0 ctl show session "$tid" "$sid"
timed "disconnect user NAME" 1 ctl disconnect user "$user"
ctl show session "$tid" "$sid" >/dev/null 2>&1 && fail "disconnect user: session $tid/$sid still there"
read -r tid sid addr < <(ctl show sessions "$tid" | awk 'NR > 1 && $7 == "up" {print $2, $3, $12; exit}')
timed "disconnect address ADDRESS" 1 ctl disconnect address "$addr"
ctl show session "$tid" "$sid" >/dev/null 2>&1 && fail "disconnect address: session $tid/$sid still there"
read -r tid sid < <(ctl show sessions "$tid" | awk 'NR > 1 && $7 == "up" {print $2, $3; exit}')
timed "delete session TID SID" 1 ctl delete session "$tid" "$sid"
ctl show session "$tid" "$sid" >/dev/null 2>&1 && fail "delete session: session $tid/$sid still there"
left=$(ctl show sessions "$tid" | awk 'NR > 1' | wc -l)
timed "delete tunnel TID ($left PPP sessions)" 2 ctl delete tunnel "$tid"
# Counted from the watcher's PPP DOWN lines: the log holds some 20 session lines a second per
# tunnel and sums up the rest.
for _ in $(seq 50); do
    n=$(grep -c "^PPP DOWN: tid=$tid " "$W/watch.out" || true)
    [ "$n" -ge "$left" ] && break
    sleep 0.2
done
[ "$n" -ge "$left" ] || fail "delete tunnel: $n of $left links closed"
ctl show tunnel "$tid" 2>/dev/null | grep -q 'state: *closing' || ! ctl show tunnel "$tid" >/dev/null 2>&1 ||
    fail "delete tunnel: tunnel $tid neither closing nor gone"
before=$(ppp_up) rss2=$(rss)
conf 20
timed "reload (the ppp profile of every session changed)" 3 ctl reload
grep -q 'ppp profile "users" changed' "$W/out" || fail "reload: $(head -c 200 "$W/out")"
after=$(ppp_up)
[ "$after" = "$before" ] || fail "reload: $after PPP sessions up after it, $before before"
echo "after the reload: $after PPP sessions up (before: $before); VmRSS $rss2 KiB before, $(rss) KiB after"

lines=$(wc -l <"$W/l2tpd.log")
cpu2=$(cpu)
t0=$(ms)
kill -TERM "$DPID"
wait "$DPID" || fail "l2tpd exit status $?"
t1=$(ms)
echo "SIGTERM with $after PPP sessions: l2tpd exited after $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", (b - a) / 1e9}') s (CPU before the signal: $cpu2 s)"
DPID=
tail -n +"$lines" "$W/l2tpd.log" | grep -E ' (warning|error): ' | sed 's/^/  l2tpd: /' || true
tail -n +"$lines" "$W/l2tpd.log" | grep -q 'graceful stop took longer' && fail "SIGTERM: the graceful stop was cut short"
kill -INT "$LPID"
wait "$LPID" || true
LPID=
python3 - "$W/lg.json" "$((T - 1))" <<'EOF' || FAILED=1
import json, sys
d = json.load(open(sys.argv[1]))
r = d.get("failure_reasons") or {}
for k, v in sorted(r.items(), key=lambda kv: -kv[1]):
    print(f"  l2tp-loadgen: {v} {k}")
stopped = r.get("tunnel: closed by the peer, result 6 after it was up", 0)
if stopped != int(sys.argv[2]):
    print(f"ppp-ops: FAILED: {stopped} tunnels got the StopCCN of the stop, not {sys.argv[2]}", file=sys.stderr)
    sys.exit(1)
EOF
sleep 1
echo "l2tpwatch printed $(wc -l <"$W/watch.out") lines; $(grep -c '^EVENTS LOST' "$W/watch.out" || true) EVENTS LOST line(s): $(grep '^EVENTS LOST' "$W/watch.out" | tr '\n' ' ')"
echo "l2tpd's log: $(wc -l <"$W/l2tpd.log") lines"
exit $FAILED
