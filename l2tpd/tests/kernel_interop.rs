//! l2tpd's userspace data plane is wire-compatible with the Linux kernel's: l2tpd runs in a
//! network namespace of the host with `dataplane userspace` and two static L2TPv3 Ethernet
//! pseudowires from its config, and the kernel's `ip l2tp` pseudowires run in the project's qemu
//! guest (tests/vm), linked by a tap that qemu opens in that namespace. The guest
//! (`l2tp-dataplane/tests/vm/kernel-peer.sh`) pings across a UDP pseudowire and across an IP
//! pseudowire with 8-octet cookies and the sequenced default sublayer; l2tpd's counters must
//! show the traffic with no cookie or sequence errors.
//!
//! A second test runs l2tpd at both ends: `dataplane userspace` on the host and
//! `dataplane kernel` in the guest, with a managed L2TPv3 tunnel and an Ethernet session with
//! cookies and sequencing between them.
//!
//! Needs root, qemu and the guest built by `tests/vm/build-guest.sh` (in `$L2TP_VM_DIR`,
//! default `/var/tmp/l2tp-vm`); fails, rather than skips, without them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod netns;

use std::path::Path;

use netns::{L2tpd, Lab, Side};

/// Guest time limit; the guest's own pings give up well before it.
const GUEST_TIMEOUT_S: u64 = 180;

/// One guest at a time: two emulated guests on a 2-core machine slow each other past their
/// limits.
static ONE_GUEST: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The host's side of `kernel-peer.sh`'s two pseudowires. Cookies as l2tpd.conf(5) names
/// them: `cookie` is ours (the kernel sends it), `peer_cookie` the one we send.
const HOST_CONF: &str = "\
tunnel \"udp\" {
    version 3
    encap udp
    peer 192.0.2.2
    tunnel_id 10
    peer_tunnel_id 20
}

session \"udp\" {
    tunnel \"udp\"
    session_id 100
    peer_session_id 200
    pseudowire_type eth
    l2spec_type none
    pseudowire_profile_name \"udp\"
}

pseudowire profile \"udp\" {
    interface_name pwu0
    local_ip 198.51.100.1
    netmask 255.255.255.128
}

tunnel \"ip\" {
    version 3
    encap ip
    peer 192.0.2.2
    tunnel_id 11
    peer_tunnel_id 21
}

session \"ip\" {
    tunnel \"ip\"
    session_id 101
    peer_session_id 201
    pseudowire_type eth
    cookie hex:a1a2a3a4a5a6a7a8
    peer_cookie hex:0102030405060708
    l2spec_type default
    data_sequencing all
    pseudowire_profile_name \"ip\"
}

pseudowire profile \"ip\" {
    interface_name pwi0
    local_ip 198.51.100.129
    netmask 255.255.255.128
}
";

#[test]
fn l2tpd_userspace_pseudowires_talk_to_the_kernel() {
    let _one = ONE_GUEST
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut lab = Lab::new("kernel-interop", &["qemu-system-x86_64"]);
    let share = Path::new(env!("CARGO_MANIFEST_DIR")).join("../l2tp-dataplane/tests/vm");
    let qemu = lab.boot_guest(&share, "/mnt/host/kernel-peer.sh", GUEST_TIMEOUT_S, 0x12);
    let d = lab.start_l2tpd(
        Side::A,
        "192.0.2.1:1701",
        "    dataplane userspace\n",
        HOST_CONF,
    );
    let out = qemu.wait_with_output().unwrap();
    let console = String::from_utf8_lossy(&out.stdout);
    println!("{console}");
    let stats = |lab: &Lab, d: &L2tpd, tunnel: &str| {
        lab.ctl(d, &["show", "session", tunnel, tunnel])
            .unwrap_or_else(|e| panic!("{e}\n{}", lab.l2tpd_logs(d)))
    };
    let (su, si) = (stats(&lab, &d, "udp"), stats(&lab, &d, "ip"));
    assert!(
        out.status.success(),
        "the guest's pings failed\n{}",
        lab.l2tpd_logs(&d)
    );
    assert!(console.contains("PASS kernel <-> userspace pseudowire over udp"));
    assert!(console.contains("PASS kernel <-> userspace pseudowire over ip+cookie+seq"));
    for s in [&su, &si] {
        netns::assert_carried_cleanly(s, 5);
    }
}

