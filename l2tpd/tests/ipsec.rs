//! L2TP/IPsec: two l2tpd whose L2TP traffic strongSwan protects with ESP in transport mode.
//!
//! The host's kernel has no ESP, so both ends run in the project's qemu guest (tests/vm, whose
//! Debian kernel has it), in two network namespaces: each has its own strongSwan IKE daemon
//! (`charon-systemd`, configured with `swanctl` from `examples/ipsec/swanctl-{a,b}.conf`: IKEv2,
//! a pre-shared key, transport-mode CHILD_SAs for UDP port 1701 and for IP protocol 115) and
//! its own l2tpd with `dataplane userspace`. The guest script (`ipsec/guest.sh`) loads the
//! files (which installs the policies), brings the UDP CHILD_SA up with `swanctl --initiate`
//! and starts an L2TPv3 Ethernet pseudowire over UDP; then one over IP, whose CHILD_SA nothing
//! but l2tpd's first packet starts (the trap policy). It pings across each, and leaves a
//! capture of side A's veth (every packet) and the kernel's and charon's state for this test,
//! which judges them with tshark:
//!
//! - without keys, the capture holds ESP (and IKE) and no L2TP at all: nothing to or from UDP
//!   port 1701, no IP protocol 115;
//! - with the SAs' keys from `ip xfrm state`, tshark decrypts the ESP packets into the L2TP
//!   control messages and the data packets that carry the ping, every packet well formed;
//! - `ip xfrm state` and `swanctl --list-sas` count bytes in both directions.
//!
//! A control phase terminates the IKE SA and removes the policies: the same pseudowire then
//! shows in the clear, so the judge is seen to find cleartext L2TP when there is some.
//!
//! Needs root, qemu and the guest built by `tests/vm/build-guest.sh` (in `$L2TP_VM_DIR`,
//! default `/var/tmp/l2tp-vm`, with strongSwan in it); fails, rather than skips, without them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod netns;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use l2tp_testkit::tshark::{self, Packet};

/// Guest time limit (the whole script takes about 40 s on a loaded 2-core machine).
const GUEST_TIMEOUT_S: u64 = 300;

/// The pre-shared key of `examples/ipsec/swanctl-*.conf` (a test-only value).
const PSK: &str = "example only: replace with a long random secret";

/// How tshark decodes the pseudowire's data packets (as in `netns_userspace.rs`): 8-octet
/// cookies and the default L2-Specific Sublayer, which `guest.sh` configures.
const L2TP_ARGS: [&str; 4] = [
    "-o",
    "l2tp.cookie_size:8 Byte Cookie",
    "-o",
    "l2tp.l2_specific:Default L2-Specific",
];

fn vm_dir() -> PathBuf {
    std::env::var_os("L2TP_VM_DIR").map_or_else(|| PathBuf::from("/var/tmp/l2tp-vm"), PathBuf::from)
}

/// The share: the guest script and what it needs in, its results out (`out/`). Removed on
/// success, kept (and named) on failure.
struct Share(PathBuf);

impl Share {
    fn new() -> Share {
        let dir = std::env::temp_dir().join(format!("l2tp-ipsec-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["bin", "cases", "ipsec", "out"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let copy = |from: &Path, to: &str| {
            std::fs::copy(from, dir.join(to))
                .unwrap_or_else(|e| panic!("copying {}: {e}", from.display()));
        };
        copy(Path::new(netns::l2tpd_bin()), "bin/l2tpd");
        copy(&netns::l2tpctl_bin(), "bin/l2tpctl");
        // Without debug information: the guest copies the binaries into its memory. (Where
        // strip is missing, the guest has memory enough for them as they are.)
        for b in ["bin/l2tpd", "bin/l2tpctl"] {
            let _ = Command::new("strip")
                .arg("--strip-debug")
                .arg(dir.join(b))
                .status();
        }
        for lib in ["lib-l2tpd.sh", "lib-strongswan.sh"] {
            copy(
                &repo.join("tests/vm/cases").join(lib),
                &format!("cases/{lib}"),
            );
        }
        for side in ["a", "b"] {
            copy(
                &repo.join(format!("examples/ipsec/swanctl-{side}.conf")),
                &format!("ipsec/swanctl-{side}.conf"),
            );
        }
        copy(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ipsec/guest.sh"),
            "guest.sh",
        );
        Share(dir)
    }

    fn out(&self, name: &str) -> PathBuf {
        self.0.join("out").join(name)
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.out(name))
            .unwrap_or_else(|e| panic!("the guest left no {name}: {e}"))
    }
}

