//! `rechallenge`: `chap_interval` with `auth_source radius`: a CHAP client of `l2tp-loadgen`
//! held up for a while is challenged again every few seconds, each Response asked of
//! FreeRADIUS in a new Access-Request and accepted, and the session stays up all along.

use super::lab::{Lab, SECRET};
use super::{ctl, skip, start_l2tpd};

#[test]
fn re_challenges_are_asked_of_freeradius_and_the_session_stays_up() {
    if skip() {
        return;
    }
    let mut lab = Lab::new("rechal");
    lab.loopback(&["192.0.2.3/32", "192.0.2.10/32"]);
    let _radius = lab.start_freeradius("192.0.2.10");
    let dir = lab.dir.clone();
    let socket = dir.join("l2tpd.sock");
    let text = format!(
        "system {{\n    listen 192.0.2.3:1701\n    dataplane userspace\n    \
         control_socket {d}/l2tpd.sock\n    pid_file {d}/l2tpd.pid\n    \
         radius_nas_identifier \"nas-rechallenge\"\n    radius_nas_ip_address 192.0.2.3\n}}\n\
         radius server \"r\" {{\n    address 192.0.2.10\n    secret \"{SECRET}\"\n}}\n\
         ip pool \"customers\" {{\n    ranges 198.51.100.100-198.51.100.150\n}}\n\
         ppp profile \"default\" {{\n    auth_mschapv2 false\n    auth_source radius\n    \
         chap_interval 4\n    local_ip_addr 198.51.100.1\n    ip_pool_name \"customers\"\n    \
         ipv6cp false\n}}\n",
        d = dir.display()
    );
    std::fs::write(dir.join("l2tpd.conf"), text).unwrap();
    let (l2tpd, log) = start_l2tpd(&mut lab, &["-d"]);
    let context = || std::fs::read_to_string(&log).unwrap_or_default();
    // Up, then held 13 s: three re-challenges.
    let r = super::report(&mut super::loadgen_command(
        &lab,
        "192.0.2.3",
        1,
        ("chap", "chap-user", "chap-password"),
        13,
    ));
    assert_eq!(r["ppp"]["sessions_up"], 1, "{r}\n{}", context());
    assert_eq!(r["ppp"]["sessions_failed"], 0, "{r}\n{}", context());
    let shown: serde_json::Value =
        serde_json::from_str(&ctl(&socket, &["-j", "show", "radius"])).unwrap();
    let accepts = shown["accepts"].as_u64().unwrap_or(0);
    assert!(
        (3..=5).contains(&accepts),
        "the login and the re-challenges: {shown}\n{}",
        context()
    );
    assert_eq!(shown["rejects"], 0, "{shown}");
    let log = context();
    assert_eq!(
        log.matches("PPP up: user \"chap-user\"").count(),
        1,
        "one login, never again: {log}"
    );
    assert!(!log.contains("authentication of user"), "{log}");
    lab.stop(l2tpd);
}
