#!/usr/bin/env bash
# Seeds the cargo-fuzz corpora: the UDP payloads of every captured packet in testdata/ for the
# wire-format targets, the example and test configs for `config`, and control-socket request
# lines for `ctl_request`. Existing corpus files are kept. Used by fuzz-smoke.sh and fuzz-long.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

seeds=fuzz/corpus/seeds
rm -rf "$seeds"
mkdir -p "$seeds"
n=0
for pcap in testdata/*/*.pcap; do
    [ -e "$pcap" ] || continue
    while read -r hex; do
        [ -n "$hex" ] || continue
        n=$((n + 1))
        printf '%s' "$hex" | xxd -r -p >"$seeds/$(basename "$pcap" .pcap)-$n"
    done < <(tshark -r "$pcap" -T fields -e udp.payload 2>/dev/null)
done
echo "fuzz: $n seed inputs from testdata"

conf_seeds=fuzz/corpus/conf-seeds
ctl_seeds=fuzz/corpus/ctl-seeds
rm -rf "$conf_seeds" "$ctl_seeds"
mkdir -p "$conf_seeds" "$ctl_seeds"
for f in examples/*.conf l2tp-config/tests/fixtures/*.conf; do
    [ -e "$f" ] && cp "$f" "$conf_seeds/$(basename "$(dirname "$f")")-$(basename "$f")"
done
i=0
for line in '{"version":1,"request":"ShowSystem"}' \
    '{"version":1,"request":{"ShowTunnel":{"tunnel":"t1"}}}' \
    '{"version":1,"request":{"ShowSessions":{"tunnel":7}}}' \
    '{"version":1,"request":"Reload"}' '{"version":1,"request":"Watch"}'; do
    i=$((i + 1))
    printf '%s\n' "$line" >"$ctl_seeds/line-$i"
done

for target in $(cd fuzz && cargo +nightly fuzz list); do
    mkdir -p "fuzz/corpus/$target"
    case "$target" in
        config) from=$conf_seeds ;;
        ctl_request) from=$ctl_seeds ;;
        *) from=$seeds ;;
    esac
    cp -n "$from"/* "fuzz/corpus/$target/" 2>/dev/null || true
done
