//! Reliable delivery of control messages: the sliding-window transport under the control
//! connection (RFC 2661 §5.8 and Appendix A; RFC 3931 §4.2 and Appendix A).
//!
//! Read RFC 2661 §5.8, its Appendices A and B, and RFC 3931 §4.2 before editing this module.
//!
//! [`ReliableChannel`] knows sequence numbers, windows and timers, not message contents. It is
//! generic over the payload it queues for sending (`S`, typically an encoded message whose
//! header the engine patches with the Ns/Nr of each [`Transmit`]) and the payload it delivers on
//! receipt (`R`, typically a decoded message). It performs no I/O and reads no clock:
//!
//! - inputs: [`ReliableChannel::send`], [`ReliableChannel::on_receive`],
//!   [`ReliableChannel::handle_timeout`] and [`ReliableChannel::set_peer_receive_window`];
//! - outputs: [`ReliableChannel::poll_transmit`], [`ReliableChannel::poll_delivered`] and
//!   [`ReliableChannel::poll_timeout`].
//!
//! What it implements:
//!
//! - Ns/Nr bookkeeping. Every transmission, first or repeated, carries the current Nr
//!   (RFC 2661 §5.8: the retransmitted message "MUST be updated with the sequence number of the
//!   next expected message"). The peer's Nr removes acknowledged messages from the send queue;
//!   an Nr acknowledging messages never sent is rejected (RFC 3931 §4.2 sanity check).
//! - The peer's Receive Window Size (default 4 when the peer sent none) bounds the messages
//!   outstanding; our own receive window bounds what we accept and buffer.
//! - In-order delivery with an out-of-order queue; duplicates are discarded and acknowledged
//!   again (RFC 2661 §5.8 MUST).
//! - Explicit acknowledgement (ZLB in L2TPv2, the ACK message in L2TPv3) after a short delay when
//!   no message can carry the acknowledgement, immediately for duplicates.
//! - Retransmission with exponential back-off and a cap, and a terminal error after the
//!   configured number of retransmissions.
//! - Slow start and congestion avoidance as in RFC 2661 Appendix A.
//!
//! An idle channel holds no heap memory, and every operation is O(1) or O(window).

use std::collections::VecDeque;
use std::num::NonZeroU16;
use std::time::Duration;

use crate::seq::Seq;
use crate::time::Instant;

/// Reliable, ordered, windowed and congestion-controlled delivery of control messages over one
/// control connection.
///
/// `S` is what the engine queues for sending, `R` what it gets back on receipt. See the
/// [module documentation](self).
#[derive(Debug)]
pub struct ReliableChannel<S, R> {
    config: Config,

    /// Unacknowledged messages; `send_queue[i]` has Ns `send_base + i`.
    send_queue: VecDeque<S>,
    /// The Ns of the oldest unacknowledged message (the front of `send_queue`).
    send_base: Seq,
    /// Index in `send_queue` of the next message `poll_transmit` hands out. Messages before it
    /// were handed out in the current round; a retransmission timeout resets it to 0.
    next_transmit: u16,
    /// How many messages from the front were ever transmitted. Indexes below it are
    /// retransmissions, and the peer can acknowledge no further than it.
    transmitted: u16,
    /// The peer's Receive Window Size, at most `MAX_WINDOW`.
    peer_window: u16,
    /// Congestion window (RFC 2661 Appendix A CWND), `1..=peer_window`.
    cwnd: u16,
    /// Slow start threshold (SSTHRESH); `u16::MAX` stands for "the advertised window".
    ssthresh: u16,
    /// Messages acknowledged since `cwnd` last grew during congestion avoidance.
    avoidance_acked: u16,
    /// Consecutive retransmission timeouts of the front message.
    retries: u16,
    /// When the front message is retransmitted, if anything is outstanding.
    retransmit_at: Option<Instant>,

    /// The Ns we expect next: the Nr we send.
    receive_next: Seq,
    /// Messages received ahead of `receive_next`; `out_of_order[i]` holds Ns
    /// `receive_next + 1 + i`. Empty, or its last slot is occupied.
    out_of_order: VecDeque<Option<R>>,
    /// In-order messages not yet taken by `poll_delivered`.
    delivered: VecDeque<R>,
    /// When an explicit acknowledgement is due, if one is pending.
    ack_at: Option<Instant>,
    /// Messages delivered since we last sent an Nr.
    unacked: u16,

