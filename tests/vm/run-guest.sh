#!/usr/bin/env bash
# Boots the test guest (build-guest.sh) under qemu, software emulation (TCG), one CPU.
#
# usage: run-guest.sh [options] [-- more qemu arguments]
#   -n NAME      guest name: its hostname and its console log $L2TP_VM_DIR/logs/NAME.log
#   -s DIR       share host DIR (read-write, 9p) as /mnt/host in the guest
#   -r SCRIPT    run SCRIPT in the guest (a guest path, e.g. /mnt/host/t.sh) with bash, then
#                power off; exits with the script's status (124 when the guest gave none)
#   -T SECONDS   hard timeout: qemu is killed after it (default 120)
#   -m MB        guest memory (default 256)
#   -l LPORT:RPORT[:ADDR/PFX]
#                a NIC linked to another guest: Ethernet frames travel as UDP datagrams from
#                127.0.0.1:LPORT (this guest) to 127.0.0.1:RPORT (the peer, started with the
#                two ports swapped); ADDR is set on it. Repeat for more NICs (eth0, eth1, ...).
#   -a ARGS      more kernel command line (a case can read its parameters from /proc/cmdline)
# Without -r the console is interactive (Ctrl-A X quits qemu).
# Env: L2TP_VM_DIR (default /var/tmp/l2tp-vm), QEMU (default qemu-system-x86_64)
set -euo pipefail
WORK=${L2TP_VM_DIR:-/var/tmp/l2tp-vm}
name=guest share="" run="" tmo=120 mem=256 kargs="" nics=() nic=0
while getopts "n:s:r:T:m:l:a:" o; do
    case $o in
    n) name=$OPTARG ;;
    s) share=$(cd "$OPTARG" && pwd) ;;
    r) run=$OPTARG ;;
    T) tmo=$OPTARG ;;
    m) mem=$OPTARG ;;
    l) IFS=: read -r lport rport addr <<<"$OPTARG"
       # a locally administered MAC, unique per guest name and NIC
       h=$(printf '%s/%s' "$name" "$nic" | md5sum)
       nics+=(-netdev "socket,id=n$nic,udp=127.0.0.1:$rport,localaddr=127.0.0.1:$lport"
              -device "virtio-net-pci,netdev=n$nic,romfile=,mac=52:54:${h:0:2}:${h:2:2}:${h:4:2}:${h:6:2}")
       [ -z "${addr:-}" ] || kargs="$kargs vm.ip$nic=$addr"
       nic=$((nic + 1)) ;;
    a) kargs="$kargs $OPTARG" ;;
    *) sed -n '2,/^# Env/p' "$0" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ -f "$WORK/vmlinux" ] && [ -f "$WORK/initrd.img" ] || { echo "run-guest: run build-guest.sh first" >&2; exit 2; }

# mitigations=off: no page-table isolation, whose CR3 switch on every syscall is slow under TCG
append="console=ttyS0 quiet loglevel=3 panic=-1 mitigations=off vm.name=$name${run:+ vm.run=$run}$kargs"
q=("${QEMU:-qemu-system-x86_64}" -machine pc,accel=tcg -smp 1 -m "$mem" -nodefaults -no-user-config
   -nographic -no-reboot -kernel "$WORK/vmlinux" -initrd "$WORK/initrd.img" -append "$append")
[ -z "$share" ] || q+=(-virtfs "local,path=$share,mount_tag=host,security_model=none,id=host")
q+=("${nics[@]}" "$@")

if [ -z "$run" ]; then
    exec "${q[@]}" -serial mon:stdio
fi
mkdir -p "$WORK/logs"
log=$WORK/logs/$name.log
start=$(date +%s.%N)
set +e
timeout -k 2 "$tmo" "${q[@]}" -serial stdio </dev/null 2>&1 | sed -u 's/\r//g; s/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g' | tee "$log" | sed -u "s/^/[$name] /"
qrc=${PIPESTATUS[0]}
set -e
rc=$(sed -n 's/^L2TP_VM_EXIT=\([0-9]*\)$/\1/p' "$log" | tail -1)
awk -v n="$name" -v q="$qrc" -v r="${rc:-none}" -v a="$start" -v b="$(date +%s.%N)" -v l="$log" \
    'BEGIN { printf "[%s] guest status %s, qemu status %s, %.1fs (log: %s)\n", n, r, q, b - a, l }'
if [ -z "$rc" ]; then
    [ "$qrc" = 124 ] && echo "[$name] timed out after ${tmo}s" >&2 || echo "[$name] no exit status from the guest" >&2
    exit 124
fi
exit "$rc"
