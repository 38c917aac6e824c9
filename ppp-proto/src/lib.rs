//! Sans-IO PPP for L2TP: the link layer (LCP, RFC 1661), authentication in both directions
//! (PAP, RFC 1334; CHAP with MD5, RFC 1994; MS-CHAPv2, RFC 2759) and the network layers IPv4
//! (IPCP, RFC 1332 and RFC 1877) and IPv6 (IPv6CP, RFC 5072), for a daemon that terminates
//! PPP itself, as LNS (authenticator, assigns addresses) or as LAC/client (authenticates with
//! a user name and password, takes the address it is given).
//!
//! Like `l2tp-proto` this crate performs no I/O and reads no clock: the caller hands a
//! [`Link`] frames, commands and the current time ([`Instant`], 8 octets, shared with
//! `l2tp-proto`), and takes back frames, [`Event`]s and the next deadline. Randomness
//! (Magic-Numbers, challenges, interface identifiers) comes from an injected [`Rng`]. No
//! `unsafe`; logs and `Debug` output never contain passwords or NT hashes ([`Password`],
//! [`NtHash`]).
//!
//! # Using it
//!
//! One [`Link`] per PPP session, its [`LinkConfig`] shared by a profile's links:
//!
//! ```
//! use std::sync::Arc;
//! use ppp_proto::{AuthMethod, DeterministicRng, Event, Instant, Link, LinkConfig, Verdict};
//!
//! let config = Arc::new(LinkConfig {
//!     authenticate_peer: vec![AuthMethod::MsChapV2],
//!     ..LinkConfig::default()
//! });
//! let mut rng = DeterministicRng::new(1); // a CSPRNG in a deployment
//! let mut link = Link::new(config, &mut rng);
//! link.open(Instant::from_secs(1));
//! while let Some(frame) = link.poll_transmit() {
//!     // send `frame` (FF 03 C0 21 ...) in the session's L2TP data packets
//!     assert_eq!(&frame[..4], &[0xff, 0x03, 0xc0, 0x21]);
//! }
//! // for each received frame: link.handle_frame(now, frame, &mut rng);
//! // at link.poll_timeout(): link.handle_timeout(now);
//! // Event::Authenticate(request) → link.auth_verdict(now, request.id, verdict)
//! while let Some(event) = link.poll_event() {
//!     if let Event::Authenticate(req) = event {
//!         let _ = link.auth_verdict(Instant::from_secs(2), req.id, Verdict::reject("no"));
//!     }
//! }
//! ```
//!
//! A data path keeps IPv4 and IPv6 away from the link: [`wire::classify`] tells a received
//! frame's datagram offset from a control frame for the link, and [`wire::Framing`] writes
//! the header of outgoing datagrams, without allocating.
//!
//! # What is implemented
//!
//! - The option-negotiation automaton of RFC 1661 §4 ([`fsm`]) for LCP, IPCP and IPv6CP, with
//!   the Restart timer and the Max-Configure, Max-Terminate and Max-Failure counters (LCP's
//!   and the NCPs' apart, [`LinkConfig::ncp_retries`]), and a bound on Naks received; Configure-Request/Ack/Nak/Reject, Terminate-Request/Ack,
//!   Code-Reject, Protocol-Reject (sent in LCP Opened during the network phase only),
//!   Echo-Request/Reply and Discard-Request.
//! - LCP options ([`lcp`]): MRU, ACCM, Authentication-Protocol, Magic-Number with loop-back
//!   detection, PFC and ACFC; every other option is rejected so that negotiation converges
//!   with any peer (Windows asks for Callback and Multilink options).
//! - Over L2TP there is no async framing here (RFC 2661 §5.3: the LAC strips it): ACCM is
//!   acknowledged and reported for the LAC's async link (RFC 2661 §6.14, the SLI message);
//!   frames are read with or without `FF 03` and with one- or two-octet Protocol fields;
//!   control frames are always sent uncompressed.
//! - Authentication ([`auth`]) in both directions; the authenticator asks the host for a
//!   [`Verdict`] instead of deciding; the maths for local users ([`auth::maths`]); CHAP
//!   Challenges and PAP requests repeated on timers and counts of their own ([`ChapTiming`],
//!   [`PapTiming`]); CHAP re-challenges in the network phase if asked (RFC 1994 §2).
//! - IPCP ([`ipcp`]): IP-Address, primary and secondary DNS and NBNS; IPv6CP ([`ipv6cp`]):
//!   Interface-Identifier with collision handling.
//! - Keep-alive and timeouts: LCP echo with a failure count (adaptive if asked), idle timeout
//!   fed by [`Link::note_activity`], session timeout, authentication timeout; each ends the link
//!   with a [`DownReason`].
//! - Per-link [`Counters`]. A link is about 500 octets (a test holds it under 512) and holds no
//!   heap memory while Opened and idle: its frame queue keeps an echo exchange in place, its
//!   event queue and authentication state are released once drained or done.
//!
//! The tests hold it to the RFC 1661 transition table cell by cell, to real pppd (in the qemu
//! guest of `tests/vm/`, both roles, every method; and pppd's captured negotiations in
//! `testdata/pppd/`), to tshark's decoding of what it sends, and to two simulated links over a
//! lossy wire with arbitrary option sets.
//!
//! # What is deliberately not
//!
//! EAP (a peer asking for it is Nak'ed toward an allowed method), MS-CHAPv1 and MS-CHAPv2
//! password change, CCP and MPPE (L2TP/IPsec encrypts below; CCP is Protocol-Rejected), Van Jacobson
//! compression (rejected), Multilink (RFC 1990), Callback, Link Quality Monitoring,
//! async-HDLC framing (the LAC's job), the restart and passive options of RFC 1661 §4.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod auth;
pub mod config;
pub mod event;
pub mod fsm;
pub mod ipcp;
pub mod ipv6cp;
pub mod lcp;
pub mod link;
mod outq;
mod timer;
pub mod wire;

#[cfg(test)]
mod tests;

pub use auth::{
    AuthId, AuthMethod, AuthRequest, AuthenticatorResponse, NtHash, Password, PeerCredentials,
    Verdict,
};
pub use config::{
    ChapTiming, Credentials, InterfaceId, Ipv4Config, Ipv4Params, Ipv6Config, Ipv6Params,
    LcpConfig, LinkConfig, NetworkParams, PapTiming, Retries,
};
pub use event::{CloseReason, Counters, DownReason, Event, Ipv4Info, Ipv6Info, LinkInfo};
pub use l2tp_proto::rng::{DeterministicRng, Rng};
pub use l2tp_proto::time::Instant;
pub use link::{
    Activity, Link, Phase, Proxied, ProxiedAuth, ProxiedLcp, ProxiedSide, ProxyRefusal,
    VerdictError,
};
