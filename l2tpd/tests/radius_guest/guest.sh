# Guest half of l2tpd/tests/radius_guest.rs: l2tpd as an LNS on the kernel data plane with
# examples/lns-radius.conf as shipped, its native PPP authenticated and accounted by the two
# FreeRADIUS servers the test runs on the host (192.0.2.10 and .11, reached over eth0,
# 192.0.2.1), against pppd: a LAC l2tpd in namespace "lac" (203.0.113.2) hands each call to
# pppd (use_pppd), with the user and the authentication methods of its pseudowire profile. The
# LNS is 203.0.113.1 on the LAC's link.
#
# Phases: PAP, CHAP and MS-CHAPv2 accepted and rejected, with the address the server gives
# (Framed-IP-Address) or a pool it names (Framed-Pool); accounting with an Interim-Update
# after traffic; Session-Timeout; a Disconnect-Request from the host's radclient that ends one
# of two sessions; fail-over to the second server while the first is stopped, and back after
# the dead time; both servers stopped while a session ends, and started again (its Stop must
# still arrive). Where the host must act, the script writes $OUT/want-NAME and waits for
# $OUT/done-NAME. Results go to $OUT/results, one "PASS ..." or "FAIL ..." line per check.
set -u
OUT=/mnt/host/out
BIN=/tmp/l2tpd-bin
mkdir -p $BIN && cp /mnt/host/bin/l2tpd /mnt/host/bin/l2tpctl $BIN/
W=/tmp/radius-case; mkdir -p $W /var/run /run/l2tpd
RES=$OUT/results

step() { echo "[$(cut -d' ' -f1 /proc/uptime)] $*"; }
pass() { echo "PASS $*" >>$RES; step "PASS $*"; }
failed() { echo "FAIL $*" >>$RES; step "FAIL $*"; }
wait_until() { # SECONDS COMMAND...
    local n=$(($1 * 5)); shift
    for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
    return 1
}
host_do() { # NAME [CONTENT]: asks the host to act, waits until it has
    echo "${2:-}" >$OUT/want-$1.tmp && mv $OUT/want-$1.tmp $OUT/want-$1
    wait_until 60 test -e $OUT/done-$1 || { failed "the host did not do $1"; return 1; }
}
# The LNS runs examples/lns-radius.conf as shipped, with its default control socket.
LNS_CONF=/mnt/host/examples/lns-radius.conf
lns() { $BIN/l2tpctl "$@"; }
lac() { $BIN/l2tpctl -S $W/lac.sock "$@"; }
# has_addr ADDR: a PPP interface of the LAC's pppd has ADDR.
has_addr() { ip -n lac -o -4 addr show | grep -q "inet $1 peer"; }
no_addr() { ! has_addr "$1"; }
lns_log() { grep -c "$1" $W/lns.log; }
logged() { grep -q "$1" $W/lns.log; }

ip link set lo up
ip netns add lac
ip link add vlns type veth peer name vlac netns lac
ip addr add 203.0.113.1/24 dev vlns && ip link set vlns up
ip -n lac addr add 203.0.113.2/24 dev vlac && ip -n lac link set vlac up && ip -n lac link set lo up
wait_until 30 ping -c 1 -W 1 192.0.2.10 || failed "the RADIUS servers are not reachable"

OPTS='"noauth" "nodefaultroute" "noipdefault" "noccp" "novj" "nopcomp" "noaccomp" "lcp-echo-interval" "0"'
pw() { # NAME USER PASSWORD REFUSE...: a pseudowire profile whose pppd authenticates as USER
    local name=$1 user=$2 password=$3 refuse=""; shift 3
    for r in "$@"; do refuse="$refuse \"refuse-$r\""; done
    printf 'pseudowire profile "%s" {\n    use_pppd true\n    pppd_options %s "user" "%s" "password" "%s" "refuse-eap"%s\n}\n' \
        "$name" "$OPTS" "$user" "$password" "$refuse"
}

