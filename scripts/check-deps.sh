#!/usr/bin/env bash
# Checks the dependency direction of docs/architecture.md: the protocol crates (L2TP, PPP,
# RADIUS) and the config crate depend on nothing OS-specific and nothing async.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for crate in l2tp-proto ppp-proto radius-proto l2tp-config; do
    bad=$(cargo tree -p "$crate" -e normal --prefix none --format '{p}' 2>/dev/null \
        | awk '{print $1}' | grep -E '^(tokio|mio|libc|nix|rustix|socket2|netlink-.*|rtnetlink|futures.*)$' | sort -u || true)
    if [ -n "$bad" ]; then
        echo "check-deps: $crate must not depend on: $bad"
        status=1
    fi
done
[ "$status" = 0 ] && echo "check-deps: l2tp-proto, ppp-proto, radius-proto and l2tp-config are free of OS and async dependencies"
exit "$status"
