#!/usr/bin/env bash
# Native PPP against pppd, side by side in one qemu guest (tests/vm), with the same load
# generator: l2tp-loadgen --ppp brings up N PPP sessions (L2TPv2, CHAP, a user and an address
# of its own per session) against, in turn,
#   native  l2tpd terminating PPP itself on the kernel data plane (a pool, a users file);
#   pppd    l2tpd with `use_pppd true`, a pppd per session (pppol2tp plugin);
#   xl2tpd  xl2tpd with a pppd per call (pppol2tp plugin), as LNS;
# and measures for each the PPP set-up rate and the memory per session: the PSS of every
# process of the LNS plus the kernel's share (the fall of MemAvailable, the per-CPU free pages
# counted back in, less what user processes and tmpfs took). docs/benchmarks.md explains the
# method. The guest side is bench/guest-ppp/guest.sh.
#
# Usage (as root): bench/guest-ppp.sh [--sessions N] [--tunnels T] [--memory MB] [--lns LIST]
#                                      [--smoke] [--out FILE] [--report DIR]
#   --sessions  sessions per LNS, at most 508 (the documentation addresses of the pool);
#               default 500
#   --tunnels   tunnels they are spread over; default 10
#   --concurrency  sessions the load generator keeps in set-up at once; default 20 (the
#               guest has one emulated CPU for everything)
#   --memory    the guest's memory in MB; default 2048
#   --lns       which LNSes, in order; default "native pppd xl2tpd"
#   --smoke     20 sessions in 2 tunnels (a few minutes under emulation); figures to FILE
#   --out       where the figures go (markdown); the default full run rewrites the generated
#               part of docs/benchmarks.md instead
#   --report DIR  no guest run: the figures of an earlier run whose raw results KEEP_RESULTS
#               kept in DIR (with its parameters), to FILE or to a file in /tmp
# Env: L2TP_VM_DIR (see tests/vm/build-guest.sh), KEEP_RESULTS (a directory to copy the raw
#      results into), SETUP_TIMEOUT (seconds the load generator
#      may take to bring the sessions up; default 900), STALL (give up waiting once no session
#      came up for this long; default 120), PROFILE (an LNS, e.g. native: perf records its
#      set-up in the guest, the hottest symbols kept in KEEP_RESULTS/LNS/profile.txt),
#      PPPD_LOG (non-empty: l2tpd's pppd log to its stderr, and l2tpd logs it, so that
#      KEEP_RESULTS/pppd/lns.log says why a pppd gave up; not for figures).
# Exit status 0 when every LNS ran and native PPP brought every session up.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

N=500 TUNNELS=10 CONCURRENCY=20 MEM=2048 LNSES="native pppd xl2tpd" MODE=full OUT= REPORT=
while [ $# -gt 0 ]; do
    case "$1" in
        --sessions) N=$2; shift ;;
        --tunnels) TUNNELS=$2; shift ;;
        --concurrency) CONCURRENCY=$2; shift ;;
        --memory) MEM=$2; shift ;;
        --lns) LNSES=$2; shift ;;
        --smoke) MODE=smoke N=20 TUNNELS=2 ;;
        --out) OUT=$2; shift ;;
        --report) REPORT=$2; shift ;;
        *) sed -n '2,/^# Exit/p' "$0" >&2; exit 2 ;;
    esac
    shift
done
[ "$(id -u)" = 0 ] || { echo "guest-ppp: needs root (tests/vm)" >&2; exit 1; }
[ "$N" -ge 1 ] && [ "$N" -le 508 ] || { echo "guest-ppp: --sessions 1..508" >&2; exit 2; }
[ "$TUNNELS" -ge 1 ] && [ "$TUNNELS" -le "$N" ] || { echo "guest-ppp: --tunnels 1..N" >&2; exit 2; }
command -v python3 >/dev/null || { echo "guest-ppp: python3 not found (scripts/deps.sh)" >&2; exit 1; }
SETUP_TIMEOUT=${SETUP_TIMEOUT:-900} STALL=${STALL:-120}
VM=${L2TP_VM_DIR:-/var/tmp/l2tp-vm}

rc=0
if [ -n "$REPORT" ]; then
    # The figures of an earlier run, from the raw results it kept (KEEP_RESULTS).
    [ -r "$REPORT/params.sh" ] || { echo "guest-ppp: $REPORT has no params.sh (KEEP_RESULTS of a run)" >&2; exit 2; }
    SHARE=$(mktemp -d /tmp/guest-ppp-report.XXXXXX)
    trap 'rm -rf "$SHARE"' EXIT
    cp -a "$REPORT" "$SHARE/results"
    . "$REPORT/params.sh"
    MODE=report
    echo "== guest-ppp: the figures of the run kept in $REPORT"
