//! The longest Ethernet frame a session's TAP is given.
//!
//! The kernel's `l2tp_eth` hands each received frame to its interface with `dev_forward_skb`,
//! which drops a frame longer than the interface's MTU plus its link-layer header and a VLAN
//! tag, unless it is a GSO super-frame (`is_skb_forwardable`, net/core/dev.c). A TAP takes
//! whatever is written to it, so the data path applies the same limit itself: to each frame
//! it decapsulated, before the frame is written or joined to others (a super-frame that the
//! coalescer builds from frames within the limit is within it segment by segment, and is not
//! judged as a whole). A frame over the limit is dropped and counted under `rx_oversize`.
//!
//! The limit starts from the MTU the TAP was given. An operator may change the MTU since
//! (`ip link set DEV mtu N`): a frame over the limit has the worker read the MTU again, at
//! most once per [`MTU_REREAD`] per session, so that a raised MTU is followed from the first
//! frame that needs it (a lowered one, from the next frame over the old limit).

use std::time::{Duration, Instant};

/// The Ethernet header the kernel allows beyond the MTU (`hard_header_len` of an Ethernet
/// device), and a VLAN tag (`VLAN_HLEN`).
const ETHERNET_ALLOWANCE: usize = 14 + 4;

/// How often at most a session's MTU is read again because of a frame over the limit.
pub(crate) const MTU_REREAD: Duration = Duration::from_secs(1);

/// The longest frame of a session's TAP, and when its MTU was last read.
#[derive(Debug)]
pub(crate) struct FrameLimit {
    longest: usize,
    read_at: Option<Instant>,
}

impl FrameLimit {
    /// The limit of a TAP of MTU `mtu`.
    pub(crate) fn new(mtu: u32) -> Self {
        Self {
            longest: longest(mtu),
            read_at: None,
        }
    }

    /// Whether a frame of `len` octets may be written: within the limit, or within the MTU
    /// `read_mtu` gives when the limit may be read again (`now` is then the time of the read;
    /// a failed read keeps the limit).
    pub(crate) fn admits(
        &mut self,
        len: usize,
        now: impl FnOnce() -> Instant,
        read_mtu: impl FnOnce() -> Option<u32>,
    ) -> bool {
        if len <= self.longest {
            return true;
        }
        let now = now();
        if self
            .read_at
            .is_some_and(|at| now.saturating_duration_since(at) < MTU_REREAD)
        {
            return false;
        }
        self.read_at = Some(now);
        if let Some(mtu) = read_mtu() {
            self.longest = longest(mtu);
        }
        len <= self.longest
    }
}

fn longest(mtu: u32) -> usize {
    usize::try_from(mtu)
        .unwrap_or(usize::MAX)
        .saturating_add(ETHERNET_ALLOWANCE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mtu_plus_an_ethernet_header_and_a_vlan_tag() {
        let mut l = FrameLimit::new(1450);
        let t0 = Instant::now();
        let never = || -> Option<u32> { panic!("read within the limit") };
        assert!(l.admits(1450 + 14, || t0, never));
        assert!(l.admits(1450 + 18, || t0, never));
        // One more octet: the MTU is read again, unchanged.
        assert!(!l.admits(1450 + 19, || t0, || Some(1450)));
        assert!(!l.admits(65_000, || t0, || panic!("read again within a second")));
    }

    #[test]
    fn a_raised_mtu_is_followed_and_a_lowered_one_at_the_next_read() {
        let mut l = FrameLimit::new(1450);
        let t0 = Instant::now();
        // Raised to 9000 by an operator: the first jumbo frame reads it.
        assert!(l.admits(9018, || t0, || Some(9000)));
        assert!(l.admits(9018, || t0, || panic!("within the new limit")));
        assert!(!l.admits(9019, || t0, || Some(9000)));
        // Lowered: read a second after the last read, at the next frame over the limit.
        let t1 = t0 + MTU_REREAD;
        assert!(!l.admits(9019, || t1, || Some(1400)));
        assert!(!l.admits(1419, || t1, || panic!("read within a second")));
        assert!(l.admits(1418, || t1, || panic!("within the limit")));
    }

    #[test]
    fn a_failed_read_keeps_the_limit() {
        let mut l = FrameLimit::new(1500);
        let t0 = Instant::now();
        assert!(!l.admits(1519, || t0, || None));
        assert!(l.admits(1518, || t0, || None));
        assert!(!l.admits(1519, || t0 + MTU_REREAD, || None));
    }
}