impl Drop for Share {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "guest results kept for inspection: {}/out (captures, xfrm state, logs)",
                self.0.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// One ESP security association as `ip -s xfrm state` shows it.
#[derive(Debug)]
struct Sa {
    src: String,
    dst: String,
    spi: String,
    /// The AEAD key (AES-GCM key and salt) in hex with `0x`.
    key: String,
    bytes: u64,
    packets: u64,
}

/// Parses the output of `ip -s xfrm state` (ESP with an AEAD algorithm, as the examples
/// propose).
fn parse_xfrm_state(text: &str) -> Vec<Sa> {
    let mut sas = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(rest) = line.strip_prefix("src ") else {
            continue;
        };
        let mut words = rest.split_whitespace();
        let src = words.next().unwrap_or_default().to_string();
        let dst = words.nth(1).unwrap_or_default().to_string();
        let (mut spi, mut key, mut bytes, mut packets) = (String::new(), String::new(), 0, 0);
        while let Some(l) = lines.next_if(|l| l.starts_with(char::is_whitespace)) {
            let w: Vec<&str> = l.split_whitespace().collect();
            match w.as_slice() {
                ["proto", "esp", "spi", s, ..] => {
                    spi = s.split('(').next().unwrap_or_default().to_string();
                }
                ["aead", _, k, ..] => key = (*k).to_string(),
                ["lifetime", "current:"] => {
                    // next line: "  1478(bytes), 16(packets)"
                    if let Some(counts) = lines.next() {
                        let n: Vec<u64> = counts
                            .split(',')
                            .filter_map(|c| c.trim().split('(').next()?.parse().ok())
                            .collect();
                        if let [b, p] = n.as_slice() {
                            (bytes, packets) = (*b, *p);
                        }
                    }
                }
                _ => {}
            }
        }
        sas.push(Sa {
            src,
            dst,
            spi,
            key,
            bytes,
            packets,
        });
    }
    sas
}

/// The SPIs and byte counts (in, then out) of CHILD_SA `child` in `swanctl --list-sas`, if it
/// is installed in transport mode with AES-GCM.
fn child_counters(list: &str, child: &str) -> Vec<(String, u64)> {
    let mut lines = list.lines().skip_while(|l| {
        !(l.trim_start().starts_with(&format!("{child}: #"))
            && l.contains("INSTALLED, TRANSPORT, ESP:AES_GCM_16-256"))
    });
    if lines.next().is_none() {
        return Vec::new();
    }
    // "    in  c9e26fd4,   1346 bytes,    15 packets,     1s ago"
    lines
        .take(3)
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let dir = w.next()?;
            if dir != "in" && dir != "out" {
                return None;
            }
            let spi = w.next()?.trim_end_matches(',').to_string();
            let bytes = w.next()?.parse().ok()?;
            Some((spi, bytes))
        })
        .collect()
}

/// tshark's arguments to decrypt ESP with `sas` (RFC 4106 AES-GCM with a 16-octet ICV).
fn esp_args(sas: &[Sa]) -> Vec<String> {
    let mut args = vec!["-o".to_string(), "esp.enable_encryption_decode:TRUE".into()];
    for sa in sas {
        args.push("-o".into());
        args.push(format!(
            "uat:esp_sa:\"IPv4\",\"{}\",\"{}\",\"{}\",\"AES-GCM with 16 octet ICV [RFC4106]\",\
             \"{}\",\"NULL\",\"\"",
            sa.src, sa.dst, sa.spi, sa.key
        ));
    }
    args
}

