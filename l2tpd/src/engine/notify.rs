//! What the engine tells the shell: the [`Outbox`] of [`EngineEvent`]s, and the pure
//! functions that turn records into the watchers' events ([`ctl::Event`]) and the user
//! scripts' events ([`ScriptEvent`]).

use std::collections::VecDeque;
use std::time::{SystemTime, UNIX_EPOCH};

use l2tp_ctl::{self as ctl, EventKind};
use l2tp_proto as proto;

use super::api::EngineEvent;
use super::registry::SessionRec;
use crate::dataplane::{DataplaneRequest, SocketChange};
use crate::scripts::{self, ScriptEvent, ScriptKinds, SessionFacts};

/// The engine's output to the shell, in order.
#[derive(Debug, Default)]
pub(super) struct Outbox {
    events: VecDeque<EngineEvent>,
    /// The events whose script may run: no script event is built for the others.
    pub(super) scripts: ScriptKinds,
}

impl Outbox {
    /// The next event.
    pub(super) fn pop(&mut self) -> Option<EngineEvent> {
        self.events.pop_front()
    }

    /// A request for the data plane.
    pub(super) fn dataplane(&mut self, req: DataplaneRequest) {
        self.events.push_back(EngineEvent::Dataplane(req));
    }

    /// A change to the tunnels' own sockets.
    pub(super) fn socket(&mut self, change: SocketChange) {
        self.events.push_back(EngineEvent::Socket(change));
    }

    /// The stale tunnels of a peer that restarted, for the shell to check their marks.
    pub(super) fn stale_tunnels(&mut self, tid: u32, stale: Vec<u32>) {
        self.events
            .push_back(EngineEvent::StaleTunnels { tid, stale });
    }

    /// A request for the RADIUS client.
    pub(super) fn radius(&mut self, req: super::api::RadiusRequest) {
        self.events.push_back(EngineEvent::Radius(req));
    }

    /// An event for watchers without a script (an unknown session's deletion).
    pub(super) fn notify(&mut self, e: ctl::Event) {
        self.events.push_back(EngineEvent::Notify(e));
    }

    /// A tunnel event for watchers, with the verbose facts (version, encapsulation, peer) the
    /// protocol has of it, and its script.
    pub(super) fn tunnel(
        &mut self,
        ev: ctl::Event,
        facts: (Option<&str>, Option<&[u8]>),
        info: Option<&proto::TunnelInfo>,
    ) {
        self.tunnel_ended(ev, facts, info, None);
    }

    /// [`Outbox::tunnel`] for a tunnel-down or tunnel-deleted event, whose script also gets
    /// the Result Code of `reason`.
    pub(super) fn tunnel_ended(
        &mut self,
        mut ev: ctl::Event,
        (name, peer_host_name): (Option<&str>, Option<&[u8]>),
        info: Option<&proto::TunnelInfo>,
        reason: Option<&proto::DownReason>,
    ) {
        if let Some(info) = info {
            // Over IP there are no ports: the address alone, as `show tunnels` gives it.
            ev.peer.get_or_insert_with(|| match info.encap {
                proto::wire::header::Encapsulation::Ip => info.remote.ip().to_string(),
                proto::wire::header::Encapsulation::Udp => info.remote.to_string(),
            });
            ev.version.get_or_insert(info.version.number());
            ev.encap.get_or_insert(ctl_encap(info.encap));
        }
        let script = self.scripts.wants(ev.event).then(|| {
            let mut script = scripts::tunnel_event(ev.event, ev.tid, name, peer_host_name);
            put_result(&mut script, reason);
            script
        });
        self.events.push_back(EngineEvent::Notify(ev));
        self.events.extend(script.map(EngineEvent::Script));
    }

    /// A session event for watchers, with the verbose facts (pseudowire type, interface), and
    /// its script, which also gets the Host Name the peer of the session's tunnel sent.
    pub(super) fn session(
        &mut self,
        ev: ctl::Event,
        rec: &SessionRec,
        peer_host_name: Option<&[u8]>,
    ) {
        self.session_ended(ev, rec, peer_host_name, None);
    }

    /// [`Outbox::session`] for a session-down or session-deleted event, whose script also gets
    /// the Result Code of `reason`.
    pub(super) fn session_ended(
        &mut self,
        mut ev: ctl::Event,
        rec: &SessionRec,
        peer_host_name: Option<&[u8]>,
        reason: Option<&proto::DownReason>,
    ) {
        ev.pseudowire_type = Some(ctl::PseudowireType::from_number(rec.pw_type));
        if ev.interface_name.is_none() {
            ev.interface_name = rec.interface();
        }
        // A PPP event carries its own facts; other session events those known so far.
        let ppp = ev
            .ppp
            .as_deref()
            .cloned()
            .or_else(|| rec.ppp.as_ref().map(|p| p.event_info(None)));
        let script = self.scripts.wants(ev.event).then(|| {
            let mut script = session_script(ev.event, rec, peer_host_name, ppp.as_ref());
            put_result(&mut script, reason);
            script
        });
        self.events.push_back(EngineEvent::Notify(ev));
        self.events.extend(script.map(EngineEvent::Script));
    }
}

