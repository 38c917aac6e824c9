# Guest half of l2tp-dataplane/tests/ppp_native.rs: native PPP on the kernel data plane against
# real pppd. Two network namespaces joined by a veth pair (192.0.2.1 in "a", 192.0.2.2 in
# "b"), each with a static L2TPv3/UDP tunnel (ip l2tp: 10 <-> 20). In b, the test binary
# connects a PPPoL2TP socket for session 200 and hands it to pppd (pppol2tp plugin) as the
# client alice. In a, the test binary connects session 100 and terminates PPP itself through
# kernel::ppp's Channel and Unit (pppn0) with a ppp_proto Link that authenticates with
# CHAP-MD5 and assigns 198.51.100.2. Pings cross pppn0 both ways, over IPv4 and IPv6; then a
# closes the link and drops its channel and unit: pppn0 and the kernel session must go.
# Results go to /mnt/host/out. pppd logs every frame (debug twice: echoes too).
set -u
BIN=/mnt/host/bin/ppp_native
OUT=/mnt/host/out
IP=$(command -v ip)
mkdir -p /var/run /var/lock
ip netns add a; ip netns add b
ip link add va netns a type veth peer name vb netns b
ip -n a addr add 192.0.2.1/24 dev va; ip -n a link set va up; ip -n a link set lo up
ip -n b addr add 192.0.2.2/24 dev vb; ip -n b link set vb up; ip -n b link set lo up
ip -n a l2tp add tunnel tunnel_id 10 peer_tunnel_id 20 encap udp local 192.0.2.1 \
    remote 192.0.2.2 udp_sport 1701 udp_dport 1701 || echo "FAIL tunnel a"
ip -n b l2tp add tunnel tunnel_id 20 peer_tunnel_id 10 encap udp local 192.0.2.2 \
    remote 192.0.2.1 udp_sport 1701 udp_dport 1701 || echo "FAIL tunnel b"

# The native end first: pppd starts once its channel is attached, so that no frame is lost.
ip netns exec a timeout 90 $BIN --native $OUT >$OUT/native.log 2>&1 &
native=$!
for _ in $(seq 100); do [ -e $OUT/attached ] && break; sleep 0.1; done
ip netns exec b timeout 90 $BIN --pppd 20 200 10 100 192.0.2.1 -- nodetach debug debug logfd 2 \
    noauth user alice password alice-secret noipdefault +ipv6 ifname pppd0 \
    nodefaultroute noproxyarp lcp-echo-interval 1 lcp-echo-failure 10 >$OUT/pppd.log 2>&1 &
pppd=$!

for _ in $(seq 300); do [ -s $OUT/ready ] && break; sleep 0.1; done
if [ -s $OUT/ready ]; then
    read -r IF LL PEERLL <$OUT/ready
    echo "READY $IF $LL $PEERLL"
    ip -n a addr show dev "$IF" >$OUT/addr.txt 2>&1
    ip -n a -d link show dev "$IF" >$OUT/link.txt 2>&1
    ip -n a l2tp show session >$OUT/sessions-up.txt 2>&1
    ip -n b addr show dev pppd0 >$OUT/pppd-addr.txt 2>&1
    # Each ping retries briefly: pppd sets its own addresses when its IPCP is Opened, which may
    # be a moment after ours.
    p() { # NAME NS ARGS...
        local name=$1 ns=$2; shift 2
        for _ in $(seq 20); do
            ip netns exec "$ns" ping -c 1 -W 1 "$@" >/dev/null 2>&1 && break
            sleep 0.2
        done
        if ip netns exec "$ns" ping -c 3 -i 0.2 -W 2 "$@" >>$OUT/ping.txt 2>&1; then
            echo "PING $name ok"
        else
            echo "PING $name FAILED"
        fi
    }
    p a-to-b a 198.51.100.2 >>$OUT/results
    p b-to-a b 198.51.100.1 >>$OUT/results
    p a-to-b-v6 a -6 "$PEERLL%$IF" >>$OUT/results
    p b-to-a-v6 b -6 "$LL%pppd0" >>$OUT/results
    ip netns exec a cat /sys/class/net/"$IF"/statistics/rx_packets >$OUT/rx_packets
    touch $OUT/close
    for _ in $(seq 200); do kill -0 $native 2>/dev/null || break; sleep 0.1; done
    wait $native; echo "native exit $?" >>$OUT/results
    if ip -n a link show dev "$IF" >/dev/null 2>&1; then
        echo "INTERFACE $IF still there" >>$OUT/results
    else
        echo "INTERFACE $IF gone" >>$OUT/results
    fi
    ip -n a l2tp show session >$OUT/sessions-down.txt 2>&1
else
    echo "NOT READY"
    kill $native 2>/dev/null
fi
for _ in $(seq 100); do kill -0 $pppd 2>/dev/null || break; sleep 0.1; done
kill $pppd 2>/dev/null; wait $pppd; echo "pppd exit $?" >>$OUT/results
cat $OUT/results 2>/dev/null
echo "GUEST DONE"