/// tshark's view of a capture; fails on malformed packets and expert errors.
fn decode(path: &Path, args: &[&str]) -> Vec<Packet> {
    let packets = tshark::decode_with(path, args)
        .unwrap_or_else(|e| panic!("tshark on {}: {e}", path.display()));
    let bad = tshark::unclean(&packets);
    assert!(
        bad.is_empty(),
        "tshark found problems in {}:\n{bad}\n{}",
        path.display(),
        protocols(&packets)
    );
    packets
}

/// One line per packet: its number and tshark's protocol stack.
fn protocols(packets: &[Packet]) -> String {
    packets
        .iter()
        .map(|p| format!("{:>4} {}\n", p.number, p.protocols))
        .collect()
}

/// How many packets of `path` match the display filter `filter`.
fn count(path: &Path, args: &[&str], filter: &str) -> usize {
    let out = netns::run_bounded(
        Command::new("tshark")
            .args(args)
            .arg("-n")
            .arg("-r")
            .arg(path)
            .args(["-Y", filter, "-T", "fields", "-e", "frame.number"]),
        netns::SHORT,
    );
    assert!(
        out.status.success(),
        "tshark -Y {filter} on {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).lines().count()
}

/// Keeps a capture in the captures directory, for `scripts/judge-captures.sh`.
fn keep(name: &str, path: &Path, args: &[&str]) {
    l2tp_testkit::captures::keep(name, path).unwrap();
    l2tp_testkit::captures::set_args(name, args).unwrap();
}

/// Judges phase `phase` ("udp" or "ip") of the guest: encrypted on the wire, L2TP inside.
fn judge_protected(share: &Share, phase: &str) {
    let pcap = share.out(&format!("{phase}.pcap"));
    let child = format!("l2tp-{phase}");
    // Without keys: ESP, and no L2TP in the clear.
    let packets = decode(&pcap, &[]);
    let summary = protocols(&packets);
    let esp = packets
        .iter()
        .filter(|p| p.protocols.contains(":esp"))
        .count();
    assert!(
        esp >= 14,
        "{phase}: only {esp} ESP packets on the wire (control messages and 5 pings each way \
         expected):\n{summary}"
    );
    let clear = count(
        &pcap,
        &[],
        "l2tp || udp.port == 1701 || ip.proto == 115 || icmp",
    );
    assert_eq!(clear, 0, "{phase}: L2TP in the clear:\n{summary}");
    assert!(
        packets.iter().all(|p| p.l2tp.is_empty()),
        "{phase}: tshark found L2TP outside ESP:\n{summary}"
    );

    // charon installed the CHILD_SA on both sides, and it counted bytes both ways; side A's
    // kernel has the same SAs (by SPI), which counted them too.
    let state = share.read(&format!("{phase}-xfrm-state-a.txt"));
    let sas = parse_xfrm_state(&state);
    for side in ["a", "b"] {
        let list = share.read(&format!("{phase}-sas-{side}.txt"));
        let counted = child_counters(&list, &child);
        assert!(
            counted.len() == 2 && counted.iter().all(|(_, bytes)| *bytes > 0),
            "{phase}: side {side}: swanctl shows no installed transport-mode CHILD_SA {child} \
             that counted bytes in and out ({counted:?}):\n{list}"
        );
        if side == "a" {
            for (spi, _) in &counted {
                let sa = sas.iter().find(|sa| sa.spi == format!("0x{spi}"));
                assert!(
                    sa.is_some_and(|sa| sa.bytes > 0 && sa.packets >= 7),
                    "{phase}: the kernel's SA {spi} carried nothing: {sa:?}\n{state}"
                );
            }
        }
        let policy = share.read(&format!("{phase}-xfrm-policy-{side}.txt"));
        assert!(
            policy.contains("proto esp") && policy.contains("mode transport"),
            "{phase}: side {side}: no transport-mode ESP policy:\n{policy}"
        );
    }

    // With the keys: every ESP packet is L2TP, the ping inside.
    let owned = esp_args(&sas);
    let mut args: Vec<&str> = owned.iter().map(String::as_str).collect();
    args.extend(L2TP_ARGS);
    let packets = decode(&pcap, &args);
    let summary = protocols(&packets);
    let inner = if phase == "udp" {
        ":esp:udp:l2tp"
    } else {
        ":esp:l2tp"
    };
    let l2tp = packets
        .iter()
        .filter(|p| p.protocols.contains(inner))
        .count();
    assert_eq!(
        l2tp, esp,
        "{phase}: not every ESP packet decrypts to L2TP ({inner}):\n{summary}"
    );
    let icmp = packets
        .iter()
        .filter(|p| p.protocols.contains(inner) && p.protocols.contains(":icmp:"))
        .count();
    assert!(
        icmp >= 10,
        "{phase}: {icmp} pings inside the ESP packets, expected 5 requests and 5 replies:\n{summary}"
    );
    assert!(
        packets
            .iter()
            .filter_map(Packet::first_l2tp)
            .any(|l| l.control == Some(true) && l.message_type == Some(1)),
        "{phase}: no SCCRQ inside ESP:\n{summary}"
    );
    keep(&format!("ipsec-{phase}"), &pcap, &args);
}

#[test]
fn strongswan_protects_l2tpv3_over_udp_and_over_ip() {
    netns::require_root_and(&["qemu-system-x86_64", "swanctl"]);
    let vm = vm_dir();
    assert!(
        vm.join("vmlinux").exists() && vm.join("initrd.img").exists(),
        "no test guest in {}: run tests/vm/build-guest.sh",
        vm.display()
    );
    let share = Share::new();
    let run_guest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vm/run-guest.sh");
    let out = netns::run_bounded(
        Command::new("bash")
            .arg(&run_guest)
            .args(["-n", &format!("l2tpd-ipsec-{}", std::process::id())])
            .arg("-s")
            .arg(&share.0)
            .args(["-r", "/mnt/host/guest.sh", "-m", "512"])
            .args(["-T", &GUEST_TIMEOUT_S.to_string()]),
        Duration::from_secs(GUEST_TIMEOUT_S + 20),
    );
    let console = String::from_utf8_lossy(&out.stdout);
    println!("{console}");
    for phase in ["udp", "ip", "clear"] {
        assert!(
            console.contains(&format!("] PASS {phase}\n")),
            "the guest's phase {phase} failed (status {}):\n{console}",
            out.status
        );
    }
    assert!(out.status.success(), "the guest failed:\n{console}");

    // Loading the files installed the policies (start_action = trap), before any SA.
    let trap = share.read("trap-xfrm-policy-a.txt");
    for selector in [
        "src 192.0.2.1/32 dst 192.0.2.2/32 proto udp sport 1701 dport 1701",
        "src 192.0.2.1/32 dst 192.0.2.2/32 proto l2tp",
    ] {
        assert!(
            trap.contains(selector),
            "no trap policy {selector:?} after loading swanctl-a.conf:\n{trap}"
        );
    }
    judge_protected(&share, "udp");
    judge_protected(&share, "ip");

    // The control, without IPsec: the same pseudowire in the clear, ping included, no ESP.
    let pcap = share.out("clear.pcap");
    let packets = decode(&pcap, &L2TP_ARGS);
    let summary = protocols(&packets);
    let esp = packets
        .iter()
        .filter(|p| p.protocols.contains(":esp"))
        .count();
    let icmp = packets
        .iter()
        .filter(|p| p.protocols.contains(":udp:l2tp:") && p.protocols.contains(":icmp:"))
        .count();
    assert!(
        esp == 0 && icmp >= 10,
        "control: expected the ping in clear L2TP and no ESP:\n{summary}"
    );
    for side in ["a", "b"] {
        let state = share.read(&format!("clear-xfrm-state-{side}.txt"));
        assert!(
            parse_xfrm_state(&state).is_empty(),
            "control: SAs left on {side}:\n{state}"
        );
    }
    keep("ipsec-clear", &pcap, &L2TP_ARGS);

    // The pre-shared key is strongSwan's alone: l2tpd never sees it, nor logs it.
    for f in ["cli_udp", "srv_udp", "cli_ip", "srv_ip"] {
        let log = share.read(&format!("{f}.log"));
        assert!(!log.is_empty() && !log.contains(PSK), "{f}.log");
    }
}
