# Guest case: static L2TPv3 Ethernet pseudowires made with `ip l2tp`, between two network
# namespaces joined by a veth pair (underlay 192.0.2.0/24), over UDP and then over IP (proto 115).
# A ping crosses each pseudowire (overlay 198.51.100.0/24 exists only on the l2tpeth devices).
set -u
fail=0
pw() { # ENCAP
    local encap=$1 a b
    ip netns add a && ip netns add b || return 1
    ip link add va netns a type veth peer name vb netns b
    ip -n a addr add 192.0.2.1/24 dev va; ip -n a link set va up; ip -n a link set lo up
    ip -n b addr add 192.0.2.2/24 dev vb; ip -n b link set vb up; ip -n b link set lo up
    for side in "a 192.0.2.1 192.0.2.2 10 20 100 200 198.51.100.1" "b 192.0.2.2 192.0.2.1 20 10 200 100 198.51.100.2"; do
        set -- $side
        local udp=""; [ "$encap" = udp ] && udp="udp_sport 1701 udp_dport 1701"
        ip -n "$1" l2tp add tunnel tunnel_id "$4" peer_tunnel_id "$5" encap "$encap" local "$2" remote "$3" $udp || return 1
        ip -n "$1" l2tp add session name l2tpeth0 tunnel_id "$4" session_id "$6" peer_session_id "$7" || return 1
        ip -n "$1" link set l2tpeth0 up
        ip -n "$1" addr add "$8/24" dev l2tpeth0
    done
    ip -n a l2tp show tunnel; ip -n a l2tp show session
    local rc=0
    ip netns exec a ping -c 3 -i 0.2 -W 2 198.51.100.2 || rc=1
    # the frames really went through the pseudowire
    local rx; rx=$(ip netns exec b cat /sys/class/net/l2tpeth0/statistics/rx_packets)
    echo "l2tpeth0 in b received $rx packets"
    [ "${rx:-0}" -ge 3 ] || rc=1
    ip netns del a; ip netns del b
    return $rc
}
for encap in udp ip; do
    if pw $encap; then echo "PASS l2tpv3 eth pseudowire over $encap"; else echo "FAIL l2tpv3 eth pseudowire over $encap"; fail=1; fi
done
exit $fail