else
echo "== guest-ppp ($MODE): building"
nice -n 10 cargo build -q --release -p l2tpd -p l2tpctl -p l2tp-loadgen
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release
# PROFILE=LNS: perf in the guest records that LNS's set-up.
if [ -n "${PROFILE:-}" ]; then export EXTRA_BINS="${EXTRA_BINS:-} perf"; fi
bash tests/vm/build-guest.sh | tail -n 1

SHARE=$(mktemp -d "$VM/guest-ppp.XXXXXX")
trap 'rm -rf "$SHARE"' EXIT
mkdir -p "$SHARE/bin" "$SHARE/results"
for b in l2tpd l2tpctl l2tp-loadgen; do
    # Without debug information: the guest copies them into its memory.
    strip --strip-debug -o "$SHARE/bin/$b" "$BIN/$b"
done
cp bench/guest-ppp/guest.sh "$SHARE/guest.sh"
cat >"$SHARE/params.sh" <<EOF
N=$N TUNNELS=$TUNNELS CONCURRENCY=$CONCURRENCY LNSES="$LNSES" SETUP_TIMEOUT=$SETUP_TIMEOUT STALL=$STALL SETTLE=5
PROFILE="${PROFILE:-}" PROFILE_EVENT="${PROFILE_EVENT:-}" MEM=$MEM PPPD_LOG="${PPPD_LOG:-}"
EOF
cp "$SHARE/params.sh" "$SHARE/results/params.sh"
# The guest's own bound: every LNS may take its set-up time, its teardown and a margin.
count=$(wc -w <<<"$LNSES")
TMO=$((count * (SETUP_TIMEOUT + 400) + 120))
echo "== guest-ppp: $N sessions in $TUNNELS tunnels against: $LNSES (guest: ${MEM} MB, bound ${TMO}s)"
bash tests/vm/run-guest.sh -n guest-ppp -m "$MEM" -s "$SHARE" -r /mnt/host/guest.sh -T "$TMO" || rc=$?
[ $rc = 0 ] || echo "guest-ppp: the guest ended with status $rc" >&2
if [ -n "${KEEP_RESULTS:-}" ]; then
    rm -rf "$KEEP_RESULTS"; cp -a "$SHARE/results" "$KEEP_RESULTS"
    echo "== guest-ppp: raw results in $KEEP_RESULTS"
fi
fi

BLOCK=$SHARE/block.md
status=0
python3 - "$SHARE/results" "$N" "$TUNNELS" "$MEM" "$LNSES" "$BLOCK" "$CONCURRENCY" <<'EOF' || status=$?
import json, os, sys

