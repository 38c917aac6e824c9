#!/usr/bin/env bash
# Runs every cargo-fuzz target for a short, fixed time, seeded with the messages of the captures
# in testdata/. Usage: scripts/fuzz-smoke.sh [SECONDS_PER_TARGET]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}

scripts/fuzz-seed.sh

for target in $(cd fuzz && cargo +nightly fuzz list); do
    echo "fuzz: $target for ${secs}s"
    (cd fuzz && cargo +nightly fuzz run "$target" "corpus/$target" -- \
        -max_total_time="$secs" -print_final_stats=1 2>&1 | grep -E 'stat::number_of_executed_units|stat::new_units_added|ERROR|panicked|Done' || true)
    # A crash leaves an artifact and a non-zero status; fail loudly if one appeared.
    if compgen -G "fuzz/artifacts/$target/crash-*" >/dev/null; then
        echo "fuzz: $target crashed:" fuzz/artifacts/"$target"/crash-*
        exit 1
    fi
done
