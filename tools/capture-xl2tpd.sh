#!/bin/bash
# Capture real L2TPv2 control traffic between two xl2tpd instances (LAC and
# LNS), as test vectors for the project's codec.
#
#   netns cx$$-lac: xl2tpd LAC 192.0.2.1 <-- veth --> netns cx$$-lns: xl2tpd LNS 192.0.2.2
#
# The kernel needs no L2TP or PPP support: a stub replaces /usr/sbin/pppd (by a
# bind mount inside the private mount namespace of `ip netns exec`) and holds
# the pty open so that the call stays up.
#
# Usage: tools/capture-xl2tpd.sh OUTDIR [SCENARIO...]
#   SCENARIO: plain | challenge | hidden (default: all three)
#   writes OUTDIR/SCENARIO.pcap (Ethernet, UDP port 1701 only)
# Each scenario: tunnel + call come up; the LAC's stub pppd is ended, so the
# LAC clears the call (CDN); `xl2tpd-control disconnect-lac` then makes it
# send StopCCN. Every wait is bounded and each scenario runs under
# `timeout 30` (2-5 s normally); namespaces, daemons and the work dir are
# removed on success, failure, timeout and Ctrl-C.
# Secrets (l2tp-secrets `* * SECRET`): plain none, challenge
# "challenge-secret", hidden "hidden-secret" (see testdata/xl2tpd/README.md).
# xl2tpd 1.3.18 sends a Random Vector with `hidden bit = yes` but hides no
# AVP (built without TEST_HIDDEN).
#
# Env: HELLO=auto|1|0  wait for a HELLO from the LAC before the teardown
#               (auto: in "plain" only). xl2tpd sends one after 60 s of
#               silence and has no option to shorten this, so the LAC runs
#               under libfaketime (apt package `faketime`) sped up 30x: HELLO
#               after ~2 s. Without faketime, auto skips the HELLO.
#      KEEP=1   keep the work dir (configs, logs).
# Needs (Debian): xl2tpd iproute2 tcpdump; optionally faketime, tshark (checks).
set -uo pipefail

OUT=${1:?usage: $0 OUTDIR [plain|challenge|hidden ...]}
shift
SCENARIOS=("$@")
[ ${#SCENARIOS[@]} -gt 0 ] || SCENARIOS=(plain challenge hidden)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

for c in xl2tpd xl2tpd-control tcpdump ip; do
    command -v "$c" >/dev/null || { echo "missing: $c" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "needs root (netns)" >&2; exit 2; }

P=cx$$
D=$(mktemp -d /tmp/capture-xl2tpd.XXXXXX)
pids=()

stop_all() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        local alive=0
        for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && break
        sleep 0.1
    done
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    pids=()
    # anything still running inside the namespaces (pppd stubs, xl2tpd)
    for n in lac lns; do
        for p in $(ip netns pids "$P-$n" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    done
    ip netns del "$P-lac" 2>/dev/null
    ip netns del "$P-lns" 2>/dev/null
}
cleanup() {
    stop_all
    if [ "${KEEP:-0}" = 1 ]; then echo "work dir kept: $D" >&2; else rm -rf "$D"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for SECONDS FILE REGEX: poll until FILE matches REGEX
wait_for() {
    local end=$((SECONDS + $1))
    while [ $SECONDS -lt $end ]; do
        grep -q -E "$3" "$2" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "timeout waiting for /$3/ in $2" >&2
    return 1
}

cat >"$D/pppd-stub" <<'EOF'
#!/bin/sh
# stand-in for pppd (no /dev/ppp here): hold the pty so xl2tpd keeps the call up
exec sleep 600 <"$1" >"$1"
EOF
chmod +x "$D/pppd-stub"
: >"$D/options"

# Run "$@" in netns $1, with the stub pppd and xl2tpd's run dir; $! is the
# daemon itself (exec), in its own session.
in_ns() {
    local ns=$1
    shift
    ip netns exec "$ns" setsid sh -c '
        mkdir -p /var/run/xl2tpd
        mount --bind "$0" /usr/sbin/pppd || exit 1
        exec "$@"' "$D/pppd-stub" "$@"
}

# write_conf ROLE SCENARIO -> $D/ROLE.conf
write_conf() {
    local role=$1 sc=$2 me peer extra=""
    case $sc in
    plain) extra="challenge = no
hidden bit = no" ;;
    challenge) extra="challenge = yes
hidden bit = no" ;;
    hidden) extra="challenge = yes
hidden bit = yes" ;;
    esac
    if [ "$role" = lac ]; then me=192.0.2.1 peer=192.0.2.2; else me=192.0.2.2 peer=192.0.2.1; fi
    {
        printf '[global]\nlisten-addr = %s\nport = 1701\n' "$me"
        printf 'auth file = %s/l2tp-secrets\n' "$D"
        printf 'debug tunnel = yes\ndebug state = yes\n'
        if [ "$role" = lac ]; then
            printf '[lac test]\nlns = %s\nhostname = lac\nname = lac\n' "$peer"
            printf 'autodial = yes\nredial = no\n'
        else
            printf '[lns default]\nhostname = lns\nname = lns\n'
            printf 'ip range = 198.51.100.10-198.51.100.20\nlocal ip = 198.51.100.1\n'
        fi
        printf 'require authentication = no\nrefuse pap = yes\nrefuse chap = yes\n'
        printf 'pppoptfile = %s/options\nlength bit = yes\n%s\n' "$D" "$extra"
    } >"$D/$role.conf"
}

