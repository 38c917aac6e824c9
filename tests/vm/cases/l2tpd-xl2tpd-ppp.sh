# Guest case: L2TPv2 PPP sessions between l2tpd (kernel data plane, its own pppd) and xl2tpd
# (with pppd), both ways, in two network namespaces (veth underlay 192.0.2.0/24, PPP
# 198.51.100.0/24). Each run waits for ppp0 on both sides and pings across it.
#   1. l2tpd as LNS <-> xl2tpd as LAC; then l2tpd's pppd is killed with SIGKILL: l2tpd tears the
#      session down with a CDN (xl2tpd's pppd goes away) and keeps the tunnel.
#   2. l2tpd as LAC <-> xl2tpd as LNS; then l2tpd is killed with SIGKILL and started again: the
#      new one kills the pppd the old one left, and the call comes up again.
set -u
. /mnt/host/cases/lib-l2tpd.sh
. /mnt/host/cases/lib-xl2tpd.sh
fail=0
PPPOPTS='"noauth" "nodefaultroute" "noipdefault" "mtu" "1400" "mru" "1400" "noccp" "novj"'
xl2tpd_configs $W

has_addr() { ip -n "$1" -4 addr show dev ppp0 2>/dev/null | grep -q 'inet '; }
no_ppp0() { ! ip -n "$1" link show dev ppp0 >/dev/null 2>&1; }
tunnel_up_no_session() {
    ctl "$1" -j show tunnels | grep -q '"state": *"up"' && ! ctl "$1" -j show sessions | grep -q '"sid"'
}

lns_run() {
    local rc=0
    netns_pair lac lns
    start_l2tpd lns srv "$(l2tpd_system srv 192.0.2.2:1701 kernel)
peer profile \"lacs\" {
    peer_ipaddr 192.0.2.0/24
    lac_lns lac
    tunnel_profile_name \"from-lacs\"
    session_profile_name \"ppp-in\"
    pseudowire_profile_name \"ppp\"
}
tunnel profile \"from-lacs\" {
    version 2
}
session profile \"ppp-in\" {
    pseudowire_type ppp
    session_type lnic
}
pseudowire profile \"ppp\" {
    local_ip 198.51.100.1
    peer_ip 198.51.100.2
    use_pppd true
    pppd_options $PPPOPTS
}" || return 1
    ip netns exec lac xl2tpd -D -c $W/lac.conf -p $W/lac.pid -C $W/lac.ctl >$W/xl2tpd.log 2>&1 & local x=$!
    wait_until 30 has_addr lac && wait_until 10 has_addr lns || { echo "ppp0 not up"; rc=1; }
    ip -n lns addr show dev ppp0; ip -n lac addr show dev ppp0
    ip -n lns l2tp show session | grep -q Session || { echo "no kernel session in lns"; rc=1; }
    ctl srv show sessions
    ctl srv -j show sessions | grep -q '"interface_name": *"ppp0"' || { echo "interface_name is not ppp0"; rc=1; }
    ip netns exec lac ping -c 3 -i 0.2 -W 2 198.51.100.1 || rc=1
    ip netns exec lns ping -c 2 -i 0.2 -W 2 198.51.100.2 || rc=1
    # pppd killed: the session goes (CDN), the tunnel stays
    local pid; pid=$(ip netns pids lns | while read -r p; do [ "$(cat /proc/$p/comm)" = pppd ] && echo "$p"; done | head -n 1)
    echo "killing l2tpd's pppd ${pid:-none}"
    [ -n "$pid" ] && kill -9 "$pid"
    wait_until 10 tunnel_up_no_session srv || { echo "session not torn down, or tunnel gone"; rc=1; }
    wait_until 10 no_ppp0 lac || { echo "the peer's ppp0 is still there"; rc=1; }
    # xl2tpd logs a CDN it receives as the call being closed
    grep -q 'Connection closed to 192.0.2.2, serial' $W/xl2tpd.log || { echo "xl2tpd saw no CDN"; rc=1; }
    ctl srv show tunnels
    kill $PID_srv $x; wait $PID_srv $x
    [ $rc = 0 ] || show_logs srv.log xl2tpd.log
    ip netns del lac; ip netns del lns; rm -f $W/*.log $W/*.out
    return $rc
}

lac_run() {
    local rc=0
    netns_pair lac lns
    ip netns exec lns xl2tpd -D -c $W/lns.conf -p $W/lns.pid -C $W/lns.ctl >$W/xl2tpd.log 2>&1 & local x=$!
    start_l2tpd lac cli "$(l2tpd_system cli 192.0.2.1:1701 kernel)
pseudowire profile \"ppp\" {
    use_pppd true
    pppd_options $PPPOPTS
}
tunnel \"lns\" {
    version 2
    peer 192.0.2.2
    persist false
    pseudowire_profile_name \"ppp\"
}
session \"call1\" {
    tunnel \"lns\"
    pseudowire_type ppp
    session_type laic
}" || return 1
    wait_until 30 has_addr lac && wait_until 10 has_addr lns || { echo "ppp0 not up"; rc=1; }
    ip -n lac addr show dev ppp0; ip -n lns addr show dev ppp0
    ip -n lac l2tp show session | grep -q Session || { echo "no kernel session in lac"; rc=1; }
    ip netns exec lac ping -c 3 -i 0.2 -W 2 198.51.100.1 || rc=1
    # l2tpd killed with SIGKILL, then started again: nothing of the old one is left, and the
    # call comes up again
    local pid; pid=$(ip netns pids lac | while read -r p; do [ "$(cat /proc/$p/comm)" = pppd ] && echo "$p"; done | head -n 1)
    kill -9 $PID_cli; wait $PID_cli
    gone() { ! kill -0 "$1" 2>/dev/null; }
    local outlived=no
    gone "$pid" && echo "pppd $pid went with l2tpd" || { outlived=yes; echo "pppd $pid outlived l2tpd"; }
    start_l2tpd lac cli "$(cat $W/cli.conf)" || rc=1
    wait_until 10 gone "$pid" || { echo "the old pppd $pid is still there"; rc=1; }
    wait_until 30 has_addr lac || { echo "ppp0 not up again"; rc=1; }
    if [ $outlived = yes ]; then
        grep "killing pppd $pid, left by an earlier l2tpd" $W/cli.log || { echo "the new l2tpd did not kill pppd $pid"; rc=1; }
    fi
    ip netns exec lac ping -c 2 -i 0.2 -W 2 198.51.100.1 || rc=1
    kill $PID_cli; wait $PID_cli
    wait_until 10 no_ppp0 lac || { echo "l2tpd's pppd still there after l2tpd stopped"; rc=1; }
    kill $x; wait $x
    [ $rc = 0 ] || show_logs cli.log xl2tpd.log
    ip netns del lac; ip netns del lns
    return $rc
}

if lns_run; then echo "PASS l2tpd LNS <-> xl2tpd LAC, PPP over the kernel; pppd SIGKILL gives a CDN"; else echo "FAIL l2tpd LNS <-> xl2tpd LAC"; fail=1; fi
if lac_run; then echo "PASS l2tpd LAC <-> xl2tpd LNS, PPP over the kernel"; else echo "FAIL l2tpd LAC <-> xl2tpd LNS"; fail=1; fi
exit $fail