res, n_asked, tunnels, mem, lnses, block, conc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5].split(), sys.argv[6], sys.argv[7]
per = -(-n_asked // tunnels)
asked = per * tunnels
labels = {
    "native": "l2tpd, native PPP, kernel data plane",
    "pppd": "l2tpd with a pppd per session (`use_pppd true`)",
    "xl2tpd": "xl2tpd with a pppd per call",
}

def snap(path):
    d = {}
    try:
        for line in open(path):
            k, _, v = line.strip().partition(" ")
            try:
                d[k] = float(v)
            except ValueError:
                pass
    except OSError:
        return None
    return d

def cpu(path):
    """The guest's /proc/stat "cpu" fields and the ticks of each process by pid."""
    stat, procs = None, {}
    try:
        for line in open(path):
            f = line.split()
            if f and f[0] == "cpu":
                stat = [int(x) for x in f[1:]]
            elif f and f[0] == "proc" and len(f) >= 4:
                procs[f[1]] = (" ".join(f[2:-1]), int(f[-1]))
    except OSError:
        return None
    return stat, procs

GROUPS = {"l2tpd": "lns", "pppd": "lns", "xl2tpd": "lns", "l2tp-loadgen": "lg"}
SCRIPT = {"bash", "ip", "awk", "grep", "sleep", "cat", "sync", "perf", "seq", "cut", "tr", "wc"}

rows, kern, cpus, notes, failed = [], [], [], [], False
for lns in lnses:
    d = os.path.join(res, lns)
    b, a = snap(os.path.join(d, "before.txt")), snap(os.path.join(d, "after.txt"))
    try:
        lg = json.load(open(os.path.join(d, "loadgen.json")))
    except (OSError, ValueError):
        lg = None
    label = labels.get(lns, lns)
    if not a or not b:
        rows.append(f"| {label} | no figures (see the guest's log) | | | | | | |")
        failed = True
        continue
    n = int(a["ppp_up"])
    ppp = (lg or {}).get("ppp") or {}
    rate = ppp.get("sessions_per_s")
    el = ppp.get("elapsed_s")
    up = ppp.get("sessions_up", n)
    free = lambda s: s["meminfo_MemAvailable"] + s["pcp_pages"] * 4
    used = free(b) - free(a)
    anon = a["all_pss_anon"] - b["all_pss_anon"]
    shmem = a["meminfo_Shmem"] - b["meminfo_Shmem"]
    kernel = used - anon - shmem - (a["lac_pte"] - b["lac_pte"])
    lns_pss = a["lns_pss"] - b["lns_pss"]
    lns_cpu = (a["lns_cpu_ticks"] - b["lns_cpu_ticks"]) / a["clk_tck"]
    if n > 0:
        per_lns, per_kernel = lns_pss / n, kernel / n
        total = per_lns + per_kernel
        holds = int(b["meminfo_MemAvailable"] / total) if total > 0 else 0
        rows.append(
            f"| {label} | {n} / {asked} | {el if el is not None else '?'} | "
            f"{rate if rate is not None else '?'} | {per_lns:.0f} | {per_kernel:.0f} | **{total:.0f}** | "
            f"{lns_cpu:.1f} | {holds} |")
        dk = lambda k: (a["meminfo_" + k] - b["meminfo_" + k]) / n
        slab = dk("SUnreclaim") + dk("SReclaimable")
        other = per_kernel - slab - dk("KernelStack") - dk("PageTables") - dk("Percpu")
        kern.append(f"| {label} | {slab:.0f} | {dk('KernelStack'):.0f} | {dk('PageTables'):.0f} | "
                    f"{dk('Percpu'):.0f} | {other:.0f} | {per_kernel:.0f} |")
    else:
        rows.append(f"| {label} | 0 / {asked} | | | | | | {lns_cpu:.1f} | |")
    c0, c1 = cpu(os.path.join(d, "cpu-before.txt")), cpu(os.path.join(d, "cpu-after.txt"))
    if c0 and c1 and c0[0] and c1[0]:
        hz = a["clk_tck"]
        st = [(y - x) / hz for x, y in zip(c0[0], c1[0])]
        wall = sum(st)
        by, other = {"lns": 0.0, "lg": 0.0, "script": 0.0}, {}
        for pid, (comm, t) in c1[1].items():
            dt = (t - (c0[1].get(pid, (comm, 0))[1] if c0[1].get(pid, ("", 0))[0] == comm else 0)) / hz
            g = GROUPS.get(comm) or ("script" if comm in SCRIPT else None)
            if g:
                by[g] += dt
            else:
                key = comm.split("/")[0]
                other[key] = other.get(key, 0.0) + dt
        top = ", ".join(f"{k} {v:.1f}" for k, v in sorted(other.items(), key=lambda kv: -kv[1])[:3] if v >= 0.05)
        # /proc/stat: user nice system idle iowait irq softirq ...
        idle = st[3] + st[4]
        softirq = st[5] + st[6]
        try:
            mods = sum(1 for _ in open(os.path.join(d, "module-requests.txt")))
        except OSError:
            mods = "?"
        # The LNS's own CPU per session, from its processes' times (the scheduler's clock;
        # /proc/stat's ticks, which give the wall and idle columns, are lost under emulation).
        side = by["lns"] / n * 1000 if n else 0
        cpus.append(f"| {label} | {wall:.1f} | {by['lns']:.1f} | {by['lg']:.1f} | {softirq:.1f} | "
                    f"{top or '-'} | {by['script']:.1f} | {idle:.1f} | {mods} | {side:.1f} | "
                    f"{(1000 / side) if side > 0 else 0:.0f} |")
    reasons = (lg or {}).get("failure_reasons") or {}
    if n < asked or reasons:
        why = "; ".join(f"{k}: {v}" for k, v in sorted(reasons.items(), key=lambda kv: -kv[1])[:4])
        prog = []
        try:
            prog = [l.split() for l in open(os.path.join(d, "progress.txt")) if l.strip()]
        except OSError:
            pass
        stop = ""
        if prog:
            t0 = float(prog[0][0])
            best = max(int(p[1]) for p in prog)
            at = next(float(p[0]) - t0 for p in prog if int(p[1]) == best)
            stop = f" The count reached {best} after {at:.0f} s."
        notes.append(f"- {label}: {n} of {asked} sessions up at the snapshot "
                     f"(load generator: {up} up).{stop} {('Failures: ' + why + '.') if why else ''}")
    if lns == "native" and n < asked:
        failed = True
    # The daemon's own: no module request (a modprobe run) per session.
    if lns == "native" and os.path.exists(os.path.join(d, "module-requests.txt")) and \
            sum(1 for _ in open(os.path.join(d, "module-requests.txt"))) > 0:
        notes.append(f"- {label}: the kernel ran modprobe during the set-up (module-requests.txt).")
        failed = True

guest = open(os.path.join(res, "guest.txt")).read().strip() if os.path.exists(os.path.join(res, "guest.txt")) else ""
with open(block, "w") as f:
    w = lambda s="": f.write(s + "\n")
    w(f"Guest: qemu (TCG, software emulation, one CPU), {mem} MB ({guest.removeprefix('guest: ')}); "
      f"{asked} sessions asked of each LNS, {tunnels} tunnels of {per}, L2TPv2, CHAP; the load "
      f"generator in the same guest, {conc} sessions in set-up at once.")
    w()
    w("| LNS | sessions up / asked | PPP set-up s | PPP sessions/s | LNS PSS per session, kB | kernel per session, kB | memory per session, kB | LNS CPU s | sessions the guest would hold |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        w(r)
    w()
    if kern:
        w("The kernel's share per session, kB, from the change of `/proc/meminfo`'s counters "
          "(other: page-allocator pages outside them, such as socket buffers and vmalloc):")
        w()
        w("| LNS | slab | kernel stacks | page tables | per-CPU | other | kernel |")
        w("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for r in kern:
            w(r)
        w()
    if cpus:
        w("Where the guest's CPU went while the sessions were set up, seconds (processes with "
          "what they spent and what their children they reaped spent; interrupts: the "
          "kernel's hard and soft interrupt time, e.g. the network stack; script: this "
          "benchmark's own polling). The wall, interrupt and idle columns count "
          "`/proc/stat`'s ticks, some of which the emulated guest loses; the processes' "
          "times come from the scheduler's clock, so the LNS's CPU per session is the "
          "figure to compare:")
        w()
        w("| LNS | set-up wall s (ticks) | LNS processes | load generator | interrupts | kernel threads | script | idle | module requests (modprobe runs) | LNS CPU per session, ms | sessions/s that allows on the guest's one CPU |")
        w("| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
        for r in cpus:
            w(r)
        w()
    for nt in notes:
        w(nt)
    if notes:
        w()
sys.exit(1 if failed else 0)
EOF
[ -s "$BLOCK" ] || { echo "guest-ppp: no figures" >&2; exit 1; }

{
    echo "<!-- guest-ppp:begin (generated by bench/guest-ppp.sh; edit the script, not this part) -->"
    # The run's own time (its results' end), also for --report.
    echo "### Run of $(date -u -r "$SHARE/results/dmesg.txt" +%Y-%m-%d\ %H:%M 2>/dev/null || date -u +%Y-%m-%d\ %H:%M) UTC"
    echo ""
    echo "Reproduce: \`sudo bench/guest-ppp.sh\` (host load average $(cut -d' ' -f1-3 /proc/loadavg) at the end;"
    echo "the guest is emulated, so rates are for comparison within the run only)."
    echo ""
    cat "$BLOCK"
    echo "<!-- guest-ppp:end -->"
} >"$SHARE/section.md"
if [ "$MODE" = full ] && [ -z "$OUT" ]; then
    python3 - "$ROOT/docs/benchmarks.md" "$SHARE/section.md" <<'EOF'
import re, sys
doc_path, block_path = sys.argv[1], sys.argv[2]
doc = open(doc_path).read()
block = open(block_path).read().rstrip("\n")
pat = re.compile(r"<!-- guest-ppp:begin.*?<!-- guest-ppp:end -->", re.S)
if not pat.search(doc):
    sys.exit("docs/benchmarks.md has no guest-ppp section to replace")
open(doc_path, "w").write(pat.sub(lambda _: block, doc))
EOF
    echo "== guest-ppp: docs/benchmarks.md updated"
else
    cp "$SHARE/section.md" "${OUT:-/tmp/l2tp-guest-ppp-$MODE.md}"
    echo "== guest-ppp: figures in ${OUT:-/tmp/l2tp-guest-ppp-$MODE.md}"
fi
cat "$SHARE/section.md"
[ $status = 0 ] && [ $rc = 0 ] || { echo "guest-ppp: FAILED" >&2; exit 1; }
echo "== guest-ppp: done"
