//! Per-session and per-tunnel counters. The data-path thread bumps relaxed atomics; the control
//! side reads them at any time without a round trip to that thread.

use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;

/// Counters of one session, as the data path updates them.
#[derive(Debug, Default)]
pub(crate) struct SessionCounters {
    pub(crate) rx_packets: AtomicU64,
    pub(crate) rx_bytes: AtomicU64,
    pub(crate) rx_errors: AtomicU64,
    pub(crate) tx_packets: AtomicU64,
    pub(crate) tx_bytes: AtomicU64,
    pub(crate) tx_errors: AtomicU64,
    pub(crate) cookie_mismatches: AtomicU64,
    pub(crate) seq_errors: AtomicU64,
    pub(crate) reordered: AtomicU64,
    pub(crate) spoofed: AtomicU64,
    pub(crate) oversize: AtomicU64,
}

impl SessionCounters {
    pub(crate) fn snapshot(&self) -> SessionStats {
        SessionStats {
            rx_packets: self.rx_packets.load(Relaxed),
            rx_bytes: self.rx_bytes.load(Relaxed),
            rx_errors: self.rx_errors.load(Relaxed),
            tx_packets: self.tx_packets.load(Relaxed),
            tx_bytes: self.tx_bytes.load(Relaxed),
            tx_errors: self.tx_errors.load(Relaxed),
            cookie_mismatches: self.cookie_mismatches.load(Relaxed),
            seq_errors: self.seq_errors.load(Relaxed),
            reordered: self.reordered.load(Relaxed),
            spoofed: self.spoofed.load(Relaxed),
            oversize: self.oversize.load(Relaxed),
        }
    }
}

/// A snapshot of a session's counters. Bytes are those of the Ethernet frames (of the IP
/// packets, for a native-PPP session; its PPP control frames count as packets too).
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct SessionStats {
    /// Frames decapsulated and written to the TAP (for a native-PPP session: IP packets written
    /// to the TUN, and control frames handed to the control plane).
    pub rx_packets: u64,
    /// Their octets.
    pub rx_bytes: u64,
    /// Received packets dropped for any reason (cookie and sequence drops included).
    pub rx_errors: u64,
    /// Frames read from the TAP and sent.
    pub tx_packets: u64,
    /// Their octets.
    pub tx_bytes: u64,
    /// Frames read from the TAP that could not be sent.
    pub tx_errors: u64,
    /// Received packets dropped because of a wrong cookie (RFC 3931 §8.2).
    pub cookie_mismatches: u64,
    /// Received packets dropped by sequencing: missing, duplicate or out-of-order sequence
    /// numbers (RFC 3931 §4.6).
    pub seq_errors: u64,
    /// Received packets that arrived ahead of a gap, were held by the reorder queue and then
    /// delivered in sequence order (when the gap closed or at the reorder timeout).
    pub reordered: u64,
    /// Native PPP: received IPv4 packets dropped because their source is not the address the
    /// peer was given (anti-spoofing). Also counted in `rx_errors`.
    pub spoofed: u64,
    /// Received frames dropped because they are longer than the TAP's MTU allows (see
    /// [`DataplaneTotals::rx_oversize`]). Also counted in `rx_errors`.
    pub oversize: u64,
}

/// Counters of one tunnel's data socket.
#[derive(Debug, Default)]
pub(crate) struct TunnelCounters {
    pub(crate) rx_packets: AtomicU64,
    pub(crate) rx_errors: AtomicU64,
    pub(crate) rx_malformed: AtomicU64,
    pub(crate) rx_unknown_session: AtomicU64,
    pub(crate) rx_control: AtomicU64,
    pub(crate) peer_unreachable: AtomicU64,
}

impl TunnelCounters {
    pub(crate) fn snapshot(&self) -> TunnelStats {
        TunnelStats {
            rx_packets: self.rx_packets.load(Relaxed),
            rx_errors: self.rx_errors.load(Relaxed),
            rx_malformed: self.rx_malformed.load(Relaxed),
            rx_unknown_session: self.rx_unknown_session.load(Relaxed),
            rx_control: self.rx_control.load(Relaxed),
            peer_unreachable: self.peer_unreachable.load(Relaxed),
        }
    }
}

