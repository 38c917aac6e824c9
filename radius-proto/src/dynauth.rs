//! Dynamic authorization (RFC 5176): the NAS side, which receives Disconnect-Request and
//! CoA-Request from listed clients and answers them with an ACK or a NAK.
//!
//! [`DynAuthServer::handle_request`] authenticates a request: its source address must be a
//! configured client, its Request Authenticator must check out with that client's secret
//! (RFC 5176 §2.3, computed as for Accounting-Request), and a Message-Authenticator, when
//! present or required, must be valid (RFC 5176 §3.4); anything else is dropped silently, as
//! the RFC requires, and counted. A retransmission of a request already answered (same source
//! address and port, Identifier and Request Authenticator, within [`DUPLICATE_WINDOW`]) gets
//! the same answer again (RFC 5176 §2.3: duplicates MUST be detected).
//!
//! Finding the session(s) a request names is the caller's job. It answers with
//! [`DynAuthServer::respond`]: an ACK, or a NAK with an Error-Cause (RFC 5176 §3.5). The answer
//! copies the request's State (RFC 5176 §3.3) and Proxy-State attributes (RFC 2865 §5.33) and
//! carries a Message-Authenticator when the request had one or the client requires it.
//!
//! A request whose Event-Timestamp is not current, within [`EVENT_TIMESTAMP_WINDOW`] of the
//! wall clock, MUST be silently discarded (RFC 5176 §6.3): the caller, which has the wall
//! clock, asks [`DynAuthServer::is_stale`] before acting on it. Not implemented: proxying.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use l2tp_proto::time::Instant;

use crate::Secret;
use crate::attr::{Attributes, EncodeError};
use crate::code::Code;
use crate::dict::AttrType;
use crate::packet::{self, DecodeError, Packet, VerifyError};

/// How long an answered request is remembered to answer its retransmissions alike.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(30);

/// How far from the wall clock a request's Event-Timestamp may be (RFC 5176 §6.3 recommends
/// 300 s).
pub const EVENT_TIMESTAMP_WINDOW: Duration = Duration::from_secs(300);

/// A client allowed to send Disconnect- and CoA-Requests (a Dynamic Authorization Client).
#[derive(Clone, Debug)]
pub struct DynAuthClient {
    /// Its address: requests from any port of it are accepted.
    pub address: IpAddr,
    /// The secret shared with it. Never logged.
    pub secret: Secret,
    /// Drop its requests that carry no Message-Authenticator.
    pub require_message_authenticator: bool,
}

/// Disconnect or Change-of-Authorization.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum DynAuthKind {
    /// Disconnect-Request: end the session(s).
    Disconnect,
    /// CoA-Request: change the session(s)' authorization.
    Coa,
}

/// An authenticated request, to be answered with [`DynAuthServer::respond`].
#[derive(Clone, Debug)]
pub struct DynAuthRequest {
    /// What is asked.
    pub kind: DynAuthKind,
    /// Where it came from, as the socket reported it (the answer goes back there).
    pub from: SocketAddr,
    /// The request; its attributes identify the session(s) (RFC 5176 §3).
    pub packet: Packet,
}

/// How to answer a request.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Answer {
    /// Done (Disconnect-ACK or CoA-ACK), optionally with an Error-Cause such as 201
    /// (Residual Session Context Removed).
    Ack(Option<u32>),
    /// Refused (Disconnect-NAK or CoA-NAK), with an Error-Cause (RFC 5176 §3.5), e.g. 503
    /// (Session Context Not Found).
    Nak(Option<u32>),
}

/// What [`DynAuthServer::handle_request`] made of a datagram.
#[derive(Debug)]
#[non_exhaustive]
pub enum Incoming {
    /// A new, authentic request: act on it and answer.
    Request(DynAuthRequest),
    /// A retransmission of a request already answered: send this answer again.
    Duplicate(Vec<u8>),
    /// A retransmission of a request not answered yet: ignore it.
    InProgress,
}

/// Why a datagram was dropped (silently, as RFC 5176 §2.3 and §3.4 require).
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DynAuthError {
    /// Not from a configured client.
    #[error("request from unknown client {0}")]
    UnknownClient(IpAddr),
    /// Not a Disconnect-Request or CoA-Request.
    #[error("not a Disconnect-Request or CoA-Request")]
    NotARequest,
    /// Malformed.
    #[error(transparent)]
    Decode(DecodeError),
    /// Its authenticator or Message-Authenticator is wrong or missing.
    #[error(transparent)]
    Verify(VerifyError),
}

