# The guest's part of l2tpd/tests/ipsec_nat.rs: an L2TP/IPsec remote-access server as
# examples/vpn-server/ configures it, and its clients, three of them behind one NAT, in the
# project's qemu guest (tests/vm), whose kernel has ESP, nftables and the kernel's L2TP.
#
# The share (/mnt/host) holds bin/ (l2tpd, l2tpctl, and the test binary, which stands in for
# l2tp-nfqd with --nfqd), vpn-server/ (examples/vpn-server as shipped), pki/ (a CA, the
# server's certificate and dave's, made by the host with strongSwan's pki),
# cases/lib-strongswan.sh and out/, where this script leaves what the host judges: captures,
# logs, l2tpctl's answers.
#
# Network namespaces: srv (203.0.113.1, the server: charon, l2tpd with the recipe's
# l2tpd.conf and l2tpd-ipsec.nft), nat (203.0.113.2 outside, 192.0.2.1 inside: nftables
# masquerade), c1 c2 c3 behind it (192.0.2.11-13), c4 outside (203.0.113.4); two bridges
# (namespaces wan and lan) join them. Each client runs charon (IKEv1; c1-c3 with the
# pre-shared key, c4 with a certificate), xl2tpd and pppd (MS-CHAPv2) as the native clients
# do: c1 like Windows (Multilink with an MRRU, Callback, CCP, DNS), c2 like a phone (LCP
# echoes every second, and it goes without a StopCCN).
#
# Prints "PASS phase" or "FAIL phase: why" lines; exits non-zero on any failure.
set -u
. /mnt/host/cases/lib-strongswan.sh
OUT=/mnt/host/out
W=/tmp/vpn
mkdir -p $OUT $W
# the host's expectations depend on the kernel (whether its L2TP tells apart the tunnels
# that share a peer address and port)
uname -r | tee $OUT/uname.txt
BIN=/tmp/vpn-bin
mkdir -p $BIN && cp /mnt/host/bin/* $BIN/
IP=$(command -v ip)
fail=0

step() { echo "[$(cut -d' ' -f1 /proc/uptime)] $*"; }
# phase NAME RC: says how phase NAME went, and keeps the logs so far.
phase() {
    if [ "$2" = 0 ]; then echo "PASS $1"; else echo "FAIL $1"; fail=1; fi
    cp $W/l2tpd.log $W/l2tpwatch.txt $OUT/ 2>/dev/null
    for i in 1 2 3 4; do cp $W/c$i.xl2tpd.log $OUT/ 2>/dev/null; done
    cp $W/ipsec-srv/charon.log $OUT/charon-srv.log 2>/dev/null
}
# wait_until SECONDS COMMAND...: retries COMMAND every 0.2 s.
wait_until() {
    local n=$(($1 * 5)); shift
    for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
    return 1
}
ctl() { "$BIN/l2tpctl" "$@"; }

for m in xfrm_user esp4 authenc echainiv seqiv drbg nf_tables nft_chain_nat nft_masq nf_nat \
         nf_conntrack nft_ct nfnetlink_log nft_log nfnetlink_queue nft_queue l2tp_ppp ppp_generic \
         ppp_mppe; do
    modprobe $m || { echo "FAIL setup: modprobe $m (rebuild the guest: tests/vm/build-guest.sh)"; exit 1; }
done
for p in charon-systemd swanctl xl2tpd pppd nft tcpdump; do
    command -v $p >/dev/null || { echo "FAIL setup: no $p in the guest (rebuild it: tests/vm/build-guest.sh)"; exit 1; }
done

# ---- the network
for n in srv nat wan lan c1 c2 c3 c4; do ip netns add $n; ip -n $n link set lo up; done
for sw in wan lan; do ip -n $sw link add br0 type bridge; ip -n $sw link set br0 up; done
# port NS IF ADDR SWITCH: a veth from NS (named IF, with ADDR) to a port of SWITCH's bridge.
port() {
    ip link add "$2" netns "$1" type veth peer name "p-$1" netns "$4"
    ip -n "$4" link set "p-$1" master br0 up
    ip -n "$1" addr add "$3" dev "$2"; ip -n "$1" link set "$2" up
}
port srv eth0 203.0.113.1/24 wan
port nat out0 203.0.113.2/24 wan
port c4 eth0 203.0.113.4/24 wan
ip link add in0 netns nat type veth peer name p-nat netns lan
ip -n lan link set p-nat master br0 up
ip -n nat addr add 192.0.2.1/24 dev in0; ip -n nat link set in0 up
for i in 1 2 3; do
    port c$i eth0 192.0.2.1$i/24 lan
    ip -n c$i route add default via 192.0.2.1
done
ip netns exec nat sysctl -qw net.ipv4.ip_forward=1
ip netns exec nat nft -f - <<NFT
table ip nat {
    chain postrouting {
        type nat hook postrouting priority srcnat;
        oifname "out0" masquerade
    }
}
NFT
# the server's firewall, as shipped
ip netns exec srv nft -f /mnt/host/vpn-server/l2tpd-ipsec.nft || { echo "FAIL setup: l2tpd-ipsec.nft"; exit 1; }
step "network up"

# ---- strongSwan
# sw NS ARGS...: swanctl against NS's charon.
sw() {
    local s=$1; shift
    STRONGSWAN_CONF=$W/ipsec-$s/strongswan.conf SWANCTL_DIR=$W/ipsec-$s/swanctl \
        timeout 60 "$IP" netns exec "$s" swanctl "$@"
}
# start_charon NS CONF: charon-systemd in NS with a strongswan.conf and a swanctl directory of
# its own, CONF copied there as swanctl.conf (credentials are in its x509, x509ca and private
# subdirectories), then swanctl --load-all.
start_charon() {
    local s=$1 d=$W/ipsec-$1
    mkdir -p "$d/swanctl/x509" "$d/swanctl/x509ca" "$d/swanctl/private"
    # delete_rekeyed: an IKEv1 CHILD_SA's old SAs go as soon as it is rekeyed (the rekey
    # phase), not when their lifetime ends, so that only the new ones can carry the tunnels.
    strongswan_conf "$d" \
        "random nonce aes sha1 sha2 hmac kdf gmp pem pkcs1 pkcs8 x509 pubkey revocation constraints kernel-netlink socket-default vici" \
        "random pem pkcs1 pkcs8 x509 pubkey" \
        "delete_rekeyed = yes"
    STRONGSWAN_CONF=$d/strongswan.conf ip netns exec "$s" charon-systemd >"$d/charon.out" 2>&1 &
    wait_until 30 sw "$s" --stats || { echo "charon $s did not answer"; cat "$d/charon.out" "$d/charon.log"; return 1; }
    cp "$2" "$d/swanctl/swanctl.conf"
    sw "$s" --load-all >"$d/load.txt" 2>&1 || { echo "swanctl --load-all failed on $s"; cat "$d/load.txt"; return 1; }
}
# The server's credentials where swanctl.conf names them.
mkdir -p $W/ipsec-srv/swanctl/x509 $W/ipsec-srv/swanctl/x509ca $W/ipsec-srv/swanctl/private
cp /mnt/host/pki/server.pem $W/ipsec-srv/swanctl/x509/
cp /mnt/host/pki/ca.pem $W/ipsec-srv/swanctl/x509ca/
cp /mnt/host/pki/server.key $W/ipsec-srv/swanctl/private/

# client_conf N ADDR AUTH PROPOSAL ESP: the swanctl.conf of client cN.
client_conf() {
    local auth
    if [ "$3" = psk ]; then
        auth="local {
            auth = psk
        }
        remote {
            auth = psk
        }"
    else
        mkdir -p $W/ipsec-c$1/swanctl/x509 $W/ipsec-c$1/swanctl/x509ca $W/ipsec-c$1/swanctl/private
        cp /mnt/host/pki/ca.pem $W/ipsec-c$1/swanctl/x509ca/
        cp /mnt/host/pki/dave.pem $W/ipsec-c$1/swanctl/x509/
        cp /mnt/host/pki/dave.key $W/ipsec-c$1/swanctl/private/
        auth="local {
            auth = pubkey
            certs = dave.pem
            id = dave@example.net
        }
        remote {
            auth = pubkey
            id = vpn.example.net
        }"
    fi
    cat >$W/swanctl-c$1.conf <<SC
connections {
    vpn {
        version = 1
        local_addrs = $2
        remote_addrs = 203.0.113.1
        proposals = $4
        $auth
        children {
            l2tp {
                mode = transport
                local_ts = dynamic[udp/1701]
                remote_ts = dynamic[udp/1701]
                esp_proposals = $5
            }
        }
    }
}
secrets {
    ike-vpn {
        secret = "example only: replace with a long random secret"
    }
}
SC
}
client_conf 1 192.0.2.11 psk aes256-sha1-modp1024 aes256-sha1
client_conf 2 192.0.2.12 psk aes128-sha256-modp2048 aes128-sha256
client_conf 3 192.0.2.13 psk aes256-sha256-modp2048 aes256-sha256
client_conf 4 203.0.113.4 cert aes128-sha1-modp2048 aes128-sha1

# ---- xl2tpd and pppd on the clients
# client_l2tp N USER PASSWORD EXTRA-PPPD-OPTIONS
client_l2tp() {
    printf '%s\n' noauth debug logfd 2 nodetach noipdefault nodefaultroute usepeerdns \
        refuse-pap refuse-chap refuse-eap mtu 1400 mru 1400 "name $2" "password $3" $4 \
        >$W/c$1.options
    cat >$W/c$1.xl2tpd.conf <<CONF
[global]
port = 1701
[lac vpn]
lns = 203.0.113.1
pppoptfile = $W/c$1.options
length bit = yes
autodial = yes
redial = no
CONF
}
client_l2tp 1 alice alice-example-password "multilink mrru 1614 callback 5551234"
client_l2tp 2 bob bob-example-password "lcp-echo-interval 1 lcp-echo-failure 5"
client_l2tp 3 carol carol-example-password "noccp"
client_l2tp 4 dave dave-example-password ""
# start_xl2tpd N: xl2tpd of client cN (it dials at once); sets PID_xl2tpd_N.
start_xl2tpd() {
    ip netns exec c$1 xl2tpd -D -c $W/c$1.xl2tpd.conf -p $W/c$1.xl2tpd.pid -C $W/c$1.l2tp-control \
        >>$W/c$1.xl2tpd.log 2>&1 &
    eval "PID_xl2tpd_$1=$!"
}
# stop_client N: ends client cN's L2TP without a word to the server (SIGKILL to xl2tpd and its
# pppd, as a phone that loses its connection), and waits for it.
stop_client() {
    local p c
    eval "p=\$PID_xl2tpd_$1"
    for c in $(children "$p"); do kill -KILL "$c" 2>/dev/null; done
    kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null
    # A pppd that xl2tpd forked while it was being stopped outlives it (and keeps ppp0, with
    # the address of a session the server has ended): every pppd of the client goes too.
    for c in $(ip netns pids c$1); do
        [ "$(cat /proc/$c/comm 2>/dev/null)" = pppd ] && kill -KILL "$c" 2>/dev/null
    done
    wait_until 10 sh -c "! ip -n c$1 link show ppp0" || echo "c$1: ppp0 is still there"
}
# children PID: the processes whose parent is PID.
children() {
    local f
    for f in /proc/[0-9]*/stat; do
        awk -v p="$1" '$4 == p { print $1 }' "$f" 2>/dev/null
    done
}
# capture NAME NS: L2TP after IPsec in NS, both ways, as nflog group 5 sees it (the
# decrypted packets received, and those sent before they are encrypted), into $W/NAME.pcap;
# sets CAP_NAME to tcpdump's pid.
capture() {
    ip netns exec "$2" nft -f - <<NFT
table inet cap
delete table inet cap
table inet cap {
    chain in {
        type filter hook input priority -200; policy accept;
        udp sport 1701 meta ipsec exists log group 5
    }
    chain out {
        type filter hook output priority -200; policy accept;
        udp dport 1701 log group 5
    }
}
NFT
    ip netns exec "$2" tcpdump -n -U -s 0 -i nflog:5 -w "$W/$1.pcap" >"$W/$1.tcpdump" 2>&1 &
    eval "CAP_${1//-/_}=$!"
    wait_until 10 grep -q 'listening on' "$W/$1.tcpdump" || { echo "tcpdump $1 did not start"; cat "$W/$1.tcpdump"; }
}
# end_capture NAME: stops it once it has written what nflog had for it (its file has not grown
# for 1.5 s, within 15 s: nflog hands packets over in batches, once a second), and keeps it in
# out/
end_capture() {
    local p size=-1 now _
    eval "p=\$CAP_${1//-/_}"
    for _ in $(seq 10); do
        now=$(stat -c %s "$W/$1.pcap")
        [ "$now" = "$size" ] && break
        size=$now; sleep 1.5
    done
    kill -INT "$p"; wait "$p"
    cp "$W/$1.pcap" "$OUT/$1.pcap"
}
# waitall PIDS...: waits for these (a bare `wait` would wait for the daemons too).
waitall() { for p in "$@"; do wait "$p"; done; }
# ping_all SECONDS CLIENTS...: each client pings the server's end of its link every 0.2 s for
# SECONDS, all at once; fails unless every reply comes.
ping_all() {
    local n=$(($1 * 5)) pids=() i rc=0; shift
    for i in "$@"; do
        ip netns exec c$i ping -c $n -i 0.2 -W 2 198.51.100.1 >$W/ping-c$i.txt 2>&1 & pids+=($!)
    done
    waitall "${pids[@]}"
    for i in "$@"; do
        echo "c$i: $(grep 'packets transmitted' $W/ping-c$i.txt)"
        grep -q " $n received" $W/ping-c$i.txt || { echo "c$i: lost pings"; rc=1; }
    done
    return $rc
}
# show NAME: l2tpctl's tunnels (each in full) and sessions into out/NAME-*.json, the kernel's
# tunnels, the IPsec policies and SAs.
show() {
    ctl -j show tunnels >$OUT/$1-tunnels.json
    ctl -j show sessions >$OUT/$1-sessions.json
    for t in $(ctl -j show tunnels | grep -o '"tid": *[0-9]*' | grep -o '[0-9]*'); do
        ctl -j show tunnel $t
    done >$OUT/$1-tunnel-detail.json
    ctl -j show ip pool vpn >$OUT/$1-pool.json 2>&1
    ip -n srv l2tp show tunnel >$OUT/$1-kernel-tunnels.txt
    ip -n srv xfrm policy >$OUT/$1-xfrm-policy.txt
    sw srv --list-sas >$OUT/$1-sas.txt 2>&1
}
# user_gone USER: the server has no session of USER any more.
user_gone() { ! ctl -j show sessions | grep -q "\"ppp_user\": *\"$1\""; }

