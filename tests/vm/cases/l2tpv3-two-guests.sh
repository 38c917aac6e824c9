# vm-guests: 2
# Guest case, run in two guests (hostnames ending in -a and -b) joined by a run-guest.sh -l link
# (eth0: 192.0.2.1 and 192.0.2.2): a static L2TPv3 Ethernet pseudowire over UDP between the two
# kernels. a pings b across it; b serves until it has answered 4 pings, and 3 s more.
set -u
case $(hostname) in
*-a) tid=1 ptid=2 l=192.0.2.1 r=192.0.2.2 me=198.51.100.1 ;;
*)   tid=2 ptid=1 l=192.0.2.2 r=192.0.2.1 me=198.51.100.2 ;;
esac
ip l2tp add tunnel tunnel_id $tid peer_tunnel_id $ptid encap udp local $l remote $r udp_sport 1701 udp_dport 1701 || exit 1
ip l2tp add session name l2tpeth0 tunnel_id $tid session_id $((tid * 100)) peer_session_id $((ptid * 100)) || exit 1
ip link set l2tpeth0 up
ip addr add $me/24 dev l2tpeth0
if [ $me = 198.51.100.1 ]; then
    # the peer may still be booting: up to 30 s for a first answer, then 3 more answers
    # within 10 s (a ping lost while the link between the guests settles is sent again)
    ping -c 1 -w 30 198.51.100.2 >/dev/null && ping -c 3 -i 0.2 -w 10 198.51.100.2
    rc=$?
else
    rc=1
    replies() { awk '$1 == "Icmp:" { if (n++ == 0) for (i = 2; i <= NF; i++) c[$i] = i; else print $c["OutEchoReps"] }' /proc/net/snmp; }
    for _ in $(seq 200); do   # until a's 4 pings are answered, at most 40 s
        # then a while longer, for a ping of a's that was lost and sent again
        [ "$(replies)" -ge 4 ] && { rc=0; sleep 3; break; }
        sleep 0.2
    done
fi
ip -s link show l2tpeth0
[ $rc = 0 ] && echo "PASS two-guest l2tpv3 pseudowire ($(hostname))" || echo "FAIL two-guest l2tpv3 pseudowire ($(hostname))"
exit $rc
