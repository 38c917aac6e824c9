# Guest half of l2tpd/tests/kernel_native_ppp.rs: l2tpd's kernel data plane carrying native
# PPP sessions, driven by the test binary as the engine will drive it, against real pppd.
# Two network namespaces joined by a veth pair: "a" (192.0.2.1) runs the data plane, "b"
# (192.0.2.2) a managed kernel tunnel and pppd (the test binary's --pppd helper connects the
# PPPoL2TP socket and becomes pppd). One round per L2TP version: v3 on UDP port 1701, v2 on
# 1702. Each round: PPP comes up, pings cross both ways (IPv4, IPv6); the binary takes IP
# down, closes the link and removes the session and tunnel. The v3 round then makes one more
# session whose interface this script deletes, and another whose kernel session it deletes.
# Results go to /mnt/host/out.
set -u
BIN=/mnt/host/bin/kernel_native_ppp
OUT=/mnt/host/out
mkdir -p /var/run /var/lock /run/l2tpd
ip netns add a; ip netns add b
ip link add va netns a type veth peer name vb netns b
ip -n a addr add 192.0.2.1/24 dev va; ip -n a link set va up; ip -n a link set lo up
ip -n b addr add 192.0.2.2/24 dev vb; ip -n b link set vb up; ip -n b link set lo up

waitfile() { # FILE SECONDS
    for _ in $(seq $(($2 * 10))); do [ -e "$1" ] && return 0; sleep 0.1; done
    return 1
}
ping_retry() { # NAME NS ARGS...
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

for v in 3 2; do
    case $v in
    3) ids="10 100 20 200" port=1701 ;;
    2) ids="11 101 21 201" port=1702 ;;
    esac
    set -- $ids
    # The data plane first: pppd starts once the session is installed, so that no frame is
    # lost.
    ip netns exec a timeout 60 $BIN --daemon-side $OUT $v $ids $port >$OUT/v$v.daemon.log 2>&1 &
    daemon=$!
    waitfile $OUT/v$v.installed 20
    ip netns exec b timeout 60 $BIN --pppd $v $3 $4 $1 $2 $port -- nodetach debug debug \
        logfd 2 noauth user alice password alice-secret noipdefault +ipv6 ifname pppd$v \
        nodefaultroute noproxyarp lcp-echo-interval 1 lcp-echo-failure 10 \
        >$OUT/v$v.pppd.log 2>&1 &
    pppd=$!
    if waitfile $OUT/v$v.ready 30; then
        read -r IF LL PEERLL <$OUT/v$v.ready
        echo "v$v READY $IF $LL $PEERLL"
        ip -n a addr show dev "$IF" >$OUT/v$v.addr.txt 2>&1
        {
            ping_retry a-to-b a 198.51.100.2
            ping_retry b-to-a b 198.51.100.1
            ping_retry a-to-b-v6 a -6 "$PEERLL%$IF"
            ping_retry b-to-a-v6 b -6 "$LL%pppd$v"
        } >>$OUT/v$v.results
        touch $OUT/v$v.close
        if [ $v = 3 ] && waitfile $OUT/v$v.second 30; then
            read -r IF2 <$OUT/v$v.second
            ip -n a link del "$IF2" && echo "deleted $IF2" >>$OUT/v$v.results
            waitfile $OUT/v$v.third 30 && ip -n a l2tp del session tunnel_id 10 session_id 104 &&
                echo "deleted session 104" >>$OUT/v$v.results
        fi
    else
        echo "v$v NOT READY"
    fi
    for _ in $(seq 300); do kill -0 $daemon 2>/dev/null || break; sleep 0.1; done
    wait $daemon; echo "daemon exit $?" >>$OUT/v$v.results
    for _ in $(seq 100); do kill -0 $pppd 2>/dev/null || break; sleep 0.1; done
    kill $pppd 2>/dev/null; wait $pppd; echo "pppd exit $?" >>$OUT/v$v.results
    echo "---- v$v"; cat $OUT/v$v.results
done
echo "GUEST DONE"