secret_for() {
    case $1 in
    plain) echo "" ;;
    challenge) echo "challenge-secret" ;;
    hidden) echo "hidden-secret" ;;
    esac
}

run_scenario() {
    local sc=$1 secret
    secret=$(secret_for "$sc")
    echo "== $sc (secret: '${secret:-none}')"
    rm -f "$D"/*.out "$D"/*.ctl "$D"/*.pid "$D/cap.pcap"
    if [ -n "$secret" ]; then printf '* * %s\n' "$secret" >"$D/l2tp-secrets"; else : >"$D/l2tp-secrets"; fi
    write_conf lac "$sc"
    write_conf lns "$sc"

    for n in lac lns; do ip netns add "$P-$n" && ip -n "$P-$n" link set lo up || return 1; done
    ip link add "${P}a" netns "$P-lac" type veth peer name "${P}b" netns "$P-lns" || return 1
    ip -n "$P-lac" addr add 192.0.2.1/24 dev "${P}a"
    ip -n "$P-lns" addr add 192.0.2.2/24 dev "${P}b"
    ip -n "$P-lac" link set "${P}a" up
    ip -n "$P-lns" link set "${P}b" up

    ip netns exec "$P-lac" tcpdump -n -U -s 0 -i "${P}a" -w "$D/cap.pcap" udp port 1701 \
        >"$D/tcpdump.out" 2>&1 &
    local capture=$!
    pids+=($capture)
    wait_for 5 "$D/tcpdump.out" 'listening on' || return 1

    in_ns "$P-lns" xl2tpd -D -c "$D/lns.conf" -p "$D/lns.pid" -C "$D/lns.ctl" >"$D/lns.out" 2>&1 &
    pids+=($!)
    wait_for 5 "$D/lns.out" 'Listening on IP address' || return 1

    local pre=() hello=0
    case ${HELLO:-auto} in
    1) hello=1 ;;
    auto) [ "$sc" = plain ] && hello=1 ;;
    esac
    if [ $hello = 1 ]; then
        if command -v faketime >/dev/null; then
            pre=(faketime -f "+0 x30")
        else
            echo "   (faketime not installed: no HELLO in this capture)" >&2
            hello=0
        fi
    fi
    in_ns "$P-lac" "${pre[@]}" xl2tpd -D -c "$D/lac.conf" -p "$D/lac.pid" -C "$D/lac.ctl" >"$D/lac.out" 2>&1 &
    pids+=($!)
    wait_for 10 "$D/lac.out" 'Call established' || return 1
    # let the LNS acknowledge the ICCN (ZLB) before tearing down
    sleep 0.5
    if [ $hello = 1 ]; then
        wait_for 10 "$D/lns.out" "message type is Hello" || return 1
        sleep 0.5
    fi

    # CDN: end the LAC's (stub) pppd; xl2tpd then clears the call
    local p stub=""
    for p in $(ip netns pids "$P-lac"); do
        [ "$(cat /proc/"$p"/comm 2>/dev/null)" = sleep ] && stub=$p
    done
    [ -n "$stub" ] || { echo "no pppd stub in $P-lac" >&2; return 1; }
    kill "$stub"
    wait_for 10 "$D/lns.out" 'Call-Disconnect-Notify|disconnect' || return 1
    sleep 0.5
    # StopCCN: tear the tunnel down from the LAC
    timeout 5 ip netns exec "$P-lac" xl2tpd-control -c "$D/lac.ctl" disconnect-lac test >"$D/ctl.out" 2>&1 || {
        cat "$D/ctl.out" >&2
        return 1
    }
    wait_for 10 "$D/lns.out" 'StopCCN|Connection closed|tunnel.*clos' || return 1
    sleep 1

    kill -INT "$capture" 2>/dev/null
    wait "$capture" 2>/dev/null
    cp "$D/cap.pcap" "$OUT/$sc.pcap"
    stop_all
    echo "   -> $OUT/$sc.pcap ($(stat -c %s "$OUT/$sc.pcap") bytes)"
    if command -v tshark >/dev/null; then
        tshark -r "$OUT/$sc.pcap" 2>/dev/null | sed 's/^/   /'
    fi
}

rc=0
for sc in "${SCENARIOS[@]}"; do
    case $sc in plain | challenge | hidden) ;; *)
        echo "unknown scenario: $sc" >&2
        exit 2
        ;;
    esac
    # each scenario in a subshell with its own time limit
    if ! timeout --foreground -k 2 30 bash -c "$(declare -f run_scenario write_conf secret_for wait_for stop_all in_ns); $(declare -p D P OUT); pids=(); trap stop_all EXIT; trap 'exit 124' TERM INT; run_scenario $sc"; then
        echo "!! scenario $sc failed; logs:" >&2
        for f in lac.out lns.out ctl.out; do
            [ -s "$D/$f" ] && { echo "--- $f" >&2; tail -30 "$D/$f" >&2; }
        done
        rc=1
    fi
    stop_all
done
exit $rc
