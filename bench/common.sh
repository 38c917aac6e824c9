# Sourced by the bench scripts: what more than one of them needs.

# netns_cleanup NS DIR [PID...]: ends the processes PID, then whatever still runs in network
# namespace NS, deletes NS and the working directory DIR (a script's EXIT trap).
netns_cleanup() {
    set +e
    local ns=$1 dir=$2 p
    shift 2
    for p in "$@"; do kill "$p" 2>/dev/null; done
    [ $# -gt 0 ] && sleep 0.3
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
    ip netns del "$ns" 2>/dev/null
    rm -rf "$dir"
    return 0
}

# The config of an l2tpd LNS that terminates PPP itself on the userspace data plane, for
# l2tp-loadgen --ppp on loopback (bench/run.sh part p, bench/ppp-ops.sh).
#
# ppp_lns_conf FILE DIR TUN USERS POOL ECHO: writes to FILE the config of an l2tpd listening on
# 127.0.0.1:1701 with its control socket and pid file in DIR, its PPP sessions on the TUN
# named TUN, CHAP against the users file USERS, addresses from the range POOL, an LCP
# Echo-Request every ECHO seconds.
ppp_lns_conf() {
    cat >"$1" <<EOC
system {
    listen 127.0.0.1:1701
    control_socket $2/ctl.sock
    pid_file $2/l2tpd.pid
    dataplane userspace
    ppp_interface $3
}
peer profile "lacs" {
    peer_ipaddr 127.0.0.1
    lac_lns lac
    tunnel_profile_name "v2"
    session_profile_name "ppp-in"
    pseudowire_profile_name "native"
}
tunnel profile "v2" {
    version 2
}
session profile "ppp-in" {
    pseudowire_type ppp
}
pseudowire profile "native" {
    ppp_profile_name "users"
}
ppp profile "users" {
    auth_chap true
    auth_mschapv2 false
    local_ip_addr 198.51.100.1
    ip_pool_name "pool"
    users_file "$4"
    ipv6cp false
    lcp_echo_interval $6
}
ip pool "pool" {
    ranges $5
}
EOC
}