    stats: Stats,
}

impl<S, R> ReliableChannel<S, R> {
    /// A channel at the start of a control connection: Ns and Nr at 0 (RFC 2661 §5.8), the
    /// peer's receive window at 4 until [`ReliableChannel::set_peer_receive_window`] says
    /// otherwise, and the congestion window at 1 (RFC 2661 Appendix A). Allocates nothing.
    pub fn new(config: Config) -> Self {
        Self {
            config,
            send_queue: VecDeque::new(),
            send_base: Seq::ZERO,
            next_transmit: 0,
            transmitted: 0,
            peer_window: DEFAULT_PEER_WINDOW,
            cwnd: 1,
            ssthresh: u16::MAX,
            avoidance_acked: 0,
            retries: 0,
            retransmit_at: None,
            receive_next: Seq::ZERO,
            out_of_order: VecDeque::new(),
            delivered: VecDeque::new(),
            ack_at: None,
            unacked: 0,
            stats: Stats::default(),
        }
    }

    /// Queues `payload` for reliable delivery and returns the Ns it will carry.
    ///
    /// The message goes out through [`ReliableChannel::poll_transmit`] once the windows allow.
    pub fn send(&mut self, payload: S) -> Seq {
        // Truncating the length is the modulo-65536 wrap of Ns.
        let ns = self.send_base.wrapping_add(self.send_queue.len() as u16);
        self.send_queue.push_back(payload);
        ns
    }

    /// Processes a received control message with header fields `ns` and `nr`; `payload` is
    /// `None` for an explicit acknowledgement (a ZLB in L2TPv2, an ACK message in L2TPv3),
    /// which takes no sequence number.
    ///
    /// The Nr of any message that passes the sanity check releases acknowledged messages from
    /// the send queue. Then the message is delivered, buffered, or discarded as the outcome
    /// says. Call it only for messages that passed the engine's authentication checks.
    pub fn on_receive(
        &mut self,
        ns: Seq,
        nr: Seq,
        payload: Option<R>,
        now: Instant,
    ) -> ReceiveOutcome {
        if !self.process_ack(nr, now) {
            self.stats.invalid_nr += 1;
            return ReceiveOutcome::InvalidNr;
        }
        let Some(payload) = payload else {
            // RFC 2661 §5.8: the Ns of a ZLB does not update our Nr.
            self.stats.acks_received += 1;
            return ReceiveOutcome::Ack;
        };

        let ahead = ns.distance_from(self.receive_next);
        if ahead >= HALF {
            // At or before the last received Ns (RFC 2661 §5.8): a duplicate, which "MUST be
            // acknowledged", typically because our acknowledgement was lost. Do it now: the
            // peer is already retransmitting.
            self.stats.duplicates += 1;
            self.schedule_ack(now);
            return ReceiveOutcome::Duplicate;
        }
        if ahead >= self.receive_window() {
            self.stats.outside_window += 1;
            return ReceiveOutcome::OutsideWindow;
        }
        if ahead > 0 {
            let slot = usize::from(ahead - 1);
            if self.out_of_order.len() <= slot {
                self.out_of_order.resize_with(slot + 1, || None);
            }
            if let Some(held @ None) = self.out_of_order.get_mut(slot) {
                *held = Some(payload);
                self.stats.received += 1;
                self.stats.out_of_order += 1;
                return ReceiveOutcome::Buffered;
            }
            self.stats.duplicates += 1;
            self.schedule_ack(now);
            return ReceiveOutcome::Duplicate;
        }

        self.stats.received += 1;
        self.delivered.push_back(payload);
        self.receive_next = self.receive_next.next();
        self.unacked = self.unacked.saturating_add(1);
        // The slot for the new `receive_next` leads the out-of-order queue; release the run of
        // messages that the arrival made contiguous.
        while let Some(slot) = self.out_of_order.pop_front() {
            let Some(payload) = slot else { break };
            self.delivered.push_back(payload);
            self.receive_next = self.receive_next.next();
            self.unacked = self.unacked.saturating_add(1);
        }
        // Half our window unacknowledged: acknowledge now, so that a peer sending a burst
        // (many sessions at once) does not stall on a full window for `ack_delay`.
        if self.unacked >= (self.receive_window() / 2).max(1) {
            self.schedule_ack(now);
        } else {
            self.schedule_ack(now + self.config.ack_delay);
        }
        ReceiveOutcome::Delivered
    }

