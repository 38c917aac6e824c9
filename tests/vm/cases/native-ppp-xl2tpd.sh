# vm-timeout: 240
# Guest case: l2tpd terminating PPP itself (native PPP, kernel data plane) against real
# xl2tpd and pppd, in two network namespaces (veth underlay 192.0.2.0/24, PPP
# 198.51.100.0/24). Each run is captured (tcpdump on the LNS's veth) for tshark on the host.
#
#   pap, chap, mschapv2: xl2tpd + pppd as the LAC and client, l2tpd as the LNS with a pool and
#     a DNS server, its profile asking for that one method; alice comes from a users file in
#     chap-secrets format (pap, mschapv2) or a user block (chap). pppd gets the pool's first
#     address and the DNS server (usepeerdns), IPv6CP comes up (link-local addresses on both
#     ppp0), pings cross both ways over IPv4 and IPv6; l2tpctl shows the user, the address and
#     the method; l2tpwatch sees PPP UP with the user. With MS-CHAPv2, pppd checks l2tpd's
#     authenticator response and would fail the link if it were wrong.
#   wrong-password: pppd is refused; l2tpd logs the user and the reason (never a password),
#     show system counts it, the CDN has result 2 (l2tpwatch, and tshark in the capture).
#   lac: l2tpd as the LAC and PPP client (user and password in its ppp profile) against
#     xl2tpd + pppd as the LNS (require-chap, a chap-secrets file, pppd giving the address):
#     l2tpd's ppp0 gets the address pppd gives, pings cross both ways.
set -u
CASE=native-ppp-xl2tpd
. /mnt/host/cases/lib-l2tpd.sh
. /mnt/host/cases/lib-native-ppp.sh
fail=0

USERS_FILE=$W/chap-secrets
# alice's line, and others around it that must not match her.
cat >"$USERS_FILE" <<'EOF'
# client   server   secret             address
bob        other    "bob's secret"     -
alice      *        "alice-secret"     *
"carol smith" *     'carol secret'     198.51.100.99
EOF
chmod 600 "$USERS_FILE"

