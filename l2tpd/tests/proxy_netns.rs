//! Proxy LCP and proxy authentication at the LNS (RFC 2661 §4.4.5), against a LAC that sends
//! them: `l2tp-loadgen --proxy` (no LAC in Debian does), whose ICCNs carry the LCP requests of
//! a negotiation it made with its PPP clients and their CHAP or PAP answers, and whose clients
//! start LCP Opened. l2tpd, in a network namespace on the userspace data plane with local
//! users, takes them: the sessions come up with no LCP Configure-Request and no CHAP Challenge
//! from the LNS, as the report counts and tshark finds in the capture (where it also decodes
//! the proxy AVPs of every ICCN, their CONFREQs as LCP options); a wrong proxied answer is
//! refused with CHAP Failure, a CDN of result 2, a log line naming the user, and the counters;
//! a profile with `proxy_lcp false` negotiates again.
//!
//! Needs root (network namespaces), tcpdump and tshark; without them the test is skipped, or
//! fails under `L2TP_REQUIRE_ALL=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod lns_lab;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use l2tp_testkit::lab::NsLab;
use lns_lab::{ctl, loadgen, start, system, wait};

/// The LNS's config: local users, a pool, CHAP and PAP; `extra` in the ppp profile.
fn config(dir: &std::path::Path, extra: &str) -> String {
    lns_lab::config(
        dir,
        "198.51.100.100-198.51.100.150",
        (USER, PASSWORD),
        extra,
    )
}

const USER: &str = "alice";
const PASSWORD: &str = "alice-pw-5521";

fn skip() -> bool {
    l2tp_testkit::lab::skip(l2tp_testkit::lab::missing(
        &["ip", "tcpdump", "tshark"],
        "scripts/deps.sh",
    ))
}

/// `l2tp-loadgen --proxy` in the lab: one L2TPv2 tunnel with `sessions` sessions; its report.
fn proxy_loadgen(lab: &NsLab, sessions: u32, auth: &str, password: &str) -> serde_json::Value {
    loadgen_as(lab, sessions, auth, (USER, password))
}

/// [`loadgen`] as `user`.
fn loadgen_as(
    lab: &NsLab,
    sessions: u32,
    auth: &str,
    (user, password): (&str, &str),
) -> serde_json::Value {
    let sessions = sessions.to_string();
    loadgen(
        lab,
        &format!(
            "--tunnels 1 --version 2 --sessions {sessions} --ppp --proxy --auth {auth} --user \
             {user} --password {password} --hold 1 --timeout 30"
        ),
    )
}

