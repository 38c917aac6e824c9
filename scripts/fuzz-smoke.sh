#!/usr/bin/env bash
# Runs every cargo-fuzz target for a short, fixed time, seeded with the messages of the captures
# in testdata/. Usage: scripts/fuzz-smoke.sh [SECONDS_PER_TARGET]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}

# Seed corpora: the UDP payloads of every captured packet.
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

# Text seeds: the example and test configs, and control-socket request lines.
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
    echo "fuzz: $target for ${secs}s"
    (cd fuzz && cargo +nightly fuzz run "$target" "corpus/$target" -- \
        -max_total_time="$secs" -print_final_stats=1 2>&1 | grep -E 'stat::number_of_executed_units|stat::new_units_added|ERROR|panicked|Done' || true)
    # A crash leaves an artifact and a non-zero status; fail loudly if one appeared.
    if compgen -G "fuzz/artifacts/$target/crash-*" >/dev/null; then
        echo "fuzz: $target crashed:" fuzz/artifacts/"$target"/crash-*
        exit 1
    fi
done
