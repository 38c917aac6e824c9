# Guest case: PPP sessions between two l2tpd on the kernel data plane over IPv6 (UDP), each side
# running its own pppd on a PPPoL2TP socket: an L2TPv3 PPP pseudowire (type 7) with data
# sequencing (the kernel session made over netlink, then the L2TPv3 IPv6 sockaddr), then an
# L2TPv2 call (the L2TPv2 IPv6 sockaddr). A ping crosses ppp0 each time.
set -u
. /mnt/host/cases/lib-l2tpd.sh
fail=0
has_addr() { ip -n "$1" -4 addr show dev ppp0 2>/dev/null | grep -q 'inet '; }
OPTS='"noauth" "nodefaultroute" "noipdefault" "noccp" "novj"'
run() { # VERSION
    local v=$1 rc=0 lns="" lac=""
    [ "$v" = 2 ] && lns="session_type lnic" lac="session_type laic"
    netns_pair a b
    start_l2tpd b srv "system {
        listen [2001:db8::2]:1701
        dataplane kernel
        control_socket $W/srv.sock
        pid_file $W/srv.pid
    }
    peer profile \"clients\" {
        peer_ipaddr 2001:db8::/64
        tunnel_profile_name \"t\"
        session_profile_name \"s\"
        pseudowire_profile_name \"pw\"
    }
    tunnel profile \"t\" {
        version $v
    }
    session profile \"s\" {
        pseudowire_type ppp
        data_sequencing all
    }
    pseudowire profile \"pw\" {
        local_ip 198.51.100.1
        peer_ip 198.51.100.2
        pppd_options $OPTS
    }" || return 1
    start_l2tpd a cli "system {
        listen [2001:db8::1]:1701
        dataplane kernel
        control_socket $W/cli.sock
        pid_file $W/cli.pid
    }
    pseudowire profile \"pw\" {
        pppd_options $OPTS
    }
    tunnel \"t1\" {
        version $v
        peer 2001:db8::2
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
for v in 3 2; do
    if run $v; then echo "PASS l2tpd <-> l2tpd, L2TPv$v PPP over the kernel, IPv6"; else echo "FAIL l2tpd <-> l2tpd, L2TPv$v PPP"; fail=1; fi
done
exit $fail