/// tshark's fields `fields` of the packets of `pcap` that `filter` selects, one line each.
fn tshark(pcap: &Path, filter: &str, fields: &[&str]) -> Vec<String> {
    let mut c = Command::new("tshark");
    c.arg("-r")
        .arg(pcap)
        .args(["-n", "-Y", filter, "-T", "fields"]);
    for f in fields {
        c.args(["-e", f]);
    }
    let out = c.output().unwrap();
    assert!(out.status.success(), "tshark: {out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn proxied_lcp_and_authentication_skip_the_lns_negotiation() {
    if skip() {
        return;
    }
    let mut lab = NsLab::new("pxlc", "proxy");
    lab.add_address("192.0.2.3/32");
    let pcap = lab.dir.join("l2tp.pcap");
    let capture = lab.tcpdump("lo", &pcap, "udp port 1701", &[]);
    let text = config(&lab.dir.clone(), "");
    let (l2tpd, log, socket) = start(&mut lab, &text);
    let context = || std::fs::read_to_string(&log).unwrap_or_default();

    // CHAP, three sessions, and PAP, one: up, with nothing negotiated by the LNS.
    let chap = proxy_loadgen(&lab, 3, "chap", PASSWORD);
    let pap = proxy_loadgen(&lab, 1, "pap", PASSWORD);
    for (r, n) in [(&chap, 3), (&pap, 1)] {
        let p = &r["ppp"];
        assert_eq!(p["sessions_up"], n, "{r}\n{}", context());
        assert_eq!(p["addresses"], n, "{r}");
        assert_eq!(p["proxy"], true, "{r}");
        assert_eq!(p["lcp_configure_requests_in"], 0, "{r}");
        assert_eq!(p["chap_challenges_in"], 0, "{r}");
    }
    // Held a while: show session says what was proxied.
    let mut held = Command::new("ip")
        .args(["netns", "exec", &lab.ns])
        .arg(l2tp_testkit::daemon::loadgen_beside(env!(
            "CARGO_BIN_EXE_l2tpd"
        )))
        .args(["--peer", "192.0.2.3", "--tunnels", "1", "--version", "2"])
        .args(["--sessions", "1", "--ppp", "--proxy", "--auth", "chap"])
        .args([
            "--user",
            USER,
            "--password",
            PASSWORD,
            "--hold",
            "30",
            "--json",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut shown = serde_json::Value::Null;
    wait(Duration::from_secs(20), "a proxied session shown", || {
        let v: serde_json::Value =
            serde_json::from_str(&ctl(&socket, &["-j", "show", "sessions"])).unwrap_or_default();
        let list = v.as_array().or_else(|| v["sessions"].as_array()).cloned();
        let Some(s) = list
            .unwrap_or_default()
            .into_iter()
            .find(|s| s["ppp_user"].is_string())
        else {
            return false;
        };
        let (tid, sid) = (s["tid"].to_string(), s["sid"].to_string());
        shown = serde_json::from_str(&ctl(&socket, &["-j", "show", "session", &tid, &sid]))
            .unwrap_or_default();
        shown.to_string().contains("\"proxied\"")
    });
    let text = shown.to_string();
    assert!(
        text.contains("\"proxied\":\"lcp, authentication\""),
        "{text}"
    );
    assert!(text.contains("\"auth\":\"chap\""), "{text}");
    // SIGINT: the hold ends at once with a clean teardown.
    let _ = Command::new("kill")
        .args(["-INT", &held.id().to_string()])
        .status();
    let _ = held.wait();
    let taken = context()
        .lines()
        .filter(|l| l.contains("PPP takes the LAC's proxied LCP and authentication"))
        .count();
    assert_eq!(taken, 5, "{}", context());
    let sys = system(&socket);
    assert_eq!(sys["ppp_proxy"]["lcp_taken"], 5, "{sys}");
    assert_eq!(sys["ppp_proxy"]["auth_taken"], 5, "{sys}");

    // A wrong proxied CHAP answer: CHAP Failure, CDN result 2, a log line with the user.
    let wrong = proxy_loadgen(&lab, 1, "chap", "not-the-password");
    assert_eq!(wrong["ppp"]["sessions_up"], 0, "{wrong}");
    assert_eq!(wrong["ppp"]["sessions_failed"], 1, "{wrong}");
    assert_eq!(wrong["ppp"]["chap_challenges_in"], 0, "{wrong}");
    wait(Duration::from_secs(10), "the refusal logged", || {
        context().contains(&format!(
            "PPP authentication of user \"{USER}\" (chap) failed: "
        ))
    });
    let sys = system(&socket);
    let failures: u64 = sys["ppp_auth_failures"].as_object().map_or(0, |m| {
        m.values().filter_map(serde_json::Value::as_u64).sum()
    });
    assert_eq!(failures, 1, "{sys}");

    // A profile that does not take proxy LCP negotiates as before.
    lab.stop(l2tpd);
    let text = config(&lab.dir.clone(), "    proxy_lcp false\n");
    let (_l2tpd, _log, socket) = start(&mut lab, &text);
    let again = proxy_loadgen(&lab, 1, "chap", PASSWORD);
    assert_eq!(again["ppp"]["sessions_up"], 1, "{again}");
    assert!(
        again["ppp"]["lcp_configure_requests_in"].as_u64() >= Some(1),
        "{again}"
    );
    assert_eq!(again["ppp"]["chap_challenges_in"], 1, "{again}");
    // (show system lists every kind, 0 before the first.)
    let sys = system(&socket);
    assert!(
        sys.get("ppp_proxy")
            .is_none_or(|p| p.get("lcp_taken").is_none_or(|n| n == 0)),
        "{sys}"
    );
    lab.end_capture(capture);

    // tshark, the independent judge: every ICCN carries the proxy AVPs, their CONFREQs read
    // as LCP options (a Magic-Number in each); what the LNS (port 1701) sent in the first
    // daemon's sessions holds no LCP Configure-Request and no CHAP Challenge, and one CHAP
    // Failure; the wrong answer's session ended with CDN result 2.
    let iccns = tshark(
        &pcap,
        "l2tp.avp.message_type == 12",
        &[
            "l2tp.avp.proxy_authen_type",
            "l2tp.avp.proxy_authen_name",
            "lcp.opt.magic_number",
        ],
    );
    assert_eq!(iccns.len(), 7, "{iccns:?}");
    for line in &iccns {
        let f: Vec<&str> = line.split('\t').collect();
        assert!(matches!(f[0], "2" | "3"), "{line}");
        assert_eq!(f[1], USER, "{line}");
        assert!(f[2].split(',').count() >= 2, "two Magic-Numbers: {line}");
    }
    let from_lns = |filter: &str| {
        tshark(
            &pcap,
            &format!("udp.srcport == 1701 && {filter}"),
            &["frame.number"],
        )
        .len()
    };
    // Only the last run (proxy_lcp false) has the LNS's Configure-Requests (MS-CHAPv2 asked
    // for, Nak'ed toward CHAP, CHAP asked for) and its Challenge.
    assert_eq!(
        from_lns("lcp && ppp.code == 1"),
        2,
        "LNS Configure-Requests"
    );
    assert_eq!(from_lns("chap.code == 1"), 1, "LNS CHAP Challenges");
    assert_eq!(from_lns("chap.code == 4"), 1, "LNS CHAP Failures");
    assert_eq!(from_lns("chap.code == 3"), 5, "LNS CHAP Successes");
    assert_eq!(from_lns("pap.code == 2"), 1, "LNS PAP Acks");
    let cdn2 = tshark(
        &pcap,
        "udp.srcport == 1701 && l2tp.avp.message_type == 14 && l2tp.result_code == 2",
        &["frame.number"],
    );
    assert_eq!(cdn2.len(), 1, "CDNs of result 2 from the LNS: {cdn2:?}");
}

/// The proxied answers of a profile that authenticates by RADIUS go to the server as answers
/// to our own Challenge do (CHAP-Challenge and CHAP-Password, or User-Password): FreeRADIUS
/// (`examples/radius`) accepts the right ones and rejects a wrong one, and the LNS sends no
/// Challenge of its own.
#[test]
fn proxied_answers_are_checked_by_radius() {
    if l2tp_testkit::lab::skip(l2tp_testkit::lab::missing(
        &["ip", "freeradius"],
        "scripts/deps.sh",
    )) {
        return;
    }
    use l2tp_testkit::freeradius;
    let mut lab = NsLab::new("pxlc", "radius");
    lab.add_address("192.0.2.3/32");
    lab.add_address("192.0.2.10/32");
    let conf = lab.dir.join("freeradius");
    freeradius::configure(&conf, "192.0.2.10");
    let radius = lab.spawn("freeradius", &freeradius::argv(&conf));
    lab.wait_log(radius, freeradius::READY, Duration::from_secs(30));
    let dir = lab.dir.clone();
    let text = format!(
        "system {{\n    listen 192.0.2.3:1701\n    dataplane userspace\n    \
         control_socket {d}/l2tpd.sock\n    pid_file {d}/l2tpd.pid\n    \
         radius_nas_identifier \"nas-proxy\"\n    radius_nas_ip_address 192.0.2.3\n}}\n\
         radius server \"r\" {{\n    address 192.0.2.10\n    secret \"{secret}\"\n}}\n\
         ip pool \"customers\" {{\n    ranges 198.51.100.100-198.51.100.150\n}}\n\
         ppp profile \"default\" {{\n    auth_pap true\n    auth_source radius\n    \
         local_ip_addr 198.51.100.1\n    ip_pool_name \"customers\"\n    ipv6cp false\n}}\n",
        d = dir.display(),
        secret = freeradius::SECRET,
    );
    let (_l2tpd, log, socket) = start(&mut lab, &text);
    let context = || std::fs::read_to_string(&log).unwrap_or_default();
    for (auth, user, password, up) in [
        ("chap", "chap-user", "chap-password", 1),
        ("pap", "pap-user", "pap-password", 1),
        ("chap", "chap-user", "wrong-password", 0),
    ] {
        let r = loadgen_as(&lab, 1, auth, (user, password));
        let p = &r["ppp"];
        assert_eq!(
            p["sessions_up"],
            up,
            "{auth} {password}: {r}\n{}",
            context()
        );
        assert_eq!(p["chap_challenges_in"], 0, "{r}");
        assert_eq!(p["lcp_configure_requests_in"], 0, "{r}");
    }
    let shown: serde_json::Value =
        serde_json::from_str(&ctl(&socket, &["-j", "show", "radius"])).unwrap();
    assert_eq!(
        (shown["accepts"].as_u64(), shown["rejects"].as_u64()),
        (Some(2), Some(1)),
        "{shown}"
    );
    let sys = system(&socket);
    assert_eq!(sys["ppp_proxy"]["auth_taken"], 3, "{sys}");
}