    /// Makes the acknowledgement owed for what was delivered due at `now`, not after
    /// [`Config::ack_delay`]: for a message that no reply of ours will carry (an SCCCN, a
    /// HELLO, a StopCCN; RFC 2661 Appendix B.1 and B.2 show a ZLB for each). The peer's window
    /// opens and its retransmission timer stops a round trip later, not `ack_delay` later.
    /// Does nothing when no acknowledgement is owed; a message sent before the acknowledgement
    /// goes out still carries it instead.
    pub fn acknowledge_now(&mut self, now: Instant) {
        if self.ack_at.is_some() {
            self.schedule_ack(now);
        }
    }

    /// Sets the peer's Receive Window Size from its SCCRQ or SCCRP (RFC 2661 §5.8). Until
    /// called, the window is 4, as RFC 2661 §4.4.3 prescribes when the AVP is absent.
    ///
    /// The congestion window shrinks to fit; messages already outstanding beyond the new window
    /// stay outstanding. Values above 32767 behave as 32767, the most the peer's duplicate
    /// detection can tell apart.
    pub fn set_peer_receive_window(&mut self, window: NonZeroU16) {
        self.peer_window = window.get().min(MAX_PEER_WINDOW);
        self.cwnd = self.cwnd.min(self.peer_window);
    }

