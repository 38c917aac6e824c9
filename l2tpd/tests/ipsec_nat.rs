//! The L2TP/IPsec remote-access server of `examples/vpn-server/`, as shipped, with the clients
//! the native ones stand for, three of them behind one NAT.
//!
//! The host's kernel has neither ESP nor the kernel's L2TP, so everything runs in the
//! project's qemu guest (tests/vm), in network namespaces (`ipsec_nat/guest.sh`): the server
//! (strongSwan's charon with the recipe's swanctl.conf, l2tpd with its l2tpd.conf on the
//! kernel data plane, its firewall l2tpd-ipsec.nft), a NAT (nftables masquerade) with c1, c2
//! and c3 behind it, and c4 outside. Each client runs charon (IKEv1: the pre-shared key, c4 a
//! certificate this test makes with strongSwan's `pki`), xl2tpd and pppd with MS-CHAPv2: c1
//! asks for Multilink (an MRRU), Callback and compression (CCP) and for DNS, as Windows does;
//! c2 sends LCP echoes every second and goes without a StopCCN, as phones do. The guest leaves
//! captures, l2tpctl's answers and logs, which this test judges:
//!
//! - clear: an SCCRQ outside IPsec gets no answer with the firewall, and one without it;
//! - nat: every client gets its own tunnel, session, pool address and mark; all ping the
//!   server at once, every reply comes; each client's decrypted L2TP (an nflog capture on the
//!   client) holds its own tunnel's packets only, and its own pings' replies; the server
//!   rejects MRRU and Callback and gives the DNS server. Where the kernel's L2TP cannot tell
//!   apart the data of tunnels that share a peer address and port (Debian 12's Linux 6.1),
//!   c2's tunnel, the NAT's first, is the kernel's, and c1's and c3's are carried apart, on
//!   the userspace data plane; where it can (Linux 6.10 on, for L2TPv2), all four are the
//!   kernel's, and the log says that c1's and c3's share c2's address and port;
//! - rekey: every client's CHILD_SA is rekeyed, c1's by c1 (as Windows does when its Quick
//!   Mode SA's lifetime ends), then all by the server, and the old SAs are deleted at once:
//!   the new SAs have the marks of the old ones, every tunnel still sends with its client's,
//!   and the tunnels, sessions, addresses and pings go on;
//! - leave: c2 vanishes; the server notices (LCP echoes), removes its session and tunnel,
//!   frees its address and says PPP DOWN, while the others ping on until c2's tunnel and its
//!   socket are gone, and their pings come back: c4's all but the one in flight when they
//!   stop, c1's and c3's as many on Linux 6.10 on (whichever tunnel's socket the NAT's
//!   datagrams reach, they find their tunnels), and two fewer at most before (another
//!   tunnel's socket takes the place of c2's, to which the NAT's datagrams went); all of them
//!   come back afterwards;
//! - nfq: with the marks from l2tp-nfqd's messages instead (the recipe's alternative), this
//!   binary standing in for l2tp-nfqd (`--nfqd QUEUE SOCKET`: NFQUEUE over netlink, the
//!   message of l2tp-nfqd's header), the clients work again; a message for no SCCRQ is
//!   dropped; c4, asking for MPPE through CCP, gets CCP protocol-rejected.
//!
//! It runs twice, at once, on two guests, each asserting by the guest's `uname -r` that it ran
//! on the kernel it is for: `ipsec_nat` on the guest of Debian 12's kernel that
//! `tests/vm/build-guest.sh` builds (in `$L2TP_VM_DIR`, default `/var/tmp/l2tp-vm`), and
//! `ipsec_nat_backports` on the one it builds with `L2TP_VM_KERNEL=backports` (bookworm-
//! backports' Linux 6.12, in `$L2TP_VM_BACKPORTS_DIR`, default `$L2TP_VM_DIR-backports`).
//! A name on the command line runs the cases whose names contain it.
//!
//! Needs root, qemu, strongSwan's `pki`, tshark and both guests; fails, rather than skips,
//! without them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod netns;

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use l2tp_proto::wire::header::{Encapsulation, Packet};
use l2tpd::marks::nfq::NfqMessage;
use serde_json::Value;

