# vm-guests: 2
# Guest case, run in two guests (hostnames ending in -a and -b) joined by a run-guest.sh -l link
# (eth0: 192.0.2.1 and 192.0.2.2): every example config of examples/ brought up as shipped, as
# a user would run it, each host given the addresses the file names. The files are read from
# /mnt/host/examples (run-all.sh copies examples/ there) and not edited; l2tpd runs with its
# default control socket and pid file, forking into the background, with only -o for its log.
#
#   ppp  guest a: lns-l2tpv2.conf (listens on 192.0.2.1), guest b: lac-l2tpv2.conf (from
#        198.51.100.10). l2tpd terminates the PPP at both ends (no pppd): the LAC
#        authenticates as lac1, the LNS checks it against /etc/l2tpd/chap-secrets (the line
#        the example's comment gives), which gives the LAC's end 203.0.113.10 (the LNS's end is
#        203.0.113.1); ppp0 comes up on both, and each side pings the other's end over it.
#   eth  guest a: l2tpv3-eth-a.conf (2001:db8:a::1), guest b: l2tpv3-eth-b.conf (2001:db8:b::1),
#        each with the bridge br-lan the files name (203.0.113.1 and .2 on it); the pseudowire's
#        interface joins it and each side pings the other's bridge address across it.
# Each phase ends when this side's pings were answered and it has answered the other side's.
set -u
X=/mnt/host/examples
BIN=/tmp/l2tpd-bin
mkdir -p $BIN && cp /mnt/host/bin/l2tpd /mnt/host/bin/l2tpctl $BIN/
export PATH=$BIN:$PATH
W=/tmp/examples; mkdir -p $W
fail=0
case $(hostname) in
*-a) side=a ;;
*)   side=b ;;
esac

step() { echo "[$(cut -d' ' -f1 /proc/uptime)] $*"; }
wait_until() { # SECONDS COMMAND...
    local n=$(($1 * 5)); shift
    for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
    return 1
}
echo_replies() { awk '$1 == "Icmp:" { if (n++ == 0) for (i = 2; i <= NF; i++) c[$i] = i; else print $c["OutEchoReps"] }' /proc/net/snmp; }
answered() { [ "$(echo_replies)" -ge "$1" ]; } # answered TOTAL: this host sent TOTAL echo replies
session_up() { l2tpctl -j show sessions 2>/dev/null | grep -q '"state": *"up"'; }
has_ppp() { ip -4 addr show dev ppp0 2>/dev/null | grep -q 'inet '; }

# start CONF: l2tpd as a user starts it (it forks once its sockets are bound).
start() {
    l2tpd -n -c "$X/$1" || { echo "l2tpd -n refuses $1"; return 1; }
    l2tpd -d -c "$X/$1" -o "$W/$1.log" || { echo "l2tpd did not start with $1"; cat "$W/$1.log"; return 1; }
    step "l2tpd started with $1 (pid $(cat /run/l2tpd/l2tpd.pid))"
}
# stop: SIGTERM through the pid file, then wait for it to be gone.
stop() {
    local pid
    pid=$(cat /run/l2tpd/l2tpd.pid 2>/dev/null) || return 0
    kill "$pid"
    wait_until 10 sh -c "! kill -0 $pid" || { echo "l2tpd $pid did not stop"; kill -9 "$pid"; }
}
result() { # PHASE STATUS LOG
    if [ "$2" = 0 ]; then
        echo "PASS examples $1 ($side)"
    else
        echo "FAIL examples $1 ($side)"; tail -n 40 "$3"; fail=1
    fi
}

# ---- L2TPv2: LNS (a) and LAC (b), a PPP session that l2tpd terminates at both ends
rc=0
base=$(echo_replies)
# The LNS's users file, as lns-l2tpv2.conf's comment gives it; the LNS gives the LAC's end of
# the link the address in the last column.
mkdir -p /etc/l2tpd
printf 'lac1 * "lac1-chap-secret" 203.0.113.10\n' >/etc/l2tpd/chap-secrets
chmod 600 /etc/l2tpd/chap-secrets
if [ $side = a ]; then
    conf=lns-l2tpv2.conf
    ip route add 198.51.100.0/24 dev eth0          # the LACs' subnet, on the link
    start $conf || rc=1
    wait_until 60 has_ppp || { echo "ppp0 did not come up"; rc=1; }
    step "ppp0 up"
    ip addr show dev ppp0
    ping -c 1 -w 20 203.0.113.10 >/dev/null; ping -c 3 -i 0.2 -W 2 203.0.113.10 || { echo "no reply over ppp0"; rc=1; }
else
    conf=lac-l2tpv2.conf
    ip addr add 198.51.100.10/24 dev eth0         # the LAC's `local`
    start $conf || rc=1
    wait_until 60 has_ppp || { echo "ppp0 did not come up"; rc=1; }
    step "ppp0 up"
    ip addr show dev ppp0
    ping -c 1 -w 20 -I ppp0 203.0.113.1 >/dev/null; ping -c 3 -i 0.2 -W 2 -I ppp0 203.0.113.1 || { echo "no reply over ppp0"; rc=1; }
fi
l2tpctl show sessions
session_up || { echo "no session up"; rc=1; }
ip l2tp show session | grep -q Session || { echo "no kernel L2TP session"; rc=1; }
# No pppd: l2tpd's own PPP, which logs the user who came up.
if pgrep -x pppd >/dev/null; then echo "a pppd runs"; rc=1; fi
grep -q 'PPP up: user "lac1"' "$W/$conf.log" || { echo "no PPP up for lac1 in the log"; rc=1; }
wait_until 60 answered $((base + 4)) || { echo "the other side's pings did not come"; rc=1; }
sleep 1
stop
[ $side = a ] && ip route del 198.51.100.0/24 dev eth0
[ $side = b ] && ip addr del 198.51.100.10/24 dev eth0
result ppp $rc "$W/$conf.log"

# ---- L2TPv3: the two sides of an Ethernet pseudowire over IPv6, each bridged to br-lan
rc=0
base=$(echo_replies)
ip link add br-lan type bridge && ip link set br-lan up
if [ $side = a ]; then
    conf=l2tpv3-eth-a.conf me=203.0.113.1 them=203.0.113.2 pw=l2tpeth-b
    ip addr add 2001:db8:a::1/48 dev eth0 nodad
    ip route add 2001:db8:b::/48 dev eth0
else
    conf=l2tpv3-eth-b.conf me=203.0.113.2 them=203.0.113.1 pw=l2tpeth-a
    ip addr add 2001:db8:b::1/48 dev eth0 nodad
    ip route add 2001:db8:a::/48 dev eth0
fi
ip addr add $me/24 dev br-lan
start $conf || rc=1
wait_until 60 session_up || { echo "the session did not come up"; rc=1; }
step "session up"
l2tpctl show sessions
wait_until 10 sh -c "ip link show $pw | grep -q 'master br-lan'" || { echo "$pw is not in br-lan"; ip link; rc=1; }
ip -d link show $pw
ping -c 1 -w 20 $them >/dev/null; ping -c 3 -i 0.2 -W 2 $them || { echo "no reply across the pseudowire"; rc=1; }
ip -s link show $pw
wait_until 60 answered $((base + 4)) || { echo "the other side's pings did not come"; rc=1; }
sleep 1
stop
result eth $rc "$W/$conf.log"
exit $fail
