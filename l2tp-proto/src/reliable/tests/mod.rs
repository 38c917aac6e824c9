//! Unit tests per behaviour, and a deterministic lossy-link simulation of two channels: the
//! helpers the test files share, and the tests of a fresh channel.

use std::collections::VecDeque;
use std::num::NonZeroU16;
use std::time::Duration;

use proptest::prelude::*;

use super::*;

mod receive;
mod retransmit;
mod sequence;
mod simulation;
mod window;

type Channel = ReliableChannel<u32, u32>;

fn channel() -> Channel {
    ReliableChannel::new(Config::default())
}

fn t(millis: u64) -> Instant {
    Instant::from_millis(millis)
}

fn seq(value: u16) -> Seq {
    Seq::new(value)
}

fn window(value: u16) -> NonZeroU16 {
    NonZeroU16::new(value).unwrap_or(NonZeroU16::MIN)
}

/// A transmit reduced to owned values: (ns, nr, payload or `None` for an explicit ack).
fn poll(channel: &mut Channel, now: Instant) -> Option<(u16, u16, Option<u32>)> {
    channel
        .poll_transmit(now)
        .map(|t| (t.ns.value(), t.nr.value(), t.payload.copied()))
}

fn poll_all(channel: &mut Channel, now: Instant) -> Vec<(u16, u16, Option<u32>)> {
    std::iter::from_fn(|| poll(channel, now)).collect()
}

fn delivered(channel: &mut Channel) -> Vec<u32> {
    std::iter::from_fn(|| channel.poll_delivered()).collect()
}

/// Opens the congestion window to `target` by sending and acknowledging filler messages.
fn grow_cwnd(a: &mut Channel, target: u16) {
    while a.congestion_window() < target {
        a.send(u32::MAX);
        let sent = poll_all(a, t(0));
        let last = sent.last().map_or(0, |s| s.0);
        let _ = a.on_receive(a.nr(), seq(last).next(), None, t(0));
    }
}

#[test]
fn idle_channel_is_small_and_allocates_nothing() {
    let idle = channel();
    assert_eq!(idle.send_queue.capacity(), 0);
    assert_eq!(idle.out_of_order.capacity(), 0);
    assert_eq!(idle.delivered.capacity(), 0);
    assert!(idle.is_quiescent());
    assert!(idle.all_acked());
    assert_eq!(idle.poll_timeout(), None);

    let size = size_of::<ReliableChannel<Vec<u8>, Vec<u8>>>();
    println!(
        "size_of ReliableChannel = {size} bytes (Config {}, Stats {}, three VecDeques {})",
        size_of::<Config>(),
        size_of::<Stats>(),
        3 * size_of::<VecDeque<Vec<u8>>>(),
    );
    // 10 000 tunnels then hold under 3 MB of reliable-delivery state.
    assert!(size <= 288, "ReliableChannel grew to {size} bytes");
}

#[test]
fn fresh_channel_sends_nothing() {
    let mut a = channel();
    assert_eq!(poll(&mut a, t(0)), None);
    assert_eq!(a.handle_timeout(t(100_000)), Ok(()));
    assert_eq!(a.poll_delivered(), None);
}