/// Counters of the dynamic authorization server.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct DynAuthStats {
    /// Authentic requests (duplicates excluded).
    pub requests: u64,
    /// Duplicates answered again or ignored.
    pub duplicates: u64,
    /// Datagrams from unknown addresses.
    pub unknown_clients: u64,
    /// Datagrams that did not decode or were not requests.
    pub malformed: u64,
    /// Datagrams with a wrong or missing authenticator.
    pub bad_authenticators: u64,
    /// Requests whose Event-Timestamp was not current ([`DynAuthServer::is_stale`]).
    pub stale: u64,
    /// ACKs sent.
    pub acks: u64,
    /// NAKs sent.
    pub naks: u64,
}

/// The NAS side of RFC 5176. See the [module documentation](self).
#[derive(Debug)]
pub struct DynAuthServer {
    clients: HashMap<IpAddr, DynAuthClient>,
    /// (source, identifier) → (Request Authenticator, answer once sent, expiry).
    recent: HashMap<(SocketAddr, u8), Recent>,
    expiry: VecDeque<(Instant, SocketAddr, u8)>,
    stats: DynAuthStats,
}

#[derive(Debug)]
struct Recent {
    authenticator: [u8; 16],
    answer: Option<Vec<u8>>,
    until: Instant,
}

impl DynAuthServer {
    /// A server accepting requests from `clients`.
    pub fn new(clients: impl IntoIterator<Item = DynAuthClient>) -> Self {
        Self {
            clients: clients
                .into_iter()
                .map(|c| (c.address.to_canonical(), c))
                .collect(),
            recent: HashMap::new(),
            expiry: VecDeque::new(),
            stats: DynAuthStats::default(),
        }
    }

    /// Authenticates a datagram received from `from`.
    ///
    /// # Errors
    ///
    /// [`DynAuthError`]: drop the datagram (the RFC says silently; the caller may log it).
    pub fn handle_request(
        &mut self,
        now: Instant,
        from: SocketAddr,
        bytes: &[u8],
    ) -> Result<Incoming, DynAuthError> {
        self.expire(now);
        let source = canonical(from);
        let Some(client) = self.clients.get(&source.ip()) else {
            self.stats.unknown_clients += 1;
            return Err(DynAuthError::UnknownClient(source.ip()));
        };
        let kind = match packet::peek(bytes).and_then(|(c, _, _)| Code::from_u8(c)) {
            Some(Code::DisconnectRequest) => DynAuthKind::Disconnect,
            Some(Code::CoaRequest) => DynAuthKind::Coa,
            _ => {
                self.stats.malformed += 1;
                return Err(DynAuthError::NotARequest);
            }
        };
        let packet = match packet::verify_request(
            bytes,
            &client.secret,
            client.require_message_authenticator,
        ) {
            Ok(p) => p,
            Err(VerifyError::Decode(e)) => {
                self.stats.malformed += 1;
                return Err(DynAuthError::Decode(e));
            }
            Err(e) => {
                self.stats.bad_authenticators += 1;
                return Err(DynAuthError::Verify(e));
            }
        };
        let key = (source, packet.identifier);
        if let Some(r) = self.recent.get(&key)
            && r.authenticator == packet.authenticator
        {
            self.stats.duplicates += 1;
            return Ok(match &r.answer {
                Some(answer) => Incoming::Duplicate(answer.clone()),
                None => Incoming::InProgress,
            });
        }
        let until = now + DUPLICATE_WINDOW;
        self.recent.insert(
            key,
            Recent {
                authenticator: packet.authenticator,
                answer: None,
                until,
            },
        );
        self.expiry.push_back((until, source, packet.identifier));
        self.stats.requests += 1;
        Ok(Incoming::Request(DynAuthRequest { kind, from, packet }))
    }

    /// Writes the answer to `request` into `out` (cleared first); send it to
    /// `request.from`. `attributes` are added to what the answer carries anyway (Error-Cause,
    /// State, Proxy-State, Message-Authenticator).
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if the answer would be too long; [`EncodeError::PacketTooLong`] with
    /// length 0 if the request's client is no longer configured.
    pub fn respond(
        &mut self,
        request: &DynAuthRequest,
        answer: Answer,
        attributes: &Attributes,
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        let source = canonical(request.from);
        let Some(client) = self.clients.get(&source.ip()) else {
            return Err(EncodeError::PacketTooLong(0));
        };
        let (code, cause) = match (request.kind, answer) {
            (DynAuthKind::Disconnect, Answer::Ack(c)) => (Code::DisconnectAck, c),
            (DynAuthKind::Disconnect, Answer::Nak(c)) => (Code::DisconnectNak, c),
            (DynAuthKind::Coa, Answer::Ack(c)) => (Code::CoaAck, c),
            (DynAuthKind::Coa, Answer::Nak(c)) => (Code::CoaNak, c),
        };
        let mut attrs = attributes.clone();
        if let Some(cause) = cause {
            attrs.push_u32(AttrType::ERROR_CAUSE, cause);
        }
        let asked = &request.packet.attributes;
        for copied in [AttrType::STATE, AttrType::PROXY_STATE] {
            for value in asked.get_all(copied) {
                attrs.push(copied, value)?;
            }
        }
        let message_authenticator =
            client.require_message_authenticator || asked.contains(AttrType::MESSAGE_AUTHENTICATOR);
        packet::encode_response(
            out,
            code,
            request.packet.identifier,
            &request.packet.authenticator,
            &attrs,
            &client.secret,
            message_authenticator,
        )?;
        match answer {
            Answer::Ack(_) => self.stats.acks += 1,
            Answer::Nak(_) => self.stats.naks += 1,
        }
        if let Some(r) = self.recent.get_mut(&(source, request.packet.identifier))
            && r.authenticator == request.packet.authenticator
        {
            r.answer = Some(out.clone());
        }
        Ok(())
    }

