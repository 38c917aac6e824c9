# Helpers for the guest scripts that run strongSwan (sourced, not a case): l2tpd/tests/ipsec
# and l2tpd/tests/ipsec_nat ship this file in their share as cases/lib-strongswan.sh.

# strongswan_conf DIR CHARON_PLUGINS SWANCTL_PLUGINS [CHARON_SETTINGS]: DIR/strongswan.conf
# for a charon-systemd of its own, loading CHARON_PLUGINS, with its vici socket and its log
# (charon.log, IKE and kernel at level 2) in DIR, nothing to the journal, and CHARON_SETTINGS
# (lines of its section); and for swanctl, loading SWANCTL_PLUGINS and talking to that socket.
strongswan_conf() {
    cat >"$1/strongswan.conf" <<EOF
charon-systemd {
    load = $2
    ${4:-}
    plugins {
        vici {
            socket = unix://$1/charon.vici
        }
    }
    journal {
        default = -1
    }
    filelog {
        charon {
            path = $1/charon.log
            time_format = %T
            default = 1
            ike = 2
            knl = 2
            flush_line = yes
        }
    }
}
swanctl {
    load = $3
    socket = unix://$1/charon.vici
}
EOF
}
