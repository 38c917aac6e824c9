//! Native PPP on the userspace data plane: PPP sessions whose PPP the control plane terminates
//! itself (no pppd, no kernel L2TP, no kernel PPP), L2TPv2 sessions and L2TPv3 PPP
//! pseudowires alike.
//!
//! - A session's PPP control frames (LCP, authentication, IPCP, IPv6CP, anything that is not
//!   an IP packet) go to the control plane ([`crate::SinkEvent::PppFrame`]); the control plane
//!   sends its own with [`crate::UserspaceDataplane::send_ppp`].
//! - IP packets stay on the data-path threads. Every native-PPP session shares one TUN device
//!   (`IFF_TUN | IFF_NO_PI`, multi-queue, with the virtio-net header and the offloads the TAPs
//!   have), made when a session's network layer first comes up, so that 100 000 sessions do
//!   not need 100 000 interfaces. When IPCP is up
//!   ([`crate::UserspaceDataplane::ppp_up`]), the peer's address gets a host route (/32)
//!   through the TUN with the peer's MRU as its MTU, and the TUN gets our address (once,
//!   however many sessions share it). A packet read from the TUN goes to the session whose
//!   peer has its destination address ([`routes`]), behind the PPP header the peer allows
//!   (ACFC, PFC) and the session's L2TP header ([`codec`]). A packet received from a session
//!   is written to the TUN only if its source is the peer's address: others are dropped and
//!   counted (anti-spoofing, [`crate::PppDrop::Spoofed`]).
//! - Routing by the peer's address and checking sources against it fit the PPP server (an
//!   LNS: each peer has the one address it was given). A PPP client on the shared TUN reaches
//!   the server's own address only; packets to other destinations match no route here.
//! - IPv6: IPv6CP negotiates interface identifiers only (RFC 5072), so a PPP link has only
//!   link-local addresses; on the shared TUN they are told apart by the peer's identifier.
//!   When IPv6CP is up ([`PppNet::ipv6`]), the TUN gets our link-local address `fe80::<our
//!   id>/128` (once, however many sessions share it: the control plane gives its links one
//!   identifier of ours unless a peer Naks it) and the peer's `fe80::<peer id>` a /128 route
//!   through the TUN with our address as its source. A packet read from the TUN for a
//!   link-local destination goes to the session whose peer has that identifier ([`routes`]);
//!   a packet from a session reaches the TUN only from the peer's link-local address. The
//!   peers' identifiers must therefore be unique across the sessions: the control plane Naks
//!   a peer asking for another session's peer's identifier
//!   (`ppp_proto::Link::handle_frame_with`), and [`crate::UserspaceDataplane::ppp_up`] refuses
//!   one that is routed already. The TUN's IPv6 sysctls keep the kernel from making addresses,
//!   soliciting routers or detecting duplicates on it; IPv6 multicast read from it is no
//!   session's and is dropped, counted apart from unrouted packets. Global addresses (router
//!   advertisements, DHCPv6, delegated prefixes) are not carried.
//! - Activity: the threads mark the sessions that passed IP packets; at most once every
//!   [`ACTIVITY_PERIOD`] the marked ones are reported ([`crate::SinkEvent::PppActivity`]), for
//!   the links' idle timeouts and adaptive echo.
//! - LCP Echo-Replies: a thread holds those it reads for at most [`ECHO_REPLY_HOLD`] (or until
//!   it holds [`ECHO_REPLY_BATCH`]) and hands them over together
//!   ([`crate::SinkEvent::PppEchoReplies`]): idle sessions' echoes then cost the control plane
//!   one wake-up per batch, not one per reply. The other control frames go at once (after the
//!   replies the thread held before them), so that negotiations are not slowed.
//! - Each session hands over at most [`CONTROL_BURST`] control frames at once and
//!   [`CONTROL_RATE`] a second; a flood of control frames past that is dropped and counted.
//!
//! Sequencing (Ns in L2TPv2, the sublayer's number in L2TPv3) is one counter per session shared
//! by the threads and the control side, so every packet the session sends, control frames
//! included, has a number of its own. An L2TPv2 LAC numbers its packets while its LNS numbers
//! its own (RFC 2661 §5.4). With more than one data-path thread, two flows of one
//! session read from two TUN queues at once may leave in an order other than their numbers;
//! a peer that requires sequencing then drops the late one. A reorder timeout is not applied
//! to PPP sessions: out-of-order packets are dropped and counted.