# ppp_addr N: client cN's address on ppp0.
ppp_addr() { ip -n c$1 -4 -o addr show dev ppp0 2>/dev/null | awk '{print $4}' | cut -d/ -f1; }
has_ppp() { [ -n "$(ppp_addr $1)" ]; }

# ---- the server
srv_start() { # CONF
    ip netns exec srv $BIN/l2tpd -f -d -c "$1" -o $W/l2tpd.log >>$W/l2tpd.out 2>&1 &
    PID_l2tpd=$!
    wait_until 20 ctl show system || { echo "l2tpd did not start"; cat $W/l2tpd.out $W/l2tpd.log; return 1; }
    ip netns exec srv $BIN/l2tpwatch >>$W/l2tpwatch.txt 2>&1 &
    PID_watch=$!
}
srv_stop() {
    kill $PID_l2tpd; wait $PID_l2tpd
    kill $PID_watch 2>/dev/null; wait $PID_watch 2>/dev/null
}

start_charon srv /mnt/host/vpn-server/swanctl.conf || { echo "FAIL setup: server charon"; exit 1; }
srv_start /mnt/host/vpn-server/l2tpd.conf || { echo "FAIL setup: l2tpd"; exit 1; }
step "server up"

# ---- clear: an SCCRQ outside IPsec gets no answer (the firewall); the control: without the
# firewall's table, the same client is answered
rc=0
for ph in clear-fw clear-open; do
    ip netns exec c4 tcpdump -n -U -s 0 -i eth0 -w $W/$ph.pcap udp port 1701 >$W/$ph.tcpdump 2>&1 &
    tpid=$!
    wait_until 10 grep -q 'listening on' $W/$ph.tcpdump
    if [ $ph = clear-fw ]; then
        start_xl2tpd 4
        # xl2tpd sends its SCCRQ again after 1, 2 and 4 s
        sleep 4
    else
        ip netns exec srv nft delete table inet l2tpd_ipsec
        wait_until 10 sh -c "[ \$(tcpdump -n -r $W/$ph.pcap 'src host 203.0.113.1' 2>/dev/null | wc -l) -gt 0 ]" ||
            { echo "no answer even without the firewall"; rc=1; }
        stop_client 4
    fi
    sleep 0.5; kill -INT $tpid; wait $tpid
    cp $W/$ph.pcap $OUT/
    echo "$ph: $(tcpdump -n -r $W/$ph.pcap 'src host 203.0.113.4' 2>/dev/null | wc -l) from c4, \
$(tcpdump -n -r $W/$ph.pcap 'src host 203.0.113.1' 2>/dev/null | wc -l) from the server"
done
ip netns exec srv nft -f /mnt/host/vpn-server/l2tpd-ipsec.nft || rc=1
ip netns exec srv nft list table inet l2tpd_ipsec >$OUT/clear-nft.txt
wait_until 30 sh -c "! $BIN/l2tpctl -j show tunnels | grep -q tid" || { echo "c4's clear tunnel did not go"; rc=1; }
phase clear $rc

