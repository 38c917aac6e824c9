# Guest case: a static L2TPv3 Ethernet pseudowire (no control connection) between l2tpd on the
# kernel data plane (namespace a, `peer_tunnel_id`/`peer_session_id` in its config) and a static
# `ip l2tp` peer (namespace b): over UDP with no L2-Specific Sublayer and no UDP checksums
# (checked with tcpdump), then over IP with cookies of different lengths each way (8 octets
# from the peer, 4 to it), the default L2-Specific Sublayer and
# sequence numbers both ways, and last an eth_vlan session
# with vlan_id 100 against a peer that tags by hand (a VLAN interface on its l2tpeth0). A ping
# crosses each. Over UDP, a reload that changes the tunnel makes it again, and pings cross again.
set -u
. /mnt/host/cases/lib-l2tpd.sh
fail=0

run() { # ENCAP L2SPEC SEQ(l2tpd) SEQ(ip l2tp) COOKIES(yes|no) [VLAN_ID]
    local e=$1 l2spec=$2 dseq=$3 iseq=$4 ck=$5 vid=${6:-} rc=0 udp="" ipck="" cfgck="" dev=l2tpeth0
    local pwlines="pseudowire_type eth"
    netns_pair a b
    [ "$e" = udp ] && udp="udp_sport 1701 udp_dport 1701"
    if [ "$ck" = yes ]; then
        # ip l2tp's cookie is the one it sends; l2tpd's cookie is the one it expects. The two
        # ends choose cookies of different lengths (RFC 3931 §4.1): 8 octets b to a, 4 a to b.
        ipck="cookie 0102030405060708 peer_cookie a1a2a3a4"
        cfgck="cookie hex:0102030405060708
    peer_cookie hex:a1a2a3a4"
    fi
    ip -n b l2tp add tunnel tunnel_id 20 peer_tunnel_id 10 encap "$e" local 192.0.2.2 remote 192.0.2.1 $udp || rc=1
    ip -n b l2tp add session name l2tpeth0 tunnel_id 20 session_id 200 peer_session_id 100 \
        $ipck l2spec_type "$l2spec" seq "$iseq" || rc=1
    ip -n b link set l2tpeth0 up
    if [ -n "$vid" ]; then
        # b tags by hand; l2tpd's eth_vlan session must tag and untag itself
        dev=l2tpeth0.$vid
        ip -n b link add link l2tpeth0 name "$dev" type vlan id "$vid" || rc=1
        ip -n b link set "$dev" up
        pwlines="pseudowire_type eth_vlan
    vlan_id $vid"
    fi
    ip -n b addr add 198.51.100.2/24 dev "$dev"
    start_l2tpd a st "$(l2tpd_system st 192.0.2.1:1701 kernel)
pseudowire profile \"pw\" {
    local_ip 198.51.100.1
    netmask 255.255.255.0
}
tunnel \"static\" {
    version 3
    encap $e
    peer 192.0.2.2
    tunnel_id 10
    peer_tunnel_id 20
    use_udp_checksums false
    pseudowire_profile_name \"pw\"
}
session \"pw1\" {
    tunnel \"static\"
    session_id 100
    peer_session_id 200
    $pwlines
    l2spec_type $l2spec
    data_sequencing $dseq
    $cfgck
}" || return 1
    wait_until 10 session_up st || { echo "static session not up"; rc=1; }
    ip netns exec b tcpdump -l -n -i vb -c 3 'src 192.0.2.1 and udp and udp[6:2] = 0' >$W/tcpdump.txt 2>/dev/null & local td=$!
    ip -n a l2tp show tunnel; ip -n a l2tp show session
    ip -n a l2tp show session | grep -q 'Session 100 in tunnel 10' || { echo "no kernel session 100 in a"; rc=1; }
    ip -n a -4 addr show dev "$dev" | grep -q 198.51.100.1/24 || { echo "$dev in a has no address"; rc=1; }
    ctl st -j show sessions | grep -q "\"interface_name\": *\"$dev\"" || { echo "interface_name is not $dev"; rc=1; }
    ip netns exec a ping -c 3 -i 0.2 -W 2 198.51.100.2 || rc=1
    if [ "$e" = udp ]; then
        tcpdump_done() { ! kill -0 $td 2>/dev/null; }
        wait_until 5 tcpdump_done
        kill $td 2>/dev/null; wait $td 2>/dev/null
        head -n 2 $W/tcpdump.txt
        # use_udp_checksums false: our data packets carry a zero UDP checksum (the capture
        # filter takes only those)
        [ "$(grep -c '192.0.2.1.1701 >' $W/tcpdump.txt)" -ge 3 ] || { echo "UDP checksums not off"; rc=1; }
    else
        kill $td 2>/dev/null; wait $td 2>/dev/null
    fi
    local rx; rx=$(ip netns exec b cat /sys/class/net/$dev/statistics/rx_packets)
    [ "${rx:-0}" -ge 3 ] || { echo "the ip l2tp peer received ${rx:-no} packets"; rc=1; }
    ctl st show session static pw1 | grep -E 'rx_packets|tx_packets|rx_cookie'
    if [ "$e" = udp ] && [ -z "$vid" ]; then
        # A reload that changes the static tunnel makes it and its session again in the
        # kernel with the same ids (the kernel deletes the old ones in the background), and
        # the pseudowire carries pings again.
        sed -i 's/use_udp_checksums false/use_udp_checksums true/' $W/st.conf
        ctl st reload || { echo "reload failed"; rc=1; }
        wait_until 10 session_up st || { echo "static session not up after the reload"; rc=1; }
        ip -n a l2tp show session | grep -q 'Session 100 in tunnel 10' || { echo "no kernel session 100 after the reload"; rc=1; }
        ip netns exec a ping -c 3 -i 0.2 -W 2 -w 15 198.51.100.2 || { echo "no ping after the reload"; rc=1; }
    fi
    kill $PID_st; wait $PID_st
    [ -z "$(ip -n a l2tp show tunnel)" ] || { echo "kernel tunnel left in a"; rc=1; }
    [ $rc = 0 ] || show_logs st.log st.out
    ip netns del a; ip netns del b; rm -f $W/*
    return $rc
}
if run udp none none none no; then echo "PASS l2tpd static <-> ip l2tp over udp"; else echo "FAIL l2tpd static <-> ip l2tp over udp"; fail=1; fi
if run ip default all both yes; then echo "PASS l2tpd static <-> ip l2tp over ip, cookies, l2spec, seq"; else echo "FAIL l2tpd static <-> ip l2tp over ip"; fail=1; fi
if run udp none none none no 100; then echo "PASS l2tpd static eth_vlan (vlan_id 100) <-> ip l2tp with a VLAN"; else echo "FAIL l2tpd static eth_vlan <-> ip l2tp"; fail=1; fi
exit $fail
