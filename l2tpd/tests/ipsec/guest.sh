# The guest's part of l2tpd/tests/ipsec.rs (L2TP/IPsec with strongSwan), run in the project's
# qemu guest (tests/vm), whose kernel has ESP. The share (/mnt/host) holds bin/ (l2tpd,
# l2tpctl), cases/lib-l2tpd.sh and cases/lib-strongswan.sh, ipsec/swanctl-{a,b}.conf
# (examples/ipsec) and out/, where this script leaves what the host judges: one capture per phase (every packet on side A's veth),
# `ip -s xfrm state`, `ip xfrm policy` and `swanctl --list-sas` after each phase, and the logs.
#
# Two network namespaces, a (192.0.2.1) and b (192.0.2.2), each with its own charon-systemd
# (its own strongswan.conf through STRONGSWAN_CONF: vici socket and log under $W/ipsec-SIDE; it
# writes no pid file, so the two do not clash) and its own l2tpd with `dataplane userspace`.
# Phases:
#   udp    CHILD_SA l2tp-udp brought up by swanctl --initiate, then an L2TPv3 Ethernet
#          pseudowire over UDP and a ping across
#   ip     the same over IP (protocol 115), the CHILD_SA l2tp-ip started by the trap policy
#          when l2tpd sends its first packet
#   clear  the control: the IKE SA terminated and the trap policies removed on both sides, the
#          same as udp again, which must now show in the clear
# Prints "PASS phase" or "FAIL phase: why" lines; exits non-zero on any failure.
set -u
. /mnt/host/cases/lib-l2tpd.sh
. /mnt/host/cases/lib-strongswan.sh
OUT=/mnt/host/out
mkdir -p $OUT
fail=0

for m in xfrm_user esp4 gcm ghash_generic ctr seqiv drbg; do
    modprobe $m || { echo "FAIL setup: modprobe $m (rebuild the guest: tests/vm/build-guest.sh)"; exit 1; }
done
for p in charon-systemd swanctl tcpdump; do
    command -v $p >/dev/null || { echo "FAIL setup: no $p in the guest (rebuild it: tests/vm/build-guest.sh)"; exit 1; }
done

netns_pair a b

# sw SIDE ARGS...: swanctl against SIDE's charon, bounded (busybox's timeout would run its own
# ip applet: give it the path of the real one).
IP=$(command -v ip)
sw() {
    local s=$1; shift
    STRONGSWAN_CONF=$W/ipsec-$s/strongswan.conf timeout 60 "$IP" netns exec "$s" swanctl "$@"
}

# start_charon SIDE: charon-systemd in namespace SIDE with a strongswan.conf of its own, then
# swanctl --load-all of ipsec/swanctl-SIDE.conf. Sets PID_charon_SIDE.
start_charon() {
    local s=$1 d=$W/ipsec-$1
    mkdir -p "$d"
    strongswan_conf "$d" "random nonce aes sha1 sha2 hmac kdf gmp kernel-netlink socket-default vici" random
    STRONGSWAN_CONF=$d/strongswan.conf ip netns exec "$s" charon-systemd >"$d/charon.out" 2>&1 &
    eval "PID_charon_$s=$!"
    wait_until 20 sw "$s" --stats || { echo "charon $s did not answer"; cat "$d/charon.out" "$d/charon.log"; return 1; }
    sw "$s" --load-all --file /mnt/host/ipsec/swanctl-$s.conf 2>&1 | grep -v '^opening directory'
    [ "${PIPESTATUS[0]}" = 0 ] || { echo "swanctl --load-all failed on $s"; return 1; }
}

# installed SIDE CHILD: the CHILD_SA is installed on SIDE.
installed() { sw "$1" --list-sas --child "$2" | grep -q "$2: #[0-9]*, reqid [0-9]*, INSTALLED, TRANSPORT"; }

# dump PHASE: the kernel's and charon's state after PHASE, for the host.
dump() {
    for s in a b; do
        ip -n $s -s xfrm state >$OUT/$1-xfrm-state-$s.txt 2>&1
        ip -n $s xfrm policy >$OUT/$1-xfrm-policy-$s.txt 2>&1
        sw $s --list-sas >$OUT/$1-sas-$s.txt 2>&1
    done
}

