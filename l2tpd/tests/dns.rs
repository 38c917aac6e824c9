//! Peers given by name are resolved off the daemon's event loop, within a bound: a resolver
//! that never answers holds up only the tunnel that needs it (l2tpd.conf(5), `peer`).
//!
//! The client's namespace gets a resolv.conf (`ip netns exec` mounts `/etc/netns/NS/`) that
//! points at a DNS server which reads queries and never answers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod netns;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use netns::{Lab, Side, poll};

/// A DNS server on 192.0.2.2:53 (UDP and TCP) that takes every query and never answers.
const SILENT_DNS: &str = "
import socket, select
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(('192.0.2.2', 53))
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(('192.0.2.2', 53))
t.listen(64)
held = []
while True:
    r, _, _ = select.select([u, t], [], [])
    if u in r:
        u.recvfrom(4096)
    if t in r:
        held.append(t.accept()[0])
";

/// `/etc/netns/NS/resolv.conf`, removed on drop.
struct ResolvConf(PathBuf);

impl ResolvConf {
    fn new(ns: &str, text: &str) -> ResolvConf {
        let dir = PathBuf::from("/etc/netns").join(ns);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("resolv.conf"), text).unwrap();
        ResolvConf(dir)
    }
}

impl Drop for ResolvConf {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_resolver_that_does_not_answer_stalls_no_other_tunnel() {
    let mut lab = Lab::new("dns", &["python3"]);
    let _resolv = ResolvConf::new(
        lab.ns(Side::A),
        "nameserver 192.0.2.2\noptions timeout:4 attempts:3\n",
    );
    lab.spawn(Side::B, "silent-dns.stderr", &["python3", "-c", SILENT_DNS]);
    poll(
        Duration::from_secs(10),
        "the silent DNS server listening",
        || {
            let out = lab.run(
                Side::B,
                &["ss", "-Hlun", "sport = :53"],
                Duration::from_secs(5),
            );
            (!out.stdout.is_empty()).then_some(())
        },
        String::new,
    );
    let b = lab.start_l2tpd(Side::B, "192.0.2.2:1701", "", "");
    let started = Instant::now();
    let a = lab.start_l2tpd(
        Side::A,
        "192.0.2.1:1701",
        "",
        "tunnel \"far\" {\n    peer lns.stall.example\n    version 3\n}\n\n\
         tunnel \"near\" {\n    peer 192.0.2.2\n    version 3\n}\n",
    );
    let context = || format!("{}\n{}", lab.l2tpd_logs(&a), lab.l2tpd_logs(&b));
    // The tunnel with an address comes up at once, the name of the other one still unanswered.
    poll(
        Duration::from_secs(3),
        "tunnel \"near\" up while lns.stall.example does not resolve",
        || {
            let up = lab
                .list(&a, "tunnels")
                .iter()
                .any(|t| t["name"] == "near" && t["state"] == "up");
            up.then_some(())
        },
        context,
    );
    assert!(started.elapsed() < Duration::from_secs(4));
    // The daemon answers at once meanwhile.
    let asked = Instant::now();
    let far = lab
        .ctl(&a, &["show", "tunnel", "far"])
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "{:?}",
        asked.elapsed()
    );
    assert_eq!(far["protocol_state"], "resolving its peer's name", "{far}");
    // The wait is bounded: the log says so, and the instance tries again.
    poll(
        Duration::from_secs(15),
        "the resolution's time-out in the log",
        || {
            let logs = lab.l2tpd_logs(&a);
            (logs.contains("tunnel \"far\": cannot resolve lns.stall.example: no answer within")
                && logs.contains("retrying in"))
            .then_some(())
        },
        || lab.l2tpd_logs(&a),
    );
    // Meanwhile the near tunnel stayed up.
    let near_up = lab
        .list(&a, "tunnels")
        .iter()
        .any(|t| t["name"] == "near" && t["state"] == "up");
    assert!(near_up, "{}", lab.l2tpd_logs(&a));
}