# lns_run NAME METHOD AUTH_LINES USERS_BLOCKS: one run with l2tpd as the LNS; alice logs in
# with METHOD (pap, chap, mschapv2).
lns_run() {
    local name=$1 method=$2 rc=0 tid sid
    step "$name: start"
    netns_pair lac lns
    capture_start "$name"
    start_l2tpd lns srv "$(lns_conf srv "$3" "$4")" || return 1
    watch_start srv
    xl2tpd_lac alice alice-secret
    wait_until 40 has_addr lac 198.51.100.10 && wait_until 10 has_addr lns 198.51.100.1 ||
        { echo "ppp0 not up with the pool's address"; rc=1; }
    step "$name: PPP up"
    ip -n lac addr show dev ppp0; ip -n lns addr show dev ppp0
    # IPCP gave the DNS server; IPv6CP gave link-local addresses at both ends.
    grep -q 'nameserver 192.0.2.53' /etc/ppp/resolv.conf 2>/dev/null ||
        { echo "pppd got no DNS server"; cat /etc/ppp/resolv.conf; rc=1; }
    local ll_lac ll_lns
    wait_until 10 sh -c "ip -n lac -6 addr show dev ppp0 | grep -q 'inet6 fe80::.* peer fe80::'"
    ll_lns=$(peer_ll lac) ll_lac=$(peer_ll lns)
    [ -n "$ll_lns" ] && [ -n "$ll_lac" ] || { echo "no IPv6 link-local addresses"; rc=1; }
    # Pings both ways, IPv4 and IPv6 link-local.
    ip netns exec lac ping -c 1 -w 10 198.51.100.1 >/dev/null
    ip netns exec lac ping -c 2 -i 0.2 -W 2 198.51.100.1 || rc=1
    ip netns exec lns ping -c 2 -i 0.2 -W 2 198.51.100.10 || rc=1
    ip netns exec lac ping -6 -c 1 -w 10 "$ll_lns%ppp0" >/dev/null
    ip netns exec lac ping -6 -c 2 -i 0.2 -W 2 "$ll_lns%ppp0" || rc=1
    ip netns exec lns ping -6 -c 2 -i 0.2 -W 2 "$ll_lac%ppp0" || rc=1
    # Who is online, as l2tpctl shows it.
    ctl srv show sessions
    [ "$(json srv ppp_user show sessions)" = alice ] || { echo "show sessions: no user alice"; rc=1; }
    [ "$(json srv ppp_ipv4 show sessions)" = 198.51.100.10 ] || { echo "show sessions: no address"; rc=1; }
    tid=$(json srv tid show sessions) sid=$(json srv sid show sessions)
    ctl srv show session "$tid" "$sid"
    [ "$(json srv auth show session "$tid" "$sid")" = "$method" ] ||
        { echo "show session: the method is not $method"; rc=1; }
    [ "$(json srv user show session "$tid" "$sid")" = alice ] || { echo "show session: no user"; rc=1; }
    # l2tpwatch saw the user come online; no pppd runs on l2tpd's side.
    wait_until 5 grep -q "PPP UP: tid=$tid sid=$sid .*user=\"alice\" address=198.51.100.10 auth=$method" \
        "$W/srv.watch" || { echo "l2tpwatch saw no PPP UP for alice"; cat "$W/srv.watch"; rc=1; }
    [ -z "$(pppd_in lns)" ] || { echo "a pppd runs on l2tpd's side"; rc=1; }
    grep -q "PPP up: user \"alice\", peer 198.51.100.10" "$W/srv.log" || { echo "no PPP up in the log"; rc=1; }
    case $method in
    pap) grep -q 'PAP authentication succeeded' "$W/xl2tpd.log" || { echo "pppd: no PAP"; rc=1; } ;;
    chap) grep -q 'CHAP authentication succeeded' "$W/xl2tpd.log" || { echo "pppd: no CHAP"; rc=1; } ;;
    mschapv2)
        # pppd took l2tpd's authenticator response (it fails the link when it is wrong).
        grep -q 'rcvd \[CHAP Success id=0x[0-9a-f]* "S=' "$W/xl2tpd.log" &&
            grep -q 'CHAP authentication succeeded' "$W/xl2tpd.log" ||
            { echo "pppd: no MS-CHAPv2 success with an authenticator response"; rc=1; } ;;
    esac
    stop_all
    local auth
    case $method in
    pap) auth="pap.code == 1" ;;
    chap) auth="lcp.opt.algorithm == 5" ;;
    mschapv2) auth="lcp.opt.algorithm == 0x81" ;;
    esac
    capture_stop "$name" "${PPP_EXPECT[@]}" "$auth" "chap.code == 3 || pap.code == 2" \
        "ipcp.opt.pri_dns_address == 192.0.2.53" "ipcp.opt.ip_address == 198.51.100.10"
    [ $rc = 0 ] || show_logs srv.log xl2tpd.log
    rm -f "$W"/*.log "$W"/*.out "$W"/*.watch
    return $rc
}

# wrong_password_run: pppd gives alice's name with another password; l2tpd refuses it.
wrong_password_run() {
    local rc=0 name=wrong-password
    step "$name: start"
    netns_pair lac lns
    capture_start $name
    start_l2tpd lns srv "$(lns_conf srv "    auth_chap true
    auth_mschapv2 false" "user \"alice\" {
    password \"alice-secret\"
}")" || return 1
    watch_start srv
    xl2tpd_lac alice not-alice-secret
    refused() { ctl srv -j show system | grep -q '"wrong_credentials": 1'; }
    wait_until 20 refused || { echo "show system counts no wrong_credentials"; ctl srv show system; rc=1; }
    [ "$(metric lns http://127.0.0.1:9701/metrics 'l2tpd_ppp_auth_failures_total{reason="wrong_credentials"}')" = 1 ] ||
        { echo "the metric counts no wrong_credentials"; rc=1; }
    wait_until 10 grep -q 'SESSION DOWN: .* result=2 ' "$W/srv.watch" ||
        { echo "no CDN with result 2"; cat "$W/srv.watch"; rc=1; }
    grep 'PPP authentication of user "alice" (chap) failed: wrong password or response' "$W/srv.log" ||
        { echo "the refusal is not logged with the user and the reason"; rc=1; }
    ! grep -q 'alice-secret' "$W/srv.log" "$W/srv.out" "$W/srv.watch" || { echo "a password in the log"; rc=1; }
    grep -q 'CHAP authentication failed' "$W/xl2tpd.log" || { echo "pppd was not refused"; rc=1; }
    has_addr lac 198.51.100.10 && { echo "pppd got an address"; rc=1; }
    ctl srv -j show system | grep -A3 '"ppp_down"'
    stop_all
    capture_stop $name "lcp" "chap.code == 4" "l2tp.avp.message_type == 14" \
        "!ipcp" "!l2tp.type == 0 && !ppp"
    [ $rc = 0 ] || show_logs srv.log xl2tpd.log
    rm -f "$W"/*.log "$W"/*.out "$W"/*.watch
    return $rc
}

# lac_run: l2tpd as the LAC and PPP client against xl2tpd + pppd as the LNS.
lac_run() {
    local rc=0 name=lac
    step "$name: start"
    netns_pair lac lns
    capture_start $name
    printf 'carol lns "carol-secret" *\n' >/etc/ppp/chap-secrets
    chmod 600 /etc/ppp/chap-secrets
    printf '%s\n' nodetach debug "logfd 2" nodefaultroute "mtu 1400" "mru 1400" noccp novj +ipv6 \
        "ms-dns 192.0.2.53" >"$W/options.lns"
    cat >"$W/lns.conf" <<CONF
[global]
listen-addr = 192.0.2.2
[lns default]
ip range = 198.51.100.70-198.51.100.79
local ip = 198.51.100.1
require authentication = yes
require chap = yes
refuse pap = yes
name = lns
pppoptfile = $W/options.lns
CONF
    ip netns exec lns xl2tpd -D -c "$W/lns.conf" -p "$W/lns.pid" -C "$W/lns.ctl" >"$W/xl2tpd.log" 2>&1 &
    XL2TPD=$!
    start_l2tpd lac cli "$(l2tpd_system cli 192.0.2.1:1701 kernel)
pseudowire profile \"native\" {
    ppp_profile_name \"client\"
}
ppp profile \"client\" {
    user_name \"carol\"
    user_password \"carol-secret\"
}
tunnel \"lns\" {
    version 2
    peer 192.0.2.2
    persist false
    pseudowire_profile_name \"native\"
}
session \"call1\" {
    tunnel \"lns\"
    pseudowire_type ppp
    session_type laic
}" || return 1
    wait_until 40 has_addr lac 198.51.100.70 || { echo "l2tpd's ppp0 did not get pppd's address"; rc=1; }
    step "$name: PPP up"
    ip -n lac addr show dev ppp0; ip -n lns addr show dev ppp0
    ip netns exec lac ping -c 1 -w 10 198.51.100.1 >/dev/null
    ip netns exec lac ping -c 2 -i 0.2 -W 2 198.51.100.1 || rc=1
    ip netns exec lns ping -c 2 -i 0.2 -W 2 198.51.100.70 || rc=1
    ctl cli show sessions
    local tid sid
    tid=$(json cli tid show sessions) sid=$(json cli sid show sessions)
    ctl cli show session "$tid" "$sid"
    # The client's view: its own address and the server's, the name it used.
    [ "$(json cli local_ipv4 show session "$tid" "$sid")" = 198.51.100.70 ] &&
        [ "$(json cli peer_ipv4 show session "$tid" "$sid")" = 198.51.100.1 ] &&
        [ "$(json cli user show session "$tid" "$sid")" = carol ] ||
        { echo "show session: not carol at 198.51.100.70"; rc=1; }
    grep -q 'rcvd \[CHAP Response id=0x[0-9a-f]* <[0-9a-f]*>, name = "carol"\]' "$W/xl2tpd.log" &&
        grep -q 'sent \[CHAP Success' "$W/xl2tpd.log" || { echo "pppd did not authenticate carol"; rc=1; }
    [ -z "$(pppd_in lac)" ] || { echo "a pppd runs on l2tpd's side"; rc=1; }
    stop_all
    rm -f /etc/ppp/chap-secrets
    capture_stop $name "${PPP_EXPECT[@]}" "chap.code == 2 && chap.name == \"carol\"" "chap.code == 3" \
        "ipcp.opt.ip_address == 198.51.100.70"
    [ $rc = 0 ] || show_logs cli.log xl2tpd.log
    rm -f "$W"/*.log "$W"/*.out
    return $rc
}

result() { if [ "$2" = 0 ]; then echo "PASS $1"; else echo "FAIL $1"; fail=1; fi; }

lns_run pap pap "    auth_pap true
    auth_chap false
    auth_mschapv2 false
    users_file \"$USERS_FILE\"" ""
result "native PPP LNS, PAP, users file" $?
lns_run chap chap "    auth_chap true
    auth_mschapv2 false" "user \"alice\" {
    password \"alice-secret\"
}"
result "native PPP LNS, CHAP-MD5, user block" $?
lns_run mschapv2 mschapv2 "    users_file \"$USERS_FILE\"" ""
result "native PPP LNS, MS-CHAPv2 (pppd checks the authenticator response)" $?
wrong_password_run
result "native PPP LNS, wrong password: refused, CDN 2, counted, logged" $?
lac_run
result "native PPP LAC against xl2tpd + pppd as LNS" $?
exit $fail