/// Guest time limit (the script takes about three minutes on a loaded 2-core machine).
const GUEST_TIMEOUT_S: u64 = 600;

/// The clients: namespace, user, address on the path to the server (the NAT's for c1-c3).
const CLIENTS: [(&str, &str, &str); 4] = [
    ("c1", "alice", "203.0.113.2"),
    ("c2", "bob", "203.0.113.2"),
    ("c3", "carol", "203.0.113.2"),
    ("c4", "dave", "203.0.113.4"),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("--nfqd") => return nfqd::run(&args[2..]),
        // Judges again what a failed run kept (the directory it names), phase by phase.
        Some("--judge") => {
            let share = std::mem::ManuallyDrop::new(Share(PathBuf::from(&args[2]), "ipsec-nat"));
            let phases: [(&str, Judge); 5] = [
                ("clear", judge_clear),
                ("nat", judge_nat),
                ("rekey", judge_rekey),
                ("leave", judge_leave),
                ("nfq", judge_nfq),
            ];
            for (name, judge) in phases {
                if args[3..].is_empty() || args[3..].iter().any(|a| a == name) {
                    judge(&share);
                    println!("{name}: judged");
                }
            }
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    let filters: Vec<&String> = args[1..].iter().filter(|a| !a.starts_with('-')).collect();
    let cases: Vec<Kernel> = [Kernel::Merges, Kernel::Separates]
        .into_iter()
        .filter(|k| filters.is_empty() || filters.iter().any(|f| k.case().contains(f.as_str())))
        .collect();
    // Each guest takes one core (TCG): the two run side by side.
    std::thread::scope(|s| {
        for kernel in cases {
            s.spawn(move || {
                host(kernel);
                println!("test {} ... ok", kernel.case());
            });
        }
    });
    ExitCode::SUCCESS
}

/// What a guest's kernel does with the data of L2TPv2 tunnels whose peers share an address
/// and port; each kind is a case of this test, on a guest of its own.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kernel {
    /// Older than Linux 6.10 (Debian 12's 6.1): it gives all of it to the tunnel of the one
    /// socket the datagrams reach, so l2tpd carries the later tunnels apart.
    Merges,
    /// Linux 6.10 or newer (bookworm-backports' 6.12): it finds each packet's tunnel by its
    /// id, so every tunnel stays on the kernel.
    Separates,
}

