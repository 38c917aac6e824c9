# Guest case: someone else deletes the interfaces of a kernel Ethernet session. Two l2tpd with
# the kernel data plane, in two network namespaces, set up one L2TPv3 tunnel over UDP with two
# sessions: an eth session (l2tpeth0) and an eth_vlan session with vlan_id 100 (vl0, and the
# VLAN interface vl0.100 on it). Then, on the client:
#   1. `ip link del vl0.100` (the eth_vlan session's VLAN interface);
#   2. `ip l2tp del session` of the eth session (its l2tpeth0 goes with it; the kernel refuses
#      `ip link del` of an l2tpeth interface).
# Each time the client notices (rtnetlink RTM_DELLINK), logs the interface, and disconnects the
# session with a CDN (result 1, loss of carrier), which the server sees; the tunnel stays up, in
# the daemons and in the kernel. Then the session instance places its call again, as after any
# failure: the session and its interfaces come back on both sides.
#   3. `ip l2tp del tunnel`: the client closes its tunnel when it finds the kernel tunnel gone,
#      and makes it again with both sessions.
set -u
. /mnt/host/cases/lib-l2tpd.sh
rc=0

# sessions_up NAME N: the daemon has exactly N sessions, all up.
sessions_up() {
    local j; j=$(ctl "$1" -j show sessions) || return 1
    [ "$(printf '%s' "$j" | grep -o '"sid"' | wc -l)" = "$2" ] &&
        [ "$(printf '%s' "$j" | grep -o '"state": *"up"' | wc -l)" = "$2" ]
}
# tunnel_up NAME: the daemon's one tunnel is up.
tunnel_up() { ctl "$1" -j show tunnels | grep -q '"state": *"up"'; }
# kernel_sessions NS: how many sessions the kernel has in NS.
kernel_sessions() { ip -n "$1" l2tp show session | grep -c '^Session'; }
# all_up NAME N NS: the daemon has N sessions, all up, its tunnel is up, and NS's kernel has N
# sessions.
all_up() { sessions_up "$1" "$2" && tunnel_up "$1" && [ "$(kernel_sessions "$3")" = "$2" ]; }
# peer_cdns N: the server has seen N or more CDNs with result 1.
peer_cdns() { [ "$(grep -c 'down (peer, result 1' $W/srv.log)" -ge "$1" ]; }
# logged TEXT: the client's log has TEXT (a basic regular expression).
logged() { grep -q "$1" $W/cli.log; }
# lost_and_back IFACE N WHAT: after IFACE of session WHAT was deleted, the client logs it and
# sends a CDN (the server's Nth), and the session comes back up on both sides.
lost_and_back() {
    wait_until 10 logged "its interface $1 (index [0-9]*) was deleted; disconnecting it" ||
        { echo "the client did not log the deleted $1"; rc=1; }
    wait_until 10 peer_cdns "$2" || { echo "the server saw no CDN for the $3 session"; rc=1; }
    step "$3 session down"
    wait_until 20 all_up cli 2 a && wait_until 10 all_up srv 2 b ||
        { echo "the $3 session did not come back"; rc=1; }
}

netns_pair a b
start_l2tpd b srv "$(l2tpd_system srv 192.0.2.2:1701 kernel)
peer profile \"clients\" {
    peer_ipaddr 192.0.2.0/24
    tunnel_profile_name \"t\"
    pseudowire_profile_name \"pw\"
}
tunnel profile \"t\" {
    version 3
}
pseudowire profile \"pw\" {
    interface_name \"pw%d\"
}" || exit 1
start_l2tpd a cli "$(l2tpd_system cli 192.0.2.1:1701 kernel)
pseudowire profile \"eth\" {
    interface_name \"l2tpeth%d\"
}
pseudowire profile \"vlan\" {
    interface_name \"vl%d\"
    local_ip 198.51.100.1
    netmask 255.255.255.0
}
tunnel \"t1\" {
    version 3
    peer 192.0.2.2
}
session \"s1\" {
    tunnel \"t1\"
    pseudowire_type eth
    pseudowire_profile_name \"eth\"
}
session \"s2\" {
    tunnel \"t1\"
    pseudowire_type eth_vlan
    vlan_id 100
    pseudowire_profile_name \"vlan\"
}" || exit 1
step "daemons started"
wait_until 20 sessions_up cli 2 && wait_until 10 sessions_up srv 2 || { echo "sessions not up"; rc=1; }
step "sessions up"
ip -n a l2tp show session
ip -n a link show dev l2tpeth0 >/dev/null || { echo "no l2tpeth0"; rc=1; }
ip -n a -4 addr show dev vl0.100 | grep -q 198.51.100.1 || { echo "no vl0.100 with its address"; rc=1; }