    /// The next datagram to send, if any: the next message the congestion and peer windows
    /// allow (new, or again after a retransmission timeout), else an explicit acknowledgement
    /// that is due at `now`.
    ///
    /// Call it until it returns `None`. Its answer changes after [`ReliableChannel::send`],
    /// [`ReliableChannel::on_receive`] (acknowledgements open the window, received messages
    /// make an acknowledgement due), [`ReliableChannel::handle_timeout`] (retransmission),
    /// [`ReliableChannel::set_peer_receive_window`], and when `now` reaches an acknowledgement
    /// deadline reported by [`ReliableChannel::poll_timeout`].
    #[must_use]
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Transmit<'_, S>> {
        let nr = self.receive_next;
        let index = self.next_transmit;
        if usize::from(index) < self.send_queue.len() && index < self.cwnd.min(self.peer_window) {
            self.next_transmit += 1;
            if index < self.transmitted {
                self.stats.retransmitted += 1;
            } else {
                self.transmitted += 1;
                self.stats.sent += 1;
            }
            // The message carries the acknowledgement (RFC 2661 §5.8 piggybacking).
            self.ack_at = None;
            self.unacked = 0;
            if self.retransmit_at.is_none() {
                self.retransmit_at = Some(now + self.config.retransmit_interval(self.retries));
            }
            let ns = self.send_base.wrapping_add(index);
            return self
                .send_queue
                .get(usize::from(index))
                .map(|payload| Transmit {
                    ns,
                    nr,
                    payload: Some(payload),
                });
        }
        if self.ack_at.is_some_and(|at| at <= now) {
            self.ack_at = None;
            self.unacked = 0;
            self.stats.acks_sent += 1;
            let ns = self.send_base.wrapping_add(self.transmitted);
            return Some(Transmit {
                ns,
                nr,
                payload: None,
            });
        }
        None
    }

    /// The next received message in sequence order, each exactly once.
    ///
    /// Its answer changes only after [`ReliableChannel::on_receive`] returns
    /// [`ReceiveOutcome::Delivered`].
    #[must_use]
    pub fn poll_delivered(&mut self) -> Option<R> {
        self.delivered.pop_front()
    }

    /// Runs the retransmission timer: if its deadline has passed at `now`, the oldest
    /// unacknowledged message is scheduled for retransmission (collect it with
    /// [`ReliableChannel::poll_transmit`]), the interval doubles up to the cap, and the
    /// congestion window collapses (RFC 2661 Appendix A). Harmless to call early or often.
    ///
    /// # Errors
    ///
    /// [`Error::RetriesExhausted`] when the message was already retransmitted
    /// [`Config::max_retries`] times; the engine must then clear the tunnel (RFC 2661 §5.8). It
    /// is reported once, [`Config::retransmission_span`] after the first transmission; the
    /// channel then stops its timer and should be dropped.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), Error> {
        let Some(at) = self.retransmit_at else {
            return Ok(());
        };
        if now < at {
            return Ok(());
        }
        if self.retries >= self.config.max_retries {
            self.retransmit_at = None;
            return Err(Error::RetriesExhausted {
                ns: self.send_base,
                retries: self.retries,
            });
        }
        self.retries += 1;
        self.stats.timeouts += 1;
        // RFC 2661 Appendix A: "one half of the CWND is saved in SSTHRESH, and CWND is set to
        // one". The floor of 1 keeps SSTHRESH meaningful when CWND was already 1.
        self.ssthresh = (self.cwnd / 2).max(1);
        self.cwnd = 1;
        self.avoidance_acked = 0;
        // Go back N: resend from the front as the congestion window reopens.
        self.next_transmit = 0;
        // RFC 2661 §5.8: "exponential backoff", capped at no less than 8 s.
        self.retransmit_at = Some(now + self.config.retransmit_interval(self.retries));
        Ok(())
    }

    /// The earliest deadline: a retransmission ([`ReliableChannel::handle_timeout`]) or an
    /// explicit acknowledgement ([`ReliableChannel::poll_transmit`]). `None` when neither is
    /// pending.
    ///
    /// Its answer changes after [`ReliableChannel::poll_transmit`],
    /// [`ReliableChannel::on_receive`] and [`ReliableChannel::handle_timeout`].
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.retransmit_at, self.ack_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether every message passed to [`ReliableChannel::send`] was acknowledged by the peer.
    ///
    /// The engine keeps a control connection that sent StopCCN alive until this holds or
    /// [`Config::retransmission_span`] has passed (RFC 3931 §4.2).
    pub fn all_acked(&self) -> bool {
        self.send_queue.is_empty()
    }

    /// Whether the channel has nothing left to do: everything sent was acknowledged, no
    /// acknowledgement is owed, no received message waits in either queue, and no timer runs.
    pub fn is_quiescent(&self) -> bool {
        self.all_acked()
            && self.ack_at.is_none()
            && self.retransmit_at.is_none()
            && self.out_of_order.is_empty()
            && self.delivered.is_empty()
    }

    /// The counters so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The configuration the channel was created with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The Nr we send: the Ns we expect next from the peer.
    pub fn nr(&self) -> Seq {
        self.receive_next
    }

    /// The Ns the next message passed to [`ReliableChannel::send`] will get.
    pub fn next_ns(&self) -> Seq {
        self.send_base.wrapping_add(self.send_queue.len() as u16)
    }

    /// Messages queued and not yet acknowledged, transmitted or not.
    pub fn unacked(&self) -> usize {
        self.send_queue.len()
    }

    /// Messages transmitted at least once and not yet acknowledged.
    pub fn in_flight(&self) -> u16 {
        self.transmitted
    }

    /// The peer's Receive Window Size in use.
    pub fn peer_receive_window(&self) -> u16 {
        self.peer_window
    }

    /// The congestion window (RFC 2661 Appendix A CWND), never above the peer's window.
    pub fn congestion_window(&self) -> u16 {
        self.cwnd
    }

    /// The slow start threshold (RFC 2661 Appendix A SSTHRESH): initially the peer's window.
    pub fn slow_start_threshold(&self) -> u16 {
        self.ssthresh.min(self.peer_window)
    }

    /// Applies the peer's Nr. Returns false if it acknowledges messages never transmitted.
    fn process_ack(&mut self, nr: Seq, now: Instant) -> bool {
        let acked = nr.distance_from(self.send_base);
        if acked > self.transmitted {
            // Either stale (a reordered or duplicated older message, harmless) or beyond the
            // last Ns sent plus 1, which RFC 3931 §4.2 calls "clearly invalid".
            return nr.is_before(self.send_base);
        }
        if acked == 0 {
            return true;
        }
        self.send_queue.drain(..usize::from(acked));
        self.send_base = nr;
        self.transmitted -= acked;
        self.next_transmit = self.next_transmit.saturating_sub(acked);
        // A new message leads the queue: it starts with a fresh back-off.
        self.retries = 0;
        self.retransmit_at =
            (self.transmitted > 0).then(|| now + self.config.retransmit_interval(0));
        self.grow_congestion_window(acked);
        true
    }

    /// RFC 2661 Appendix A window growth for `acked` newly acknowledged messages.
    ///
    /// The appendix counts ACKs assuming one per message; since one Nr can acknowledge several
    /// messages at once, each acknowledged message counts as one ACK (as TCP's appropriate byte
    /// counting does), which keeps the doubling per round trip the appendix intends.
    fn grow_congestion_window(&mut self, acked: u16) {
        for _ in 0..acked {
            if self.cwnd >= self.peer_window {
                self.avoidance_acked = 0;
                break;
            }
            if self.cwnd < self.slow_start_threshold() {
                // Slow start: one more per ACK.
                self.cwnd += 1;
            } else {
                // Congestion avoidance: one more after CWND ACKs.
                self.avoidance_acked += 1;
                if self.avoidance_acked >= self.cwnd {
                    self.cwnd += 1;
                    self.avoidance_acked = 0;
                }
            }
        }
    }

    /// Our receive window, bounded so that it never overlaps the duplicate range.
    fn receive_window(&self) -> u16 {
        self.config.receive_window.get().min(HALF)
    }

    /// Makes an explicit acknowledgement due at `at`, unless one is due earlier.
    fn schedule_ack(&mut self, at: Instant) {
        self.ack_at = Some(self.ack_at.map_or(at, |due| due.min(at)));
    }
}

