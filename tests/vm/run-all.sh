#!/usr/bin/env bash
# Builds the guest (as root) and runs every case in tests/vm/cases, or those named as arguments.
# A case is a script run in a fresh guest with tests/vm shared as /mnt/host; one whose header
# says "# vm-guests: 2" runs in two guests, NAME-a and NAME-b, linked eth0 to eth0
# (192.0.2.1/24 and 192.0.2.2/24). Prints one line per case, then "N passed, M failed".
# The guest sees a staging directory as /mnt/host: cases/, examples/ (the shipped example
# configs), bin/ (the project's l2tpd, l2tpctl, l2tpwatch and l2tp-loadgen, built here with cargo unless
# L2TP_VM_BIN names a directory that holds them) and captures/: a case that leaves packet
# captures in captures/CASE/ has them judged by tshark on the host
# (scripts/judge-captures.sh: no malformed packet, and what each NAME.expect asks for), and
# fails if they are not clean.
# Files named lib-*.sh in cases/ are helpers, not cases.
# A case's header may give its own bound, "# vm-timeout: SECONDS", instead of CASE_TIMEOUT.
# Env: CASE_TIMEOUT (seconds per case, default 120), L2TP_VM_PORT_BASE (default 47000: the
#      127.0.0.1 UDP ports of two-guest links), L2TP_VM_DIR (see build-guest.sh)
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
LOGS=${L2TP_VM_DIR:-/var/tmp/l2tp-vm}/logs
TMO=${CASE_TIMEOUT:-120}
port=${L2TP_VM_PORT_BASE:-47000}
mkdir -p "$LOGS"
t0=$(date +%s.%N)
pass=0 fail=0
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1fs", b - a }'; }

s=$(date +%s.%N)
if ! bash "$HERE/build-guest.sh" >"$LOGS/build.log" 2>&1; then
    cat "$LOGS/build.log"; echo "build-guest FAILED"; echo "0 passed, 1 failed"; exit 1
fi
echo "$(tail -n 1 "$LOGS/build.log") [$(elapsed "$s")]"

# The share: the cases and the project's binaries.
SHARE=$(mktemp -d "${L2TP_VM_DIR:-/var/tmp/l2tp-vm}/share.XXXXXX")
trap 'rm -rf "$SHARE"' EXIT
BIN=${L2TP_VM_BIN:-}
if [ -z "$BIN" ]; then
    s=$(date +%s.%N)
    ROOT=$(cd "$HERE/../.." && pwd)
    if ! (cd "$ROOT" && cargo build -q -p l2tpd -p l2tpctl -p l2tp-loadgen) >"$LOGS/cargo.log" 2>&1; then
        cat "$LOGS/cargo.log"; echo "cargo build FAILED"; echo "0 passed, 1 failed"; exit 1
    fi
    BIN=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps 2>/dev/null |
        sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/debug
    echo "binaries: $BIN [$(elapsed "$s")]"
fi
mkdir -p "$SHARE/bin"
cp -r "$HERE/cases" "$SHARE/cases"
cp -r "$HERE/../../examples" "$SHARE/examples"
for b in l2tpd l2tpctl l2tpwatch l2tp-loadgen; do
    cp "$BIN/$b" "$SHARE/bin/$b" || { echo "no $BIN/$b"; echo "0 passed, 1 failed"; exit 1; }
    # Without debug info: the guest copies them into its memory (256 MB).
    strip --strip-debug "$SHARE/bin/$b" 2>/dev/null || true
done

run_case() { # NAME
    local name=$1 f=$HERE/cases/$1.sh tmo
    # A case may need longer than CASE_TIMEOUT: "# vm-timeout: SECONDS" in its header.
    tmo=$(sed -n 's/^# vm-timeout: *\([0-9][0-9]*\)$/\1/p' "$f" | head -n 1)
    local g=(-s "$SHARE" -r "/mnt/host/cases/$1.sh" -T "${tmo:-$TMO}")
    if grep -q '^# vm-guests: 2' "$f"; then
        local p1=$port p2=$((port + 1)) ra=0 rb=0 pa
        port=$((port + 2))
        bash "$HERE/run-guest.sh" -n "$name-a" "${g[@]}" -l "$p1:$p2:192.0.2.1/24" >/dev/null 2>&1 & pa=$!
        bash "$HERE/run-guest.sh" -n "$name-b" "${g[@]}" -l "$p2:$p1:192.0.2.2/24" >/dev/null 2>&1 || rb=$?
        wait "$pa" || ra=$?
        [ "$ra" = 0 ] || tail -n 30 "$LOGS/$name-a.log"
        [ "$rb" = 0 ] || tail -n 30 "$LOGS/$name-b.log"
        [ "$ra" = 0 ] && [ "$rb" = 0 ]
    else
        bash "$HERE/run-guest.sh" -n "$name" "${g[@]}" >/dev/null 2>&1 || { tail -n 40 "$LOGS/$name.log"; false; }
    fi && judge "$name"
}

# judge NAME: tshark judges the captures case NAME left, if any; captures it does not find
# clean are kept in $LOGS/NAME.captures.
judge() {
    local dir=$SHARE/captures/$1
    [ -d "$dir" ] || return 0
    rm -rf "$LOGS/$1.captures"
    bash "$HERE/../../scripts/judge-captures.sh" "$dir" >"$LOGS/$1.judge.log" 2>&1 && return 0
    cat "$LOGS/$1.judge.log"; cp -r "$dir" "$LOGS/$1.captures"; false
}

if [ $# -gt 0 ]; then cases=("$@"); else cases=($(cd "$HERE/cases" && ls *.sh | grep -v '^lib-' | sed 's/\.sh$//')); fi
for c in "${cases[@]}"; do
    s=$(date +%s.%N)
    if [ -f "$HERE/cases/$c.sh" ] && run_case "$c"; then r=PASS pass=$((pass + 1)); else r=FAIL fail=$((fail + 1)); fi
    printf '%-24s %s  %s\n' "$c" "$r" "$(elapsed "$s")"
done
echo "logs: $LOGS; total $(elapsed "$t0")"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
