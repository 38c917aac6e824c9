# vm-timeout: 150
# Guest case: a native-PPP peer flooding LCP Echo-Requests on the kernel data plane. l2tpd is
# the LNS (native PPP, an Echo-Request every second of its own); l2tp-loadgen is the LAC: a
# bystander session that stays, then a second client that floods with
# --ppp-echo-flood. The flooded session hands l2tpd's PPP at most 128 control frames at once
# and 64 a second: the Echo-Replies the flooder gets back are bounded by that over the
# flood's time, the rest is dropped and counted as ppp_control_rate in show system, the
# metric, and the kernel data plane's 30 s drop summary. (Its own Echo-Replies are dropped
# with the rest: l2tpd ends the flooder's link after a few seconds.) Meanwhile the bystander stays up and
# answers l2tpd's echoes, and l2tpctl show system answers at once; tshark judges the capture. About 45 s.
set -u
CASE=native-ppp-flood
. /mnt/host/cases/lib-l2tpd.sh
. /mnt/host/cases/lib-native-ppp.sh

RATE=1000 FLOOD_S=8
# l2tp_dataplane::ppp::CONTROL_BURST and CONTROL_RATE.
BURST=128 PER_S=64
rc=0
step "start"
netns_pair lac lns
capture_start flood
start_l2tpd lns srv "$(lns_conf srv "    ipv6cp false
    lcp_echo_interval 1" "user \"alice\" {
    password \"alice-secret\"
}")" || exit 1
loadgen() { # NAME ARGS...: l2tp-loadgen as the LAC, its report in $W/NAME.json
    local name=$1; shift
    ip netns exec lac "$BIN/l2tp-loadgen" --peer 192.0.2.2 --version 2 --tunnels 1 --sessions 1 \
        --ppp --auth chap --user alice --password alice-secret --timeout 20 --json "$@" \
        >"$W/$name.json" 2>"$W/$name.err"
}
# field NAME FIELD: the first number of "FIELD" in the report of NAME.
field() { tr -d ' \n' <"$W/$1.json" | grep -o "\"$2\":[0-9.]*" | head -n 1 | cut -d: -f2; }
discards() { # the ppp_control_rate of show system's data_discards
    ctl srv -j show system | tr -d ' \n' | sed -n 's/.*"data_discards":{[^}]*"ppp_control_rate":\([0-9]*\).*/\1/p'
}

step "bystander"
loadgen bystander --hold 22 &
BYSTANDER=$!
wait_until 20 session_up srv || { echo "the bystander did not come up"; rc=1; }

step "flood: $RATE LCP Echo-Requests a second for $FLOOD_S s"
loadgen flood --ppp-echo-flood $RATE --hold $FLOOD_S &
FLOOD=$!
# l2tpd answers at once while the flood goes on.
slowest=0
while kill -0 $FLOOD 2>/dev/null; do
    t0=$EPOCHREALTIME
    ctl srv show system >/dev/null || { echo "show system failed during the flood"; rc=1; }
    ms=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }')
    [ "$ms" -gt "$slowest" ] && slowest=$ms
    sleep 0.5
done
wait $FLOOD; flood_rc=$?
cat "$W/flood.json"; echo
sent=$(field flood echo_requests_sent) replies=$(field flood echo_replies_in) secs=$(field flood seconds)
step "flood: ${sent:-?} Echo-Requests sent in ${secs:-?} s, ${replies:-?} answered; show system took ${slowest} ms at most"
# The flooder's own Echo-Replies to l2tpd's echoes are past its budget too: l2tpd ends its
# link once lcp_echo_fail_count echoes in a row went unanswered (about 4 s), so the flooding
# client may report its session lost (exit status 1). That is its own doing, not a failure.
step "the flooding client exited with $flood_rc"
[ "${sent:-0}" -ge 1000 ] || { echo "not much of a flood: ${sent:-0} sent"; rc=1; }
# What reached l2tpd's PPP (each Echo-Request answered): the budget over the flood's time, and
# a second's more for the clocks.
most=$(awk -v s="${secs:-0}" -v b=$BURST -v r=$PER_S 'BEGIN { printf "%d", b + r * (s + 1) }')
[ "${replies:-999999}" -le "$most" ] || { echo "${replies:-?} Echo-Requests answered: more than $most"; rc=1; }
[ "${replies:-0}" -gt 0 ] || { echo "no Echo-Request answered at all"; rc=1; }
[ "$slowest" -lt 2000 ] || { echo "show system took $slowest ms during the flood"; rc=1; }

dropped=$(discards)
step "show system: ppp_control_rate ${dropped:-none}"
[ "${dropped:-0}" -gt 0 ] || { echo "show system: no ppp_control_rate"; rc=1; }
# Everything sent was read by l2tpd, handed over or dropped (the kernel drops what a full
# channel queue cannot take: not more than what was sent).
[ "${dropped:-0}" -le "${sent:-0}" ] || { echo "dropped $dropped of $sent"; rc=1; }

wait $BYSTANDER; by_rc=$?
cat "$W/bystander.json"; echo
answered=$(field bystander echo_requests_answered) lost=$(field bystander sessions_lost)
step "bystander: ${answered:-?} of l2tpd's Echo-Requests answered, ${lost:-?} lost"
[ "$by_rc" = 0 ] || { echo "the bystander failed ($by_rc)"; rc=1; }
[ "${lost:-1}" = 0 ] || { echo "the bystander's session was lost"; rc=1; }
[ "${answered:-0}" -ge 10 ] || { echo "the bystander answered ${answered:-0} echoes"; rc=1; }

# Nothing dropped without a log line: the kernel data plane's drop summary (every 30 s).
summed() { grep -o 'dropped in the last [0-9]* s: .*' "$W/srv.log" |
    grep -o '[0-9]* PPP control frames past' | awk '{ n += $1 } END { print n + 0 }'; }
all_logged() { [ "$(summed)" -ge "${dropped:-1}" ]; }
step "waiting for the drop summary"
wait_until 40 all_logged || echo "drop summary: $(summed) of ${dropped:-?} logged"
grep "dropped in the last" "$W/srv.log"
now=$(discards)
m=$(metric lns http://127.0.0.1:9701/metrics 'l2tpd_data_discards_total{reason="ppp_control_rate"}')
step "logged $(summed), show system ${now:-none}, metric ${m:-none}"
[ "$(summed)" = "${now:-0}" ] || { echo "drop summary: not the ${now:-0} drops of show system"; rc=1; }
[ "${m:-0}" = "${now:-0}" ] || { echo "metrics: not the ${now:-0} drops of show system"; rc=1; }

stop_all
# tshark on the host: the flood's Echo-Requests, l2tpd's Echo-Replies to those it took, all
# decoded as PPP.
capture_stop flood "lcp && ppp.code == 9" "lcp && ppp.code == 10" "!l2tp.type == 0 && !ppp"
[ $rc = 0 ] || show_logs srv.log flood.err bystander.err
if [ $rc = 0 ]; then echo "PASS native PPP: a flood of LCP Echo-Requests on the kernel data plane"; else echo "FAIL native PPP echo flood"; fi
exit $rc