# 1. The eth_vlan session's VLAN interface is deleted.
ip -n a link del vl0.100 || { echo "cannot delete vl0.100"; rc=1; }
lost_and_back vl0.100 1 eth_vlan
ip -n a -4 addr show dev vl0.100 | grep -q 198.51.100.1 || { echo "vl0.100 not back with its address"; rc=1; }
step "eth_vlan session back"

# 2. The eth session's kernel session (and its l2tpeth0) is deleted behind the daemon's back.
# (The kernel refuses `ip link del` of an l2tpeth interface.)
ip -n a link del l2tpeth0 2>/dev/null && echo "note: this kernel lets l2tpeth0 be deleted by ip link"
if ip -n a link show dev l2tpeth0 >/dev/null 2>&1; then
    ids=$(ip -n a l2tp show session | awk '/^Session/ { s = $2; t = $5 } /interface name: l2tpeth0$/ { print t, s }')
    set -- $ids
    ip -n a l2tp del session tunnel_id "$1" session_id "$2" || { echo "ip l2tp del session failed"; rc=1; }
fi
lost_and_back l2tpeth0 2 eth
ip -n a link show dev l2tpeth0 >/dev/null || { echo "l2tpeth0 not back"; rc=1; }
step "eth session back"

# The server saw two CDNs; the client removed its sessions without complaint; the kernel
# tunnels stayed.
[ "$(grep -c 'down (peer' $W/srv.log)" = 2 ] || { echo "the server did not see exactly two CDNs"; rc=1; }
grep -q 'deleting the kernel session' $W/cli.log && { echo "the client failed removing a session"; rc=1; }
[ -n "$(ip -n a l2tp show tunnel)" ] && [ -n "$(ip -n b l2tp show tunnel)" ] ||
    { echo "a kernel tunnel went"; rc=1; }
ctl cli show sessions; ctl srv show sessions; ctl cli show tunnels

# 3. The whole kernel tunnel is deleted behind the client's back: its sessions go with it, the
# client finds the kernel tunnel gone when it places them again, closes its tunnel (StopCCN)
# and, the tunnel persisting, makes it again with its sessions.
old=$(ip -n a l2tp show tunnel | sed -n 's/^Tunnel \([0-9]*\),.*/\1/p' | head -n 1)
ip -n a l2tp del tunnel tunnel_id "$old" || { echo "ip l2tp del tunnel failed"; rc=1; }
wait_until 20 logged "its kernel tunnel $old is gone" || { echo "the client did not see its kernel tunnel gone"; rc=1; }
new_tunnel() { ! ip -n a l2tp show tunnel | grep -q "^Tunnel $old,"; all_up cli 2 a; }
wait_until 30 new_tunnel && wait_until 10 all_up srv 2 b ||
    { echo "the tunnel and its sessions did not come back"; rc=1; }
grep -q 'down (peer, result 2' $W/srv.log || { echo "the server saw no StopCCN"; rc=1; }
step "tunnel back"
ctl cli show tunnels; ip -n a l2tp show tunnel

kill $PID_cli; wait $PID_cli; kill $PID_srv; wait $PID_srv
[ $rc = 0 ] || show_logs cli.log srv.log cli.out srv.out
if [ $rc = 0 ]; then
    echo "PASS l2tpd kernel eth and eth_vlan sessions whose interfaces are deleted go down with a CDN and come back"
else
    echo "FAIL l2tpd kernel eth and eth_vlan sessions whose interfaces are deleted"
fi
exit $rc
