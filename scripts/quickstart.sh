#!/usr/bin/env bash
# Quick start: builds l2tpd and l2tpctl, starts two daemons in network namespaces joined by a
# veth, with an L2TPv3 Ethernet pseudowire between them on the userspace data plane and an
# L2TPv2 PPP session that the daemons terminate themselves (b the LNS with an address pool and
# a local user, a the client that logs in), shows `l2tpctl show tunnels` and `show sessions` on
# both sides, and pings across the pseudowire and through the PPP session.
# Everything it made is removed when it ends. Run as root on Linux with TUN/TAP and Rust; on
# Debian it first installs what else it needs (iproute2, iputils-ping, and a C linker for cargo)
# with apt-get. Run with sudo, it builds as the invoking user with that user's cargo.
#
#   underlay: qs-a 192.0.2.1 <-veth-> qs-b 192.0.2.2   (L2TPv3 over UDP port 1701)
#             qs-a 192.0.2.11                            (L2TPv2, the PPP session's tunnel)
#   overlay:  qs-a l2tpeth0 198.51.100.1 <-pseudowire-> qs-b l2tpeth0 198.51.100.2
#   PPP:      qs-a l2tpppp0 198.51.100.130 (from b's pool) <-> qs-b l2tpppp0 198.51.100.129
#
# Usage: scripts/quickstart.sh [--keep]   (--keep leaves both daemons running; stop with
# `scripts/quickstart.sh --clean`)
set -euo pipefail
cd "$(dirname "$0")/.."

work=/tmp/l2tp-quickstart
clean() {
    for side in a b; do
        if [ -f "$work/$side.pid" ]; then
            kill "$(cat "$work/$side.pid")" 2>/dev/null || true
        fi
    done
    sleep 0.5
    ip netns del qs-a 2>/dev/null || true
    ip netns del qs-b 2>/dev/null || true
}

if [ "${1:-}" = "--clean" ]; then
    clean
    rm -rf "$work"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "quickstart: run as root (it makes network namespaces and TAP devices)" >&2
    exit 1
fi
# The Debian packages of the commands it runs, installed when missing (as scripts/deps.sh does
# for the tests).
need=()
command -v ip >/dev/null || need+=(iproute2)
command -v ping >/dev/null || need+=(iputils-ping)
command -v cc >/dev/null || need+=(gcc libc6-dev)
if [ "${#need[@]}" -gt 0 ]; then
    if ! command -v apt-get >/dev/null; then
        echo "quickstart: install ${need[*]} (their Debian names) first" >&2
        exit 1
    fi
    echo "== installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# cargo: root's, else (under sudo, which resets PATH) the invoking user's rustup install, which
# then builds as that user so that target/ stays theirs.
as_user=()
if ! command -v cargo >/dev/null; then
    home=$(getent passwd "${SUDO_USER:-}" | cut -d: -f6)
    if [ -n "${SUDO_USER:-}" ] && [ -x "$home/.cargo/bin/cargo" ]; then
        as_user=(runuser -u "$SUDO_USER" -- env "HOME=$home" "PATH=$home/.cargo/bin:$PATH")
    else
        echo "quickstart: cargo is missing: install Rust (https://rustup.rs)" >&2
        exit 1
    fi
fi

