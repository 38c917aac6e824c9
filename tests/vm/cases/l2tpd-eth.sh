# Guest case: two l2tpd with the kernel data plane, in two network namespaces, set up an L2TPv3
# Ethernet pseudowire over UDP and over IP (protocol 115), on IPv4 and then on IPv6. Each
# side's interface gets its address (on IPv6, b's joins a bridge instead), MTU and MAC from the pseudowire profile
# (rtnetlink); a ping crosses it, the kernel counters show in `l2tpctl show session`, and
# stopping the daemons removes the kernel state. Over IP, the daemons listen on L2TP/IP sockets
# and give each kernel tunnel a socket of its own, as over UDP (managed tunnels). On IPv4, one
# daemon is also killed with SIGKILL: its kernel tunnel goes with its socket, and a new daemon
# brings the session up again. The server's metrics endpoint gives the kernel's data counters
# (one SESSION_GET dump), per session too (metrics_detail sessions, agreeing with
# `l2tpctl show session`), and (IPv6) keeps a session's counts when it goes.
# On IPv6, the bridge is deleted under the running session and made again: pw0 is a port of it
# again. Over UDP on IPv4, on a kernel that reports ICMP errors on L2TP's sockets (Linux 6.10
# and later: the bookworm-backports run), the server is killed at the end: the ICMP port
# unreachables its host sends back for the client's data count as the client's
# peer_unreachable.
# vm-timeout: 240
set -u
. /mnt/host/cases/lib-l2tpd.sh
fail=0

# Whether the kernel reports ICMP errors on L2TP's UDP sockets: from Linux 6.10 (6.0 to 6.9
# report none). bookworm-backports' kernel does; Debian 12's 6.1 does not.
icmp_on_l2tp_sockets() {
    local v major minor
    v=$(uname -r); major=${v%%.*}; minor=${v#*.}; minor=${minor%%[.-]*}
    [ "$major" -gt 6 ] || { [ "$major" -eq 6 ] && [ "$minor" -ge 10 ]; }
}

run() { # ENCAP FAMILY(4|6)
    local e=$1 rc=0 A=192.0.2.1 B=192.0.2.2 NET=192.0.2.0/24 LA=192.0.2.1:1701 LB=192.0.2.2:1701
    [ "$2" = 6 ] && A=2001:db8::1 B=2001:db8::2 NET=2001:db8::/64 LA=[2001:db8::1]:1701 LB=[2001:db8::2]:1701
    step "run $1 IPv$2"
    netns_pair a b
    # On IPv6, b's interface is a port of bridge br0, which holds the address.
    local SRVADDR="local_ip 198.51.100.2
    netmask 255.255.255.0" ADDRDEV=pw0
    if [ "$2" = 6 ]; then
        SRVADDR="bridge br0" ADDRDEV=br0
        ip -n b link add br0 type bridge; ip -n b link set br0 up
        ip -n b addr add 198.51.100.2/24 dev br0
    fi
    local M=http://127.0.0.1:9701/metrics
    start_l2tpd b srv "$(l2tpd_system srv $LB kernel "    metrics_listen 127.0.0.1:9701
    metrics_detail sessions
")
peer profile \"clients\" {
    peer_ipaddr $NET
    tunnel_profile_name \"t\"
    session_profile_name \"s\"
    pseudowire_profile_name \"pw\"
}
tunnel profile \"t\" {
    version 3
    encap $e
}
session profile \"s\" {
    pseudowire_type eth
    cookie hex:0102030405060708
}
pseudowire profile \"pw\" {
    interface_name \"pw%d\"
    $SRVADDR
    mtu 1400
    mac 02:00:00:00:00:02
}" || return 1
    start_l2tpd a cli "$(l2tpd_system cli $LA kernel)
