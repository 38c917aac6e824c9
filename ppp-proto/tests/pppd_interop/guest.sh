# Guest half of ppp-proto/tests/pppd_interop.rs: real pppd against ppp-proto's Link. pppd runs
# the test binary as its `pty` command, which speaks async HDLC (RFC 1662) on the pseudo-tty and
# drives a Link in the role given (an LNS that authenticates with one method and assigns
# 198.51.100.10, or a client with alice's credentials). Each run leaves pppd's log (NAME.pppd)
# and the Link's events (NAME.peer) in /mnt/host/out.
set -u
PEER=/mnt/host/bin/pppd_interop
OUT=/mnt/host/out
printf 'alice * alice-secret *\n' >/etc/ppp/chap-secrets
printf 'alice * alice-secret *\n' >/etc/ppp/pap-secrets
mkdir -p /var/run /var/lock

# run NAME "PEER ARGS" PPPD-OPTION...
run() {
    local name=$1 peer=$2
    shift 2
    # pppd's own defaults on an async line: ACCM, PFC, ACFC, Van Jacobson compression; echoes
    # every second so that the Link answers some.
    timeout 40 pppd nodetach debug logfd 2 nodefaultroute noproxyarp +ipv6 \
        lcp-echo-interval 1 lcp-echo-failure 5 "$@" \
        pty "$PEER --pty-peer $peer $OUT/$name.peer" >"$OUT/$name.pppd" 2>&1
    echo "pppd exit $?" >>"$OUT/$name.pppd"
    echo "RUN $name done"
}

client="user alice password alice-secret noauth noipdefault usepeerdns"
server="auth name lns ms-dns 203.0.113.53 ms-dns 203.0.113.54 198.51.100.1:198.51.100.10"
for m in pap chap mschapv2; do
    run "lns-$m" "lns $m alice-secret" $client
done
run client-pap "client pap alice-secret" $server require-pap
run client-chap "client chap alice-secret" $server require-chap
run client-mschapv2 "client mschapv2 alice-secret" $server require-mschap-v2
run lns-wrong "lns mschapv2 alice-secret" user alice password wrong-password noauth noipdefault
run client-wrong "client mschapv2 wrong-password" $server require-mschap-v2
echo "GUEST DONE"