/// One datagram to send, produced by [`ReliableChannel::poll_transmit`].
#[derive(Debug, Eq, PartialEq)]
pub struct Transmit<'a, S> {
    /// The Ns to put in the header.
    pub ns: Seq,
    /// The Nr to put in the header: the Ns we expect next from the peer.
    pub nr: Seq,
    /// The message, or `None` for an explicit acknowledgement: a ZLB in L2TPv2 (RFC 2661 §5.8),
    /// the ACK message in L2TPv3 (RFC 3931 §6.15). Its Ns is the Ns of the next new message and
    /// does not consume a sequence number.
    pub payload: Option<&'a S>,
}

/// What [`ReliableChannel::on_receive`] did with a message.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[must_use]
pub enum ReceiveOutcome {
    /// An explicit acknowledgement (ZLB or ACK): only its Nr was used.
    Ack,
    /// The message arrived ahead of a gap and waits in the out-of-order queue.
    Buffered,
    /// The message was the next expected one; it and any buffered successors are ready for
    /// [`ReliableChannel::poll_delivered`].
    Delivered,
    /// The message had been received before and was discarded; an acknowledgement is due now
    /// (RFC 2661 §5.8).
    Duplicate,
    /// The message's Nr acknowledges messages never sent, so the whole message was discarded
    /// (RFC 3931 §4.2: "the control message is clearly invalid").
    InvalidNr,
    /// The message's Ns lies beyond our receive window; it was discarded.
    OutsideWindow,
}

/// Counters of a [`ReliableChannel`], for logs and metrics.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Stats {
    /// Messages transmitted for the first time.
    pub sent: u64,
    /// Messages transmitted again after a retransmission timeout.
    pub retransmitted: u64,
    /// Explicit acknowledgements (ZLB/ACK) transmitted.
    pub acks_sent: u64,
    /// Messages accepted: delivered in order or buffered out of order.
    pub received: u64,
    /// Messages discarded as already received.
    pub duplicates: u64,
    /// Messages buffered because they arrived ahead of a gap.
    pub out_of_order: u64,
    /// Messages discarded because their Ns was beyond our receive window.
    pub outside_window: u64,
    /// Messages discarded because their Nr acknowledged messages never sent.
    pub invalid_nr: u64,
    /// Explicit acknowledgements received.
    pub acks_received: u64,
    /// Retransmission timeouts.
    pub timeouts: u64,
}

/// Why a [`ReliableChannel`] gave up.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The peer acknowledged nothing while one message was retransmitted `retries` times and
    /// the last retransmission timed out too. RFC 2661 §5.8: "the tunnel and all sessions within
    /// MUST be cleared".
    #[error("control message Ns={ns} unacknowledged after {retries} retransmissions")]
    RetriesExhausted {
        /// The Ns of the message that was never acknowledged.
        ns: Seq,
        /// How many times it was retransmitted.
        retries: u16,
    },
}