pseudowire profile \"pw\" {
    interface_name \"l2tpeth%d\"
    local_ip 198.51.100.1
    netmask 255.255.255.0
    mtu 1400
}
tunnel \"t1\" {
    version 3
    encap $e
    peer $B
    persist false
    pseudowire_profile_name \"pw\"
}
session \"s1\" {
    tunnel \"t1\"
    pseudowire_type eth
    cookie hex:a1a2a3a4a5a6a7a8
}" || return 1
    step "daemons started"
    wait_until 20 session_up cli && wait_until 10 session_up srv || { echo "session not up"; rc=1; }
    step "session up"
    ip -n a l2tp show tunnel; ip -n a l2tp show session; ip -n b l2tp show session
    ip -n a addr show dev l2tpeth0 || rc=1
    ip -n b link show dev pw0 | grep -q 'mtu 1400' || { echo "pw0: mtu not set"; rc=1; }
    ip -n b link show dev pw0 | grep -q '02:00:00:00:00:02' || { echo "pw0: mac not set"; rc=1; }
    ip -n b -4 addr show dev $ADDRDEV | grep -q '198.51.100.2/24' || { echo "$ADDRDEV: address not set"; rc=1; }
    if [ "$2" = 6 ]; then
        ip -n b link show dev pw0 | grep -q 'master br0' || { echo "pw0 is not a port of br0"; rc=1; }
    fi
    ip -n a l2tp show session | grep -q "encap $(echo $e | tr a-z A-Z)\|Session" || rc=1
    ip netns exec a ping -c 3 -i 0.2 -W 2 198.51.100.2 || rc=1
    # kernel counters through l2tpctl
    local tid; tid=$(ctl cli -j show tunnels | sed -n 's/.*"tid": *\([0-9]*\).*/\1/p' | head -n 1)
    ctl cli show session "$tid" s1 | tee $W/show.txt
    local rx; rx=$(sed -n 's/^ *rx_packets *:\? *\([0-9]*\).*/\1/p' $W/show.txt | head -n 1)
    echo "l2tpctl: rx_packets ${rx:-none}"
    [ "${rx:-0}" -ge 3 ] || { echo "kernel counters not shown"; rc=1; }
    # The server's metrics: the kernel's data counters over its sessions, summed by a thread
    # that reads them every second or so.
    local mrx
    metric_rx_3() { mrx=$(metric b $M l2tpd_data_receive_packets_total); [ "${mrx:-0}" -ge 3 ]; }
    wait_until 10 metric_rx_3
    echo "metrics: data rx ${mrx:-none}"
    [ "${mrx:-0}" -ge 3 ] || { echo "metrics: no kernel data counters"; rc=1; }
    # The series of each session (metrics_detail sessions) come from the same dump, not from
    # a request per session: they agree with `show session`'s counters (a request of its own)
    # once a dump has run since the last packet.
    local sj stid ssid sl
    sj=$(ctl srv -j show sessions)
    stid=$(echo "$sj" | sed -n 's/.*"tid": *\([0-9]*\).*/\1/p' | head -n 1)
    ssid=$(echo "$sj" | sed -n 's/.*"sid": *\([0-9]*\).*/\1/p' | head -n 1)
    sl="{tunnel_id=\"$stid\",session_id=\"$ssid\"}"
    per_session_agrees() {
        local j k m v
        j=$(ctl srv -j show session "$stid" "$ssid") || return 1
        for k in receive_packets:rx_packets receive_bytes:rx_bytes \
            transmit_packets:tx_packets transmit_bytes:tx_bytes; do
            m=$(metric b $M "l2tpd_session_data_${k%%:*}_total$sl")
            v=$(echo "$j" | sed -n "s/.*\"${k#*:}\": *\([0-9]*\).*/\1/p" | head -n 1)
            echo "session $stid/$ssid ${k#*:}: metrics ${m:-none}, show session ${v:-none}"
            [ -n "$m" ] && [ "$m" = "$v" ] || return 1
        done
        [ "$(metric b $M "l2tpd_session_data_receive_packets_total$sl")" -ge 3 ]
    }
    if wait_until 15 per_session_agrees; then
        per_session_agrees
    else
        per_session_agrees; echo "metrics: per-session data counters absent or not the kernel's"; rc=1
    fi
    metric b $M 'l2tpd_info{version="0.1.0",dataplane="kernel"}' | grep -q '^1$' || { echo "metrics: not the kernel data plane"; rc=1; }
    if [ "$2" = 6 ]; then
        ip -n a l2tp show tunnel | grep -q "From $A to $B" || { echo "not an IPv6 kernel tunnel"; rc=1; }
        # Someone deletes the bridge: the server says so, and when a bridge of that name is
        # made again, pw0 is a port of it again and the ping crosses.
        ip -n b link del br0 || { echo "cannot delete br0"; rc=1; }
        srv_logged() { grep -q "$1" $W/srv.log; }
        wait_until 10 srv_logged "bridge br0 was deleted; interface pw0 is no longer a port of it" ||
            { echo "the server did not log the deleted bridge"; rc=1; }
        ip -n b link add br0 type bridge; ip -n b link set br0 up
        ip -n b addr add 198.51.100.2/24 dev br0
        pw0_in_br0() { ip -n b link show dev pw0 | grep -q 'master br0'; }
        wait_until 10 pw0_in_br0 || { echo "pw0 was not added back to br0"; rc=1; }
        wait_until 5 srv_logged "bridge br0 is back; interface pw0 is a port of it again" ||
            { echo "the server did not log pw0 back in br0"; rc=1; }
        ctl srv -j show system | grep -q '"bridge_ports_lost": *1[,}]' ||
            { ctl srv -j show system; echo "bridge_ports_lost is not 1"; rc=1; }
        ip netns exec a ping -c 3 -i 0.2 -W 2 198.51.100.2 || { echo "no ping after br0 came back"; rc=1; }
        step "bridge deleted and made again"
    fi
    if [ "$2" = 4 ]; then
        # SIGKILL: the kernel tunnel is managed (it has the daemon's socket, UDP or L2TP/IP), so
        # it goes when the dead daemon's sockets close, before any new daemon starts.
        if [ "$e" = ip ]; then
            grep -q "IP protocol 115 on $A (L2TP/IP)" $W/cli.log || { echo "no L2TP/IP listen socket"; rc=1; }
        fi
        local old; old=$(ip -n a l2tp show tunnel | sed -n 's/^Tunnel \([0-9]*\),.*/\1/p')
        kill -9 $PID_cli; wait $PID_cli
        old_gone() { ! ip -n a l2tp show tunnel | grep -q "^Tunnel $old,"; }
        wait_until 5 old_gone || { echo "tunnel $old outlived its daemon: not managed"; rc=1; }
        echo "after SIGKILL:"; ip -n a l2tp show tunnel
        start_l2tpd a cli "$(cat $W/cli.conf)" || rc=1
        wait_until 20 session_up cli || { echo "session not up after the restart"; rc=1; }
        ip -n a l2tp show session | grep -q 'interface name: l2tpeth0' || { echo "no l2tpeth0 after the restart"; rc=1; }
        if [ "$e" = udp ] && icmp_on_l2tp_sockets; then
            # The server is killed: b's host answers the data a's kernel sends (a ping's
            # frames, whether or not the server's new session has its address yet: its old
            # one goes when its HELLOs go unanswered) with ICMP port unreachable, which the
            # kernel reports on the tunnel's socket. a counts it as peer_unreachable, for the
            # tunnel and in show system, not as an error.
            kill -9 $PID_srv; wait $PID_srv
            unreachable_counted() {
                ip netns exec a ping -c 1 -W 1 198.51.100.2 >/dev/null
                ctl cli -j show system | grep -q '"peer_unreachable": *[1-9]'
            }
            wait_until 15 unreachable_counted ||
                { ctl cli -j show system; echo "a did not count the peer's port unreachables"; rc=1; }
            ctl cli -j show tunnel t1 | grep -q '"peer_unreachable": *[1-9]' ||
                { ctl cli -j show tunnel t1; echo "show tunnel: no peer_unreachable"; rc=1; }
            step "peer's port unreachables counted"
        fi
    fi
    if [ "$2" = 6 ]; then
        # A session that goes keeps its counts in the totals.
        ctl cli delete session "$tid" s1 || rc=1
        srv_session_gone() { [ -z "$(ip -n b l2tp show session)" ]; }
        wait_until 10 srv_session_gone || { echo "the server's kernel session stayed"; rc=1; }
        local after; after=$(metric b $M l2tpd_data_receive_packets_total)
        echo "metrics: data rx ${after:-none} after the session went"
        [ "${after:-0}" -ge "${mrx:-1}" ] || { echo "metrics: the counts went with the session"; rc=1; }
    fi
    step "stopping"
    # stopping the daemons removes the kernel state
    # the client first, so that the server has its StopCCN acknowledged and stops at once
    kill $PID_cli; wait $PID_cli; kill $PID_srv 2>/dev/null; wait $PID_srv
    [ -z "$(ip -n a l2tp show tunnel)" ] || { echo "kernel tunnel left in a"; ip -n a l2tp show tunnel; rc=1; }
    [ -z "$(ip -n b l2tp show tunnel)" ] || { echo "kernel tunnel left in b"; rc=1; }
    ip -n a link show dev l2tpeth0 2>/dev/null && { echo "l2tpeth0 left"; rc=1; }
    step "stopped"
    [ $rc = 0 ] || show_logs cli.log srv.log cli.out srv.out
    ip netns del a; ip netns del b; rm -f $W/*
    return $rc
}
for f in 4 6; do
    for e in udp ip; do
        if run $e $f; then echo "PASS l2tpd <-> l2tpd, kernel L2TPv3 eth over $e, IPv$f"; else echo "FAIL l2tpd <-> l2tpd, kernel L2TPv3 eth over $e, IPv$f"; fail=1; fi
    done
done
exit $fail