/// A snapshot of a tunnel's counters.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct TunnelStats {
    /// Datagrams received on the tunnel's data socket.
    pub rx_packets: u64,
    /// Receive errors (truncated datagrams, errors reported by the socket other than
    /// ECONNREFUSED, which is [`TunnelStats::peer_unreachable`]).
    pub rx_errors: u64,
    /// Datagrams whose L2TP header is malformed (or L2TPv2 data).
    pub rx_malformed: u64,
    /// Data packets for a session id this tunnel does not carry.
    pub rx_unknown_session: u64,
    /// Control messages seen on the data socket (handed to the control sink, if any).
    pub rx_control: u64,
    /// ICMP port unreachables from the peer (see [`DataplaneTotals::peer_unreachable`]):
    /// reported on a receive, or on a send whose datagram it kept from leaving.
    pub peer_unreachable: u64,
}

/// Counters over all sessions and tunnels, kept by the data path: one per reason a packet or
/// frame is dropped, each drop counted under exactly one reason (besides the session's or
/// tunnel's own counter), so that the control side can tell what the data path dropped
/// without walking the sessions.
#[derive(Debug, Default)]
pub(crate) struct TotalCounters {
    pub(crate) rx_errors: AtomicU64,
    pub(crate) rx_malformed: AtomicU64,
    pub(crate) rx_unknown_session: AtomicU64,
    pub(crate) rx_truncated: AtomicU64,
    pub(crate) rx_oversize: AtomicU64,
    pub(crate) cookie_mismatches: AtomicU64,
    pub(crate) seq_errors: AtomicU64,
    pub(crate) tap_errors: AtomicU64,
    pub(crate) tx_errors: AtomicU64,
    pub(crate) peer_unreachable: AtomicU64,
    pub(crate) spoofed: AtomicU64,
    pub(crate) ppp_not_carried: AtomicU64,
    pub(crate) ppp_invalid: AtomicU64,
    pub(crate) ppp_control_rate: AtomicU64,
    pub(crate) tun_unrouted: AtomicU64,
    pub(crate) tun_multicast: AtomicU64,
    pub(crate) tun_errors: AtomicU64,
}

impl TotalCounters {
    pub(crate) fn snapshot(&self) -> DataplaneTotals {
        DataplaneTotals {
            rx_errors: self.rx_errors.load(Relaxed),
            rx_malformed: self.rx_malformed.load(Relaxed),
            rx_unknown_session: self.rx_unknown_session.load(Relaxed),
            rx_truncated: self.rx_truncated.load(Relaxed),
            rx_oversize: self.rx_oversize.load(Relaxed),
            cookie_mismatches: self.cookie_mismatches.load(Relaxed),
            seq_errors: self.seq_errors.load(Relaxed),
            tap_errors: self.tap_errors.load(Relaxed),
            tx_errors: self.tx_errors.load(Relaxed),
            peer_unreachable: self.peer_unreachable.load(Relaxed),
            spoofed: self.spoofed.load(Relaxed),
            ppp_not_carried: self.ppp_not_carried.load(Relaxed),
            ppp_invalid: self.ppp_invalid.load(Relaxed),
            ppp_control_rate: self.ppp_control_rate.load(Relaxed),
            tun_unrouted: self.tun_unrouted.load(Relaxed),
            tun_multicast: self.tun_multicast.load(Relaxed),
            tun_errors: self.tun_errors.load(Relaxed),
        }
    }

    /// Counts `n` more under `reason`; nothing when `n` is 0 (the counters are shared by every
    /// data-path thread: an idle add would still take the cache line).
    pub(crate) fn add(reason: &AtomicU64, n: u64) {
        if n > 0 {
            reason.fetch_add(n, Relaxed);
        }
    }
}

