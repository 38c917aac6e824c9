//! The RADIUS alternative of the remote-access recipe, `examples/vpn-server/l2tpd.conf`: its
//! commented RADIUS lines uncommented, as the file tells its users, and nothing else changed
//! but what keeps the daemon inside this test (its control socket and pid file in the test's
//! directory, the userspace data plane). FreeRADIUS runs `examples/radius` on the address the
//! recipe names; `l2tp-loadgen` is the client, with MS-CHAPv2 as the native clients use it.
//! (The IPsec part of the recipe, with local users, runs in the qemu guest: `ipsec_nat`.)
//!
//! - RADIUS answers: its MS-CHAPv2 user is accepted with the address of its Access-Accept,
//!   and accounted; a wrong password and a user only the local list knows are rejected (a
//!   RADIUS rejection stands).
//! - The client asks IPCP for DNS and NBNS servers, primary and secondary, as the Windows
//!   client does (pppd cannot ask for NBNS): tshark sees the server Nak the primaries with the
//!   recipe's DNS and WINS servers and reject the secondaries it has none of.
//! - RADIUS stopped: the local user is accepted from the local users, with an address of the
//!   recipe's pool, once the RADIUS server has not answered.

use std::path::Path;
use std::time::Duration;

use super::lab::{Detail, Lab};
use super::{ctl, loadgen_command, report, skip, start_l2tpd, wait};

/// The recipe's address for the clients, and the load generator's.
const SERVER: &str = "203.0.113.1";
const CLIENT: &str = "203.0.113.2";

/// The commented lines of the recipe that turn RADIUS on, as they stand in it.
const RADIUS_LINES: [&str; 6] = [
    "    # auth_source radius_then_local",
    "    # radius_accounting true",
    "# radius server \"radius\" {",
    "#     address 192.0.2.10",
    "#     secret \"radius-test-secret\"",
    "# }",
];

/// The recipe with [`RADIUS_LINES`] uncommented, its control socket and pid file in `dir`,
/// on the userspace data plane.
fn recipe_with_radius(dir: &Path) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/vpn-server/l2tpd.conf");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut found = [0; RADIUS_LINES.len()];
    let mut system = 0;
    let mut out = String::new();
    for line in text.lines() {
        if let Some(i) = RADIUS_LINES.iter().position(|l| *l == line) {
            found[i] += 1;
            let (indent, rest) = line.split_once("# ").unwrap();
            out.push_str(indent);
            out.push_str(rest);
        } else {
            out.push_str(line);
        }
        out.push('\n');
        if line == "system {" {
            system += 1;
            out.push_str(&format!(
                "    control_socket {d}/l2tpd.sock\n    pid_file {d}/l2tpd.pid\n    \
                 dataplane userspace\n",
                d = dir.display()
            ));
        }
    }
    assert_eq!(
        system,
        1,
        "{}: no single \"system {{\" line",
        path.display()
    );
    assert_eq!(
        found,
        [1; RADIUS_LINES.len()],
        "{} no longer has each of these lines once: {RADIUS_LINES:#?}",
        path.display()
    );
    out
}

/// One MS-CHAPv2 session of `user` from the load generator, asking for DNS and NBNS
/// servers; its report.
fn client(lab: &Lab, user: &str, password: &str) -> serde_json::Value {
    report(
        loadgen_command(lab, SERVER, 1, ("mschapv2", user, password), 1).args([
            "--local",
            CLIENT,
            "--ask-servers",
        ]),
    )
}

