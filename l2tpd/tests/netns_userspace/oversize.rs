//! A data packet with the right cookie whose Ethernet frame is longer than the session's TAP
//! takes (its MTU, plus an Ethernet header and a VLAN tag, as the kernel's `l2tp_eth` judges
//! it) is dropped: the TAP never sees it, `show session` and `show system` count it as
//! `rx_oversize`, and the periodic summary of the data plane's drops logs it. Frames within the
//! limit still pass, before and after.

use std::time::Duration;

use super::netns::{DEADLINE, Lab, Side, num, poll};
use super::{run_python_on_a, spawn_tap_dump, summed_up, tap_markers};

/// Sends L2TPv3/UDP data packets with the cookie c0:0c:1e:55 for session `sid` from side A
/// port 1701 to B, one per `(length, marker)`: an Ethernet frame of EtherType 0x88b5 of that
/// length, whose first payload octet is the marker.
fn send_frames(lab: &Lab, sid: u32, frames: &[(usize, u8)]) {
    const SCRIPT: &str = "import socket, struct, sys\n\
        sid = int(sys.argv[1])\n\
        frames = [tuple(map(int, f.split(':'))) for f in sys.argv[2:]]\n\
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
        s.bind(('192.0.2.1', 1701))\n\
        for length, mark in frames:\n\
        \x20   frame = b'\\xff' * 6 + b'\\x02' * 6 + b'\\x88\\xb5' + bytes([mark])\n\
        \x20   frame += b'\\x00' * (length - len(frame))\n\
        \x20   s.sendto(struct.pack('!HHI', 3, 0, sid) + b'\\xc0\\x0c\\x1e\\x55' + frame, ('192.0.2.2', 1701))\n";
    let mut args = vec![sid.to_string()];
    args.extend(frames.iter().map(|(l, m)| format!("{l}:{m}")));
    run_python_on_a(lab, SCRIPT, &args, "sending frames");
}

#[test]
fn frames_longer_than_the_taps_mtu_are_dropped_and_counted() {
    let mut lab = Lab::new("userspace-oversize", &["python3", "tcpdump"]);
    // Side B only: a static session with a cookie and a TAP of MTU 1400.
    let conf = "tunnel \"st\" {\n    version 3\n    peer 192.0.2.1\n    tunnel_id 200\n    \
                peer_tunnel_id 100\n}\n\n\
                session \"ss\" {\n    tunnel \"st\"\n    session_id 2000\n    peer_session_id 1000\n    \
                pseudowire_type eth\n    l2spec_type none\n    cookie hex:c00c1e55\n    \
                peer_cookie hex:0a0b0c0d\n    pseudowire_profile_name \"pw\"\n}\n\n\
                pseudowire profile \"pw\" {\n    interface_name frovzb\n    mtu 1400\n}\n";
    let b = lab.start_l2tpd(Side::B, "192.0.2.2:1701", "    dataplane userspace\n", conf);
    lab.wait_one_up(&b, || lab.l2tpd_logs(&b));
    let dump = spawn_tap_dump(&mut lab, "frovzb", 3);
    // The longest frame the TAP takes is 1400 + 14 + 4 octets: one more, and a frame of 65 000
    // octets (in one UDP datagram of as many), are dropped; the last frame passes again.
    send_frames(
        &lab,
        2000,
        &[(60, 1), (1418, 2), (1419, 3), (65_000, 4), (60, 5)],
    );
    let (marks, status, text) = tap_markers(&mut lab, dump);
    assert_eq!(
        marks,
        [1, 2, 5],
        "the TAP did not get exactly the frames within its MTU ({status:?}):\n{text}\n{}",
        lab.l2tpd_logs(&b)
    );
    let d = lab
        .ctl(&b, &["show", "session", "st", "ss"])
        .unwrap_or_else(|e| panic!("{e}"));
    let st = &d["stats"];
    assert_eq!(
        (num(st, "rx_packets"), num(st, "rx_bytes")),
        (3, 60 + 1418 + 60),
        "{d}"
    );
    assert_eq!(
        (num(st, "rx_oversize"), num(st, "rx_errors")),
        (2, 2),
        "{d}"
    );
    assert_eq!(num(st, "rx_cookie_mismatches"), 0, "{d}");
    let system = lab.ctl(&b, &["show", "system"]).unwrap();
    assert_eq!(
        system["statistics"]["data_discards"]["rx_oversize"].as_u64(),
        Some(2),
        "{system}"
    );
    // Within ten seconds, the periodic summary of the data plane's drops names them.
    let phrase = "longer than their TAP's MTU allows";
    let log = poll(
        DEADLINE,
        "the oversize frames summed up in the log",
        || {
            lab.signal(b.proc, nix::sys::signal::Signal::SIGUSR1);
            std::thread::sleep(Duration::from_millis(100));
            let log = std::fs::read_to_string(&b.log).unwrap_or_default();
            (summed_up(&log, phrase) >= 2).then_some(log)
        },
        || lab.l2tpd_logs(&b),
    );
    assert_eq!(summed_up(&log, phrase), 2, "{log}");
}
