# Guest side of tests/kernel_interop.rs: the Linux kernel's own L2TPv3 data plane (`ip l2tp`)
# as the peer of the userspace data plane, which runs in a network namespace of the host on the
# other end of eth0 (a tap that qemu opened there). eth0 is 192.0.2.2/24, the host 192.0.2.1.
#   udp: tunnel 20 -> 10, session 200 -> 100, no cookie, no sublayer, 198.51.100.2/25
#   ip:  tunnel 21 -> 11, session 201 -> 101, 8-octet cookies, default sublayer, seq both,
#        198.51.100.130/25
# Pings the host's end of each pseudowire (retrying while the host side comes up) and checks
# that the kernel's session devices saw the replies; then, with vm.iperf=1, runs iperf3 TCP both
# ways over each against the host's iperf3 servers (the host segments its TAP's super-frames for the kernel's
# l2tp_eth and coalesces what the kernel sends).
set -u
ip link set lo up
ip l2tp add tunnel tunnel_id 20 peer_tunnel_id 10 encap udp local 192.0.2.2 remote 192.0.2.1 \
    udp_sport 1701 udp_dport 1701 || exit 1
ip l2tp add session name l2tpeth0 tunnel_id 20 session_id 200 peer_session_id 100 \
    l2spec_type none || exit 1
ip l2tp add tunnel tunnel_id 21 peer_tunnel_id 11 encap ip local 192.0.2.2 remote 192.0.2.1 || exit 1
ip l2tp add session name l2tpeth1 tunnel_id 21 session_id 201 peer_session_id 101 \
    cookie a1a2a3a4a5a6a7a8 peer_cookie 0102030405060708 l2spec_type default seq both || exit 1
ip link set l2tpeth0 up; ip addr add 198.51.100.2/25 dev l2tpeth0
ip link set l2tpeth1 up; ip addr add 198.51.100.130/25 dev l2tpeth1
ip l2tp show tunnel; ip l2tp show session
fail=0
for target in "198.51.100.1 l2tpeth0 udp" "198.51.100.129 l2tpeth1 ip+cookie+seq"; do
    set -- $target
    ok=0
    for _ in $(seq 1 40); do
        if ping -c 1 -W 1 "$1" >/dev/null 2>&1; then ok=1; break; fi
        sleep 0.5
    done
    if [ "$ok" = 1 ] && ping -c 5 -i 0.2 -W 2 "$1"; then
        rx=$(cat /sys/class/net/$2/statistics/rx_packets)
        echo "PASS kernel <-> userspace pseudowire over $3 ($2 received $rx packets)"
    else
        echo "FAIL kernel <-> userspace pseudowire over $3"; fail=1
    fi
done
# With vm.iperf=1 on the kernel command line the host runs iperf3 servers on its ends.
if grep -qw vm.iperf=1 /proc/cmdline; then
    for target in "198.51.100.1 udp" "198.51.100.129 ip+cookie+seq"; do
        set -- $target
        if iperf3 -c "$1" -t 2 -f m && iperf3 -c "$1" -t 2 -f m -R; then
            echo "PASS iperf3 TCP both ways over $2"
        else
            echo "FAIL iperf3 TCP over $2"; fail=1
        fi
    done
fi
ip -s l2tp show session
exit $fail