#[test]
fn the_vpn_server_recipe_with_radius_users_and_local_ones_when_radius_is_down() {
    if skip() {
        return;
    }
    let mut lab = Lab::new("vpn");
    lab.loopback(&[
        &format!("{SERVER}/32"),
        &format!("{CLIENT}/32"),
        "192.0.2.10/32",
    ]);
    let radius = lab.start_freeradius("192.0.2.10");
    let dir = lab.dir.clone();
    std::fs::write(dir.join("l2tpd.conf"), recipe_with_radius(&dir)).unwrap();
    let (_l2tpd, log) = start_l2tpd(&mut lab, &["-d"]);
    let pcap = dir.join("l2tp.pcap");
    let capture = lab.tcpdump("lo", &pcap, "udp port 1701", &[]);
    let socket = dir.join("l2tpd.sock");
    let context = || std::fs::read_to_string(&log).unwrap_or_default();

    // The RFC 2759 example user of examples/radius/users: its Framed-IP-Address.
    let r = client(&lab, "User", "clientPass");
    assert_eq!(r["ppp"]["sessions_up"], 1, "{r}\n{}", context());
    assert!(
        context().contains("PPP up: user \"User\", peer 198.51.100.12"),
        "{}",
        context()
    );
    assert_eq!(
        (&r["ppp"]["servers"]["dns"], &r["ppp"]["servers"]["nbns"]),
        (
            &serde_json::json!(["198.51.100.53"]),
            &serde_json::json!(["198.51.100.54"])
        ),
        "{r}"
    );
    lab.end_capture(capture);
    judge_ipcp(&pcap);
    let r = client(&lab, "User", "wrong-password");
    assert_eq!(r["ppp"]["sessions_failed"], 1, "{r}");
    // alice is a local user of the recipe, unknown to the RADIUS server, which answers.
    let r = client(&lab, "alice", "alice-example-password");
    assert_eq!(r["ppp"]["sessions_failed"], 1, "{r}\n{}", context());
    let shown: serde_json::Value =
        serde_json::from_str(&ctl(&socket, &["-j", "show", "radius"])).unwrap();
    assert_eq!(shown["accepts"], 1, "{shown}");
    assert_eq!(shown["rejects"], 2, "{shown}");
    let detail = lab.detail("192.0.2.10");
    wait(Duration::from_secs(10), "User's Start and Stop", || {
        let records = Detail::read(&[&detail]).records;
        ["Start", "Stop"].iter().all(|kind| {
            records.iter().any(|r| {
                r.get("Acct-Status-Type") == Some(kind) && r.get("User-Name") == Some("\"User\"")
            })
        })
    });

    // No RADIUS server: the local users decide, and alice gets an address of the pool.
    lab.stop(radius);
    let r = client(&lab, "alice", "alice-example-password");
    assert_eq!(r["ppp"]["sessions_up"], 1, "{r}\n{}", context());
    let log = context();
    let up = log
        .lines()
        .find(|l| l.contains("PPP up: user \"alice\""))
        .unwrap_or_else(|| panic!("alice is not up:\n{log}"));
    let peer = up.split("peer ").nth(1).unwrap_or_default();
    let last: u8 = peer
        .split([',', ' '])
        .next()
        .and_then(|a| a.strip_prefix("198.51.100."))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not an address of the pool: {up}"));
    assert!((10..=250).contains(&last), "{up}");
    let r = client(&lab, "alice", "wrong-password");
    assert_eq!(r["ppp"]["sessions_failed"], 1, "{r}");
}

/// tshark on the capture `pcap` of the RFC 2759 user's session: no malformed packet, and
/// the server's IPCP Configure-Nak gives the recipe's DNS and WINS servers as the primaries,
/// its Configure-Reject refuses both secondaries (option types 131 and 132), and its
/// Configure-Ack takes the client's request with the primaries it was given.
fn judge_ipcp(pcap: &Path) {
    let packets = l2tp_testkit::tshark::decode(pcap).unwrap();
    let bad = l2tp_testkit::tshark::unclean(&packets);
    assert!(bad.is_empty(), "tshark: {bad}");
    let count = |filter: &str| {
        let out = std::process::Command::new("tshark")
            .args(["-n", "-r"])
            .arg(pcap)
            .args(["-d", "udp.port==1701,l2tp", "-Y", filter])
            .args(["-T", "fields", "-e", "frame.number"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).lines().count()
    };
    let from_server = format!("ip.src == {SERVER} && ipcp");
    for (what, filter) in [
        (
            "a Configure-Nak with the DNS server",
            "ppp.code == 3 && ipcp.opt.pri_dns_address == 198.51.100.53",
        ),
        (
            "a Configure-Nak with the WINS server",
            "ppp.code == 3 && ipcp.opt.pri_nbns_address == 198.51.100.54",
        ),
        (
            "a Configure-Reject of the secondary DNS",
            "ppp.code == 4 && ipcp.opt.type == 131",
        ),
        (
            "a Configure-Reject of the secondary NBNS",
            "ppp.code == 4 && ipcp.opt.type == 132",
        ),
        (
            "a Configure-Ack of the DNS and WINS servers",
            "ppp.code == 2 && ipcp.opt.pri_dns_address == 198.51.100.53 \
             && ipcp.opt.pri_nbns_address == 198.51.100.54",
        ),
    ] {
        let filter = format!("{from_server} && {filter}");
        assert!(count(&filter) >= 1, "no {what} ({filter})");
    }
}
