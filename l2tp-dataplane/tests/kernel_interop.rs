//! Wire compatibility with the Linux kernel's L2TPv3 data plane: the userspace data plane
//! (`l2tp-static`) in a network namespace of the host, the kernel's `ip l2tp` pseudowires in the
//! project's qemu guest (tests/vm), linked by a tap that qemu opens in that namespace
//! (`-netdev tap`). The guest (`tests/vm/kernel-peer.sh`) pings across a UDP pseudowire and
//! across an IP pseudowire with 8-octet cookies and the sequenced default sublayer, and runs
//! iperf3 TCP both ways over each against servers in the host's namespace, so that TCP
//! super-frames are segmented for the kernel's `l2tp_eth` and its segments coalesced (the host
//! side runs with offloads, the default).
//!
//! Runs only as root where the guest is built (`tests/vm/build-guest.sh`, in `$L2TP_VM_DIR`,
//! default `/var/tmp/l2tp-vm`) and qemu is installed; says why it skipped otherwise.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Netns, Static, run};

/// Guest time limit; the guest's own pings give up well before it.
const GUEST_TIMEOUT_S: u64 = 120;

fn vm_dir() -> PathBuf {
    std::env::var_os("L2TP_VM_DIR").map_or_else(|| PathBuf::from("/var/tmp/l2tp-vm"), PathBuf::from)
}

#[test]
fn userspace_pseudowire_talks_to_the_kernel_one() {
    require_privileges!();
    let vm = vm_dir();
    if !vm.join("vmlinux").exists() || !vm.join("initrd.img").exists() {
        common::skip(&format!(
            "no test guest in {} (tests/vm/build-guest.sh)",
            vm.display()
        ));
        return;
    }
    if !Command::new("qemu-system-x86_64")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        common::skip("no qemu-system-x86_64");
        return;
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run_guest = manifest.join("../tests/vm/run-guest.sh");
    let share = manifest.join("tests/vm");
    let tag = std::process::id() % 100_000;
    let host = Netns(format!("l2dpvm{tag}"));
    let tap = format!("dpvm{tag}");
    let guest = format!("dp-kernel-peer-{tag}");
    run(&["ip", "netns", "add", &host.0]);
    run(&["ip", "-n", &host.0, "link", "set", "lo", "up"]);

    // qemu creates the tap in the namespace it runs in.
    let mut qemu = Command::new("ip")
        .args(["netns", "exec", &host.0, "bash"])
        .arg(&run_guest)
        .args(["-n", &guest, "-s"])
        .arg(&share)
        .args([
            "-r",
            "/mnt/host/kernel-peer.sh",
            "-T",
            &GUEST_TIMEOUT_S.to_string(),
        ])
        .args(["-a", "vm.ip0=192.0.2.2/24", "-a", "vm.iperf=1", "--"])
        .args([
            "-netdev",
            &format!("tap,id=t0,ifname={tap},script=no,downscript=no"),
        ])
        .args([
            "-device",
            "virtio-net-pci,netdev=t0,romfile=,mac=52:54:00:d9:00:02",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !Command::new("ip")
        .args(["-n", &host.0, "link", "show", &tap])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
    {
        if Instant::now() > deadline {
            let _ = qemu.kill();
            let _ = qemu.wait();
            panic!("qemu did not create {tap}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    run(&[
        "ip",
        "-n",
        &host.0,
        "addr",
        "add",
        "192.0.2.1/24",
        "dev",
        &tap,
    ]);
    run(&["ip", "-n", &host.0, "link", "set", &tap, "up"]);

    let dir = std::env::temp_dir().join(format!("l2tp-dataplane-vm-{tag}"));
    std::fs::create_dir_all(&dir).unwrap();
    let udp = Static::start(
        &host.0,
        &dir.join("udp.stats"),
        &[
            "--local",
            "192.0.2.1",
            "--peer",
            "192.0.2.2",
            "--encap",
            "udp",
            "--tunnel-id",
            "10",
            "--peer-tunnel-id",
            "20",
            "--session-id",
            "100",
            "--peer-session-id",
            "200",
            "--ifname",
            "pwu%d",
        ],
    );
    let ip = Static::start(
        &host.0,
        &dir.join("ip.stats"),
        &[
            "--local",
            "192.0.2.1",
            "--peer",
            "192.0.2.2",
            "--encap",
            "ip",
            "--tunnel-id",
            "11",
            "--peer-tunnel-id",
            "21",
            "--session-id",
            "101",
            "--peer-session-id",
            "201",
            "--cookie",
            "0102030405060708",
            "--peer-cookie",
            "a1a2a3a4a5a6a7a8",
            "--l2spec",
            "default",
            "--seq",
            "--ifname",
            "pwi%d",
        ],
    );
    run(&[
        "ip",
        "-n",
        &host.0,
        "addr",
        "add",
        "198.51.100.1/25",
        "dev",
        &udp.ifname,
    ]);
    run(&[
        "ip",
        "-n",
        &host.0,
        "addr",
        "add",
        "198.51.100.129/25",
        "dev",
        &ip.ifname,
    ]);

    let mut servers: Vec<std::process::Child> = ["198.51.100.1", "198.51.100.129"]
        .iter()
        .map(|addr| {
            // `ip netns exec` execs iperf3: killing the child kills the server.
            Command::new("ip")
                .args(["netns", "exec", &host.0, "iperf3", "-s", "-B", addr])
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();

    let out = qemu.wait_with_output().unwrap();
    for s in &mut servers {
        let _ = s.kill();
        let _ = s.wait();
    }
    let console = String::from_utf8_lossy(&out.stdout);
    println!("{console}");
    let (su, si) = (udp.session_stats(), ip.session_stats());
    println!("udp: {su:?}\nip: {si:?}");
    drop((udp, ip));
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "the guest's pings failed");
    assert!(console.contains("PASS kernel <-> userspace pseudowire over udp"));
    assert!(console.contains("PASS kernel <-> userspace pseudowire over ip+cookie+seq"));
    assert!(console.contains("PASS iperf3 TCP both ways over udp"));
    assert!(console.contains("PASS iperf3 TCP both ways over ip+cookie+seq"));
    for s in [&su, &si] {
        assert!(s["rx_packets"] >= 5 && s["tx_packets"] >= 5, "{s:?}");
        assert_eq!(s["cookie_mismatches"], 0);
        assert_eq!(s["seq_errors"], 0);
    }
}