/// A snapshot of the counters over all sessions and tunnels, removed ones included. Each
/// dropped packet or frame is counted under one reason only.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct DataplaneTotals {
    /// Receive errors of the tunnels' data sockets: errors the socket reported (an ICMP error
    /// on a connected socket other than port unreachable), datagrams larger than the receive
    /// buffer.
    pub rx_errors: u64,
    /// Datagrams whose L2TP header is malformed (or that carry no L2TP payload).
    pub rx_malformed: u64,
    /// Data packets for a session id that no tunnel of theirs carries.
    pub rx_unknown_session: u64,
    /// Data packets too short for their session's header (cookie, L2-Specific Sublayer), or
    /// for an Ethernet header.
    pub rx_truncated: u64,
    /// Received Ethernet frames longer than their session's TAP takes: its MTU, plus the
    /// Ethernet header and a VLAN tag, as the kernel's `l2tp_eth` drops them
    /// (`is_skb_forwardable`).
    pub rx_oversize: u64,
    /// Data packets dropped for a wrong cookie (RFC 3931 §8.2).
    pub cookie_mismatches: u64,
    /// Data packets dropped by sequencing: missing, duplicate or out-of-order sequence
    /// numbers, duplicates of packets held for reordering (RFC 3931 §4.6).
    pub seq_errors: u64,
    /// Reads from and writes to the sessions' TAPs that failed (a frame lost each).
    pub tap_errors: u64,
    /// Frames or IP packets read from a TAP or the shared TUN, and native-PPP control frames
    /// of `send_ppp`, that could not be sent: the socket refused them or its send buffer was
    /// full, or a super-frame could not be segmented. Not those refused for an ICMP port unreachable ([`Self::peer_unreachable`]).
    pub tx_errors: u64,
    /// ICMP port unreachables from a tunnel's peer (its l2tpd stopped, or its port is closed):
    /// the kernel keeps one for the tunnel's connected socket and reports it as ECONNREFUSED to
    /// the next receive, which loses nothing, or to the next send, whose datagram does not
    /// leave. Not an error of this host's: counted apart from `rx_errors` and `tx_errors`.
    pub peer_unreachable: u64,
    /// Native PPP: received IP packets whose source is not the peer's address.
    pub spoofed: u64,
    /// Native PPP: received IP packets of a network protocol not open (IPCP or IPv6CP).
    pub ppp_not_carried: u64,
    /// Native PPP: received frames with a bad PPP header, or IP packets shorter than their
    /// header (l2tpd's kernel data plane: control frames longer than it reads,
    /// [`crate::kernel::ppp::MAX_FRAME`]).
    pub ppp_invalid: u64,
    /// Native PPP: control frames (LCP, authentication, IPCP, IPv6CP) a session received past
    /// what it may hand the control plane ([`crate::ppp::CONTROL_BURST`] at once,
    /// [`crate::ppp::CONTROL_RATE`] a second, [`crate::ppp::ControlBudget`]), dropped: a
    /// peer flooding echoes or requests keeps the control plane busy for itself only. l2tpd's
    /// kernel data plane keeps the same budget and counts under this reason too.
    pub ppp_control_rate: u64,
    /// Packets read from the shared TUN of native PPP that no session's route claims (an
    /// address whose session went down meanwhile, an IPv6 address that is not a peer's
    /// link-local address), dropped.
    pub tun_unrouted: u64,
    /// IPv6 multicast packets read from the shared TUN (whatever the host sends to a group
    /// through it), dropped: no one session is theirs.
    pub tun_multicast: u64,
    /// Reads from and writes to the shared TUN that failed.
    pub tun_errors: u64,
}

impl std::ops::AddAssign for DataplaneTotals {
    fn add_assign(&mut self, o: Self) {
        self.rx_errors += o.rx_errors;
        self.rx_malformed += o.rx_malformed;
        self.rx_unknown_session += o.rx_unknown_session;
        self.rx_truncated += o.rx_truncated;
        self.rx_oversize += o.rx_oversize;
        self.cookie_mismatches += o.cookie_mismatches;
        self.seq_errors += o.seq_errors;
        self.tap_errors += o.tap_errors;
        self.tx_errors += o.tx_errors;
        self.peer_unreachable += o.peer_unreachable;
        self.spoofed += o.spoofed;
        self.ppp_not_carried += o.ppp_not_carried;
        self.ppp_invalid += o.ppp_invalid;
        self.ppp_control_rate += o.ppp_control_rate;
        self.tun_unrouted += o.tun_unrouted;
        self.tun_multicast += o.tun_multicast;
        self.tun_errors += o.tun_errors;
    }
}

impl DataplaneTotals {
    /// Every reason with its count, named as the fields are, in the order of the fields.
    #[must_use]
    pub fn reasons(&self) -> [(&'static str, u64); 17] {
        [
            ("rx_errors", self.rx_errors),
            ("rx_malformed", self.rx_malformed),
            ("rx_unknown_session", self.rx_unknown_session),
            ("rx_truncated", self.rx_truncated),
            ("rx_oversize", self.rx_oversize),
            ("cookie_mismatches", self.cookie_mismatches),
            ("seq_errors", self.seq_errors),
            ("tap_errors", self.tap_errors),
            ("tx_errors", self.tx_errors),
            ("peer_unreachable", self.peer_unreachable),
            ("spoofed", self.spoofed),
            ("ppp_not_carried", self.ppp_not_carried),
            ("ppp_invalid", self.ppp_invalid),
            ("ppp_control_rate", self.ppp_control_rate),
            ("tun_unrouted", self.tun_unrouted),
            ("tun_multicast", self.tun_multicast),
            ("tun_errors", self.tun_errors),
        ]
    }
}
