//! Static (unmanaged) L2TPv3 pseudowires between two l2tpd on the userspace data plane: no
//! control connection, the data packets carry the configured cookies, and `l2tpctl delete
//! tunnel` removes the TAP.

use serde_json::Value;

use super::netns::{self, DEADLINE, L2TP_FILTER, Lab, Side, num, poll};
use super::{OVERLAY_A, OVERLAY_B, Pw};

/// The config of one end of a static pseudowire: tunnel ids `tid`/`peer_tid`, session ids
/// `sid`/`peer_sid`, cookies, over `encap` to `peer`, with the TAP at `overlay`.
#[allow(clippy::too_many_arguments)]
fn static_end(
    encap: &str,
    peer: &str,
    (tid, peer_tid): (u32, u32),
    (sid, peer_sid): (u32, u32),
    (cookie, peer_cookie): (&str, &str),
    ifname: &str,
    overlay: &str,
) -> String {
    format!(
        "tunnel \"st\" {{\n    version 3\n    encap {encap}\n    peer {peer}\n    tunnel_id {tid}\n    \
         peer_tunnel_id {peer_tid}\n}}\n\n\
         session \"ss\" {{\n    tunnel \"st\"\n    session_id {sid}\n    peer_session_id {peer_sid}\n    \
         pseudowire_type eth\n    cookie {cookie}\n    peer_cookie {peer_cookie}\n    \
         pseudowire_profile_name \"pw\"\n}}\n\n\
         pseudowire profile \"pw\" {{\n    interface_name {ifname}\n    local_ip {overlay}\n    \
         netmask 255.255.255.0\n}}\n"
    )
}

fn static_pseudowire(encap: &str) {
    let mut lab = Lab::new(&format!("userspace-static-{encap}"), &[]);
    let cap = lab.capture(Side::A, L2TP_FILTER);
    let a_conf = static_end(
        encap,
        "192.0.2.2",
        (100, 200),
        (1000, 2000),
        ("hex:0a0b0c0d", "hex:1a1b1c1d"),
        "spwa",
        OVERLAY_A,
    );
    let b_conf = static_end(
        encap,
        "192.0.2.1",
        (200, 100),
        (2000, 1000),
        ("hex:1a1b1c1d", "hex:0a0b0c0d"),
        "spwb",
        OVERLAY_B,
    );
    let dp = "    dataplane userspace\n";
    let b = lab.start_l2tpd(Side::B, "192.0.2.2:1701", dp, &b_conf);
    let a = lab.start_l2tpd(Side::A, "192.0.2.1:1701", dp, &a_conf);
    let (ta, sa) = lab.wait_one_up(&a, || lab.pair_context(&a, &b));
    assert_eq!((num(&ta, "tid"), num(&ta, "peer_tid")), (100, 200), "{ta}");
    assert_eq!(
        (num(&sa, "sid"), num(&sa, "peer_sid")),
        (1000, 2000),
        "{sa}"
    );
    assert_eq!(sa["interface_name"], "spwa", "{sa}");
    let pw = Pw {
        lab,
        a,
        b,
        sessions: [sa, Value::Null],
    };
    assert!(
        pw.ping(3),
        "no ping reply across the static pseudowire\n{}",
        pw.context()
    );
    let mut pw = pw;
    // No control message: the data packets carry our cookies, nothing else crosses.
    let packets = pw.lab.judge(
        &cap,
        &[
            "-o",
            "l2tp.cookie_size:4 Byte Cookie",
            "-o",
            "l2tp.l2_specific:Default L2-Specific",
            "-d",
            "l2tp.pw_type==0,eth",
        ],
    );
    let control = packets
        .iter()
        .filter(|p| p.l2tp.iter().any(|l| l.control == Some(true)))
        .count();
    assert_eq!(
        control,
        0,
        "a static tunnel sent control messages:\n{}",
        netns::summary(&packets)
    );
    let cookies: Vec<&str> = packets
        .iter()
        .filter_map(|p| p.l2tp.first()?.field("l2tp.cookie"))
        .collect();
    assert!(
        cookies.len() >= 6
            && cookies
                .iter()
                .all(|c| c.replace(':', "") == "0a0b0c0d" || c.replace(':', "") == "1a1b1c1d"),
        "cookies on the wire: {cookies:?}\n{}",
        netns::summary(&packets)
    );
    // Deleting the tunnel with l2tpctl removes the TAP.
    // (It prints nothing on success; the TAP going away is the check.)
    let _ = pw.lab.ctl(&pw.a, &["delete", "tunnel", "st"]);
    poll(
        DEADLINE,
        "spwa deleted",
        || {
            (!pw.lab
                .run(Side::A, &["ip", "link", "show", "spwa"], netns::SHORT)
                .status
                .success())
            .then_some(())
        },
        || pw.context(),
    );
}

#[test]
fn static_pseudowire_over_udp() {
    static_pseudowire("udp");
}

#[test]
fn static_pseudowire_over_ip() {
    static_pseudowire("ip");
}
