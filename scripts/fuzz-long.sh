#!/usr/bin/env bash
# Long fuzz campaign: runs the cargo-fuzz targets for SECONDS each (default 1800), at most JOBS
# (default 2) at a time, at the lowest CPU priority, each logging to LOGDIR/TARGET.log.
# Usage: scripts/fuzz-long.sh [SECONDS] [LOGDIR] [TARGET...]
# The figures in docs/robustness.md come from the "stat::" lines and the last "#N" status line
# of each log. A crash leaves fuzz/artifacts/TARGET/crash-* and is reported at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-1800}
logdir=${2:-fuzz/logs}
shift 2 || true
jobs=${JOBS:-2}
mkdir -p "$logdir"
logdir=$(cd "$logdir" && pwd)

scripts/fuzz-seed.sh
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cd fuzz && cargo +nightly fuzz list)
fi
(cd fuzz && nice -n 19 cargo +nightly fuzz build)
bindir=$(pwd)/fuzz/target/x86_64-unknown-linux-gnu/release

run_one() {
    local target=$1
    echo "fuzz: $target start $(date -u +%FT%TZ)" >"$logdir/$target.log"
    # The built binary is run directly (not `cargo fuzz run`), so that edits to the tree during a
    # campaign do not trigger rebuilds; `cargo +nightly fuzz build TARGET` refreshes one target.
    mkdir -p "fuzz/artifacts/$target"
    (cd fuzz && nice -n 19 "$bindir/$target" -artifact_prefix="artifacts/$target/" \
        -max_total_time="$secs" -print_final_stats=1 "corpus/$target" >>"$logdir/$target.log" 2>&1) || true
    echo "fuzz: $target end $(date -u +%FT%TZ) corpus $(ls "fuzz/corpus/$target" | wc -l)" \
        >>"$logdir/$target.log"
}

for target in "${targets[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
        wait -n || true
    done
    run_one "$target" &
done
wait

status=0
for target in "${targets[@]}"; do
    if compgen -G "fuzz/artifacts/$target/crash-*" >/dev/null; then
        echo "fuzz: $target crashed:" fuzz/artifacts/"$target"/crash-*
        status=1
    fi
done
exit $status