# pseudowire PHASE ENCAP: tcpdump on a's veth (every packet, each written as it comes: without
# --immediate-mode the last ones can wait in a ring block that SIGINT drops), the two l2tpd, an
# L2TPv3 Ethernet pseudowire over ENCAP, a ping across it, both l2tpd stopped, the capture kept
# as PHASE.pcap.
pseudowire() {
    local ph=$1 e=$2 rc=0
    ip netns exec a tcpdump -n -U --immediate-mode -s 0 -Z root -i va -w $W/$ph.pcap >$W/$ph.tcpdump 2>&1 &
    local tpid=$!
    wait_until 10 grep -q 'listening on' $W/$ph.tcpdump || { echo "tcpdump did not start"; rc=1; }
    start_l2tpd b srv_$ph "$(l2tpd_system srv_$ph 192.0.2.2:1701 userspace)
peer profile \"a\" {
    peer_ipaddr 192.0.2.1
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
    cookie_length 8
    l2spec_type default
}
pseudowire profile \"pw\" {
    interface_name pwb%d
    local_ip 198.51.100.2
    netmask 255.255.255.0
}" || rc=1
    start_l2tpd a cli_$ph "$(l2tpd_system cli_$ph 192.0.2.1:1701 userspace)
tunnel \"t1\" {
    version 3
    encap $e
    peer 192.0.2.2
    persist false
}
session \"s1\" {
    tunnel \"t1\"
    pseudowire_type eth
    cookie_length 8
    l2spec_type default
    pseudowire_profile_name \"pw\"
}
pseudowire profile \"pw\" {
    interface_name pwa%d
    local_ip 198.51.100.1
    netmask 255.255.255.0
}" || rc=1
    step "$ph: daemons started"
    wait_until 30 session_up cli_$ph && wait_until 10 session_up srv_$ph || { echo "$ph: session not up"; rc=1; }
    step "$ph: session up"
    ip netns exec a ping -c 5 -i 0.2 -W 2 198.51.100.2 || { echo "$ph: no ping reply across the pseudowire"; rc=1; }
    ctl cli_$ph show sessions
    eval "kill \$PID_cli_$ph; wait \$PID_cli_$ph; kill \$PID_srv_$ph; wait \$PID_srv_$ph"
    sleep 0.5
    kill -INT $tpid; wait $tpid
    cat $W/$ph.tcpdump
    cp $W/$ph.pcap $OUT/$ph.pcap
    for f in cli_$ph srv_$ph; do cp $W/$f.log $OUT/$f.log 2>/dev/null; done
    # A first look here; the host has tshark judge the capture.
    echo "$ph: $(tcpdump -n -r $W/$ph.pcap 2>/dev/null | wc -l) packets, \
$(tcpdump -n -r $W/$ph.pcap esp 2>/dev/null | wc -l) ESP, \
$(tcpdump -n -r $W/$ph.pcap 'udp port 1701 or ip proto 115' 2>/dev/null | wc -l) L2TP in the clear"
    [ $rc = 0 ] || show_logs cli_$ph.log srv_$ph.log
    dump $ph
    return $rc
}

phase() { # NAME RESULT
    if [ "$2" = 0 ]; then echo "PASS $1"; else echo "FAIL $1"; fail=1; fi
}

start_charon b && start_charon a || { echo "FAIL setup: charon"; exit 1; }
step "charons up"
sw a --list-pols
ip -n a xfrm policy >$OUT/trap-xfrm-policy-a.txt

# udp: the CHILD_SA is brought up first, with swanctl --initiate.
rc=0
sw a --initiate --child l2tp-udp --timeout 30 || rc=1
installed a l2tp-udp && installed b l2tp-udp || { echo "l2tp-udp not installed"; rc=1; }
step "l2tp-udp installed"
[ $rc = 0 ] && { pseudowire udp udp || rc=1; }
phase udp $rc

# ip: nothing brings the CHILD_SA up but the trap policy: l2tpd's first packet is dropped and
# starts the negotiation, and its retransmission goes out in ESP.
rc=0
installed a l2tp-ip && { echo "l2tp-ip installed before any L2TP/IP packet"; rc=1; }
pseudowire ip ip || rc=1
installed a l2tp-ip && installed b l2tp-ip || { echo "l2tp-ip not installed"; rc=1; }
phase ip $rc

# The control: no IPsec for the L2TP traffic any more, which must then show in the clear (proof
# that the judge sees cleartext L2TP when there is some).
rc=0
sw a --terminate --ike l2tp --timeout 30 || rc=1
for s in a b; do
    for c in udp ip; do sw $s --uninstall --child l2tp-$c || rc=1; done
done
for s in a b; do
    if ip -n $s xfrm policy | grep -q 'proto udp sport 1701\|proto l2tp'; then
        echo "L2TP policies left on $s"; ip -n $s xfrm policy; rc=1
    fi
done
[ $rc = 0 ] && { pseudowire clear udp || rc=1; }
phase clear $rc

for s in a b; do
    eval "kill \$PID_charon_$s; wait \$PID_charon_$s"
    cp $W/ipsec-$s/charon.log $OUT/charon-$s.log
done
ip netns del a; ip netns del b
exit $fail