    /// Whether `request` carries an Event-Timestamp more than [`EVENT_TIMESTAMP_WINDOW`] from
    /// `unix_now` (seconds since 1970): then it MUST be silently discarded (RFC 5176 §6.3, the
    /// replay protection), and it is counted. A request without one is current.
    pub fn is_stale(&mut self, request: &DynAuthRequest, unix_now: u64) -> bool {
        let Some(t) = request.packet.attributes.event_timestamp() else {
            return false;
        };
        let stale = u64::from(t).abs_diff(unix_now) > EVENT_TIMESTAMP_WINDOW.as_secs();
        if stale {
            self.stats.stale += 1;
        }
        stale
    }

    /// The counters.
    pub fn stats(&self) -> &DynAuthStats {
        &self.stats
    }

    fn expire(&mut self, now: Instant) {
        while let Some(&(until, from, id)) = self.expiry.front() {
            if until > now {
                break;
            }
            self.expiry.pop_front();
            if self
                .recent
                .get(&(from, id))
                .is_some_and(|r| r.until == until)
            {
                self.recent.remove(&(from, id));
            }
        }
    }
}

/// The address with an IPv4-mapped IPv6 address turned into IPv4 (a dual-stack socket reports
/// IPv4 peers so).
fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::net::Ipv4Addr;

    use super::*;
    use crate::dict::values::error_cause;
    use crate::packet::{encode_signed_request, verify_response};

    fn das() -> DynAuthServer {
        DynAuthServer::new([DynAuthClient {
            address: Ipv4Addr::new(192, 0, 2, 9).into(),
            secret: Secret::from("coa-secret"),
            require_message_authenticator: false,
        }])
    }

    fn from() -> SocketAddr {
        SocketAddr::from((Ipv4Addr::new(192, 0, 2, 9), 40000))
    }

    fn request(code: Code, id: u8, secret: &str, ma: bool) -> Vec<u8> {
        let mut a = Attributes::new();
        a.push_user_name("alice").unwrap();
        a.push_acct_session_id("00000001").unwrap();
        a.push_state(b"st").unwrap();
        let mut out = Vec::new();
        encode_signed_request(&mut out, code, id, &a, &Secret::from(secret), ma).unwrap();
        out
    }

    #[test]
    fn disconnect_is_authenticated_and_answered() {
        let mut das = das();
        let now = Instant::from_secs(1);
        let bytes = request(Code::DisconnectRequest, 7, "coa-secret", false);
        let Ok(Incoming::Request(r)) = das.handle_request(now, from(), &bytes) else {
            panic!("not accepted");
        };
        assert_eq!(r.kind, DynAuthKind::Disconnect);
        assert_eq!(r.packet.attributes.acct_session_id(), Some("00000001"));
        let mut out = Vec::new();
        das.respond(&r, Answer::Ack(None), &Attributes::new(), &mut out)
            .unwrap();
        let ack = verify_response(
            &out,
            &r.packet.authenticator,
            &Secret::from("coa-secret"),
            false,
        )
        .unwrap();
        assert_eq!((ack.code, ack.identifier), (Code::DisconnectAck, 7));
        // State is echoed (RFC 5176 §3.3).
        assert_eq!(ack.attributes.state(), Some(&b"st"[..]));
        // A retransmission gets the same answer.
        match das.handle_request(now, from(), &bytes) {
            Ok(Incoming::Duplicate(again)) => assert_eq!(again, out),
            other => panic!("{other:?}"),
        }
        // After the window it is a new request.
        let later = now + DUPLICATE_WINDOW + Duration::from_secs(1);
        assert!(matches!(
            das.handle_request(later, from(), &bytes),
            Ok(Incoming::Request(_))
        ));
        assert_eq!(das.stats().requests, 2);
        assert_eq!(das.stats().duplicates, 1);
    }

    #[test]
    fn a_request_whose_event_timestamp_is_not_current_is_stale() {
        let mut das = das();
        let now = Instant::from_secs(1);
        let unix = 1_800_000_000;
        let mut stale = Vec::new();
        for (id, t) in [(1, None), (2, Some(unix - 300)), (3, Some(unix + 301))] {
            let mut a = Attributes::new();
            a.push_user_name("alice").unwrap();
            if let Some(t) = t {
                a.push_event_timestamp(t).unwrap();
            }
            let mut bytes = Vec::new();
            let secret = Secret::from("coa-secret");
            encode_signed_request(&mut bytes, Code::CoaRequest, id, &a, &secret, false).unwrap();
            let Ok(Incoming::Request(r)) = das.handle_request(now, from(), &bytes) else {
                panic!("not accepted");
            };
            stale.push(das.is_stale(&r, u64::from(unix)));
        }
        assert_eq!(stale, [false, false, true]);
        assert_eq!(das.stats().stale, 1);
    }

    #[test]
    fn coa_nak_carries_error_cause_and_message_authenticator() {
        let mut das = das();
        let bytes = request(Code::CoaRequest, 1, "coa-secret", true);
        let Ok(Incoming::Request(r)) = das.handle_request(Instant::ZERO, from(), &bytes) else {
            panic!("not accepted");
        };
        let mut out = Vec::new();
        das.respond(
            &r,
            Answer::Nak(Some(error_cause::SESSION_CONTEXT_NOT_FOUND)),
            &Attributes::new(),
            &mut out,
        )
        .unwrap();
        let nak = verify_response(
            &out,
            &r.packet.authenticator,
            &Secret::from("coa-secret"),
            true,
        )
        .unwrap();
        assert_eq!(nak.code, Code::CoaNak);
        assert_eq!(nak.attributes.error_cause(), Some(503));
    }

    #[test]
    fn forged_unknown_and_malformed_requests_are_dropped() {
        let mut das = das();
        let now = Instant::ZERO;
        let forged = request(Code::DisconnectRequest, 1, "wrong", false);
        assert!(matches!(
            das.handle_request(now, from(), &forged),
            Err(DynAuthError::Verify(VerifyError::Authenticator))
        ));
        let good = request(Code::DisconnectRequest, 2, "coa-secret", false);
        let stranger = SocketAddr::from((Ipv4Addr::new(192, 0, 2, 10), 1));
        assert!(matches!(
            das.handle_request(now, stranger, &good),
            Err(DynAuthError::UnknownClient(_))
        ));
        let accounting = request(Code::AccountingRequest, 3, "coa-secret", false);
        assert_eq!(
            das.handle_request(now, from(), &accounting).unwrap_err(),
            DynAuthError::NotARequest
        );
        let mut bad_ma = request(Code::DisconnectRequest, 4, "coa-secret", true);
        // Corrupt the Message-Authenticator and re-sign the Request Authenticator.
        bad_ma[25] ^= 1;
        bad_ma[4..20].fill(0);
        let auth = crate::crypt::md5_authenticator(&bad_ma, &Secret::from("coa-secret"));
        bad_ma[4..20].copy_from_slice(&auth);
        assert!(matches!(
            das.handle_request(now, from(), &bad_ma),
            Err(DynAuthError::Verify(VerifyError::MessageAuthenticator))
        ));
        let s = das.stats();
        assert_eq!(
            (s.bad_authenticators, s.unknown_clients, s.malformed),
            (2, 1, 1)
        );
    }

    #[test]
    fn dual_stack_sources_are_recognised_and_answered_where_they_came_from() {
        let mut das = das();
        let mapped: SocketAddr = "[::ffff:192.0.2.9]:40000".parse().unwrap();
        let bytes = request(Code::DisconnectRequest, 3, "coa-secret", false);
        let Ok(Incoming::Request(r)) = das.handle_request(Instant::ZERO, mapped, &bytes) else {
            panic!("not accepted");
        };
        assert_eq!(r.from, mapped);
        let mut out = Vec::new();
        das.respond(&r, Answer::Ack(None), &Attributes::new(), &mut out)
            .unwrap();
        // The same request from the IPv4 form of the address is a duplicate.
        assert!(matches!(
            das.handle_request(Instant::ZERO, from(), &bytes),
            Ok(Incoming::Duplicate(_))
        ));
    }

    #[test]
    fn required_message_authenticator() {
        let mut das = DynAuthServer::new([DynAuthClient {
            address: Ipv4Addr::new(192, 0, 2, 9).into(),
            secret: Secret::from("coa-secret"),
            require_message_authenticator: true,
        }]);
        let bytes = request(Code::DisconnectRequest, 1, "coa-secret", false);
        assert!(matches!(
            das.handle_request(Instant::ZERO, from(), &bytes),
            Err(DynAuthError::Verify(
                VerifyError::MissingMessageAuthenticator
            ))
        ));
    }
}
