//! The shared TUN of native PPP and IPv6, on the control side: what `ppp_up` leaves in the
//! kernel. Two sessions with our one link-local address and two peers get that address once
//! (/128) and a /128 route to each peer's link-local address, our address as the source; a
//! third whose peer has the first's identifier is refused; removing a session takes its route
//! and, with the last user, our address; and the TUN's IPv6 is kept quiet (no address of the
//! kernel's making, no router solicitations, no RA, no DAD).
//!
//! Runs as root in a network namespace of its own. Fails under `L2TP_REQUIRE_ALL=1` when it
//! cannot run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::Ipv4Addr;
use std::process::Command;

use l2tp_dataplane::ppp::Framing;
use l2tp_dataplane::{DataplaneOptions, PppNet, PppSessionSpec};

const TUN: &str = "l2tpppp0";
const OURS: u64 = 0x0011_2233_4455_6677;

fn ip6(args: &[&str]) -> String {
    let out = Command::new("ip").arg("-6").args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn sysctl(knob: &str) -> String {
    std::fs::read_to_string(format!("/proc/sys/net/ipv6/conf/{TUN}/{knob}"))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

#[test]
fn link_local_routes_by_interface_identifier() {
    if !common::in_own_netns() {
        return;
    }
    let options = DataplaneOptions {
        offloads: true,
        threads: 2,
    };
    let mut dp = common::v2_tunnel(None, options);
    let net = |peer: u64| PppNet {
        ipv4: None,
        ipv6: Some((OURS, peer)),
        mtu: 1400,
        framing: Framing::default(),
    };
    for sid in 1..=3 {
        dp.add_ppp_session(PppSessionSpec::new(7, sid, 8, sid))
            .unwrap();
    }
    // IPv6 alone makes the TUN.
    assert_eq!(dp.ppp_up(7, 1, &net(1)).unwrap().as_deref(), Some(TUN));
    assert_eq!(dp.ppp_up(7, 2, &net(2)).unwrap().as_deref(), Some(TUN));
    // The first session's peer identifier is taken.
    let err = dp.ppp_up(7, 3, &net(1)).unwrap_err().to_string();
    assert!(
        err.contains("fe80::1 is routed to another session"),
        "{err}"
    );
    // An identifier of 0 (the option rejected) carries nothing.
    assert_eq!(dp.ppp_up(7, 3, &net(0)).unwrap(), None);

    let addr = ip6(&["addr", "show", "dev", TUN]);
    assert_eq!(addr.matches("inet6 ").count(), 1, "{addr}");
    assert!(addr.contains("inet6 fe80::11:2233:4455:6677/128"), "{addr}");
    let routes = ip6(&["route", "show", "dev", TUN]);
    for peer in ["fe80::1 ", "fe80::2 "] {
        assert!(
            routes.lines().any(|l| l.starts_with(peer)
                && l.contains("src fe80::11:2233:4455:6677")
                && l.contains("mtu 1400")),
            "no route to {peer}: {routes}"
        );
    }
    for (knob, want) in [
        ("addr_gen_mode", "1"),
        ("accept_ra", "0"),
        ("router_solicitations", "0"),
        ("accept_dad", "0"),
        ("autoconf", "0"),
        ("disable_ipv6", "0"),
    ] {
        assert_eq!(sysctl(knob), want, "{knob}");
    }

    // The first session goes: its route goes, our address stays for the second.
    dp.remove_ppp_session(7, 1).unwrap();
    let routes = ip6(&["route", "show", "dev", TUN]);
    assert!(!routes.contains("fe80::1 "), "{routes}");
    assert!(routes.contains("fe80::2 "), "{routes}");
    assert!(ip6(&["addr", "show", "dev", TUN]).contains("fe80::11:2233:4455:6677"));
    // Its identifier is free again.
    assert_eq!(dp.ppp_up(7, 3, &net(1)).unwrap().as_deref(), Some(TUN));
    // IPv6CP down on both: no route, and no address of ours, is left.
    dp.ppp_down(7, 2).unwrap();
    dp.ppp_down(7, 3).unwrap();
    let routes = ip6(&["route", "show", "dev", TUN]);
    assert!(
        !routes.contains("fe80::1 ") && !routes.contains("fe80::2 "),
        "{routes}"
    );
    let addr = ip6(&["addr", "show", "dev", TUN]);
    assert!(!addr.contains("inet6"), "{addr}");
    // IPv4 beside it is unaffected by all this.
    let v4 = PppNet {
        ipv4: Some((Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 10))),
        ..net(2)
    };
    assert_eq!(dp.ppp_up(7, 2, &v4).unwrap().as_deref(), Some(TUN));
    let routes = ip6(&["route", "show", "dev", TUN]);
    assert!(routes.contains("fe80::2 "), "{routes}");
}