# ---- nat: four clients, three of them behind the NAT, each with its own tunnel, session and
# address; they all ping at once
rc=0
pids=(); for i in 1 2 3 4; do start_charon c$i $W/swanctl-c$i.conf & pids+=($!); done; waitall "${pids[@]}"
pids=(); for i in 1 2 3 4; do sw c$i --initiate --child l2tp --timeout 60 >$W/initiate-c$i.txt 2>&1 & pids+=($!); done; waitall "${pids[@]}"
for i in 1 2 3 4; do grep -q 'initiate completed successfully' $W/initiate-c$i.txt || { echo "c$i: IPsec not up"; cat $W/initiate-c$i.txt; rc=1; }; done
step "IPsec up"
for c in srv c1 c2 c3 c4; do capture nat-$c $c; done
# c2 first, so that its tunnel is the one of the NAT's that the kernel carries (on a kernel
# older than 6.10, the others are carried apart): its leaving, below, is the harder case
start_xl2tpd 2
wait_until 40 has_ppp 2 || { echo "c2: no PPP address"; rc=1; }
for i in 1 3 4; do start_xl2tpd $i; sleep 0.3; done
for i in 1 2 3 4; do wait_until 40 has_ppp $i || { echo "c$i: no PPP address"; rc=1; }; done
step "PPP up"
for i in 1 2 3 4; do echo "c$i: $(ppp_addr $i)"; done | tee $OUT/nat-addresses.txt
ping_all 4 1 2 3 4 || rc=1
show nat
for c in srv c1 c2 c3 c4; do end_capture nat-$c; done
phase nat $rc

