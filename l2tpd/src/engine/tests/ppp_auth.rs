//! The authenticator's answers from the config text to the wire: a PAP Authenticate-Request
//! repeated after a lost Nak is refused again while the link closes (RFC 1334 §2.2.1).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use l2tp_ctl::EventKind;

use super::harness::{Net, PppWire, addr};

const PAP: [u8; 2] = [0xc0, 0x23];
const LCP: [u8; 2] = [0xc0, 0x21];

/// Whether `f` (with its `FF 03`) is a packet of `proto` with `code`.
fn is(f: &[u8], proto: [u8; 2], code: u8) -> bool {
    f.get(2..5) == Some(&[proto[0], proto[1], code][..])
}

/// An LNS (node 1) whose `default` ppp profile takes PAP from user dave, and a LAC (node 0)
/// with one PPP session of dave whose password is wrong; not started.
fn dave_with_the_wrong_password() -> Net {
    let lns = "ppp profile \"default\" {\n    auth_pap true\n    auth_chap false\n    \
               auth_mschapv2 false\n    local_ip_addr 198.51.100.1\n    \
               ip_pool_name \"customers\"\n    ipv6cp false\n    lcp_echo_interval 0\n}\n\
               ip pool \"customers\" {\n    ranges 198.51.100.10-198.51.100.11\n}\n\
               user \"dave\" {\n    password \"s3cret\"\n}\n";
    let lac = format!(
        "ppp profile \"default\" {{\n    user_name \"dave\"\n    user_password \"guess\"\n    \
         ipv6cp false\n    lcp_echo_interval 0\n    pap_restart_interval 1\n}}\n\
         tunnel \"t\" {{\n    peer {}\n    version 2\n}}\n\
         session \"s\" {{\n    tunnel \"t\"\n    pseudowire_type ppp\n}}\n",
        addr(1).ip()
    );
    Net::unstarted(&[&lac, lns], 7)
}

#[test]
fn a_pap_request_repeated_after_a_lost_nak_is_refused_again() {
    let mut net = dave_with_the_wrong_password();
    // The LNS's first Nak is lost, and so are its Terminate-Requests: the LAC repeats its
    // request while the LNS's link closes.
    let naks = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&naks);
    net.ppp_wire = Some(PppWire(Box::new(move |from, _, f: &mut Vec<u8>| {
        if from != 1 {
            return true;
        }
        if is(f, PAP, 3) {
            return seen.fetch_add(1, Ordering::SeqCst) > 0;
        }
        !is(f, LCP, 5)
    })));
    let mut net = net.start();
    net.run_until(Duration::from_secs(30), "the session ends", |n| {
        n.nodes[0].saw(EventKind::SessionDown) >= 1
    });
    assert_eq!(naks.load(Ordering::SeqCst), 2, "the lost Nak, then again");
    // The LAC heard the second Nak: refused, not timed out or cut off.
    let lac = net.nodes[0].engine.stats();
    assert_eq!(
        lac.ppp_down.get("auth_rejected_by_peer"),
        Some(&1),
        "{lac:?}"
    );
    let lns = net.nodes[1].engine.stats();
    assert_eq!(
        lns.ppp_auth_failures.get("wrong_credentials"),
        Some(&1),
        "{lns:?}"
    );
    assert_eq!(lns.ppp_down.get("auth_failed"), Some(&1), "{lns:?}");
}
