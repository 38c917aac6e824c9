# Helpers for the guest cases that run xl2tpd (sourced, not a case).

# xl2tpd_configs DIR: writes into DIR the xl2tpd configs of the two ends of an L2TPv2 call with
# PPP over the 192.0.2.0/24 underlay, no authentication, and the options of their pppd:
#   lac.conf, options.lac: listens on 192.0.2.1 and dials 192.0.2.2 at once (no redial); its
#     pppd is named lac.
#   lns.conf, options.lns: listens on 192.0.2.2, is 198.51.100.1 and hands out
#     198.51.100.10-20.
xl2tpd_configs() {
    local d=$1
    local ppp="noauth nodetach debug logfd 2 nodefaultroute noipdefault mtu 1400 mru 1400 noccp novj"
    echo "$ppp name lac" | tr ' ' '\n' >"$d/options.lac"
    echo "$ppp" | tr ' ' '\n' >"$d/options.lns"
    cat >"$d/lac.conf" <<CONF
[global]
listen-addr = 192.0.2.1
[lac test]
lns = 192.0.2.2
require authentication = no
pppoptfile = $d/options.lac
autodial = yes
redial = no
CONF
    cat >"$d/lns.conf" <<CONF
[global]
listen-addr = 192.0.2.2
[lns default]
ip range = 198.51.100.10-198.51.100.20
local ip = 198.51.100.1
require authentication = no
pppoptfile = $d/options.lns
CONF
}