{
    cat <<EOF
system {
    listen 203.0.113.2:1701
    dataplane kernel
    control_socket $W/lac.sock
    pid_file $W/lac.pid
}
tunnel "t" {
    peer 203.0.113.1
    version 2
}
EOF
    pw pap-ok pap-user pap-password chap mschap mschap-v2
    pw pap-bad pap-user wrong-password chap mschap mschap-v2
    pw chap-ok chap-user chap-password pap mschap mschap-v2
    pw chap-bad chap-user wrong-password pap mschap mschap-v2
    pw ms-ok User clientPass pap chap mschap
    pw ms-bad User wrong-password pap chap mschap
    pw pool pool-user pool-password
    pw acct acct-user acct-password
    pw timeout timeout-user timeout-password
} >$W/lac.conf

$BIN/l2tpd -n -c $LNS_CONF || failed "l2tpd -n refuses the LNS config"
$BIN/l2tpd -f -d -d -c $LNS_CONF -o $W/lns.log >$W/lns.out 2>&1 &
LNS=$!
ip netns exec lac $BIN/l2tpd -f -d -c $W/lac.conf -o $W/lac.log >$W/lac.out 2>&1 &
LAC=$!
wait_until 20 lns show system || failed "the LNS did not start"
wait_until 20 lac show system || failed "the LAC did not start"
wait_until 30 sh -c "$BIN/l2tpctl -S $W/lac.sock -j show tunnels | grep -q '\"state\": *\"up\"'" ||
    failed "the tunnel did not come up"
step "tunnel up"

call() { # NAME PSEUDOWIRE: the LAC places a call handed to pppd with that profile
    lac create session t "$1" pseudowire_type=ppp pseudowire_profile_name="$2" >/dev/null
}
# hangup NAME: ends the call and its instance. An instance whose call failed waits to place it
# again, and has no session to delete until it does: try until one is there.
hangup() { wait_until 40 lac delete session t "$1" || failed "call $1 could not be ended"; }