# ---- rekey: every client's CHILD_SA rekeyed, c1's by c1 (as Windows does when its Quick Mode
# SA's lifetime ends), then all of them by the server (its rekey_time); the old SAs deleted at
# once. strongSwan gives a rekeyed CHILD_SA the marks of the old one, so each tunnel keeps
# sending with its client's mark, and its session and pings go on.
rc=0
ip -n srv xfrm state >$OUT/rekey-before-xfrm.txt
old_spis=$(grep -o 'spi 0x[0-9a-f]*' $OUT/rekey-before-xfrm.txt | cut -d' ' -f2)
# all_rekeyed: none of the server's SAs of before is left.
all_rekeyed() {
    local now s
    now=$(ip -n srv xfrm state)
    for s in $old_spis; do echo "$now" | grep -q "spi $s" && return 1; done
    return 0
}
sw c1 --rekey --child l2tp >$W/rekey-c1.txt 2>&1 || { echo "c1: rekey failed"; cat $W/rekey-c1.txt; rc=1; }
sleep 1
sw srv --rekey --child l2tp >$W/rekey-srv.txt 2>&1 || { echo "srv: rekey failed"; cat $W/rekey-srv.txt; rc=1; }
wait_until 30 all_rekeyed || { echo "old SAs are still there"; ip -n srv xfrm state; rc=1; }
step "rekeyed"
ip -n srv xfrm state >$OUT/rekey-after-xfrm.txt
ping_all 2 1 2 3 4 || rc=1
show rekey
phase rekey $rc