impl Kernel {
    fn case(self) -> &'static str {
        match self {
            Kernel::Merges => "ipsec_nat",
            Kernel::Separates => "ipsec_nat_backports",
        }
    }

    /// The directory of the guest of this kind (`tests/vm/build-guest.sh`'s `L2TP_VM_DIR`).
    fn vm_dir(self) -> PathBuf {
        let stock = std::env::var_os("L2TP_VM_DIR")
            .map_or_else(|| PathBuf::from("/var/tmp/l2tp-vm"), PathBuf::from);
        match self {
            Kernel::Merges => stock,
            Kernel::Separates => std::env::var_os("L2TP_VM_BACKPORTS_DIR").map_or_else(
                || PathBuf::from(format!("{}-backports", stock.display())),
                PathBuf::from,
            ),
        }
    }

    /// The kind of a kernel of `release` (`uname -r`, such as `6.12.95+deb12-amd64`).
    fn of_release(release: &str) -> Kernel {
        let mut parts = release.trim().split(|c: char| !c.is_ascii_digit());
        let mut number = || -> u32 {
            parts
                .next()
                .and_then(|p| p.parse().ok())
                .unwrap_or_else(|| panic!("no kernel release in {release:?}"))
        };
        if (number(), number()) >= (6, 10) {
            Kernel::Separates
        } else {
            Kernel::Merges
        }
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The share: the guest script and what it needs in, its results out (`out/`). Removed on
/// success, kept (and named) on failure. With the prefix of the names of the captures it
/// keeps for `scripts/judge-captures.sh`.
struct Share(PathBuf, &'static str);

/// A phase's judge of what the guest left.
type Judge = fn(&Share);

impl Share {
    fn new(kernel: Kernel) -> Share {
        let captures = match kernel {
            Kernel::Merges => "ipsec-nat",
            Kernel::Separates => "ipsec-nat-backports",
        };
        let dir = std::env::temp_dir().join(format!("l2tp-{captures}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["bin", "vpn-server", "pki", "cases", "out"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let copy = |from: &Path, to: &str| {
            std::fs::copy(from, dir.join(to))
                .unwrap_or_else(|e| panic!("copying {}: {e}", from.display()));
        };
        let l2tpctl = netns::l2tpctl_bin();
        let bins = [
            (PathBuf::from(netns::l2tpd_bin()), "l2tpd"),
            (l2tpctl.with_file_name("l2tpwatch"), "l2tpwatch"),
            (l2tpctl, "l2tpctl"),
            (std::env::current_exe().unwrap(), "ipsec_nat"),
        ];
        for (from, name) in bins {
            let to = format!("bin/{name}");
            copy(&from, &to);
            // Without debug information: the guest copies the binaries into its memory.
            let _ = Command::new("strip")
                .arg("--strip-debug")
                .arg(dir.join(&to))
                .status();
        }
        // The recipe as it ships.
        for name in ["swanctl.conf", "l2tpd.conf", "l2tpd-ipsec.nft"] {
            copy(
                &repo().join("examples/vpn-server").join(name),
                &format!("vpn-server/{name}"),
            );
        }
        copy(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ipsec_nat/guest.sh"),
            "guest.sh",
        );
        copy(
            &repo().join("tests/vm/cases/lib-strongswan.sh"),
            "cases/lib-strongswan.sh",
        );
        pki::make(&dir.join("pki"));
        Share(dir, captures)
    }

    /// Keeps a capture for `scripts/judge-captures.sh`, as `PREFIX-name`.
    fn keep(&self, name: &str, path: &Path) {
        l2tp_testkit::captures::keep(&format!("{}-{name}", self.1), path).unwrap();
    }

    /// What the guest's kernel does with the data of tunnels that share a peer's address and
    /// port, by the release it ran (`uname -r`).
    fn kernel(&self) -> Kernel {
        Kernel::of_release(&self.read("uname.txt"))
    }

    fn out(&self, name: &str) -> PathBuf {
        self.0.join("out").join(name)
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.out(name))
            .unwrap_or_else(|e| panic!("the guest left no {name}: {e}"))
    }

    fn json(&self, name: &str) -> Value {
        let text = self.read(name);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}:\n{text}"))
    }

    /// The objects of a file of several JSON values, one after the other.
    fn json_stream(&self, name: &str) -> Vec<Value> {
        let text = self.read(name);
        serde_json::Deserializer::from_str(&text)
            .into_iter::<Value>()
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("{name}: {e}:\n{text}"))
    }
}

