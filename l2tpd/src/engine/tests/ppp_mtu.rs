//! The MRU a native-PPP link asks for and the MTU it sends with, from the config text: a
//! profile's `mru` is asked for as written; with none, a link asks for what its tunnel carries
//! in a 1500-octet underlay (L2TPv2 over UDP and IPv4 here: 1456); the MTU is the peer's MRU,
//! no more than that figure nor the pseudowire profile's `mtu`.

use std::time::Duration;

use l2tp_ctl::EventKind;

use super::harness::{Net, addr};
use super::ppp::ppp_ups;

/// An LNS (node 1) with `lns_ppp` in its ppp profile, a LAC (node 0) whose pseudowire profile
/// has `lac_pw` and no `mru`; PPP up at both ends.
fn up(lns_ppp: &str, lac_pw: &str) -> Net {
    let lns = format!(
        "ppp profile \"default\" {{\n    auth_none true\n    local_ip_addr 198.51.100.1\n    \
         ip_pool_name \"customers\"\n    ipv6cp false\n    lcp_echo_interval 0\n{lns_ppp}}}\n\
         ip pool \"customers\" {{\n    ranges 198.51.100.10-198.51.100.11\n}}\n"
    );
    let lac = format!(
        "ppp profile \"default\" {{\n    ipv6cp false\n    lcp_echo_interval 0\n}}\n\
         pseudowire profile \"pw\" {{\n    ppp_profile_name \"default\"\n{lac_pw}}}\n\
         tunnel \"t\" {{\n    peer {}\n    version 2\n}}\n\
         session \"s\" {{\n    tunnel \"t\"\n    pseudowire_type ppp\n    \
         pseudowire_profile_name \"pw\"\n}}\n",
        addr(1).ip()
    );
    let mut net = Net::unstarted(&[&lac, &lns], 7).start();
    net.run_until(Duration::from_secs(10), "PPP up", |n| {
        n.nodes[0].saw(EventKind::PppUp) == 1 && n.nodes[1].saw(EventKind::PppUp) == 1
    });
    net
}

/// The MRU asked, the peer's MRU and the MTU `show session` gives.
type Shown = (Option<u16>, Option<u16>, Option<u16>);

/// What node `i`'s session shows, and the MTU its data plane was given.
fn sizes(net: &Net, i: usize) -> (Shown, u16) {
    let ppp = net.first_session(i).ppp.unwrap_or_else(|| panic!("ppp"));
    ((ppp.mru, ppp.peer_mru, ppp.mtu), ppp_ups(net, i)[0].mtu)
}

#[test]
fn with_no_mru_both_ends_ask_for_and_send_what_the_underlay_carries() {
    let net = up("", "");
    for i in [0, 1] {
        let d = Some(1456);
        assert_eq!(sizes(&net, i), ((d, d, d), 1456), "node {i}");
    }
}

#[test]
fn a_profiles_mru_is_asked_as_written_and_a_pseudowire_mtu_caps_the_mtu() {
    // The LNS asks for more than the underlay carries: the LAC sends no more than the
    // underlay carries, and here its pseudowire profile's `mtu`.
    let net = up("    mru 1480\n", "    mtu 1400\n");
    assert_eq!(sizes(&net, 1), ((Some(1480), Some(1456), Some(1456)), 1456));
    assert_eq!(sizes(&net, 0), ((Some(1456), Some(1480), Some(1400)), 1400));
    // Without the pseudowire's cap, the underlay's.
    let net = up("    mru 1480\n", "");
    assert_eq!(sizes(&net, 0), ((Some(1456), Some(1480), Some(1456)), 1456));
}
