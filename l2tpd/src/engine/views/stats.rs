//! The protocol's counters for `show system`.

use std::collections::BTreeMap;

use l2tp_ctl::SystemStats;
use l2tp_proto as proto;
use l2tp_proto::wire::message::MessageType;

use super::super::admission::Admission;
use super::super::protocol::Protocol;
use super::super::registry::Registry;

/// The engine's counters: the protocol fields of [`SystemStats`] (the shell adds its own).
pub(in crate::engine) fn stats(
    protocol: &Protocol,
    registry: &Registry,
    admission: &Admission,
) -> SystemStats {
    let s = protocol.ep().stats();
    let m = &s.malformed;
    let by_type = |c: &proto::event::MessageCounts| -> BTreeMap<String, u64> {
        MessageType::ALL
            .into_iter()
            .filter(|t| c.get(*t) > 0)
            .map(|t| (t.name().to_owned(), c.get(t)))
            .collect()
    };
    let malformed = [
        ("header", m.header),
        ("body", m.body),
        ("unknown_tunnel", m.unknown_tunnel),
        ("unknown_session", m.unknown_session),
        ("late_cdn", m.late_cdn),
        ("data", m.data),
        ("l2f", m.l2f),
        ("outside_window", m.outside_window),
        ("invalid_nr", m.invalid_nr),
        ("wrong_state", m.wrong_state),
        ("unsupported_message", m.unsupported_message),
        ("speed_update_ignored", m.speed_update_ignored),
        ("call_parameters", m.call_parameters),
        ("wrong_peer", m.wrong_peer),
    ]
    .into_iter()
    .map(|(k, n)| (k.to_owned(), n))
    .collect();
    let refused: u64 = admission.tunnels_refused().values().sum();
    let mut tunnels_refused: BTreeMap<String, u64> = admission
        .tunnels_refused()
        .iter()
        .map(|(k, n)| ((*k).to_owned(), *n))
        .collect();
    for (reason, n) in [
        ("peer_setup_rate", m.peer_setup_rate),
        ("max_setup_tunnels", m.max_setup_tunnels),
        ("setup_evicted", s.setup_evicted),
    ] {
        if n > 0 {
            *tunnels_refused.entry(reason.to_owned()).or_default() += n;
        }
    }
    let mut sessions_refused: BTreeMap<String, u64> = admission
        .sessions_refused()
        .iter()
        .map(|(k, n)| ((*k).to_owned(), *n))
        .collect();
    if s.tunnel_max_sessions > 0 {
        sessions_refused.insert("tunnel_max_sessions".into(), s.tunnel_max_sessions);
    }
    let (tunnel_failures, session_failures) = registry.setup_failures();
    SystemStats {
        acks_sent: s.acks_sent,
        acks_received: s.acks_received,
        messages_sent: by_type(&s.sent),
        messages_received: by_type(&s.received),
        tunnels_refused,
        sessions_refused,
        malformed,
        rx_discards: m.header
            + m.body
            + m.unknown_tunnel
            + m.unknown_session
            + m.data
            + m.outside_window
            + m.invalid_nr
            + m.wrong_peer
            + m.peer_setup_rate
            + m.max_setup_tunnels,
        retransmits: s.retransmissions,
        auth_failures: s.auth_failures,
        tunnels_created: s.tunnels_created,
        tunnel_setup_failures: tunnel_failures + refused,
        sessions_created: s.sessions_created,
        session_setup_failures: session_failures,
        ..SystemStats::default()
    }
}