/// The Result Code of `reason`, if any, into `script`'s environment.
fn put_result(script: &mut ScriptEvent, reason: Option<&proto::DownReason>) {
    if let Some(r) = reason {
        script.put_result(r.result, r.error, r.message.as_deref());
    }
}

/// The control protocol's name of an encapsulation.
pub(super) fn ctl_encap(e: proto::wire::header::Encapsulation) -> ctl::Encap {
    match e {
        proto::wire::header::Encapsulation::Udp => ctl::Encap::Udp,
        proto::wire::header::Encapsulation::Ip => ctl::Encap::Ip,
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// An event of `kind` about tunnel `tid`, with nothing else filled in.
pub(super) fn event(kind: EventKind, tid: u32) -> ctl::Event {
    ctl::Event::new(kind, now_ms(), tid)
}

/// The result of a protocol teardown as watchers and `show` report it. A message that is not
/// UTF-8 is given as `hex:` and its octets (as a Host Name that is not printable is), not with
/// its invalid octets replaced: the operator sees what the peer sent.
pub(super) fn result_code(reason: &proto::DownReason) -> ctl::ResultCode {
    ctl::ResultCode {
        result: reason.result,
        error: reason.error.unwrap_or(0),
        message: reason.message.as_deref().map(message_text),
    }
}

/// A Result Code message for the control socket: as it is when UTF-8, else `hex:` and its
/// octets in hexadecimal.
fn message_text(bytes: &[u8]) -> String {
    std::str::from_utf8(bytes).map_or_else(
        |_| format!("hex:{}", crate::scripts::hex(bytes)),
        str::to_owned,
    )
}

/// The session-deleted event of `rec`, with what is known of its end.
pub(super) fn session_deleted(rec: &SessionRec) -> ctl::Event {
    let mut ev = event(EventKind::SessionDeleted, rec.tid());
    ev.sid = Some(rec.sid());
    ev.peer_tid = (rec.peer_tid != 0).then_some(rec.peer_tid);
    ev.peer_sid = (rec.peer_sid != 0).then_some(rec.peer_sid);
    ev.result = rec.last_down.as_deref().map(result_code);
    ev
}

/// The script of session event `kind` of `rec`.
fn session_script(
    kind: EventKind,
    rec: &SessionRec,
    peer_host_name: Option<&[u8]>,
    ppp: Option<&ctl::PppEventInfo>,
) -> ScriptEvent {
    let interface_name = rec.interface();
    let facts = SessionFacts {
        tunnel_name: rec.tunnel_name.as_deref(),
        session_name: rec.origin.name.as_deref(),
        profile: Some(&rec.profile),
        pw_profile: Some(&rec.pw_profile),
        pw_type: rec.pw_type,
        user_data: rec.settings.user_data.as_deref(),
        remote_end_id: rec.remote_end_id(),
        bridge: rec.pseudowire.bridge.as_deref(),
        interface_name: interface_name.as_deref(),
        mtu: rec.pseudowire.mtu,
        local_ip: rec.pseudowire.local_ip,
        peer_ip: rec.pseudowire.peer_ip,
        netmask: rec.pseudowire.netmask,
        calling_number: rec.calling_number(),
        called_number: rec.called_number(),
        sub_address: rec.sub_address(),
        peer_host_name: peer_host_name.filter(|h| !h.is_empty()),
        access_line: rec.access_line(),
        ppp,
        ppp_user: rec.ppp.as_ref().and_then(|l| l.user.as_deref()),
    };
    scripts::session_event(kind, rec.tid(), rec.sid(), &facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(message: &[u8]) -> proto::DownReason {
        proto::DownReason {
            cause: proto::DownCause::Peer,
            result: 1,
            error: None,
            message: Some(message.to_vec()),
        }
    }

    /// `show` and the watchers get a message that is not UTF-8 as its octets, not with
    /// U+FFFD in place of the invalid ones; a UTF-8 one as it is.
    #[test]
    fn a_result_message_keeps_its_octets() {
        let r = result_code(&reason(b"caf\xe9 \xff"));
        assert_eq!(r.message.as_deref(), Some("hex:636166e920ff"));
        let r = result_code(&reason("café\n".as_bytes()));
        assert_eq!(r.message.as_deref(), Some("café\n"));
    }
}
