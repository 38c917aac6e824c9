//! A client l2tpd killed with SIGKILL (no StopCCN) and started again dials from the same
//! address and UDP port 1701 under a new tunnel id: the server probes the client's old tunnel
//! with a HELLO as soon as the new one is up, and closes it after one retransmission cycle
//! rather than after `hello_timeout` (60 s) of silence and that cycle.
//!
//! Two l2tpd over a veth between two network namespaces (`netns/`), an L2TPv3 Ethernet
//! pseudowire on `dataplane none`; the server's `max_retries 3` makes its cycle 1 + 2 + 4 + 8 =
//! 15 s. Needs root; see `netns/mod.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod netns;

use std::time::{Duration, Instant};

use netns::{Family, Lab, Side, num, poll};
use nix::sys::signal::Signal;

#[test]
fn a_client_killed_and_started_again_has_its_old_tunnel_closed_within_one_cycle() {
    let family = Family::V4;
    let mut lab = Lab::new("rnid", &[]);
    let server_conf = format!(
        "peer profile \"clients\" {{\n    peer_ipaddr {subnet}\n    tunnel_profile_name \"srv\"\n    \
         session_profile_name \"srv\"\n}}\n\n\
         tunnel profile \"srv\" {{\n    version 3\n    max_retries 3\n}}\n\n\
         session profile \"srv\" {{\n    pseudowire_type eth\n}}\n",
        subnet = family.subnet(),
    );
    let client_conf = format!(
        "tunnel \"t1\" {{\n    version 3\n    peer {peer}\n}}\n\n\
         session \"s1\" {{\n    tunnel \"t1\"\n    pseudowire_type eth\n}}\n",
        peer = family.addr(Side::B),
    );
    let listen_a = family.sockaddr(Side::A, 1701);
    let server = lab.start_l2tpd(Side::B, &family.sockaddr(Side::B, 1701), "", &server_conf);
    let client = lab.start_l2tpd(Side::A, &listen_a, "", &client_conf);
    let (old, _) = lab.wait_one_up(&server, || lab.pair_context(&client, &server));
    let old_tid = num(&old, "tid");

    // The client dies without a word, and is started again at once.
    lab.stop(client.proc, Signal::SIGKILL, Duration::from_secs(5));
    let client = lab.start_l2tpd(Side::A, &listen_a, "", &client_conf);
    let new = poll(
        Duration::from_secs(20),
        "the client's new tunnel up at the server",
        || {
            let t = lab.list(&server, "tunnels");
            t.into_iter()
                .find(|t| num(t, "tid") != old_tid && t["state"] == "up")
        },
        || lab.pair_context(&client, &server),
    );
    let up_again = Instant::now();
    let new_tid = num(&new, "tid");
    eprintln!(
        "old tunnel {old_tid} (peer tid {}), new tunnel {new_tid} (peer tid {})",
        num(&old, "peer_tid"),
        num(&new, "peer_tid")
    );
    if num(&new, "peer_tid") != num(&old, "peer_tid") {
        let notice = format!(
            "tunnel {old_tid}: the peer {listen_a} opened a new tunnel {new_tid}; checking its \
             older tunnel {old_tid} with a HELLO"
        );
        poll(
            Duration::from_secs(5),
            "the probe's notice",
            || {
                std::fs::read_to_string(&server.log)
                    .ok()?
                    .contains(&notice)
                    .then_some(())
            },
            || lab.pair_context(&client, &server),
        );
    }

    // One cycle of 15 s (and then some), not hello_timeout's 60 s and that cycle.
    poll(
        Duration::from_secs(25),
        "the old tunnel gone at the server",
        || {
            let t = lab.list(&server, "tunnels");
            (!t.is_empty() && t.iter().all(|t| num(t, "tid") != old_tid)).then_some(())
        },
        || lab.pair_context(&client, &server),
    );
    eprintln!(
        "the old tunnel went {:?} after the new one was up",
        up_again.elapsed()
    );
    let (t, s) = lab.wait_one_up(&server, || lab.pair_context(&client, &server));
    assert_eq!(
        num(&t, "tid"),
        new_tid,
        "{}",
        lab.pair_context(&client, &server)
    );
    assert_eq!(s["state"], "up");
    lab.wait_one_up(&client, || lab.pair_context(&client, &server));
    lab.stop_l2tpd(&client);
    lab.stop_l2tpd(&server);
}
