#!/usr/bin/env bash
# The Debian package, end to end (as root, on Debian): builds it with `cargo deb -p l2tpd`, has
# lintian check it (no error allowed), installs it with dpkg -i, checks what it installed (the
# programs, `l2tpd -n` on the installed config, the man pages through man, the conffiles, the
# systemd unit with systemd-analyze, the completions, the logrotate snippet, and the installed
# daemon started with the installed config in a network namespace of its own: it serves and
# opens nothing), then removes and purges it and checks that nothing of it is left.
#
# The machine is left as it was found: a package named l2tpd that is already installed is not
# touched (the script fails instead), and the package is purged on any exit.
set -euo pipefail
cd "$(dirname "$0")/.."

PKG=l2tpd
NS="l2tp-pkg-$$"
pass=0
fail=0
ok() { echo "package-test: ok: $*"; pass=$((pass + 1)); }
bad() { echo "package-test: FAILED: $*"; fail=$((fail + 1)); }
check() { # check DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@" >/tmp/package-test.$$ 2>&1; then ok "$what"; else bad "$what"; sed 's/^/    /' /tmp/package-test.$$; fi
}
installed() { dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -qv "not-installed"; }
# dpkg, waiting for the lock when another apt or dpkg holds it.
dpkg_() {
    local i out
    for i in $(seq 60); do
        if out=$(dpkg "$@" 2>&1); then echo "$out"; return 0; fi
        case "$out" in *lock*) sleep 2 ;; *) echo "$out"; return 1 ;; esac
    done
    echo "$out"
    return 1
}
# Every path of the package's kind on the places it installs to.
leftovers() {
    find /etc /usr/sbin /usr/bin /usr/share/man /usr/share/doc /usr/share/l2tpd /usr/share/bash-completion \
        /usr/share/zsh /usr/share/fish /usr/lib/systemd /lib/systemd /var/lib/systemd \
        /var/lib/dpkg/info -xdev \( -name "*$PKG*" -o -name 'l2tpctl*' -o -name '*l2tpwatch*' \) \
        2>/dev/null | grep -v xl2tpd | sort || true
}

if installed; then
    echo "package-test: $PKG is installed on this machine; remove it first (this test installs and purges it)"
    echo "0 passed, 1 failed"
    exit 1
fi
for tool in cargo-deb lintian dpkg-deb man logrotate systemd-analyze ip nft; do
    command -v "$tool" >/dev/null || { echo "package-test: $tool is missing (bash scripts/deps.sh)"; echo "0 passed, 1 failed"; exit 1; }
done

cleanup() {
    [ -n "${daemon:-}" ] && kill "$daemon" 2>/dev/null || true
    ip netns del "$NS" 2>/dev/null || true
    [ -z "${run_dir_existed-1}" ] && rmdir /run/l2tpd 2>/dev/null || true
    if installed; then dpkg_ --purge "$PKG" >/dev/null || true; fi
    rm -f /tmp/package-test.$$
}
trap cleanup EXIT

echo "== build: cargo deb -p $PKG"
deb=$(nice cargo deb -p "$PKG" --quiet | grep '\.deb$' | tail -1)
[ -f "$deb" ] && ok "built $deb" || { bad "cargo deb made no .deb"; echo "$pass passed, $fail failed"; exit 1; }
check "lintian reports no error" lintian --fail-on error --tag-display-limit 0 "$deb"

before=$(leftovers)
echo "== install: dpkg -i"
check "dpkg -i" dpkg_ -i "$deb"
for f in /usr/sbin/l2tpd /usr/bin/l2tpctl /usr/bin/l2tpwatch /etc/l2tpd/l2tpd.conf \
    /etc/logrotate.d/l2tpd /usr/lib/systemd/system/l2tpd.service \
    /usr/share/bash-completion/completions/l2tpctl /usr/share/bash-completion/completions/l2tpwatch \
    /usr/share/zsh/vendor-completions/_l2tpctl /usr/share/fish/vendor_completions.d/l2tpctl.fish \
    /usr/share/doc/l2tpd/examples/lns-l2tpv2.conf /usr/share/doc/l2tpd/copyright \
    /usr/share/doc/l2tpd/examples/vpn-server/swanctl.conf /usr/share/l2tpd/l2tpd-ipsec.nft; do
    check "installed $f" test -e "$f"