echo "== building l2tpd and l2tpctl"
"${as_user[@]}" cargo build --quiet -p l2tpd -p l2tpctl
target=$("${as_user[@]}" cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
l2tpd="$target/debug/l2tpd"
l2tpctl="$target/debug/l2tpctl"

clean
rm -rf "$work"
mkdir -p "$work"
[ "${1:-}" = "--keep" ] || trap 'clean; rm -rf "$work"' EXIT

echo "== two network namespaces, qs-a (192.0.2.1) and qs-b (192.0.2.2), joined by a veth"
ip netns add qs-a
ip netns add qs-b
ip link add qs-veth-a netns qs-a type veth peer name qs-veth-b netns qs-b
ip -n qs-a addr add 192.0.2.1/24 dev qs-veth-a
ip -n qs-a addr add 192.0.2.11/24 dev qs-veth-a
ip -n qs-b addr add 192.0.2.2/24 dev qs-veth-b
for ns in qs-a qs-b; do
    ip -n "$ns" link set lo up
    ip -n "$ns" link set "qs-veth-${ns#qs-}" up
done

# Side b accepts L2TPv3 Ethernet pseudowires from 192.0.2.0/24, and L2TPv2 PPP calls from
# 192.0.2.11, whose PPP it terminates itself: it authenticates the user and gives it an address
# from its pool. Side a opens one of each to b, and logs in as alice on the PPP session.
cat >"$work/b.conf" <<EOF
system {
    listen 192.0.2.2:1701
    dataplane userspace
    control_socket $work/b.sock
    pid_file $work/b.pid
}

peer profile "lab" {
    peer_ipaddr 192.0.2.0/24
    tunnel_profile_name "v3"
    session_profile_name "eth"
    pseudowire_profile_name "b"
}

tunnel profile "v3" {
    version 3
}

session profile "eth" {
    pseudowire_type eth
    cookie_length 8
}

pseudowire profile "b" {
    local_ip 198.51.100.2
    netmask 255.255.255.0
}

peer profile "dial-in" {
    peer_ipaddr 192.0.2.11/32
    tunnel_profile_name "v2"
    session_profile_name "ppp"
    pseudowire_profile_name "ppp-users"
}

tunnel profile "v2" {
    version 2
}

session profile "ppp" {
    pseudowire_type ppp
}

pseudowire profile "ppp-users" {
    ppp_profile_name "dial-in"
}

ppp profile "dial-in" {
    local_ip_addr 198.51.100.129
    ip_pool_name "dial-in"
}

ip pool "dial-in" {
    ranges 198.51.100.130-198.51.100.139
}

user "alice" {
    password "wonderland"
}
EOF
cat >"$work/a.conf" <<EOF
system {
    listen 192.0.2.1:1701
    dataplane userspace
    control_socket $work/a.sock
    pid_file $work/a.pid
}

tunnel "to-b" {
    version 3
    peer 192.0.2.2
}

session "pw1" {
    tunnel "to-b"
    pseudowire_type eth
    cookie_length 8
    pseudowire_profile_name "a"
}

pseudowire profile "a" {
    local_ip 198.51.100.1
    netmask 255.255.255.0
}

tunnel "dial-b" {
    version 2
    peer 192.0.2.2
    local 192.0.2.11
}

session "alice" {
    tunnel "dial-b"
    pseudowire_type ppp
    pseudowire_profile_name "login"
}

pseudowire profile "login" {
    ppp_profile_name "alice"
}

ppp profile "alice" {
    user_name "alice"
    user_password "wonderland"
}
EOF

echo "== starting l2tpd in qs-b, then in qs-a"
ip netns exec qs-b "$l2tpd" -c "$work/b.conf" -o "$work/b.log"
ip netns exec qs-a "$l2tpd" -c "$work/a.conf" -o "$work/a.log"

# Both sessions up on both sides, and alice online with an address on b.
up=""
for _ in $(seq 1 150); do
    if [ "$("$l2tpctl" -S "$work/a.sock" show sessions 2>/dev/null | grep -c '\bup\b')" = 2 ] &&
        [ "$("$l2tpctl" -S "$work/b.sock" show sessions 2>/dev/null | grep -c '\bup\b')" = 2 ] &&
        "$l2tpctl" -S "$work/b.sock" show sessions 2>/dev/null | grep -q 'alice *198\.51\.100\.13'; then
        up=yes
        break
    fi
    sleep 0.1
done
for side in a b; do
    echo
    echo "== qs-$side: l2tpctl show tunnels"
    "$l2tpctl" -S "$work/$side.sock" show tunnels
    echo "== qs-$side: l2tpctl show sessions"
    "$l2tpctl" -S "$work/$side.sock" show sessions
done
if [ -z "$up" ]; then
    echo "quickstart: the sessions did not come up within 15 s; logs:" >&2
    tail -n 30 "$work/a.log" "$work/b.log" >&2
    exit 1
fi

echo
echo "== ping across the pseudowire, from qs-a 198.51.100.1 to qs-b 198.51.100.2"
if ! ip netns exec qs-a ping -c 3 -i 0.2 -W 2 198.51.100.2; then
    echo "quickstart: no ping reply across the pseudowire; logs:" >&2
    tail -n 30 "$work/a.log" "$work/b.log" >&2
    exit 1
fi
echo
echo "== ping through the PPP session, from qs-a (alice, on l2tpppp0) to qs-b's end 198.51.100.129"
ip -n qs-a addr show dev l2tpppp0
if ! ip netns exec qs-a ping -c 3 -i 0.2 -W 2 198.51.100.129; then
    echo "quickstart: no ping reply through the PPP session; logs:" >&2
    tail -n 30 "$work/a.log" "$work/b.log" >&2
    exit 1
fi
echo
if [ "${1:-}" = "--keep" ]; then
    echo "quickstart: OK. The daemons keep running: try"
    echo "  $l2tpctl -S $work/a.sock show session to-b pw1"
    echo "  ip netns exec qs-a ping 198.51.100.2"
    echo "  $l2tpctl -S $work/b.sock show sessions       # who is online, with which address"
    echo "and stop them with: $0 --clean"
else
    echo "quickstart: OK (run with --keep to leave the daemons running)"
fi