impl Drop for Share {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "guest results kept for inspection: {}/out (captures, l2tpctl answers, logs)",
                self.0.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// One packet's fields, as `tshark -T fields` gives them (every occurrence, comma-separated).
fn fields(path: &Path, filter: &str, names: &[&str]) -> Vec<Vec<String>> {
    let mut cmd = Command::new("tshark");
    cmd.args(["-n", "-r"]).arg(path).args([
        "-Y",
        filter,
        "-T",
        "fields",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=,",
    ]);
    for n in names {
        cmd.args(["-e", n]);
    }
    let out = netns::run_bounded(&mut cmd, netns::SHORT);
    assert!(
        out.status.success(),
        "tshark -Y {filter} on {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

/// How many packets of `path` match `filter`.
fn count(path: &Path, filter: &str) -> usize {
    fields(path, filter, &["frame.number"]).len()
}

/// tshark's view of a capture; fails on malformed packets and expert errors.
fn decode_clean(path: &Path) -> Vec<l2tp_testkit::tshark::Packet> {
    let packets = l2tp_testkit::tshark::decode(path)
        .unwrap_or_else(|e| panic!("tshark on {}: {e}", path.display()));
    let bad = l2tp_testkit::tshark::unclean(&packets);
    assert!(
        bad.is_empty(),
        "tshark found problems in {}:\n{bad}",
        path.display()
    );
    packets
}

/// The server's view of one client: its tunnel (local and peer ids, socket mark) and its
/// session's address, by user.
#[derive(Debug)]
struct Seen {
    tid: u64,
    peer_tid: u64,
    peer: String,
    mark: Option<u64>,
    address: String,
}

fn seen_by_user(share: &Share, phase: &str) -> BTreeMap<String, Seen> {
    let sessions = share.json(&format!("{phase}-sessions.json"));
    let details = share.json_stream(&format!("{phase}-tunnel-detail.json"));
    let mut out = BTreeMap::new();
    for s in sessions.as_array().unwrap() {
        let (Some(user), Some(address)) = (s["ppp_user"].as_str(), s["ppp_ipv4"].as_str()) else {
            continue;
        };
        let tid = s["tid"].as_u64().unwrap();
        let t = details
            .iter()
            .find(|t| t["tid"].as_u64() == Some(tid))
            .unwrap_or_else(|| panic!("{phase}: no detail of tunnel {tid}"));
        out.insert(
            user.to_owned(),
            Seen {
                tid,
                peer_tid: t["peer_tid"].as_u64().unwrap(),
                peer: t["peer"].as_str().unwrap().to_owned(),
                mark: t["socket_mark"].as_u64(),
                address: address.to_owned(),
            },
        );
    }
    out
}

/// The ids of the kernel's L2TP tunnels in the server's namespace, from `ip l2tp show tunnel`.
fn kernel_tunnels(share: &Share, phase: &str) -> BTreeSet<u64> {
    share
        .read(&format!("{phase}-kernel-tunnels.txt"))
        .lines()
        .filter_map(|l| l.strip_prefix("Tunnel "))
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect()
}

/// The marks of the server's outbound IPsec policies towards `peer`, from `ip xfrm policy`.
fn out_policy_marks(policies: &str, peer: &str) -> BTreeSet<u64> {
    let mut marks = BTreeSet::new();
    let mut dst_ok = false;
    let mut out = false;
    for line in policies.lines() {
        if line.starts_with("src ") {
            dst_ok = line.contains(&format!("dst {peer}/32"));
            out = false;
        } else if line.trim_start().starts_with("dir out") {
            out = dst_ok;
        } else if let Some(m) = line.trim_start().strip_prefix("mark ")
            && out
        {
            let v = m.split('/').next().unwrap_or_default();
            marks.insert(u64::from_str_radix(v.trim_start_matches("0x"), 16).unwrap());
        }
    }
    marks
}

fn host(kernel: Kernel) {
    netns::require_root_and(&["qemu-system-x86_64", "swanctl", "pki"]);
    let vm = kernel.vm_dir();
    let build = match kernel {
        Kernel::Merges => String::new(),
        Kernel::Separates => format!("L2TP_VM_KERNEL=backports L2TP_VM_DIR={} ", vm.display()),
    };
    assert!(
        vm.join("vmlinux").exists() && vm.join("initrd.img").exists(),
        "{}: no test guest in {}: run {build}tests/vm/build-guest.sh",
        kernel.case(),
        vm.display()
    );
    let share = Share::new(kernel);
    let run_guest = repo().join("tests/vm/run-guest.sh");
    let out = netns::run_bounded(
        Command::new("bash")
            .env("L2TP_VM_DIR", &vm)
            .arg(&run_guest)
            .args(["-n", &format!("{}-{}", share.1, std::process::id())])
            .arg("-s")
            .arg(&share.0)
            .args(["-r", "/mnt/host/guest.sh", "-m", "768"])
            .args(["-T", &GUEST_TIMEOUT_S.to_string()]),
        Duration::from_secs(GUEST_TIMEOUT_S + 20),
    );
    let console = String::from_utf8_lossy(&out.stdout);
    println!("{console}");
    // The guest ran the kernel this case is for: the expectations below are that kernel's.
    let release = share.read("uname.txt");
    assert_eq!(
        Kernel::of_release(&release),
        kernel,
        "{}: the guest in {} runs Linux {}, not a kernel of this case",
        kernel.case(),
        vm.display(),
        release.trim()
    );
    for phase in ["clear", "nat", "rekey", "leave", "nfq"] {
        assert!(
            console.contains(&format!("] PASS {phase}\n")),
            "the guest's phase {phase} failed (status {}):\n{console}",
            out.status
        );
    }
    assert!(out.status.success(), "the guest failed:\n{console}");
    judge_clear(&share);
    judge_nat(&share);
    judge_rekey(&share);
    judge_leave(&share);
    judge_nfq(&share);
    // The pre-shared key and the users' passwords are strongSwan's and pppd's: l2tpd never
    // logs them.
    let log = share.read("l2tpd.log");
    for secret in [
        "example only: replace with a long random secret",
        "alice-example-password",
        "dave-example-password",
    ] {
        assert!(!log.contains(secret), "l2tpd logged a secret");
    }
}

/// A client outside IPsec is not answered; without the firewall's table it is.
fn judge_clear(share: &Share) {
    let fw = share.out("clear-fw.pcap");
    decode_clean(&fw);
    let sccrq = "l2tp.avp.message_type == 1 && ip.src == 203.0.113.4";
    assert!(
        count(&fw, sccrq) >= 2,
        "c4 sent no SCCRQs in the clear (it should try several times)"
    );
    assert_eq!(
        count(&fw, "ip.src == 203.0.113.1"),
        0,
        "the server answered an SCCRQ outside IPsec"
    );
    let open = share.out("clear-open.pcap");
    decode_clean(&open);
    assert!(
        count(&open, "l2tp.avp.message_type == 2 && ip.src == 203.0.113.1") >= 1,
        "without its firewall, the server did not answer: the test could not tell"
    );
    let nft = share.read("clear-nft.txt");
    assert!(
        nft.contains("udp dport 1701 meta ipsec missing counter packets")
            && nft.contains("udp sport 1701 rt ipsec missing counter packets"),
        "{nft}"
    );
    share.keep("clear-fw", &fw);
    share.keep("clear-open", &open);
}

fn judge_nat(share: &Share) {
    let seen = seen_by_user(share, "nat");
    let users: Vec<&str> = CLIENTS.iter().map(|c| c.1).collect();
    assert_eq!(
        seen.keys().map(String::as_str).collect::<Vec<_>>(),
        users,
        "a session per user: {seen:?}"
    );
    // Own tunnels, addresses and marks; the clients behind the NAT share its address and port.
    let tids: BTreeSet<u64> = seen.values().map(|s| s.tid).collect();
    let addresses: BTreeSet<&str> = seen.values().map(|s| s.address.as_str()).collect();
    let marks: BTreeSet<Option<u64>> = seen.values().map(|s| s.mark).collect();
    assert!(
        tids.len() == 4 && addresses.len() == 4 && marks.len() == 4 && !marks.contains(&None),
        "{seen:?}"
    );
    let policies = share.read("nat-xfrm-policy.txt");
    for (ns, user, via) in CLIENTS {
        let s = &seen[user];
        assert_eq!(s.peer, format!("{via}:1701"), "{ns}");
        let a: Ipv4Addr = s.address.parse().unwrap();
        assert!(
            (10..=250).contains(&a.octets()[3]) && a.octets()[..3] == [198, 51, 100],
            "{ns}: {a} is not from the pool"
        );
        assert!(
            out_policy_marks(&policies, via).contains(&s.mark.unwrap()),
            "{ns}: its tunnel's mark {:?} is no SA's mark:\n{policies}",
            s.mark
        );
    }
    let nat_marks = out_policy_marks(&policies, "203.0.113.2");
    assert_eq!(nat_marks.len(), 3, "three SAs behind the NAT:\n{policies}");
    // Where the kernel cannot tell apart the data of tunnels that share a peer address and
    // port, of the NAT's three tunnels the first is the kernel's and the two others are
    // carried apart, on the userspace data plane, as the log says; where it can, the log says
    // that the two others share the first one's address and port, and all stay on the kernel.
    // (The first server's log: the second says where it takes l2tp-nfqd's messages.)
    let log = share.read("l2tpd.log");
    let log = log
        .split("l2tp-nfqd messages on")
        .next()
        .unwrap_or_default();
    let lines = |what: &str| log.lines().filter(|l| l.contains(what)).count();
    let apart = lines("is carried apart (fallback data plane: userspace");
    let together = lines("the kernel data plane tells their data apart by tunnel and session ids");
    let expected = match share.kernel() {
        Kernel::Merges => (2, 0),
        Kernel::Separates => (0, 2),
    };
    assert_eq!(
        (apart, together),
        expected,
        "tunnels carried apart, and tunnels that share an address and port on the kernel, in \
         phase nat:\n{log}"
    );
    // And the kernel has those tunnels that it carries, no more.
    let on_kernel: BTreeSet<u64> = match share.kernel() {
        Kernel::Merges => ["bob", "dave"].iter().map(|u| seen[*u].tid).collect(),
        Kernel::Separates => tids.clone(),
    };
    assert_eq!(
        kernel_tunnels(share, "nat"),
        on_kernel,
        "the kernel's tunnels"
    );
    let addrs = share.read("nat-addresses.txt");
    for (ns, user, _) in CLIENTS {
        assert!(
            addrs.contains(&format!("{ns}: {}\n", seen[user].address)),
            "{ns}'s ppp0 does not have the address the server gave:\n{addrs}"
        );
    }
    // On each client, the decrypted L2TP that arrives is its own tunnel's only, and the pings'
    // replies in it are its own.
    for (ns, user, _) in CLIENTS {
        let s = &seen[user];
        let pcap = share.out(&format!("nat-{ns}.pcap"));
        decode_clean(&pcap);
        let inbound = fields(
            &pcap,
            "l2tp && ip.src == 203.0.113.1",
            &["l2tp.tunnel", "icmp.type", "ip.dst"],
        );
        assert!(inbound.len() >= 20, "{ns}: {} packets in", inbound.len());
        let tunnels: BTreeSet<&str> = inbound.iter().map(|f| f[0].as_str()).collect();
        assert_eq!(
            tunnels,
            BTreeSet::from([s.peer_tid.to_string().as_str()]),
            "{ns} received another tunnel's packets"
        );
        let replies: Vec<&Vec<String>> = inbound.iter().filter(|f| f[1] == "0").collect();
        assert!(replies.len() >= 20, "{ns}: {} echo replies", replies.len());
        for r in replies {
            assert!(
                r[2].ends_with(&format!(",{}", s.address)),
                "{ns} received a reply for {}",
                r[2]
            );
        }
        share.keep(ns, &pcap);
    }
    // The server's view: the Windows-like client's MRRU and Callback rejected, a DNS server
    // given; the phone-like client's echoes answered.
    let srv = share.out("nat-srv.pcap");
    decode_clean(&srv);
    let c1 = seen["alice"].peer_tid;
    let to_c1 = format!("l2tp.tunnel == {c1} && ip.src == 203.0.113.1");
    assert!(
        count(
            &srv,
            &format!("{to_c1} && lcp && ppp.code == 4 && lcp.opt.type == 17")
        ) >= 1
            && count(
                &srv,
                &format!("{to_c1} && lcp && ppp.code == 4 && lcp.opt.type == 13")
            ) >= 1,
        "no Configure-Reject of MRRU and Callback to c1"
    );
    assert!(
        count(
            &srv,
            &format!(
                "{to_c1} && ipcp && ppp.code == 3 && ipcp.opt.pri_dns_address == 198.51.100.53"
            )
        ) >= 1,
        "c1 was not given the DNS server"
    );
    let c2 = seen["bob"].peer_tid;
    let echoes = count(
        &srv,
        &format!("l2tp.tunnel == {c2} && lcp && ppp.code == 10"),
    );
    assert!(echoes >= 3, "only {echoes} LCP Echo-Replies to c2's echoes");
    share.keep("srv", &srv);
}

/// The server's SAs as `ip xfrm state` lists them: each one's SPI and mark (the one it is
/// chosen by, or the one it gives).
fn xfrm_states(share: &Share, name: &str) -> Vec<(String, Option<String>)> {
    let text = share.read(name);
    let mut states = Vec::new();
    for state in text.split("\nsrc ").filter(|s| !s.trim().is_empty()) {
        let word_after = |key: &str| {
            state
                .split_whitespace()
                .skip_while(|w| *w != key)
                .nth(1)
                .map(str::to_owned)
        };
        let spi = word_after("spi").unwrap_or_else(|| panic!("a state without spi: {state}"));
        // An outbound SA is chosen by its mark; an inbound one marks what it decrypts.
        states.push((
            spi,
            word_after("mark").or_else(|| word_after("output-mark")),
        ));
    }
    states
}

fn judge_rekey(share: &Share) {
    let before = xfrm_states(share, "rekey-before-xfrm.txt");
    let after = xfrm_states(share, "rekey-after-xfrm.txt");
    // Every client's SA pair was replaced...
    let old: BTreeSet<&String> = before.iter().map(|(spi, _)| spi).collect();
    assert!(old.len() >= 8, "not every client had its SAs: {before:?}");
    assert!(
        after.iter().all(|(spi, _)| !old.contains(spi)),
        "SAs of before the rekeying are left: {before:?} -> {after:?}"
    );
    // ...by SAs with the same marks: one per client, as before.
    let marks = |states: &[(String, Option<String>)]| -> BTreeSet<String> {
        states
            .iter()
            .map(|(spi, m)| m.clone().unwrap_or_else(|| panic!("SA {spi} has no mark")))
            .collect()
    };
    assert_eq!(marks(&before).len(), 4, "a mark per client: {before:?}");
    assert_eq!(
        marks(&after),
        marks(&before),
        "the rekeyed SAs have other marks"
    );
    // Each tunnel still sends with a mark of a live SA.
    let live: BTreeSet<u64> = marks(&after)
        .iter()
        .map(|m| {
            let value = m.split('/').next().unwrap_or(m).trim_start_matches("0x");
            u64::from_str_radix(value, 16).unwrap_or_else(|e| panic!("mark {m}: {e}"))
        })
        .collect();
    let tunnels = share.json_stream("rekey-tunnel-detail.json");
    let sent_with: Vec<u64> = tunnels
        .iter()
        .filter_map(|t| t["socket_mark"].as_u64())
        .collect();
    assert_eq!(sent_with.len(), 4, "a mark per tunnel: {tunnels:?}");
    assert!(
        sent_with.iter().all(|m| live.contains(m)),
        "tunnels send with marks {sent_with:?}, the SAs have {live:?}"
    );
    // The tunnels, sessions and addresses are those of before.
    let nat = seen_by_user(share, "nat");
    let rekey = seen_by_user(share, "rekey");
    assert_eq!(
        rekey.keys().collect::<Vec<_>>(),
        nat.keys().collect::<Vec<_>>()
    );
    for (user, s) in &rekey {
        let b = &nat[user];
        assert!(
            s.tid == b.tid && s.address == b.address,
            "{user}'s session changed across the rekeying: {b:?} -> {s:?}"
        );
    }
}

fn judge_leave(share: &Share) {
    let before = seen_by_user(share, "nat");
    let after = seen_by_user(share, "leave");
    assert_eq!(
        after.keys().map(String::as_str).collect::<Vec<_>>(),
        ["alice", "carol", "dave"],
        "bob's session is still there, or another went"
    );
    for (user, s) in &after {
        let b = &before[user];
        assert!(
            s.tid == b.tid && s.address == b.address,
            "{user}'s session changed: {b:?} -> {s:?}"
        );
    }
    // bob's tunnel was the kernel's, the one the NAT's other tunnels' data came through.
    let log = share.read("l2tpd.log");
    assert!(
        !log.contains(&format!("tunnel {}: its peer", before["bob"].tid)),
        "bob's tunnel was carried apart, or said to share another's address and port"
    );
    // Once it was gone, another tunnel of the NAT received the datagrams in its place; where
    // the kernel tells the tunnels apart, their sockets are all alike, and none needs to.
    let replaced = log.contains(&format!("in place of tunnel {}'s", before["bob"].tid));
    assert_eq!(
        replaced,
        share.kernel() == Kernel::Merges,
        "a tunnel took the place of bob's, or none did where one had to:\n{log}"
    );
    let on_kernel: BTreeSet<u64> = match share.kernel() {
        Kernel::Merges => BTreeSet::from([after["dave"].tid]),
        Kernel::Separates => after.values().map(|s| s.tid).collect(),
    };
    assert_eq!(
        kernel_tunnels(share, "leave"),
        on_kernel,
        "the kernel's tunnels"
    );
    let tunnels = share.json("leave-tunnels.json");
    assert!(
        !tunnels
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["tid"].as_u64() == Some(before["bob"].tid)),
        "bob's tunnel is still there: {tunnels}"
    );
    // The others' pings went on while bob left: c4, outside the NAT, lost none but the one in
    // flight when they stopped; so did c1 and c3 where the kernel tells the NAT's tunnels
    // apart, while elsewhere they may lose two more at the moment another tunnel's socket
    // takes the place of bob's.
    let behind_nat = match share.kernel() {
        Kernel::Merges => 3,
        Kernel::Separates => 1,
    };
    for (ns, lost) in [("c1", behind_nat), ("c3", behind_nat), ("c4", 1)] {
        let pings = share.read(&format!("leave-ping-{ns}.txt"));
        let number = |what: &str| -> usize {
            let at = pings
                .find(what)
                .unwrap_or_else(|| panic!("{ns}: no {what:?} in:\n{pings}"));
            let digits: String = pings[..at]
                .chars()
                .rev()
                .skip_while(|c| *c == ' ')
                .take_while(char::is_ascii_digit)
                .collect();
            digits.chars().rev().collect::<String>().parse().unwrap()
        };
        let (sent, got) = (number(" packets transmitted"), number(" received"));
        assert!(
            got >= 100 && got + lost >= sent,
            "{ns}: {got} of {sent} pings answered while bob left:\n{pings}"
        );
    }
    // bob's address is back in the pool.
    let pool = share.json("leave-pool.json");
    assert_eq!(pool["in_use"].as_u64(), Some(3), "{pool}");
    let watch = share.read("leave-l2tpwatch.txt");
    assert!(
        watch
            .lines()
            .any(|l| l.contains("PPP DOWN") && l.contains("bob")),
        "no PPP DOWN of bob:\n{watch}"
    );
}

fn judge_nfq(share: &Share) {
    let seen = seen_by_user(share, "nfq");
    let policies = share.read("nfq-xfrm-policy.txt");
    for user in ["alice", "carol", "dave"] {
        let s = seen
            .get(user)
            .unwrap_or_else(|| panic!("no session of {user}: {seen:?}"));
        let via = s.peer.split(':').next().unwrap();
        assert!(
            s.mark
                .is_some_and(|m| out_policy_marks(&policies, via).contains(&m)),
            "{user}'s tunnel has no SA's mark: {s:?}\n{policies}"
        );
    }
    // The log of the second server, the one with nfq_socket, which says so when it starts.
    let log = share.read("l2tpd.log");
    let start = log
        .rfind("l2tp-nfqd messages on /run/l2tpd/nfq")
        .unwrap_or_else(|| panic!("the server with nfq_socket did not start:\n{log}"));
    let log = &log[start..];
    assert!(
        log.contains("(from l2tp-nfqd, host name"),
        "no mark came from l2tp-nfqd"
    );
    assert!(
        !log.contains("(the mark of its SCCRQ)"),
        "marks still learnt from SCCRQs"
    );
    let nfqd = share.read("nfqd.log");
    assert!(nfqd.contains("sent"), "{nfqd}");
    // c4 asked for MPPE through CCP, and the server protocol-rejected CCP.
    let srv = share.out("nfq-srv.pcap");
    decode_clean(&srv);
    assert!(
        count(
            &srv,
            "ccp && ppp.code == 1 && ccp.opt.type == 18 && ip.dst == 203.0.113.1"
        ) >= 1,
        "c4 asked for no MPPE"
    );
    assert!(
        count(
            &srv,
            "lcp && ppp.code == 8 && lcp.rej_proto == 0x80fd && ip.dst == 203.0.113.4"
        ) >= 1,
        "no Protocol-Reject of CCP to c4"
    );
    share.keep("nfq-srv", &srv);
}

/// The stand-in for l2tp-nfqd (`--nfqd`).
#[path = "ipsec_nat/nfqd.rs"]
mod nfqd;

/// The certificates.
#[path = "ipsec_nat/pki.rs"]
mod pki;