/// Timers and windows of a [`ReliableChannel`].
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Config {
    /// The Receive Window Size we advertise: how many messages ahead of the next expected one
    /// we accept and buffer. Default 10. Values above 32768 behave as 32768, the most the
    /// sequence space can tell apart from duplicates.
    pub receive_window: NonZeroU16,
    /// The first retransmission interval. Default 1 s, the RFC 2661 §5.8 and RFC 3931 §4.2
    /// recommendation.
    pub retransmit_timeout: Duration,
    /// The cap on the doubled retransmission interval. Default 8 s; RFC 2661 §5.8 says a cap
    /// "MUST be no less than 8 seconds".
    pub max_retransmit_timeout: Duration,
    /// How many times one message is retransmitted before the peer is declared unreachable.
    /// Default 5, the RFC 2661 §5.8 recommendation (RFC 3931 §4.2 recommends 10).
    pub max_retries: u16,
    /// How long a received message may wait for an outgoing message to carry its
    /// acknowledgement before an explicit one is sent. Default 100 ms (see [`Config::default`]).
    pub ack_delay: Duration,
}

impl Config {
    /// The time from the first transmission of a message to [`Error::RetriesExhausted`] when
    /// the peer stays silent: the sum of `max_retries + 1` back-off intervals.
    ///
    /// With the defaults this is 1 + 2 + 4 + 8 + 8 + 8 = 31 s: retransmissions go out at 1, 3,
    /// 7, 15 and 23 s and the fifth gets a full 8 s to be acknowledged. It is also "the full
    /// retransmission interval" for which a control connection shut down with StopCCN must be
    /// kept alive (RFC 2661 §5.8, RFC 3931 §4.2).
    pub fn retransmission_span(&self) -> Duration {
        (0..=self.max_retries)
            .map(|retries| self.retransmit_interval(retries))
            .fold(Duration::ZERO, Duration::saturating_add)
    }

    /// The interval after the `retries`-th retransmission (0: after the first transmission).
    fn retransmit_interval(&self, retries: u16) -> Duration {
        let factor = 1u32 << u32::from(retries).min(31);
        self.retransmit_timeout
            .saturating_mul(factor)
            .min(self.max_retransmit_timeout)
    }
}

impl Default for Config {
    /// The RFC 2661 §5.8 recommendations, plus:
    ///
    /// - `receive_window` 10: the RFC mandates accepting a window of 4 from the peer and lets
    ///   us advertise any non-zero value; 10 lets a peer open a burst of sessions without
    ///   waiting a round trip every 4 messages, at the cost of buffering at most 9 messages.
    /// - `ack_delay` 100 ms: neither RFC gives a value. Both let the acknowledgement ride on a
    ///   reply (RFC 2661 Appendix B.1) and forbid withholding it for flow control (RFC 2661
    ///   §5.8, RFC 3931 §4.2). 100 ms is long enough for the engine to answer most requests
    ///   with a message that carries the Nr, and short enough (a tenth of the peer's 1 s
    ///   retransmission timeout, under the 500 ms bound RFC 1122 §4.2.3.2 sets for TCP's
    ///   delayed ACK) that a peer does not retransmit for want of an acknowledgement.
    fn default() -> Self {
        Self {
            receive_window: DEFAULT_RECEIVE_WINDOW,
            retransmit_timeout: Duration::from_secs(1),
            max_retransmit_timeout: Duration::from_secs(8),
            max_retries: 5,
            ack_delay: Duration::from_millis(100),
        }
    }
}

/// The peer's window when it sent no Receive Window Size AVP (RFC 2661 §4.4.3, §5.8).
const DEFAULT_PEER_WINDOW: u16 = 4;

/// The window we advertise by default (see [`Config::default`]).
const DEFAULT_RECEIVE_WINDOW: NonZeroU16 = match NonZeroU16::new(10) {
    Some(window) => window,
    None => panic!("10 is not zero"),
};

/// Half the sequence space: an Ns this far or further "ahead" is really a duplicate.
const HALF: u16 = 0x8000;

/// The largest number of outstanding messages whose Ns the peer can tell from duplicates.
const MAX_PEER_WINDOW: u16 = HALF - 1;

#[cfg(test)]
mod tests;
