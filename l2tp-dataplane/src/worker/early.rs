//! Data packets that arrive before their session.
//!
//! A peer that starts PPP at once sends its first LCP Configure-Request right behind the ICCN
//! (Windows' and Apple's clients do), and the worker often reads both in one batch. The ICCN
//! goes to the control plane, which installs the session; the Configure-Request, read a moment
//! earlier than its session exists, would be dropped, and the peer's PPP held up for its
//! restart timer (RFC 1661 §4.6: seconds). So a data packet for a session the worker does not
//! know, on one of its tunnels, is handed to the control plane behind the ICCN
//! ([`crate::SinkEvent::EarlyData`]), on the same queue: the control plane handles the ICCN
//! first, then gives the packet back ([`crate::UserspaceDataplane::handle_data`]), and it is
//! delivered as if it had just arrived. A packet given back that still finds no session is
//! counted `rx_unknown_session` and dropped, never handed over again.
//!
//! A peer could send data packets for session ids that do not exist to keep the control plane
//! busy; each worker hands over at most [`BURST`] at once and [`RATE`] a second (a token
//! bucket), and counts the rest `rx_unknown_session` as before.

/// The most early packets a worker hands over at once.
pub(super) const BURST: u32 = 256;
/// Early packets a worker may hand over a second, on average.
pub(super) const RATE: u32 = 256;

/// A worker's token bucket for early packets.
pub(super) type EarlyBudget = crate::bucket::TokenBucket<BURST, RATE>;