pub mod codec;
pub mod routes;

use std::net::Ipv4Addr;
use std::time::Duration;

use l2tp_proto::wire::header::{Cookie, L2SpecificSublayer};
pub use ppp_proto::wire::Framing;

pub use codec::{
    Inbound, InboundDrop, IpVersion, NetState, PppCodec, PppCodecSpec, PppL2tp, judge,
};

/// How often at most the data plane reports which sessions carried IP
/// ([`crate::SinkEvent::PppActivity`]).
pub const ACTIVITY_PERIOD: Duration = Duration::from_secs(5);

/// How long at most a data-path thread holds the LCP Echo-Replies it read before it hands them
/// to the control plane ([`crate::SinkEvent::PppEchoReplies`]); far below any echo interval
/// (seconds), so that a link's echo failures are counted as without it.
pub const ECHO_REPLY_HOLD: Duration = Duration::from_millis(20);

/// How many LCP Echo-Replies a data-path thread holds at most before it hands them over.
pub const ECHO_REPLY_BATCH: usize = 1024;

/// The most control frames one session hands the control plane at once: a negotiation (LCP,
/// authentication, IPCP, IPv6CP, each with a few retransmissions) takes a few dozen.
pub const CONTROL_BURST: u32 = 128;

/// Control frames one session may hand the control plane a second, on average (a token
/// bucket of [`CONTROL_BURST`]); the rest are dropped and counted
/// ([`crate::DataplaneTotals::ppp_control_rate`]), so that a peer flooding LCP
/// Echo-Requests or Configure-Requests makes work for the control plane at that rate at most,
/// and the control frames of other sessions do not queue behind its own.
pub const CONTROL_RATE: u32 = 64;

/// A native-PPP session's budget for the control frames it hands the control plane
/// ([`CONTROL_BURST`] at once, [`CONTROL_RATE`] a second), on either data plane: the
/// data-path threads keep one per session, and so does l2tpd's kernel data plane for the
/// frames it reads from the session's PPP channel and unit.
pub type ControlBudget = crate::bucket::TokenBucket<CONTROL_BURST, CONTROL_RATE>;

/// The name of the shared TUN when none is given.
pub const DEFAULT_TUN_NAME: &str = "l2tpppp0";

/// What the data plane needs to carry a native-PPP session. Its version is its tunnel's.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct PppSessionSpec {
    /// Local tunnel id (the tunnel must be installed).
    pub tid: u32,
    /// Local session id (16 bits in L2TPv2; in L2TPv3 unique in the data plane, never 0).
    pub sid: u32,
    /// The peer's tunnel id (L2TPv2 headers carry it).
    pub peer_tid: u32,
    /// The peer's session id.
    pub peer_sid: u32,
    /// L2TPv3: the cookie we send.
    pub cookie: Cookie,
    /// L2TPv3: the cookie we expect.
    pub peer_cookie: Cookie,
    /// L2TPv3: the L2-Specific Sublayer.
    pub l2spec: L2SpecificSublayer,
    /// Number the packets we send (at first: an L2TPv2 LAC then follows its LNS).
    pub send_seq: bool,
    /// Require numbered packets on receipt.
    pub recv_seq: bool,
    /// We are the LNS of this L2TPv2 session. As the LAC, we number our packets when the
    /// LNS's are numbered, and stop when they are not (RFC 2661 §5.4).
    pub lns: bool,
}

impl PppSessionSpec {
    /// A session with no cookie, no sublayer and no sequencing.
    pub fn new(tid: u32, sid: u32, peer_tid: u32, peer_sid: u32) -> Self {
        Self {
            tid,
            sid,
            peer_tid,
            peer_sid,
            cookie: Cookie::NONE,
            peer_cookie: Cookie::NONE,
            l2spec: L2SpecificSublayer::None,
            send_seq: false,
            recv_seq: false,
            lns: false,
        }
    }
}

/// What a native-PPP session carries once its network layer is up.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct PppNet {
    /// Our address and the peer's, when IPCP is Opened.
    pub ipv4: Option<(Ipv4Addr, Ipv4Addr)>,
    /// Our interface identifier and the peer's, when IPv6CP is Opened (RFC 5072 §4.1).
    pub ipv6: Option<(u64, u64)>,
    /// The largest packet the peer takes (its MRU): the MTU of its route.
    pub mtu: u16,
    /// The PPP header of IP packets to the peer.
    pub framing: Framing,
}
