#!/usr/bin/env bash
# Instructions per encode/decode of SCCRQ and ICRQ, counted by callgrind (stable on noisy
# machines). Prints a Markdown table. Usage: bench/codec-callgrind.sh [ITERATIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000}
cargo build -q --release -p l2tp-proto --example codec_ops
bin=${CARGO_TARGET_DIR:-target}/release/examples/codec_ops
count() {
    local out
    out=$(mktemp)
    valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" "$1" "$2" >/dev/null 2>&1
    awk '/^summary:/ {print $2}' "$out"
    rm -f "$out"
}
echo "| operation | instructions per operation |"
echo "| --- | ---: |"
for op in encode-sccrq-v2 decode-sccrq-v2 encode-icrq-v2 decode-icrq-v2 \
          encode-sccrq-v3 decode-sccrq-v3 encode-icrq-v3 decode-icrq-v3; do
    base=$(count "$op" 0)
    total=$(count "$op" "$n")
    echo "| $op | $(( (total - base) / n )) |"
done
