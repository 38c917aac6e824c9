#!/usr/bin/env bash
# Has tshark judge every capture the integration tests left in the captures directory
# ($L2TP_CAPTURE_DIR, else target/captures): fails on any malformed packet or any expert info of
# severity error, and fails if the directory holds no capture at all (the tests did not run, or
# stopped capturing). A capture NAME.pcap may come with NAME.args, the extra tshark arguments
# (one per line) its test decodes it with, e.g. `-d` for L2TP on a non-standard port, and
# NAME.expect, display filters (one per line) of which each must match at least one packet,
# or, written with a leading `!`, none (e.g. `chap.code == 4`, `!ipcp`).
# Usage: scripts/judge-captures.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-${L2TP_CAPTURE_DIR:-target/captures}}

shopt -s nullglob
pcaps=("$dir"/*.pcap)
if [ ${#pcaps[@]} -eq 0 ]; then
    echo "judge-captures: no capture in $dir: the integration tests left nothing to judge" >&2
    exit 1
fi
# The tunnels carry test traffic (iperf3's data, pings) whose arbitrary payload a heuristic
# dissector may take for its protocol and report as broken; the judge is about the tunnels, so
# the protocols tshark recognises in TCP and UDP payloads by heuristics are off (as in
# l2tp-testkit's tshark; none of them is the tunnels' or the headers' inside them).
mapfile -t heuristics_off < <(tshark -G heuristic-decodes 2>/dev/null |
    awk -F'\t' '$1 == "tcp" || $1 == "udp" { print $2 }' | sort -u |
    awk '{ print "--disable-protocol"; print $1 }')
bad=0
for pcap in "${pcaps[@]}"; do
    args=("${heuristics_off[@]}")
    if [ -f "${pcap%.pcap}.args" ]; then
        mapfile -t -O "${#args[@]}" args <"${pcap%.pcap}.args"
    fi
    frames=$(tshark -n "${args[@]}" -r "$pcap" -T fields -e frame.number 2>/dev/null | wc -l)
    problems=$(tshark -n "${args[@]}" -r "$pcap" \
        -Y '_ws.malformed || _ws.expert.severity >= error' \
        -T fields -e frame.number -e _ws.expert.message 2>/dev/null)
    l2tp=$(tshark -n "${args[@]}" -r "$pcap" -Y l2tp -T fields -e frame.number 2>/dev/null | wc -l)
    missing=() checked=""
    if [ -f "${pcap%.pcap}.expect" ]; then
        checked=", as expected ($(grep -c . "${pcap%.pcap}.expect") filters)"
        while IFS= read -r filter; do
            [ -n "$filter" ] || continue
            if ! matched=$(tshark -n "${args[@]}" -r "$pcap" -Y "${filter#!}" -T fields \
                -e frame.number 2>/dev/null); then
                missing+=("$filter (tshark refuses the filter)")
                continue
            fi
            n=$(grep -c . <<<"$matched" || true)
            if [ "${filter#!}" != "$filter" ]; then
                [ "$n" -eq 0 ] || missing+=("$filter (matched frames $(echo $matched))")
            else
                [ "$n" -gt 0 ] || missing+=("$filter")
            fi
        done <"${pcap%.pcap}.expect"
    fi
    if [ -n "$problems" ]; then
        echo "judge-captures: $pcap:" >&2
        sed 's/^/  frame /' <<<"$problems" >&2
        bad=1
    elif [ "$l2tp" -eq 0 ]; then
        echo "judge-captures: $pcap: no packet decodes as L2TP (of $frames)" >&2
        bad=1
    elif [ ${#missing[@]} -gt 0 ]; then
        echo "judge-captures: $pcap: not as expected:" >&2
        printf '  %s\n' "${missing[@]}" >&2
        bad=1
    else
        echo "judge-captures: $pcap: $frames frames ($l2tp L2TP), clean$checked"
    fi
done
exit $bad