/// The guest's side of the managed pseudowire: l2tpd with `dataplane auto`, which must take the
/// kernel's L2TP there, accepting the host's tunnel; then it pings the host's end of the
/// session.
const GUEST_CONF: &str = r#"peer profile "host" {
    peer_ipaddr 192.0.2.1
    tunnel_profile_name "v3"
    session_profile_name "eth"
    pseudowire_profile_name "pw"
}
tunnel profile "v3" {
    version 3
}
session profile "eth" {
    pseudowire_type eth
    cookie_length 8
    l2spec_type default
    data_sequencing all
}
pseudowire profile "pw" {
    interface_name l2tpeth0
    local_ip 198.51.100.2
    netmask 255.255.255.128
}
# Over IP, the guest calls: its L2TP/IP sockets against the host's raw ones.
tunnel "ki" {
    version 3
    encap ip
    peer 192.0.2.1
}
session "si" {
    tunnel "ki"
    pseudowire_type eth
    cookie_length 4
    pseudowire_profile_name "pwi"
}
pseudowire profile "pwi" {
    interface_name l2tpeth1
    local_ip 198.51.100.130
    netmask 255.255.255.128
}
"#;

/// What the guest does once its l2tpd runs.
const GUEST_CHECKS: &str = r#"ok=0
for _ in $(seq 1 300); do
    if ip link show l2tpeth0 >/dev/null 2>&1 && ip link show l2tpeth1 >/dev/null 2>&1 &&
        ping -c 1 -W 1 198.51.100.1 >/dev/null 2>&1 && ping -c 1 -W 1 198.51.100.129 >/dev/null 2>&1; then
        ok=1; break
    fi
    sleep 0.2
done
/tmp/bin/l2tpctl -S /tmp/w/l2tpd.sock show sessions
/tmp/bin/l2tpctl -S /tmp/w/l2tpd.sock show tunnels
# `dataplane auto` took the kernel's L2TP: the sessions are in the kernel, and the tunnel over
# IP has an L2TP/IP socket.
/tmp/bin/l2tpctl -S /tmp/w/l2tpd.sock show system | grep -i "data plane" | grep -q kernel || ok=0
ip l2tp show session | grep -q "Session" || ok=0
ip l2tp show tunnel | grep -q "encap IP" || ok=0
grep -q "IP protocol 115 on 192.0.2.2 (L2TP/IP)" /tmp/w/l2tpd.log || ok=0
if [ "$ok" = 1 ] && ping -c 5 -i 0.2 -W 2 198.51.100.1 && ping -c 5 -i 0.2 -W 2 198.51.100.129; then
    ip -s l2tp show session
    echo "PASS l2tpd kernel <-> l2tpd userspace"
    # The guest powers off with l2tpd still running: no StopCCN, so the host's session stays
    # up for the test to read its counters.
    exit 0
fi
echo "FAIL l2tpd kernel <-> l2tpd userspace"
ip -s l2tp show session; ip addr; cat /tmp/w/l2tpd.out; tail -n 60 /tmp/w/l2tpd.log
exit 1
"#;

#[test]
fn l2tpd_userspace_on_the_host_and_l2tpd_kernel_in_the_guest() {
    let _one = ONE_GUEST
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut lab = Lab::new("kernel-interop-managed", &["qemu-system-x86_64"]);
    let share = lab.guest_share(&netns::guest_l2tpd_script("auto", GUEST_CONF, GUEST_CHECKS));
    let qemu = lab.boot_guest(&share, "/mnt/host/peer.sh", GUEST_TIMEOUT_S, 0x13);
    let conf = "tunnel \"k\" {\n    version 3\n    peer 192.0.2.2\n}\n\n\
                session \"s\" {\n    tunnel \"k\"\n    pseudowire_type eth\n    cookie_length 8\n    \
                l2spec_type default\n    data_sequencing all\n    pseudowire_profile_name \"pw\"\n}\n\n\
                pseudowire profile \"pw\" {\n    interface_name pwk0\n    local_ip 198.51.100.1\n    \
                netmask 255.255.255.128\n}\n\n\
                peer profile \"guest\" {\n    peer_ipaddr 192.0.2.2\n    tunnel_profile_name \"ip\"\n    \
                pseudowire_profile_name \"pwi\"\n}\n\n\
                tunnel profile \"ip\" {\n    version 3\n    encap ip\n}\n\n\
                pseudowire profile \"pwi\" {\n    interface_name pwi0\n    local_ip 198.51.100.129\n    \
                netmask 255.255.255.128\n}\n";
    let d = lab.start_l2tpd(Side::A, "192.0.2.1:1701", "    dataplane userspace\n", conf);
    let out = qemu.wait_with_output().unwrap();
    let console = String::from_utf8_lossy(&out.stdout);
    println!("{console}");
    assert!(
        out.status.success() && console.contains("PASS l2tpd kernel <-> l2tpd userspace"),
        "the guest's pings failed\n{}",
        lab.l2tpd_logs(&d)
    );
    let s = lab
        .ctl(&d, &["show", "session", "k", "s"])
        .unwrap_or_else(|e| panic!("{e}\n{}", lab.l2tpd_logs(&d)));
    netns::assert_carried_cleanly(&s, 5);
}
