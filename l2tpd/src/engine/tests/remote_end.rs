//! The Remote End ID of a pseudowire the peer opens (RFC 3931 §5.4.4: it names the circuit)
//! reaches the accepting side's scripts and `show session`, where no `remote_end_id` of its own
//! tells which circuit the session's interface carries.

use std::time::Duration;

use l2tp_ctl::{EventKind, Selector};

use super::harness::{Net, addr};

#[test]
fn the_peers_remote_end_id_reaches_the_accepting_sides_scripts() {
    let c = format!(
        "tunnel \"t\" {{\n    peer {}\n    version 3\n}}\n\
         session \"lan\" {{\n    tunnel \"t\"\n    pseudowire_type eth\n    \
         remote_end_id \"site-a-lan\"\n}}\n\
         session \"dmz\" {{\n    tunnel \"t\"\n    pseudowire_type eth\n    \
         remote_end_id hex:01ab\n}}\n",
        addr(1).ip()
    );
    let mut net = Net::new(&[&c, ""], 31);
    net.run_until(Duration::from_secs(5), "up", |n| n.nodes[1].up() == (1, 2));
    // show session gives it too, on both ends.
    for node in &net.nodes {
        let mut ids: Vec<_> = node
            .engine
            .sessions(net.now, None)
            .unwrap_or_default()
            .iter()
            .map(|s| {
                let d = node
                    .engine
                    .session(net.now, &Selector::Id(s.tid), &Selector::Id(s.sid))
                    .unwrap_or_else(|e| panic!("{e:?}"));
                d.call.remote_end_id.unwrap_or_default()
            })
            .collect();
        ids.sort();
        assert_eq!(ids, ["hex:01ab", "site-a-lan"]);
    }
    for node in &net.nodes {
        let ups: Vec<_> = node
            .scripts
            .iter()
            .filter(|e| e.kind == EventKind::SessionUp)
            .collect();
        assert_eq!(ups.len(), 2);
        let text: Vec<_> = ups.iter().filter_map(|e| e.var("REMOTE_END_ID")).collect();
        let bin: Vec<_> = ups
            .iter()
            .filter_map(|e| e.var("REMOTE_END_ID_BIN"))
            .collect();
        assert_eq!(text, ["site-a-lan"], "{ups:?}");
        assert_eq!(bin, ["01ab"], "{ups:?}");
    }
}