# ---- leave: c2 goes without a StopCCN, and its IPsec with it; the server cleans up after it
# (LCP echoes unanswered, the CDN unacknowledged) while the others ping on, unharmed, until
# after c2's tunnel is gone (its socket may be the one that the NAT's datagrams reach)
rc=0
pids=()
for i in 1 3 4; do
    ip netns exec c$i ping -D -O -i 0.2 -W 2 198.51.100.1 >$W/leave-ping-c$i.txt 2>&1 & pids+=($!)
done
sleep 1
t0=$(cut -d' ' -f1 /proc/uptime)
step "leave: c2 goes"
stop_client 2
sw c2 --terminate --ike vpn --timeout 30 >$W/terminate-c2.txt 2>&1
step "leave: c2's L2TP and IPsec are gone"
wait_until 60 user_gone bob || { echo "bob's session is still there"; rc=1; }
t1=$(cut -d' ' -f1 /proc/uptime)
wait_until 60 sh -c "[ \$($BIN/l2tpctl -j show tunnels | grep -c '\"tid\"') = 3 ]" || { echo "c2's tunnel is still there"; rc=1; }
t2=$(cut -d' ' -f1 /proc/uptime)
echo "leave: session gone after $(awk -v a=$t0 -v b=$t1 'BEGIN{print b-a}') s, tunnel after $(awk -v a=$t0 -v b=$t2 'BEGIN{print b-a}') s"
show leave
sleep 2
for p in "${pids[@]}"; do kill -INT "$p"; done
waitall "${pids[@]}"
cp $W/leave-ping-c*.txt $OUT/
# c4, outside the NAT, loses none but the one in flight when it stops; c1 and c3 may lose two
# more at the moment c2's tunnel and its socket go and another tunnel's socket takes over its
# address and port (Linux before 6.10; the host judges by kernel)
for i in 1 3 4; do
    echo "c$i: $(grep 'packets transmitted' $W/leave-ping-c$i.txt)"
    [ $i = 4 ] && lost=1 || lost=3
    sent=$(grep -o '[0-9]* packets transmitted' $W/leave-ping-c$i.txt | grep -o '^[0-9]*')
    got=$(grep -o '[0-9]* received' $W/leave-ping-c$i.txt | grep -o '[0-9]*')
    [ "${got:-0}" -ge 100 ] && [ "${got:-0}" -ge $((${sent:-0} - lost)) ] || { echo "c$i: lost pings while c2 left"; rc=1; }
