//! What the data-path threads hand the control plane ([`SinkEvent`]) and how
//! ([`ControlSink`]): control messages that arrive on data sockets, PPP control frames of
//! native-PPP sessions, and reports (wrong cookies, spoofed sources, sessions down, activity).

use std::sync::mpsc::Sender;

/// A control packet that arrived on a tunnel's data socket, for the control plane.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct ControlPacket {
    /// The local tunnel id of the socket it arrived on.
    pub tid: u32,
    /// The L2TP packet (after the IPv4 header for IP encapsulation).
    pub packet: Vec<u8>,
}

/// A data packet for a session the data path did not have yet, read on a tunnel's socket: it
/// may have come right behind the message that sets its session up (a peer's first LCP
/// Configure-Request behind its ICCN). The control plane gives it back
/// ([`crate::UserspaceDataplane::handle_data`]) once it has handled the events before it.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct EarlyData {
    /// The local tunnel id of the socket it arrived on.
    pub tid: u32,
    /// The L2TP packet (after the IPv4 header for IP encapsulation).
    pub packet: Vec<u8>,
}

/// Data packets a session dropped for a wrong cookie (RFC 3931 §8.2), reported at most once a
/// second per session so that the control plane can log who sends them.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct CookieReport {
    /// Local tunnel id.
    pub tid: u32,
    /// Local session id.
    pub sid: u32,
    /// Packets dropped since the last report.
    pub dropped: u64,
}

/// A PPP control frame received on a native-PPP session, for the control plane.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct PppFrame {
    /// Local tunnel id.
    pub tid: u32,
    /// Local session id.
    pub sid: u32,
    /// The frame as the peer sent it (with or without `FF 03`), from the PPP header on.
    pub frame: Vec<u8>,
}

/// A native-PPP session that carried IP packets since the last report.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct PppActivity {
    /// Local tunnel id.
    pub tid: u32,
    /// Local session id.
    pub sid: u32,
    /// It received IP packets from the peer.
    pub received: bool,
    /// It sent IP packets to the peer.
    pub sent: bool,
}

/// Frames a native-PPP session received and dropped, reported at most once a second per
/// session and reason (the session's `rx_errors` counts every one).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct PppDropReport {
    /// Local tunnel id.
    pub tid: u32,
    /// Local session id.
    pub sid: u32,
    /// Frames dropped for this reason since the last report.
    pub dropped: u64,
    /// Why; for a spoofed source, that of the frame that made this report.
    pub why: PppDrop,
}

/// Why a native-PPP session dropped a received frame.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum PppDrop {
    /// An IP packet whose source is not the peer's address (IPv4: the address it was given;
    /// IPv6: its link-local address).
    Spoofed {
        /// The packet's source.
        source: std::net::IpAddr,
        /// The peer's address of the same family, if that protocol is still up.
        expected: Option<std::net::IpAddr>,
    },
    /// IPv4 while IPCP is not Opened, IPv6 while IPv6CP is not: RFC 1661 §3.5 has them
    /// discarded (a peer's first packets may meet this while its NCP opens a moment before ours).
    NotCarried(crate::ppp::IpVersion),
    /// A frame whose PPP header is invalid, or an IP packet too short for its header.
    Invalid,
}

/// A session the data path dropped because its TAP is gone (its interface was deleted), or a
/// native-PPP session whose shared TUN was deleted: the control plane should tear it down, and
/// then remove it ([`crate::UserspaceDataplane::remove_session`]).
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct SessionDown {
    /// Local tunnel id.
    pub tid: u32,
    /// Local session id.
    pub sid: u32,
    /// Why, naming the interface.
    pub reason: String,
}

/// What the data-path thread hands the control plane.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum SinkEvent {
    /// A control message that arrived on a data socket.
    Control(ControlPacket),
    /// A data packet for a session not installed yet, to be given back after the events
    /// before it (only to a sink that [takes them](ControlSink::new)).
    EarlyData(EarlyData),
    /// Data packets with a wrong cookie.
    WrongCookie(CookieReport),
    /// A session's TAP is gone; the data path no longer carries it.
    SessionDown(SessionDown),
    /// A PPP control frame of a native-PPP session.
    PppFrame(PppFrame),
    /// LCP Echo-Replies of native-PPP sessions, in the order they arrived: a data-path thread
    /// holds them a moment ([`crate::ppp::ECHO_REPLY_HOLD`]) and hands over those it gathered
    /// in one event, so that the replies to many sessions' echoes wake the control plane once.
    /// Any other control frame of the thread's goes after those held before it.
    PppEchoReplies(Vec<PppFrame>),
    /// The native-PPP sessions that carried IP since the last report (at most one report per
    /// [`crate::ppp::ACTIVITY_PERIOD`], and none when no session did).
    PppActivity(Vec<PppActivity>),
    /// Received frames a native-PPP session dropped: a spoofed source, a network protocol not
    /// carried yet, an invalid frame.
    PppDropped(PppDropReport),
}

/// Where the data-path threads hand the control messages that arrive on data sockets, and their
/// reports: a callback run on those threads (it must not block; typically it queues the event
/// for the control plane's runtime).
pub struct ControlSink {
    f: Box<dyn Fn(SinkEvent) + Send + Sync>,
    /// It takes [`SinkEvent::EarlyData`] (and gives the packets back).
    early: bool,
}

impl ControlSink {
    /// A sink that calls `f` with each event. It is handed [`SinkEvent::EarlyData`], and must
    /// give each such packet back to [`crate::UserspaceDataplane::handle_data`] after the
    /// events before it (or count it as dropped).
    pub fn new(f: impl Fn(SinkEvent) + Send + Sync + 'static) -> Self {
        Self {
            f: Box::new(f),
            early: true,
        }
    }

    /// A sink that sends each control packet on a standard channel (and drops the reports).
    /// Data packets for sessions not installed yet are dropped by the data path, not handed
    /// over.
    pub fn channel(tx: Sender<ControlPacket>) -> Self {
        let mut sink = Self::new(move |e| {
            if let SinkEvent::Control(p) = e {
                // The control plane may have gone; the packet is then dropped.
                let _ = tx.send(p);
            }
        });
        sink.early = false;
        sink
    }

    /// Whether it takes [`SinkEvent::EarlyData`].
    pub(crate) fn takes_early(&self) -> bool {
        self.early
    }

    pub(crate) fn deliver(&self, event: SinkEvent) {
        (self.f)(event);
    }
}

impl std::fmt::Debug for ControlSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ControlSink")
    }
}
