# vm-timeout: 180
# Guest case: a client's first LCP Configure-Request, sent right behind its ICCN (as Windows'
# and Apple's clients do), is not lost on the kernel data plane with l2tpd's own PPP. The
# kernel has no session yet when the datagram arrives, so it passes it up to the tunnel's
# socket; l2tpd reads it after the ICCN, decapsulates it for the native session the ICCN made
# and hands it to its PPP. l2tp-loadgen --ppp --ppp-eager is the LAC: a few tunnels of one
# session each; all come up, none had to send its Configure-Request again (the restart timer
# is three seconds), and every set-up took less than that (the guest is emulated: slow).
# Then two runs one after the other from port 1701: the second's SCCRQ reaches the socket of
# the first's tunnel, waiting out its StopCCN, and must be answered.
set -u
CASE=native-ppp-eager
. /mnt/host/cases/lib-l2tpd.sh
. /mnt/host/cases/lib-native-ppp.sh

N=5
rc=0
step "start"
netns_pair lac lns
capture_start eager
start_l2tpd lns srv "$(lns_conf srv "    ipv6cp false" "user \"alice\" {
    password \"alice-secret\"
}")" || exit 1
step "l2tp-loadgen --ppp-eager, $N tunnels"
ip netns exec lac "$BIN/l2tp-loadgen" --peer 192.0.2.2 --version 2 --tunnels $N --sessions 1 \
    --ppp --ppp-eager --auth chap --user alice --password alice-secret --timeout 30 --json \
    >"$W/loadgen.json" 2>"$W/loadgen.err"
cat "$W/loadgen.json"; echo
report=$(tr -d ' \n' <"$W/loadgen.json")
ppp=${report#*\"ppp\":}
field() { printf '%s' "$ppp" | grep -o "\"$1\":[0-9.]*" | head -n 1 | cut -d: -f2; }
up=$(field sessions_up) resent=$(field lcp_configure_requests_resent)
slowest=$(printf '%s' "$ppp" | grep -o '"setup_ms":{[^}]*}' | grep -o '"max":[0-9.]*' | cut -d: -f2)
[ "${up:-0}" = $N ] || { echo "$up of $N sessions up"; rc=1; }
[ "${resent:-x}" = 0 ] || { echo "${resent:-?} Configure-Requests sent again"; rc=1; }
awk -v m="${slowest:-9999}" 'BEGIN { exit !(m < 2500) }' || { echo "slowest set-up ${slowest:-?} ms"; rc=1; }
early=$(grep -c 'before the kernel had the session' "$W/srv.log")
step "$early frame(s) taken from the tunnel sockets before the kernel had their session"
# A client that always sends from port 1701 connects again at once: its SCCRQ reaches the
# socket of its old tunnel, which waits out its StopCCN; it must be read, and answered.
for run in 1 2; do
    step "l2tp-loadgen from port 1701, run $run"
    ip netns exec lac "$BIN/l2tp-loadgen" --peer 192.0.2.2 --version 2 --tunnels 1 --sessions 2 \
        --local-port 1701 --max-sockets 1 --ppp --auth chap --user alice --password alice-secret \
        --timeout 20 --json >"$W/again.json" 2>>"$W/loadgen.err"
    ppp=$(tr -d ' \n' <"$W/again.json"); ppp=${ppp#*\"ppp\":}
    [ "$(field sessions_up)" = 2 ] || { echo "run $run from port 1701: $(cat "$W/again.json")"; rc=1; }
done
stop_all
capture_stop eager "lcp" "ipcp" "!l2tp.type == 0 && !ppp"
[ $rc = 0 ] || show_logs srv.log loadgen.err
if [ $rc = 0 ]; then echo "PASS native PPP: a Configure-Request behind the ICCN on the kernel data plane"; else echo "FAIL native PPP eager client"; fi
exit $rc