done
check "nft accepts the installed firewall rules" nft -c -f /usr/share/l2tpd/l2tpd-ipsec.nft
check "the config is a conffile" sh -c "dpkg-query -W -f='\${Conffiles}' $PKG | grep -q '/etc/l2tpd/l2tpd.conf'"
check "l2tpd -n accepts the installed config" sh -c '/usr/sbin/l2tpd -n | grep -q "config OK"'
check "l2tpd -n -c on the installed examples" sh -c \
    'for f in /usr/share/doc/l2tpd/examples/*.conf /usr/share/doc/l2tpd/examples/vpn-server/l2tpd.conf; do
         /usr/sbin/l2tpd -n -c "$f" >/dev/null || exit 1
     done'
for page in "8 l2tpd" "5 l2tpd.conf" "1 l2tpctl" "1 l2tpwatch"; do
    set -- $page
    check "man $1 $2" sh -c "MANPAGER=cat MANWIDTH=100 man $1 $2 2>/dev/null | grep -q '^NAME'"
done
check "man l2tpd shows the installed page" sh -c 'man -w l2tpd | grep -q "^/usr/share/man/man8/l2tpd.8"'
check "l2tpctl and l2tpwatch run" sh -c 'l2tpctl --version && l2tpwatch --version'
check "the unit is enabled" test -L /etc/systemd/system/multi-user.target.wants/l2tpd.service
check "systemd-analyze verify the installed unit" sh -c \
    'out=$(SYSTEMD_LOG_COLOR=0 systemd-analyze verify /usr/lib/systemd/system/l2tpd.service 2>&1); rc=$?
     echo "$out"; [ $rc = 0 ] && ! echo "$out" | grep -q "l2tpd"'
check "bash completion of l2tpctl is installed" bash -c \
    'source /usr/share/bash-completion/completions/l2tpctl && complete -p l2tpctl'
check "logrotate accepts the snippet" logrotate -d /etc/logrotate.d/l2tpd

echo "== the installed daemon, with the installed config, in network namespace $NS"
[ -e /run/l2tpd ] && run_dir_existed=1 || run_dir_existed=
ip netns add "$NS"
ip -n "$NS" link set lo up
ip netns exec "$NS" /usr/sbin/l2tpd -f &
daemon=$!
up=
for _ in $(seq 100); do
    if ip netns exec "$NS" l2tpctl show system >/dev/null 2>&1; then up=1; break; fi
    sleep 0.1
done
[ -n "$up" ] && ok "l2tpd serves with the installed config" || bad "l2tpd did not answer on /run/l2tpd/l2tpd.sock"
check "it opens no tunnel" sh -c "ip netns exec $NS l2tpctl --json show system | grep -Eq '\"tunnels\": *0'"
kill -TERM "$daemon"
wait "$daemon" && ok "it stops on SIGTERM with status 0" || bad "l2tpd exited non-zero on SIGTERM"
daemon=
ip netns del "$NS"

echo "== remove and purge"
check "dpkg -r" dpkg_ -r "$PKG"
check "the programs are gone" sh -c '! test -e /usr/sbin/l2tpd && ! test -e /usr/bin/l2tpctl'
check "the conffile stays until purge" test -e /etc/l2tpd/l2tpd.conf
check "dpkg -P" dpkg_ -P "$PKG"
check "dpkg knows nothing of the package" sh -c "! dpkg-query -W -f='\${Status}' $PKG 2>/dev/null | grep -Eq 'ok (installed|config-files)'"
after=$(leftovers)
if [ "$before" = "$after" ]; then
    ok "the machine is as it was"
else
    bad "left behind:"
    diff <(echo "$before") <(echo "$after") | sed 's/^/    /' || true
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
