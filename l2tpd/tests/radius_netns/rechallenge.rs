//! `rechallenge`: `chap_interval` with `auth_source radius`: a CHAP client of `l2tp-loadgen`
//! held up for a while is challenged again every few seconds, each Response asked of
//! FreeRADIUS in a new Access-Request and accepted, and the session stays up all along.

use super::{ctl, native_radius_lab, skip};

#[test]
fn re_challenges_are_asked_of_freeradius_and_the_session_stays_up() {
    if skip() {
        return;
    }
    let (mut lab, _radius, l2tpd, log) = native_radius_lab(
        "rechal",
        "nas-rechallenge",
        ("", "    chap_interval 4\n"),
        &["-d"],
    );
    let socket = lab.dir.join("l2tpd.sock");
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
