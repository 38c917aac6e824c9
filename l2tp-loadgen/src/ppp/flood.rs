//! `--ppp-echo-flood RATE`: a hostile client. Each session whose PPP is up sends RATE LCP
//! Echo-Requests a second (RFC 1661 §5.8, with our Magic-Number) until the teardown, in a
//! batch every [`TICK`], whatever the LNS answers; the Echo-Replies that come back are
//! counted. An LNS that bounds the control frames a session hands its control plane answers
//! a few at most: what it answered shows how much of the flood reached it.
//!
//! The state lives here, not in each session's slot: only the sessions that flood pay for it.

use std::collections::HashMap;
use std::time::Duration;

use l2tp_proto::time::Instant;
use ppp_proto::wire::{code, protocol};

use crate::report::FloodReport;

/// How often the flooding sessions send their next batch.
pub(super) const TICK: Duration = Duration::from_millis(10);

/// One flooding session.
#[derive(Debug)]
struct Flooder {
    si: usize,
    magic: u32,
    since: Instant,
    sent: u64,
}

/// The flood of every session.
#[derive(Debug)]
pub(super) struct Flood {
    rate: u32,
    /// Our Magic-Number of each session whose LCP is up, until its IPCP is.
    magics: HashMap<usize, u32>,
    flooders: Vec<Flooder>,
    /// When the next batch is due, while any session floods.
    next: Option<Instant>,
    /// The identifier of the next Echo-Request.
    id: u8,
    /// When the first session started and the last one stopped.
    first: Option<Instant>,
    last: Option<Instant>,
    /// The flood is over (the teardown began).
    stopped: bool,
    sent: u64,
    replies: u64,
}

impl Flood {
    pub(super) fn new(rate: u32) -> Flood {
        Flood {
            rate,
            magics: HashMap::new(),
            flooders: Vec::new(),
            next: None,
            id: 0,
            first: None,
            last: None,
            stopped: false,
            sent: 0,
            replies: 0,
        }
    }

    /// Session `si`'s LCP opened with our Magic-Number `magic` (0: not negotiated).
    pub(super) fn link_up(&mut self, si: usize, magic: u32) {
        self.magics.insert(si, magic);
    }

    /// Session `si`'s PPP is up: it floods from `now`.
    pub(super) fn start(&mut self, now: Instant, si: usize) {
        if self.stopped || self.flooders.iter().any(|f| f.si == si) {
            return;
        }
        let magic = self.magics.remove(&si).unwrap_or(0);
        self.flooders.push(Flooder {
            si,
            magic,
            since: now,
            sent: 0,
        });
        self.first.get_or_insert(now);
        self.next.get_or_insert(now);
    }

    /// Session `si` stops (its PPP ended).
    pub(super) fn end(&mut self, now: Instant, si: usize) {
        self.magics.remove(&si);
        let before = self.flooders.len();
        self.flooders.retain(|f| f.si != si);
        if self.flooders.len() < before {
            self.last = Some(now);
        }
        if self.flooders.is_empty() {
            self.next = None;
        }
    }

    /// Every session stops (the teardown begins).
    pub(super) fn stop(&mut self, now: Instant) {
        if !self.flooders.is_empty() {
            self.last = Some(now);
        }
        self.flooders.clear();
        self.next = None;
        self.stopped = true;
    }

    /// An LCP Echo-Reply came.
    pub(super) fn reply(&mut self) {
        self.replies += 1;
    }

    /// When the next batch is due.
    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        self.next
    }

    /// At `now`, if a batch is due: each flooding session with the Echo-Requests it is behind
    /// on (RATE a second since it started). The caller sends them with [`Flood::frame`].
    pub(super) fn due(&mut self, now: Instant) -> Vec<(usize, u64)> {
        let Some(at) = self.next else {
            return Vec::new();
        };
        if at > now {
            return Vec::new();
        }
        self.next = Some(now + TICK);
        let rate = u128::from(self.rate);
        self.flooders
            .iter_mut()
            .filter_map(|f| {
                let micros = now.saturating_duration_since(f.since).as_micros();
                let owed = u64::try_from(micros * rate / 1_000_000 + 1).unwrap_or(u64::MAX);
                let n = owed.saturating_sub(f.sent);
                f.sent = owed;
                (n > 0).then_some((f.si, n))
            })
            .collect()
    }

    /// The next Echo-Request of session `si` (with `FF 03`, as links give their frames) into
    /// `frame`; counted as sent.
    pub(super) fn frame(&mut self, si: usize, frame: &mut Vec<u8>) {
        let magic = self
            .flooders
            .iter()
            .find(|f| f.si == si)
            .map_or(0, |f| f.magic);
        frame.clear();
        frame.extend_from_slice(&[0xff, 0x03]);
        frame.extend_from_slice(&protocol::LCP.to_be_bytes());
        frame.extend_from_slice(&[code::ECHO_REQUEST, self.id, 0, 8]);
        frame.extend_from_slice(&magic.to_be_bytes());
        self.id = self.id.wrapping_add(1);
        self.sent += 1;
    }

    pub(super) fn report(&self) -> FloodReport {
        let seconds = match (self.first, self.last) {
            (Some(a), Some(b)) => b.saturating_duration_since(a).as_secs_f64(),
            _ => 0.0,
        };
        FloodReport {
            rate: self.rate,
            echo_requests_sent: self.sent,
            echo_replies_in: self.replies,
            seconds: (seconds * 1000.0).round() / 1000.0,
        }
    }
}
