//! Access Line Information (RFC 5515) from a LAC's ICRQ to the LNS's RADIUS requests (RFC
//! 4679) and `show session`: an L2TPv2 LAC (node 0) whose session sets the line's identifiers
//! and rates, and an LNS (node 1) that asks a scripted RADIUS server and accounts.

use radius_proto::client::Service;
use radius_proto::dict::values::acct_status_type;
use radius_proto::dict::{AttrType, dsl};

use super::harness::addr;
use super::radius::{PASSWORD, accounting, lns, net, server, submits, up};

/// The LAC: one session to node 1 telling of its access line, authenticating as alice.
pub(super) fn lac(line: &str) -> String {
    format!(
        "ppp profile \"default\" {{\n user_name \"alice\"\n user_password \"{PASSWORD}\"\n}}\n\
         tunnel \"t\" {{\n peer {}\n version 2\n}}\n\
         session \"s\" {{\n tunnel \"t\"\n pseudowire_type ppp\n{line}}}\n",
        addr(1).ip()
    )
}

const LINE: &str = " agent_circuit_id \"dslam-7 eth 1/4:100\"\n \
                    agent_remote_id \"subscriber-4711\"\n \
                    actual_data_rate_upstream 1024000\n \
                    actual_data_rate_downstream 80000000000\n \
                    tx_connect_speed 80000000\n \
                    rx_connect_speed 20000000\n";

#[test]
fn the_lacs_access_line_reaches_radius_and_show_session() {
    let profile = "auth_source radius\n radius_accounting true";
    let mut net = net(
        &lns("auth_chap", profile),
        &lac(LINE),
        Some(server(radius_proto::Attributes::new())),
    );
    up(&mut net, "chap with an access line");
    // In the Access-Request and in the Accounting-Start, as the DSL Forum's attributes.
    let access = submits(&net, 1)
        .into_iter()
        .find(|(s, ..)| *s == Service::Access)
        .unwrap_or_else(|| panic!("no Access-Request"))
        .1;
    let start = accounting(&net)
        .into_iter()
        .find(|(status, ..)| *status == acct_status_type::START)
        .unwrap_or_else(|| panic!("no Accounting-Start"))
        .1;
    for attrs in [&access, &start] {
        assert_eq!(
            attrs.vendor(dsl::AGENT_CIRCUIT_ID),
            Some(&b"dslam-7 eth 1/4:100"[..])
        );
        assert_eq!(
            attrs.vendor(dsl::AGENT_REMOTE_ID),
            Some(&b"subscriber-4711"[..])
        );
        assert_eq!(
            attrs.vendor(dsl::ACTUAL_DATA_RATE_UPSTREAM),
            Some(&1_024_000u32.to_be_bytes()[..])
        );
        // 80 Gbit/s does not fit the attribute's 32 bits: held to its largest value.
        let down = radius_proto::dict::VendorType {
            vendor: dsl::ACTUAL_DATA_RATE_UPSTREAM.vendor,
            vendor_type: 130,
        };
        assert_eq!(attrs.vendor(down), Some(&u32::MAX.to_be_bytes()[..]));
    }
    // The ICCN's connect speeds, as Connect-Info (RFC 2869 §5.11).
    for attrs in [&access, &start] {
        assert_eq!(
            attrs.get(AttrType::CONNECT_INFO),
            Some(&b"80000000/20000000"[..])
        );
    }
    // `show session` on the LNS tells the line as the LAC sent it.
    let s = net.first_session(1);
    assert_eq!(
        (
            s.call.tx_connect_speed.map(|s| s.get()),
            s.call.rx_connect_speed.map(|s| s.get())
        ),
        (Some(80_000_000), Some(20_000_000))
    );
    let line: Vec<(&str, &str)> = s
        .call
        .access_line
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        line,
        [
            ("actual_data_rate_downstream", "80000000000"),
            ("actual_data_rate_upstream", "1024000"),
            ("agent_circuit_id", "dslam-7 eth 1/4:100"),
            ("agent_remote_id", "subscriber-4711"),
        ]
    );
    // The LAC, which sent it, keeps no such facts of its own call.
    assert!(net.first_session(0).call.access_line.is_empty());
}

#[test]
fn a_call_without_an_access_line_sends_no_dsl_attributes() {
    let profile = "auth_source radius\n radius_accounting true";
    let mut net = net(
        &lns("auth_chap", profile),
        &lac(""),
        Some(server(radius_proto::Attributes::new())),
    );
    up(&mut net, "chap without an access line");
    for (_, attrs, _) in submits(&net, 1) {
        assert!(
            attrs
                .vendor_attributes()
                .all(|(v, _)| v.vendor != dsl::AGENT_CIRCUIT_ID.vendor),
            "{attrs:?}"
        );
    }
    assert!(net.first_session(1).call.access_line.is_empty());
}
