#!/usr/bin/env bash
# Runs the README's quick start (scripts/quickstart.sh) as on a fresh Debian machine that has
# Rust and nothing else the quick start needs: in a throw-away copy-on-write view of this
# machine's root file system (overlayfs in a private mount namespace, its changes kept in
# memory and dropped at the end), where the packages of the commands the quick start runs
# (iproute2, iputils-ping) are first purged with apt-get. The quick start must then install
# them itself, and pass. The machine's own packages are never touched, so this is safe to run
# anywhere (as root, with overlayfs and network access to the Debian archive).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PURGE=(iproute2 iputils-ping)

if [ "$(id -u)" != 0 ]; then
    echo "quickstart-fresh: run as root" >&2
    exit 1
fi
if [ "${1:-}" != --inside ]; then
    exec unshare --mount --propagation private "$0" --inside
fi

# In the private mount namespace: the overlay, with the kernel file systems and the
# repository (for the quick start's target/) bound into it.
tmp=$(mktemp -d /tmp/l2tp-qs-fresh.XXXXXX)
trap 'umount -R -l "$tmp" 2>/dev/null; rmdir "$tmp"' EXIT
mount -t tmpfs -o size=2g tmpfs "$tmp"
mkdir -p "$tmp/upper" "$tmp/work" "$tmp/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$tmp/upper,workdir=$tmp/work" "$tmp/root"
for fs in proc sys dev; do
    mount --rbind "/$fs" "$tmp/root/$fs"
done
mount --bind "$ROOT" "$tmp/root$ROOT"
# /run/netns is this namespace's own: the quick start's names (qs-a, qs-b) cannot meet
# another run's.
mkdir -p "$tmp/root/run/netns"
mount -t tmpfs tmpfs "$tmp/root/run/netns"

chroot "$tmp/root" /usr/bin/env -i PATH="$PATH" HOME="${HOME:-/root}" TERM=dumb bash -c '
    set -euo pipefail
    echo "== fresh machine: purging '"${PURGE[*]}"'"
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq '"${PURGE[*]}"' >/dev/null
    for c in ip ping; do
        if command -v $c >/dev/null; then echo "quickstart-fresh: $c is still there" >&2; exit 1; fi
    done
    cd '"$ROOT"'
    bash scripts/quickstart.sh
    dpkg-query -W -f="\${Package} \${Status}\n" '"${PURGE[*]}"'
'
