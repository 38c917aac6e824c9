# Guest case: L2TPv2 with PPP on the kernel data plane. xl2tpd as LAC and xl2tpd as LNS, each in
# its own network namespace (veth underlay 192.0.2.0/24), each handing the call to a real pppd
# with the pppol2tp plugin. PPP comes up (198.51.100.0/24) and a ping crosses ppp0.
set -u
. /mnt/host/cases/lib-xl2tpd.sh
D=/tmp/xl2tpd; mkdir -p $D
ip netns add lac; ip netns add lns
ip link add veth-lac netns lac type veth peer name veth-lns netns lns
ip -n lac addr add 192.0.2.1/24 dev veth-lac; ip -n lac link set veth-lac up; ip -n lac link set lo up
ip -n lns addr add 192.0.2.2/24 dev veth-lns; ip -n lns link set veth-lns up; ip -n lns link set lo up

xl2tpd_configs $D
ip netns exec lns xl2tpd -D -c $D/lns.conf -p $D/lns.pid -C $D/lns.ctl >$D/lns.log 2>&1 & lns=$!
ip netns exec lac xl2tpd -D -c $D/lac.conf -p $D/lac.pid -C $D/lac.ctl >$D/lac.log 2>&1 & lac=$!

t0=$(cut -d' ' -f1 /proc/uptime) rc=1
for _ in $(seq 150); do   # up to 30 s
    ip -n lac -4 addr show dev ppp0 2>/dev/null | grep -q 'inet ' && { rc=0; break; }
    sleep 0.2
done
echo "ppp0 $([ $rc = 0 ] && echo up || echo NOT up) after $(awk -v a="$t0" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { print b - a }')s"
if [ $rc = 0 ]; then
    ip -n lac addr show dev ppp0
    ip -n lac l2tp show session | grep -q Session || { echo "no kernel L2TP session in lac"; rc=1; }
    grep -q 'Using l2tp kernel support' $D/lac.log || { echo "xl2tpd did not use the kernel data plane"; rc=1; }
    ip netns exec lac ping -c 3 -i 0.2 -W 2 198.51.100.1 || rc=1
fi
kill $lac $lns; wait
for f in lac lns; do echo "---- $f.log"; cat $D/$f.log; done
[ $rc = 0 ] && echo "PASS xl2tpd LAC <-> xl2tpd LNS, pppd on the kernel data plane" || echo "FAIL xl2tpd + pppd"
exit $rc
