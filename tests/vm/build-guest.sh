#!/usr/bin/env bash
# Builds the test guest: Debian's stock kernel (the one linux-image-amd64 points to, which has
# L2TP and PPP as modules; or, with L2TP_VM_KERNEL=backports, the newest of bookworm-backports)
# and a busybox initramfs carrying the L2TP/PPP/ESP modules and host binaries (iproute2 with
# tc, xl2tpd, pppd + pppol2tp.so, tcpdump, iperf3, strongSwan's charon-systemd and swanctl
# with its plugins, ...) with their libraries.
#
# Run as root on Debian 12. Outputs, in $L2TP_VM_DIR (default /var/tmp/l2tp-vm):
#   vmlinux, initrd.img   what run-guest.sh boots
#   debs/, kernel-VER/    the cached kernel package and its extracted tree
# Re-runs are quick: nothing is rebuilt unless an input is newer than initrd.img.
#
# Env: L2TP_VM_KERNEL  stable: the kernel linux-image-amd64 points to (Debian 12: Linux 6.1);
#                      backports: the one it points to in bookworm-backports (Linux 6.12),
#                      found and downloaded with a private apt configuration under
#                      $L2TP_VM_DIR/apt-backports (the host's is left as it is), its index
#                      verified by apt with Debian's archive keyring. Default: the kind the
#                      directory was last built with ($L2TP_VM_DIR/kernel.kind), else stable
#      EXTRA_BINS      more host binaries (names in PATH or absolute paths) to carry, with libs
#      EXTRA_MODULES   more kernel modules (dependencies are added)
#      L2TP_VM_NO_APT  =1: do not apt-get install anything
#      FORCE=1         rebuild the initramfs even if it looks up to date
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${L2TP_VM_DIR:-/var/tmp/l2tp-vm}
mkdir -p "$WORK/debs"
t0=$(date +%s.%N)

# Keep in step with scripts/deps.sh.
PKGS="qemu-system-x86 busybox-static cpio kmod xz-utils zstd iproute2 iputils-ping xl2tpd ppp tcpdump iperf3
      charon-systemd strongswan-swanctl netbase nftables"
if [ "${L2TP_VM_NO_APT:-0}" != 1 ]; then
    missing=()
    for p in $PKGS; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "build-guest: apt-get install ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
fi

# --- the kernel package linux-image-amd64 depends on, downloaded once and extracted once
# A directory keeps the kind of kernel it was built with, unless told otherwise.
KIND=${L2TP_VM_KERNEL:-$(cat "$WORK/kernel.kind" 2>/dev/null || echo stable)}
APT_OPTS=()
case $KIND in
stable) ;;
backports)
    # apt with sources, lists, cache and (empty) dpkg status of its own: the host's apt
    # configuration is not changed, and the host's installed packages do not matter.
    A=$WORK/apt-backports
    mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$A/sources.list.d"
    keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    [ -f "$keyring" ] || { echo "build-guest: no $keyring (apt-get install debian-archive-keyring)" >&2; exit 1; }
    echo "deb [signed-by=$keyring] http://deb.debian.org/debian bookworm-backports main" >"$A/sources.list"
    : >"$A/status"
    APT_OPTS=(-o "Dir::Etc::SourceList=$A/sources.list" -o "Dir::Etc::SourceParts=$A/sources.list.d"
              -o "Dir::State::Lists=$A/lists" -o "Dir::State::Status=$A/status" -o "Dir::Cache=$A/cache"
              -o APT::Sandbox::User=root)
    # The index once a day at most (the newest kernel, without a download on every run).
    if [ -z "$(find "$A/updated" -mtime -1 2>/dev/null)" ]; then
        echo "build-guest: apt-get update (bookworm-backports, in $A)"
        apt-get "${APT_OPTS[@]}" update -qq
        touch "$A/updated"
    fi
    ;;
