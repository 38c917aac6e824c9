//! A user with a fixed address who logs in again from another address while the first
//! session still holds it (`relogin replace`, the default): against l2tpd in a network
//! namespace, a first `l2tp-loadgen --ppp` logs in as bob and holds its session; a second one,
//! from another source address, logs in as bob too and gets his address at once, while the
//! first loses its session (CDN result 3). `show system` counts the replacement, the log names
//! it.
//!
//! Needs root (network namespaces); without it the test is skipped, or fails under
//! `L2TP_REQUIRE_ALL=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod lns_lab;

use std::time::Duration;

use l2tp_testkit::lab::NsLab;
use lns_lab::{config, loadgen, skip, start, system, wait};

const USER: &str = "bob";
const PASSWORD: &str = "bob-pw-4471";
/// Bob's fixed address, outside the pool.
const BOB_IP: &str = "198.51.100.5";

/// One PPP session as bob from `local`, held `hold` seconds; the report.
fn login(lab: &NsLab, local: &str, hold: u32) -> serde_json::Value {
    loadgen(
        lab,
        &format!(
            "--local {local} --version 2 --tunnels 1 --sessions 1 --ppp --auth pap \
             --user {USER} --password {PASSWORD} --hold {hold} --timeout 20"
        ),
    )
}

#[test]
fn a_second_login_of_the_same_user_takes_the_fixed_address_at_once() {
    if skip() {
        return;
    }
    let mut lab = NsLab::new("rlgn", "relogin");
    lab.add_address(&format!("{}/32", lns_lab::LNS));
    for c in ["192.0.2.12", "192.0.2.13"] {
        lab.add_address(&format!("{c}/32"));
    }
    let text = config(
        &lab.dir.clone(),
        "198.51.100.10-198.51.100.250",
        (USER, PASSWORD),
        "",
    )
    .replace(
        &format!("password \"{PASSWORD}\"\n"),
        &format!("password \"{PASSWORD}\"\n    ip_addr {BOB_IP}\n"),
    );
    assert!(text.contains(BOB_IP), "{text}");
    let (_, log, socket) = start(&mut lab, &text);
    let context = || std::fs::read_to_string(&log).unwrap_or_default();
    std::thread::scope(|s| {
        let first = s.spawn(|| login(&lab, "192.0.2.12", 6));
        wait(Duration::from_secs(10), "bob up from .12", || {
            system(&socket)["ppp_up"] == 1
        });
        let second = login(&lab, "192.0.2.13", 1);
        let p = &second["ppp"];
        assert_eq!(p["sessions_up"], 1, "{second}\n{}", context());
        // Set up at once, not after the first session's echoes failed.
        let setup = p["setup_ms"]["max"].as_f64().unwrap();
        assert!(setup < 2000.0, "{second}");
        let first = first.join().unwrap();
        assert_eq!(first["ppp"]["sessions_lost"], 1, "{first}\n{}", context());
    });
    let sys = system(&socket);
    assert_eq!(sys["ppp_down"]["replaced_by_new_login"], 1, "{sys}");
    assert_eq!(sys["ppp_up"], 2, "{sys}");
    let log = context();
    // Both sessions got bob's address.
    let up = format!("PPP up: user \"bob\", peer {BOB_IP}");
    assert_eq!(log.matches(&up).count(), 2, "{log}");
    assert!(
        log.lines()
            .any(|l| l.contains("user \"bob\" logged in again") && l.contains(BOB_IP)),
        "{log}"
    );
}
