# Helpers for the guest cases of l2tpd's own PPP (native PPP) against xl2tpd and pppd (sourced
# after lib-l2tpd.sh, not a case). Namespaces "lac" (192.0.2.1) and "lns" (192.0.2.2) as
# netns_pair makes them; PPP addresses in 198.51.100.0/24, the DNS server offered 192.0.2.53.

# The captures of a case go to /mnt/host/captures/CASE/: NAME.pcap, with NAME.expect (the
# display filters tshark must find in it, see scripts/judge-captures.sh), for run-all.sh to
# have tshark judge on the host.
CAPTURES=/mnt/host/captures/${CASE:?}
mkdir -p "$CAPTURES"

# capture_start NAME: tcpdump on the LNS's veth, every L2TP packet (UDP port 1701).
capture_start() {
    # --immediate-mode: packets reach tcpdump as they come, not in blocks of the kernel's
    # capture ring, the last of which tcpdump leaves unread when it is stopped.
    ip netns exec lns tcpdump -n -U --immediate-mode -s 0 -Z root -i vlns -w "$W/$1.pcap" udp port 1701 \
        >"$W/$1.tcpdump" 2>&1 &
    TCPDUMP=$!
    wait_until 10 grep -q 'listening on' "$W/$1.tcpdump" || echo "tcpdump did not start"
}

# capture_stop NAME FILTER...: stops tcpdump and leaves the capture with the filters tshark
# must find in it (a filter starting with ! must match no packet).
capture_stop() {
    local name=$1; shift
    kill -INT "$TCPDUMP" 2>/dev/null; wait "$TCPDUMP" 2>/dev/null
    cp "$W/$name.pcap" "$CAPTURES/$name.pcap"
    printf '%s\n' "$@" >"$CAPTURES/$name.expect"
}

# What every PPP capture must show: LCP, IPCP and IPv6CP, and no L2TP data packet whose
# payload is not decoded as PPP.
PPP_EXPECT=("lcp" "ipcp" "ipv6cp" "!l2tp.type == 0 && !ppp")

# lns_conf NAME PPP_PROFILE_LINES [MORE]: the config of l2tpd NAME as the LNS of the LACs of
# 192.0.2.0/24 (L2TPv2), terminating their PPP itself with ppp profile "users" (its lines
# given; it has the address 198.51.100.1, the pool 198.51.100.10-20 and the DNS server
# 192.0.2.53), and MORE (whole blocks: users). Its metrics are at 127.0.0.1:9701.
lns_conf() {
    printf '%s\n' "$(l2tpd_system "$1" 192.0.2.2:1701 kernel "    metrics_listen 127.0.0.1:9701
")
peer profile \"lacs\" {
    peer_ipaddr 192.0.2.0/24
    lac_lns lac
    tunnel_profile_name \"from-lacs\"
    session_profile_name \"ppp-in\"
    pseudowire_profile_name \"native\"
}
tunnel profile \"from-lacs\" {
    version 2
}
session profile \"ppp-in\" {
    pseudowire_type ppp
    session_type lnic
}
pseudowire profile \"native\" {
    ppp_profile_name \"users\"
}
ppp profile \"users\" {
    local_ip_addr 198.51.100.1
    ip_pool_name \"pool\"
    dns_addr_1 192.0.2.53
$2
}
ip pool \"pool\" {
    ranges 198.51.100.10-198.51.100.20
}
${3:-}"
}

# xl2tpd_lac USER PASSWORD [PPPD_OPTION...]: starts xl2tpd as the LAC in namespace lac
# (192.0.2.1), dialling 192.0.2.2 at once and once; its pppd authenticates as USER with
# PASSWORD, asks for DNS servers (usepeerdns: it writes /etc/ppp/resolv.conf) and runs IPv6CP.
# Its output and pppd's go to $W/xl2tpd.log; sets XL2TPD.
xl2tpd_lac() {
    local user=$1 password=$2; shift 2
    rm -f /etc/ppp/resolv.conf
    {
        printf '%s\n' noauth nodetach debug logfd 2 nodefaultroute noipdefault noccp novj \
            "mtu 1400" "mru 1400" "user $user" "password \"$password\"" usepeerdns +ipv6 \
            "$@"
    } >"$W/options.lac"
    cat >"$W/lac.conf" <<CONF
[global]
listen-addr = 192.0.2.1
[lac test]
lns = 192.0.2.2
require authentication = no
pppoptfile = $W/options.lac
autodial = yes
redial = no
CONF
    ip netns exec lac xl2tpd -D -c "$W/lac.conf" -p "$W/lac.pid" -C "$W/lac.ctl" \
        >"$W/xl2tpd.log" 2>&1 &
    XL2TPD=$!
}

# watch_start NAME: l2tpwatch on daemon NAME, its lines in $W/NAME.watch; sets WATCH.
watch_start() {
    "$BIN/l2tpwatch" -S "$W/$1.sock" -T 300 >"$W/$1.watch" 2>&1 &
    WATCH=$!
}

# has_addr NS ADDR: the namespace's ppp0 has IPv4 address ADDR.
has_addr() { ip -n "$1" -4 addr show dev ppp0 2>/dev/null | grep -q "inet $2 "; }
# peer_ll NS: the IPv6 link-local address of the far end of NS's ppp0 (its peer address).
peer_ll() { ip -n "$1" -6 addr show dev ppp0 scope link | sed -n 's/.* peer \(fe80::[0-9a-f:]*\)\/.*/\1/p' | head -n 1; }
# json NAME FIELD ARGS...: the first value of "FIELD" in `l2tpctl -j ARGS` of daemon NAME.
json() {
    local n=$1 f=$2; shift 2
    ctl "$n" -j "$@" | sed -n "s/^ *\"$f\": *\"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" | head -n 1
}
no_ppp0() { ! ip -n "$1" link show dev ppp0 >/dev/null 2>&1; }
pppd_in() { ip netns pids "$1" | while read -r p; do [ "$(cat /proc/$p/comm 2>/dev/null)" = pppd ] && echo "$p"; done; }

# stop_all: stops xl2tpd, l2tpwatch, every l2tpd started, tcpdump; removes the namespaces.
stop_all() {
    local p
    for p in ${XL2TPD:-} ${WATCH:-} ${PID_srv:-} ${PID_cli:-}; do kill "$p" 2>/dev/null; done
    for p in ${XL2TPD:-} ${WATCH:-} ${PID_srv:-} ${PID_cli:-}; do wait "$p" 2>/dev/null; done
    XL2TPD="" WATCH="" PID_srv="" PID_cli=""
    ip netns del lac 2>/dev/null; ip netns del lns 2>/dev/null
}
