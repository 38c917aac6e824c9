#!/usr/bin/env bash
# Runs every test of the project: formatting, lints, unit, property and integration tests
# (tshark and real-traffic vectors included), and a time-boxed fuzzing smoke.
# On a fresh Debian 12 machine, as root, it first installs what the tests need.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh

echo "== format"
cargo fmt --all --check
(cd fuzz && cargo fmt --check) # the fuzz crate is outside the workspace
echo "== lints"
bash scripts/check-deps.sh
python3 scripts/check-imports.py l2tpd/src
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "== qemu test guests (tests/vm): Debian 12's kernel, and bookworm-backports' (ipsec_nat, quick cases)"
bash tests/vm/build-guest.sh
BACKPORTS_VM=${L2TP_VM_BACKPORTS_DIR:-${L2TP_VM_DIR:-/var/tmp/l2tp-vm}-backports}
L2TP_VM_KERNEL=backports L2TP_VM_DIR="$BACKPORTS_VM" bash tests/vm/build-guest.sh
echo "== tests"
# Integration tests leave their captures here for the judge below.
rm -rf target/captures
# Tests that cannot run here fail instead of skipping: a skipped test is not a passed one.
L2TP_REQUIRE_ALL=1 L2TP_REQUIRE_TSHARK=1 cargo test --workspace --quiet
echo "== tshark judges every integration capture"
bash scripts/judge-captures.sh target/captures
echo "== README quick start on a fresh machine (its packages purged; two daemons, userspace pseudowire, ping)"
bash scripts/quickstart-fresh.sh
bash bench/run.sh --smoke # benchmark smoke: every part of the benchmark at small counts
echo "== Debian package: build, lintian, install, check, remove, purge"
bash scripts/package-test.sh
echo "== kernel data plane in a qemu guest (tests/vm)"
bash tests/vm/run-all.sh
echo "== kernel data plane on bookworm-backports' kernel: the quick cases (tests/vm)"
L2TP_VM_DIR="$BACKPORTS_VM" bash tests/vm/run-all.sh l2tpv3-eth xl2tpd-ppp l2tpd-static l2tpd-eth
echo "== fuzzing smoke"
bash scripts/fuzz-smoke.sh "${FUZZ_SECONDS:-15}"
echo "== all tests passed"