*) echo "build-guest: L2TP_VM_KERNEL is stable or backports, not $KIND" >&2; exit 1 ;;
esac
echo "$KIND" >"$WORK/kernel.kind"
kpkg() { apt-cache "${APT_OPTS[@]}" depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'; }
KPKG=$(kpkg)
if [ -z "$KPKG" ]; then apt-get "${APT_OPTS[@]}" update -qq; KPKG=$(kpkg); fi
[ -n "$KPKG" ] || { echo "build-guest: cannot resolve linux-image-amd64" >&2; exit 1; }
KVER=${KPKG#linux-image-}
DEB=$(ls "$WORK/debs/${KPKG}"_*.deb 2>/dev/null | tail -1 || true)
if [ -z "$DEB" ]; then
    echo "build-guest: downloading $KPKG"
    # apt checks the package against the index, whose signature it checked
    (cd "$WORK/debs" && apt-get "${APT_OPTS[@]}" download -q "$KPKG" 2>&1 | grep -v 'unsandboxed' || true)
    DEB=$(ls "$WORK/debs/${KPKG}"_*.deb | tail -1)
    # a kernel of another version is of no more use here
    find "$WORK/debs" -name 'linux-image-*.deb' ! -name "${KPKG}_*" -delete
    for d in "$WORK"/kernel-*; do [ "$d" = "$WORK/kernel-$KVER" ] || rm -rf "$d"; done
fi
KX=$WORK/kernel-$KVER
if [ ! -f "$KX/.done" ]; then
    echo "build-guest: extracting $(basename "$DEB")"
    rm -rf "$KX"; mkdir -p "$KX"
    dpkg-deb -x "$DEB" "$KX"
    depmod -b "$KX" "$KVER"
    touch "$KX/.done"
fi
# qemu boots the uncompressed ELF kernel through its PVH entry point: that skips decompressing
# the packed bzImage under emulation, which takes half of the boot time. Debian packs 6.1 with
# xz, 6.12 with zstd: the first stream of either that unpacks to an ELF file is the kernel.
if [ ! "$WORK/vmlinux" -nt "$KX/.done" ] || [ "$(cat "$WORK/vmlinux.ver" 2>/dev/null)" != "$KVER" ]; then
    bz=$KX/boot/vmlinuz-$KVER
    elf() { [ "$(head -c 4 "$WORK/vmlinux.tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; }
    rm -f "$WORK/vmlinux.tmp"
    for packer in "xz $'\xfd7zXZ\x00'" "zstd $'\x28\xb5\x2f\xfd'"; do
        eval "set -- $packer"
        for off in $(LC_ALL=C grep -abo "$2" "$bz" | head -3 | cut -d: -f1 || true); do
            { tail -c +$((off + 1)) "$bz" | "$1" -dc >"$WORK/vmlinux.tmp" 2>/dev/null; } || true  # trailing data
            elf && break 2
        done
    done
    [ -f "$WORK/vmlinux.tmp" ] && elf ||
        { echo "build-guest: cannot extract an ELF vmlinux from $bz" >&2; exit 1; }
    mv "$WORK/vmlinux.tmp" "$WORK/vmlinux"
    echo "$KVER" >"$WORK/vmlinux.ver"
fi

# --- what goes in: modules (with dependencies) and files (binaries, their libraries, plugins)
MODS="virtio_pci virtio_net 9pnet_virtio 9p veth bridge 8021q dummy tun sch_netem
      l2tp_core l2tp_netlink l2tp_eth l2tp_ip l2tp_ip6 l2tp_ppp ppp_generic pppox ppp_async
      xfrm_user esp4 esp6 gcm ghash_generic ctr seqiv echainiv authenc drbg
      nf_tables nft_chain_nat nft_masq nft_ct nft_queue nfnetlink_queue nft_log nfnetlink_log
      ppp_deflate bsd_comp ppp_mppe
      ${EXTRA_MODULES:-}"
modfiles=()
for m in $MODS; do
    out=$(modprobe -d "$KX" -S "$KVER" --show-depends "$m" 2>&1) || { echo "build-guest: $out" >&2; exit 1; }
    while read -r kind path _; do
        [ "$kind" = insmod ] && modfiles+=("${path#"$KX"}")
    done <<<"$out"
done
mapfile -t modfiles < <(printf '%s\n' "${modfiles[@]}" | sort -u)

# util-linux setsid and mount: busybox's would run its own ash for "sh". bash is /bin/sh.
BINS="bash ip bridge tc ping xl2tpd xl2tpd-control pppd tcpdump iperf3 setsid mount umount
      charon-systemd swanctl nft ${EXTRA_BINS:-}"
files=()
for b in $BINS; do
    p=$(command -v "$b") || { echo "build-guest: $b not found on the host" >&2; exit 1; }
    files+=("$p")
done
files+=(/usr/lib/pppd/*/pppol2tp.so)
# strongSwan's plugins (IKE for the IPsec test; the ESP modules above do the rest)
files+=(/usr/lib/ipsec/plugins/*.so)
# Rust binaries from the host need libgcc_s (and often libm) besides libc.
files+=(/lib/x86_64-linux-gnu/libgcc_s.so.1 /lib/x86_64-linux-gnu/libm.so.6)
libs=$(for f in "${files[@]}"; do ldd "$f" 2>/dev/null; done | awk '/=> \// {print $3} /^\t\// {print $1}' | sort -u)
files+=($libs)

# --- up to date?
SIG="$KVER|$MODS|$BINS"
if [ "${FORCE:-0}" != 1 ] && [ -f "$WORK/initrd.img" ] && [ "$(cat "$WORK/initrd.sig" 2>/dev/null)" = "$SIG" ] &&
   [ -z "$(find -L "$0" "$HERE/guest-init.sh" "$KX/.done" "${files[@]}" -newer "$WORK/initrd.img" 2>/dev/null | head -1)" ]; then
    echo "build-guest: $WORK/initrd.img is up to date ($KVER)"
    exit 0
fi

# --- the initramfs tree, merged-/usr like Debian 12 so host paths resolve the same way
R=$WORK/root
rm -rf "$R"; mkdir -p "$R"/{usr/bin,usr/sbin,usr/lib,usr/lib64,etc/ppp,proc,sys,dev,tmp,run,root,mnt/host}
ln -s usr/bin "$R/bin"; ln -s usr/sbin "$R/sbin"; ln -s usr/lib "$R/lib"; ln -s usr/lib64 "$R/lib64"
mkdir -p "$R/var/log"; ln -s ../run "$R/var/run"
for f in "${files[@]}"; do
    f=${f#/usr}; d=$R/usr$(dirname "$f")   # /lib/x -> usr/lib/x
    mkdir -p "$d"; cp -L "/usr$f" "$d/" 2>/dev/null || cp -L "$f" "$d/"
done
# Newer kernels' modules come compressed; busybox's modprobe loads them uncompressed.
for f in "${modfiles[@]}"; do
    mkdir -p "$R/$(dirname "$f")"
    case $f in
    *.ko.xz) xz -dc "$KX$f" >"$R${f%.xz}" ;;
    *) cp "$KX$f" "$R$f" ;;
    esac
done
cp "$KX/lib/modules/$KVER"/modules.{order,builtin,builtin.modinfo} "$R/lib/modules/$KVER/"
depmod -b "$R" "$KVER"
cp /bin/busybox "$R/usr/bin/busybox"
for a in $("$R/usr/bin/busybox" --list); do
    [ -e "$R/usr/bin/$a" ] || [ -e "$R/usr/sbin/$a" ] || ln -s busybox "$R/usr/bin/$a"
done
ln -sf bash "$R/usr/bin/sh"
ln -sf ../bin/busybox "$R/usr/sbin/modprobe"   # the kernel autoloads modules with /sbin/modprobe
printf 'root:x:0:0:root:/root:/bin/sh\ntcpdump:x:100:101::/nonexistent:/bin/false\nnobody:x:65534:65534::/nonexistent:/bin/false\n' >"$R/etc/passwd"
printf 'root:x:0:\ntcpdump:x:101:\nnogroup:x:65534:\n' >"$R/etc/group"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$R/etc/hosts"
: >"$R/etc/ppp/options"   # pppd refuses to start without it
cp /etc/protocols /etc/services "$R/etc/"   # protocol and port names (swanctl.conf's udp/1701)
install -m 0755 "$HERE/guest-init.sh" "$R/init"

# uncompressed: unpacking gzip under emulation costs more than reading the larger file
(cd "$R" && find . | cpio -o -H newc --quiet >"$WORK/initrd.img.tmp")
mv "$WORK/initrd.img.tmp" "$WORK/initrd.img"
echo "$SIG" >"$WORK/initrd.sig"
awk -v a="$t0" -v b="$(date +%s.%N)" -v k="$KVER" -v s="$(du -h "$WORK/initrd.img" | cut -f1)" -v m="${#modfiles[@]}" \
    'BEGIN { printf "build-guest: kernel %s, initrd.img %s with %d modules, in %.1fs\n", k, s, m, b-a }'
