# vm-timeout: 180
# Guest case: the idle timeout of l2tpd's own PPP (native PPP) on the kernel data plane, which
# learns of a session's data from the kernel data plane's activity reports (its session
# counters, read once every 5 s, less the PPP control frames). xl2tpd + pppd as the LAC,
# l2tpd as the LNS with idle_timeout 10 and LCP echoes every 2 s both ways (pppd's
# lcp-echo-interval too): echoes alone must not keep the link up. IPv6 is off: the kernel's
# router solicitations (sent with a back-off for as long as an interface is up) are data.
#   1. A ping runs through the link for 16 s: the session stays up, longer than the timeout.
#   2. The ping stops: within the timeout and a report period, l2tpd ends the link (LCP
#      Terminate-Request) and the session (CDN), counted as ppp_down idle_timeout.
# The traffic is captured for tshark on the host.
set -u
CASE=native-ppp-idle
. /mnt/host/cases/lib-l2tpd.sh
. /mnt/host/cases/lib-native-ppp.sh

rc=0
step "start"
netns_pair lac lns
capture_start idle
start_l2tpd lns srv "$(lns_conf srv "    idle_timeout 10
    lcp_echo_interval 2
    ipv6cp false" "user \"alice\" {
    password \"alice-secret\"
}")" || exit 1
watch_start srv
xl2tpd_lac alice alice-secret "lcp-echo-interval 2" "lcp-echo-failure 5" noipv6
wait_until 40 has_addr lac 198.51.100.10 || { echo "ppp0 not up"; rc=1; }
step "PPP up"
ip netns exec lac ping -i 0.5 -W 1 198.51.100.1 >"$W/ping.txt" 2>&1 &
ping=$!
sleep 16
step "after 16 s of ping"
session_up srv && has_addr lac 198.51.100.10 || { echo "the busy session did not stay up"; rc=1; }
tid=$(json srv tid show sessions) sid=$(json srv sid show sessions)
ctl srv show session "$tid" "$sid" | grep -E 'echo:|frames:'
echoes=$(json srv echo_sent show session "$tid" "$sid")
[ "${echoes:-0}" -ge 4 ] || { echo "l2tpd sent ${echoes:-no} echoes"; rc=1; }
# pppd logs only its first echo.
grep -q 'sent \[LCP EchoReq' "$W/xl2tpd.log" || { echo "pppd sent no echo"; rc=1; }
kill -INT $ping; wait $ping; tail -n 3 "$W/ping.txt"
stopped=$(cut -d' ' -f1 /proc/uptime)
step "ping stopped"
gone() { ! ctl srv -j show sessions | grep -q '"sid"'; }
wait_until 30 gone || { echo "the idle session was not closed"; rc=1; }
took=$(awk -v a="$stopped" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { printf "%d", b - a }')
step "session closed ${took}s after the ping stopped"
# Not before the timeout (the last ping counts), within it and a report period (and slack
# for a loaded machine).
[ "$took" -ge 8 ] && [ "$took" -le 25 ] || { echo "closed after ${took}s, not 10-15 s"; rc=1; }
wait_until 5 grep -q "PPP DOWN: tid=$tid sid=$sid .*reason=idle_timeout" "$W/srv.watch" ||
    { echo "l2tpwatch saw no PPP DOWN for the idle timeout"; cat "$W/srv.watch"; rc=1; }
grep "SESSION DOWN: tid=$tid sid=$sid " "$W/srv.watch"
ctl srv -j show system | grep -q '"idle_timeout": 1' || { echo "show system counts no idle_timeout"; rc=1; }
grep -q 'rcvd \[LCP TermReq' "$W/xl2tpd.log" || { echo "pppd got no Terminate-Request"; rc=1; }
stop_all
capture_stop idle "lcp" "ipcp" "!ipv6cp" "lcp && ppp.code == 9" "lcp && ppp.code == 10" "lcp && ppp.code == 5" \
    "l2tp.avp.message_type == 14" "icmp" "!l2tp.type == 0 && !ppp"
[ $rc = 0 ] || show_logs srv.log xl2tpd.log
if [ $rc = 0 ]; then echo "PASS native PPP idle timeout on the kernel data plane"; else echo "FAIL native PPP idle timeout"; fi
exit $rc
