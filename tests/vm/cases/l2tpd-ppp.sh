# Guest case: PPP sessions between two l2tpd on the kernel data plane, each side running its
# own pppd on a PPPoL2TP socket: an L2TPv3 PPP pseudowire (type 7) with data sequencing over
# IPv6 and UDP (the kernel session made over netlink, then the L2TPv3 IPv6 sockaddr), an L2TPv2
# call over IPv6 (the L2TPv2 IPv6 sockaddr), and an L2TPv3 PPP pseudowire over IP (protocol
# 115, IPv4: the PPPoL2TP socket on a tunnel whose socket is an L2TP/IP one). A ping crosses
# ppp0 each time.
set -u
. /mnt/host/cases/lib-l2tpd.sh
fail=0
has_addr() { ip -n "$1" -4 addr show dev ppp0 2>/dev/null | grep -q 'inet '; }
OPTS='"noauth" "nodefaultroute" "noipdefault" "noccp" "novj"'
run() { # VERSION ENCAP FAMILY(4|6)
    local v=$1 e=$2 rc=0 A=[2001:db8::1]:1701 B=[2001:db8::2]:1701 NET=2001:db8::/64 PEER=2001:db8::2
    [ "$3" = 4 ] && A=192.0.2.1:1701 B=192.0.2.2:1701 NET=192.0.2.0/24 PEER=192.0.2.2
    netns_pair a b
    start_l2tpd b srv "$(l2tpd_system srv $B kernel)
    peer profile \"clients\" {
        peer_ipaddr $NET
        tunnel_profile_name \"t\"
        session_profile_name \"s\"
        pseudowire_profile_name \"pw\"
    }
    tunnel profile \"t\" {
        version $v
        encap $e
    }
    session profile \"s\" {
        pseudowire_type ppp
        data_sequencing all
    }
    pseudowire profile \"pw\" {
        local_ip 198.51.100.1
        peer_ip 198.51.100.2
        use_pppd true
        pppd_options $OPTS
    }" || return 1
    start_l2tpd a cli "$(l2tpd_system cli $A kernel)
    pseudowire profile \"pw\" {
        use_pppd true
        pppd_options $OPTS
    }
    tunnel \"t1\" {
        version $v
        encap $e
        peer $PEER
        persist false
        pseudowire_profile_name \"pw\"
    }
    session \"s1\" {
        tunnel \"t1\"
        pseudowire_type ppp
        data_sequencing all
    }" || return 1
    wait_until 30 has_addr a && wait_until 10 has_addr b || { echo "ppp0 not up"; rc=1; }
    ip -n a l2tp show session
    ip -n a l2tp show session | grep -q 'Session' || { echo "no kernel session in a"; rc=1; }
    ip -n a addr show dev ppp0
    ip netns exec a ping -c 3 -i 0.2 -W 2 198.51.100.1 || rc=1
    ctl cli show sessions
    kill $PID_cli; wait $PID_cli; kill $PID_srv; wait $PID_srv
    [ -z "$(ip -n a l2tp show tunnel)$(ip -n b l2tp show tunnel)" ] || { echo "kernel tunnel left"; rc=1; }
    [ $rc = 0 ] || show_logs cli.log srv.log
    ip netns del a; ip netns del b; rm -f $W/*.log $W/*.out
    return $rc
}
for r in "3 udp 6" "2 udp 6" "3 ip 4"; do
    set -- $r
    if run $r; then echo "PASS l2tpd <-> l2tpd, L2TPv$1 PPP over $2 on the kernel, IPv$3"; else echo "FAIL l2tpd <-> l2tpd, L2TPv$1 PPP over $2, IPv$3"; fail=1; fi
done
exit $fail
