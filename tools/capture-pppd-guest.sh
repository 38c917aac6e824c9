#!/bin/bash
# Guest half of tools/capture-pppd.sh (runs inside the qemu test guest, tests/vm): an L2TPv2
# call between xl2tpd as LAC and xl2tpd as LNS in two network namespaces, each handing the call
# to a real pppd on the kernel data plane, captured with tcpdump on the LAC's veth.
#
#   netns lac: xl2tpd LAC 192.0.2.1, pppd "user alice"  <-- veth -->  netns lns: xl2tpd LNS
#   192.0.2.2, pppd authenticator 198.51.100.1 (hands out 198.51.100.10-20, DNS 203.0.113.53
#   and 203.0.113.54 (RFC 1877), IPv6CP)
#
# Usage (in the guest): capture-pppd-guest.sh OUTDIR SCENARIO...
#   SCENARIO: pap | chap | mschapv2 | mschapv2-fail (alice's password is wrong)
#   writes OUTDIR/SCENARIO.pcap and OUTDIR/SCENARIO.log (both xl2tpd and pppd logs)
set -u
OUT=$1; shift
W=/tmp/capture-pppd; rm -rf $W; mkdir -p $W /var/run/xl2tpd /etc/ppp
PASSWORD=alice-secret

# wait_until SECONDS CMD...: polls CMD every 0.2 s
wait_until() {
    local n=$(($1 * 5)); shift
    for _ in $(seq "$n"); do "$@" && return 0; sleep 0.2; done
    return 1
}
has_v4() { ip -n lac -4 addr show dev ppp0 2>/dev/null | grep -q 'inet '; }
has_v6() { ip -n lac -6 addr show dev ppp0 2>/dev/null | grep -q 'inet6 fe80'; }
logged() { grep -q "$2" "$1" 2>/dev/null; }
gone() { ! kill -0 "$1" 2>/dev/null; }
pppd_pid() { ip netns pids "$1" | while read -r p; do [ "$(cat /proc/$p/comm)" = pppd ] && echo "$p"; done | head -n 1; }

run() {
    local sc=$1 auth password=$PASSWORD rc=0
    case $sc in
    pap) auth=require-pap ;;
    chap) auth=require-chap ;;
    mschapv2) auth=require-mschap-v2 ;;
    mschapv2-fail) auth=require-mschap-v2; password=wrong-password ;;
    *) echo "unknown scenario $sc"; return 2 ;;
    esac
    echo "== $sc"
    ip netns add lac; ip netns add lns
    ip link add veth-lac netns lac type veth peer name veth-lns netns lns
    ip -n lac addr add 192.0.2.1/24 dev veth-lac; ip -n lac link set veth-lac up; ip -n lac link set lo up
    ip -n lns addr add 192.0.2.2/24 dev veth-lns; ip -n lns link set veth-lns up; ip -n lns link set lo up

    # The peer's pppd (LAC side): authenticates as alice, takes the addresses it is given.
    cat >$W/options.lac <<OPT
nodetach
debug
logfd 2
name alice
user alice
password $password
noauth
noipdefault
usepeerdns
nodefaultroute
+ipv6
lcp-echo-interval 1
lcp-echo-failure 4
OPT
    # The authenticator's pppd (LNS side).
    cat >$W/options.lns <<OPT
nodetach
debug
logfd 2
name lns
auth
$auth
ms-dns 203.0.113.53
ms-dns 203.0.113.54
+ipv6
lcp-echo-interval 1
lcp-echo-failure 4
OPT
    printf 'alice * %s *\n' "$PASSWORD" >/etc/ppp/pap-secrets
    printf 'alice * %s *\n' "$PASSWORD" >/etc/ppp/chap-secrets
    cat >$W/lac.conf <<CONF
[global]
listen-addr = 192.0.2.1
[lac test]
lns = 192.0.2.2
require authentication = no
pppoptfile = $W/options.lac
autodial = yes
redial = no
CONF
    cat >$W/lns.conf <<CONF
[global]
listen-addr = 192.0.2.2
[lns default]
ip range = 198.51.100.10-198.51.100.20
local ip = 198.51.100.1
require authentication = no
pppoptfile = $W/options.lns
CONF

    ip netns exec lac tcpdump -n -U -s 0 -i veth-lac -w $W/cap.pcap udp port 1701 >$W/tcpdump.log 2>&1 &
    local cap=$!
    wait_until 5 logged $W/tcpdump.log 'listening on' || { echo "tcpdump did not start"; cat $W/tcpdump.log; }
    ip netns exec lns xl2tpd -D -c $W/lns.conf -p $W/lns.pid -C $W/lns.ctl >$W/lns.log 2>&1 & local lns=$!
    wait_until 5 logged $W/lns.log 'Listening on IP address' || echo "the LNS did not start"
    ip netns exec lac xl2tpd -D -c $W/lac.conf -p $W/lac.pid -C $W/lac.ctl >$W/lac.log 2>&1 & local lac=$!

    if [ "$sc" = mschapv2-fail ]; then
        wait_until 30 logged $W/lac.log 'MS-CHAP authentication failed' || { echo "no failure"; rc=1; }
        sleep 1
    else
        wait_until 30 has_v4 || { echo "no IPv4 on ppp0"; rc=1; }
        wait_until 15 has_v6 || { echo "no IPv6 on ppp0"; rc=1; }
        ip -n lac addr show dev ppp0
        ip netns exec lac ping -c 2 -i 0.2 -W 2 198.51.100.1 || rc=1
        # at least one LCP echo each way (lcp-echo-interval 1)
        sleep 2
        # the peer closes the link: LCP Terminate-Request and -Ack
        local p; p=$(pppd_pid lac)
        [ -n "$p" ] && kill -TERM "$p"
        wait_until 10 logged $W/lac.log 'Connection terminated' || { echo "no termination"; rc=1; }
        sleep 0.5
    fi
    kill -INT $cap; wait $cap
    kill $lac $lns; wait $lac $lns
    for n in lac lns; do for p in $(ip netns pids $n); do kill -9 "$p"; done; done
    ip netns del lac; ip netns del lns
    cp $W/cap.pcap "$OUT/$sc.pcap"
    { echo "---- LAC (xl2tpd and the peer's pppd)"; cat $W/lac.log
      echo "---- LNS (xl2tpd and the authenticator's pppd)"; cat $W/lns.log; } >"$OUT/$sc.log"
    echo "$sc: $(stat -c %s "$OUT/$sc.pcap") bytes, rc $rc"
    return $rc
}

status=0
for sc in "$@"; do run "$sc" || status=1; done
exit $status
