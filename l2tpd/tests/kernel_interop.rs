//! l2tpd's userspace data plane is wire-compatible with the Linux kernel's: l2tpd runs in a
//! network namespace of the host with `dataplane userspace` and two static L2TPv3 Ethernet
//! pseudowires from its config, and the kernel's `ip l2tp` pseudowires run in the project's qemu
//! guest (tests/vm), linked by a tap that qemu opens in that namespace. The guest
//! (`l2tp-dataplane/tests/vm/kernel-peer.sh`) pings across a UDP pseudowire and across an IP
//! pseudowire with 8-octet cookies and the sequenced default sublayer; l2tpd's counters must
//! show the traffic with no cookie or sequence errors.
//!
//! Needs root, qemu and the guest built by `tests/vm/build-guest.sh` (in `$L2TP_VM_DIR`,
//! default `/var/tmp/l2tp-vm`); fails, rather than skips, without them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod netns;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use netns::{L2tpd, Lab, Side, num};

/// Guest time limit; the guest's own pings give up well before it.
const GUEST_TIMEOUT_S: u64 = 120;

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

fn vm_dir() -> PathBuf {
    std::env::var_os("L2TP_VM_DIR").map_or_else(|| PathBuf::from("/var/tmp/l2tp-vm"), PathBuf::from)
}

#[test]
fn l2tpd_userspace_pseudowires_talk_to_the_kernel() {
    let vm = vm_dir();
    assert!(
        vm.join("vmlinux").exists() && vm.join("initrd.img").exists(),
        "no test guest in {}: run tests/vm/build-guest.sh",
        vm.display()
    );
    let mut lab = Lab::new("kernel-interop", &["qemu-system-x86_64"]);
    // Side A's veth is not used: the guest's link is a tap in side A's namespace.
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run_guest = manifest.join("../tests/vm/run-guest.sh");
    let share = manifest.join("../l2tp-dataplane/tests/vm");
    let tag = std::process::id() % 100_000;
    let tap = format!("l2vm{tag}");
    let guest = format!("l2tpd-kernel-peer-{tag}");
    let ns = lab.ns(Side::A).to_owned();
    // The guest's eth0 is 192.0.2.2; move side A's veth address out of its way.
    netns::ip(&["-n", &ns, "addr", "flush", "dev", lab.ifname(Side::A)]);
    let qemu = Command::new("ip")
        .args(["netns", "exec", &ns, "bash"])
        .arg(&run_guest)
        .args(["-n", &guest, "-s"])
        .arg(&share)
        .args(["-r", "/mnt/host/kernel-peer.sh"])
        .args(["-T", &GUEST_TIMEOUT_S.to_string()])
        .args(["-a", "vm.ip0=192.0.2.2/24", "--"])
        .args([
            "-netdev",
            &format!("tap,id=t0,ifname={tap},script=no,downscript=no"),
        ])
        .args([
            "-device",
            "virtio-net-pci,netdev=t0,romfile=,mac=52:54:00:d9:00:12",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !lab
        .run(Side::A, &["ip", "link", "show", &tap], netns::SHORT)
        .status
        .success()
    {
        assert!(Instant::now() < deadline, "qemu did not create {tap}");
        std::thread::sleep(Duration::from_millis(50));
    }
    netns::ip(&["-n", &ns, "addr", "add", "192.0.2.1/24", "dev", &tap]);
    netns::ip(&["-n", &ns, "link", "set", &tap, "up"]);

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
        let st = &s["stats"];
        assert!(
            num(st, "rx_packets") >= 5 && num(st, "tx_packets") >= 5,
            "{s}"
        );
        assert_eq!(num(st, "rx_cookie_mismatches"), 0, "{s}");
        assert_eq!(num(st, "rx_seq_errors"), 0, "{s}");
    }
}