done
# and once c2's tunnel is gone, and with it the socket that the NAT's datagrams went to
ping_all 2 1 3 4 || rc=1
cp $W/l2tpwatch.txt $OUT/leave-l2tpwatch.txt
phase leave $rc

# ---- nfq: the marks from l2tp-nfqd's messages instead of the SCCRQs' (the recipe's
# alternative: learn_sccrq_mark false, nfq_socket), this test's binary standing in for
# l2tp-nfqd on a netfilter queue
rc=0
for i in 1 3 4; do stop_client $i; done
srv_stop
sed -e 's/^\( *\)learn_sccrq_mark true/\1learn_sccrq_mark false/' \
    -e 's/^\( *\)# nfq_socket /\1nfq_socket /' /mnt/host/vpn-server/l2tpd.conf >$W/l2tpd-nfq.conf
grep -q '^ *nfq_socket /run/l2tpd/nfq' $W/l2tpd-nfq.conf || { echo "the recipe has no nfq_socket line"; rc=1; }
srv_start $W/l2tpd-nfq.conf || rc=1
# As l2tp-nfqd's README has it, L2TP control messages that came out of IPsec (the stand-in, as
# l2tp-nfqd, reports the SCCRQs among them and lets every packet through).
ip netns exec srv nft -f - <<NFT
table inet nfq {
    chain in {
        type filter hook input priority -100; policy accept;
        udp dport 1701 meta ipsec exists @th,64,1 1 queue num 1 bypass
    }
}
NFT
ip netns exec srv $BIN/ipsec_nat --nfqd 1 /run/l2tpd/nfq >$W/nfqd.log 2>&1 &
PID_nfqd=$!
wait_until 10 grep -q 'listening' $W/nfqd.log || { echo "the l2tp-nfqd stand-in did not start"; cat $W/nfqd.log; rc=1; }
capture nfq-srv srv
for i in 1 3 4; do start_xl2tpd $i; sleep 0.3; done
for i in 1 3 4; do wait_until 40 has_ppp $i || { echo "c$i: no PPP address"; rc=1; }; done
ping_all 2 1 3 4 || rc=1
show nfq
# the stand-in's message for no SCCRQ at all is dropped after a while
wait_until 20 grep -q 'l2tp-nfqd: no tunnel from 203.0.113.99' $W/l2tpd.log || { echo "the stray message was not dropped"; rc=1; }
# CCP: a client that asks for MPPE (as Windows does) gets a Protocol-Reject; pppd, which can only
# require MPPE, then ends its link, where Windows goes on without.
stop_client 4
echo require-mppe-128 >>$W/c4.options
start_xl2tpd 4
wait_until 30 grep -q 'MPPE required but peer negotiation failed' $W/c4.xl2tpd.log || { echo "c4 got no answer to its CCP"; rc=1; }
end_capture nfq-srv
kill $PID_nfqd; wait $PID_nfqd
cp $W/nfqd.log $OUT/
phase nfq $rc

for i in 1 3 4; do stop_client $i; done
srv_stop
phase end 0
exit $fail