# ---- PAP, CHAP and MS-CHAPv2, accepted (with the server's address) and rejected
accepted() { # NAME PSEUDOWIRE ADDRESS [CHECK...]: CHECK runs while the call is up
    local name=$1 pw=$2 addr=$3; shift 3
    call "$name" "$pw"
    if wait_until 40 has_addr "$addr"; then pass "accepted $pw at $addr"; else failed "accepted $pw at $addr"; fi
    [ $# -gt 0 ] && "$@"
    hangup "$name"
    wait_until 20 no_addr "$addr" || failed "$pw still up after its call ended"
}
# pap-user's Access-Accept has Framed-IPv6-Prefix 2001:db8:10::/64 and Delegated-IPv6-Prefix
# 2001:db8:100::/56: both routed to its PPP interface.
pap_routes() {
    ip -6 route show >$OUT/pap-routes.txt
    if grep -q '^2001:db8:10::/64 dev ' $OUT/pap-routes.txt && grep -q '^2001:db8:100::/56 dev ' $OUT/pap-routes.txt; then
        pass "prefixes routed"
    else
        failed "prefixes routed"
    fi
}
rejected() { # NAME PSEUDOWIRE USER METHOD
    local before; before=$(lns_log "user \"$3\" ($4) failed: rejected by the RADIUS server")
    call "$1" "$2"
    if wait_until 40 sh -c "[ \$(grep -c 'user \"$3\" ($4) failed: rejected by the RADIUS server' $W/lns.log) -gt $before ]"; then
        pass "rejected $2"
    else
        failed "rejected $2"
    fi
    hangup "$1"
}
accepted c1 pap-ok 198.51.100.10 pap_routes
rejected c2 pap-bad pap-user pap
accepted c3 chap-ok 198.51.100.11
rejected c4 chap-bad chap-user chap
accepted c5 ms-ok 198.51.100.12
rejected c6 ms-bad User mschapv2
accepted c7 pool 198.51.100.200
lns show radius >$OUT/radius-auth.txt 2>&1; lns -j show radius >$OUT/radius-auth.json 2>&1

# ---- accounting: Start, an Interim-Update after traffic, Stop
call acct acct
if wait_until 40 has_addr 198.51.100.20; then
    ip netns exec lac ping -c 20 -i 0.2 -W 2 198.51.100.1 >$OUT/ping.txt 2>&1 && pass "pings over PPP" || failed "pings over PPP"
    # The server's Acct-Interim-Interval is 10 s.
    sleep 12
    lns -j show sessions >$OUT/acct-sessions.json
    hangup acct
    wait_until 20 no_addr 198.51.100.20 && pass "accounting session ended" || failed "accounting session ended"
else
    failed "accounting session up"
fi

# ---- Session-Timeout: 8 s from the server
call to timeout
if wait_until 40 has_addr 198.51.100.21; then
    t0=$(cut -d' ' -f1 /proc/uptime)
    if wait_until 30 no_addr 198.51.100.21; then
        t1=$(cut -d' ' -f1 /proc/uptime)
        echo "session-timeout ended after $(awk -v a=$t0 -v b=$t1 'BEGIN { printf "%.1f", b - a }') s" >>$RES
        logged 'PPP down (user "timeout-user"): .*session timeout' && pass "session timeout logged" || failed "session timeout logged"
    else
        failed "the session did not end at its Session-Timeout"
    fi
else
    failed "timeout session up"
fi
hangup to

# ---- Disconnect-Request: exactly the named session goes
call d1 pap-ok
call d2 chap-ok
if wait_until 40 has_addr 198.51.100.10 && wait_until 40 has_addr 198.51.100.11; then
    lns -j show sessions >$W/sessions.json
    # The session of chap-user: its tid and sid, then its Acct-Session-Id.
    ids=$(awk '/"tid"/ { gsub(/[^0-9]/, "", $2); t = $2 } /"sid"/ { gsub(/[^0-9]/, "", $2); s = $2 }
               /"ppp_user": "chap-user"/ { print t, s }' $W/sessions.json | head -1)
    set -- $ids
    lns -j show session "$1" "$2" >$OUT/dm-session.json
    asid=$(sed -n 's/.*"acct_session_id": "\([0-9A-F]*\)".*/\1/p' $OUT/dm-session.json)
    host_do disconnect "$asid"
    if wait_until 20 no_addr 198.51.100.11; then pass "disconnected chap-user"; else failed "disconnected chap-user"; fi
    sleep 2
    has_addr 198.51.100.10 && pass "the other session stays" || failed "the other session stays"
else
    failed "disconnect sessions up"
fi
hangup d1; hangup d2
wait_until 20 no_addr 198.51.100.10

# ---- fail-over: the first server stopped, the second answers; back after the dead time
host_do stop-first
call f1 pap-ok
if wait_until 40 has_addr 198.51.100.10; then pass "authenticated by the second server"; else failed "authenticated by the second server"; fi
lns show radius >$OUT/radius-failover.txt 2>&1; lns -j show radius >$OUT/radius-failover.json 2>&1
hangup f1
wait_until 20 no_addr 198.51.100.10
host_do start-first
# The example's dead_time is 10 s.
sleep 11
call f2 chap-ok
if wait_until 40 has_addr 198.51.100.11; then pass "authenticated after the dead time"; else failed "authenticated after the dead time"; fi
lns show radius >$OUT/radius-back.txt 2>&1; lns -j show radius >$OUT/radius-back.json 2>&1
hangup f2
wait_until 20 no_addr 198.51.100.11

# ---- both servers stopped while a session ends: its Stop waits, and arrives
call o1 acct
if wait_until 40 has_addr 198.51.100.20; then
    sleep 1
    lns -j show sessions >$OUT/outage-sessions.json
    host_do stop-all
    hangup o1
    wait_until 20 no_addr 198.51.100.20
    sleep 4
    lns show radius >$OUT/radius-outage.txt 2>&1; lns -j show radius >$OUT/radius-outage.json 2>&1
    host_do start-all
    # Both servers are dead until their dead time ends; the queued Stop goes then.
    if wait_until 30 sh -c "$BIN/l2tpctl -j show radius | grep -q '\"queued_accounting\": 0' &&
                              $BIN/l2tpctl -j show radius | grep -q '\"pending\": 0'"; then
        pass "the queued Stop was answered"
    else
        failed "the queued Stop was answered"
    fi
    lns show radius >$OUT/radius-after.txt 2>&1; lns -j show radius >$OUT/radius-after.json 2>&1
else
    failed "outage session up"
fi

# ---- stop: Accounting-Off
kill $LAC; wait $LAC
kill $LNS; wait $LNS; echo "lns exit $?" >>$RES
cp $W/lns.log $OUT/lns.log; cp $W/lac.log $OUT/lac.log
cp $W/lac.conf $OUT/
echo "GUEST DONE"
