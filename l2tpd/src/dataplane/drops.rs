//! The periodic summary of what the data plane dropped.
//!
//! The data path counts every packet or frame it drops in its totals, by reason
//! ([`l2tp_dataplane::DataplaneTotals`]), and logs none of them itself (only wrong cookies and
//! native-PPP drops are reported per session, rate-limited): a line per packet would cost the
//! data path and flood the log. Instead, once a period the daemon compares the totals with its
//! last look and, when any reason grew, logs one warning naming each reason that grew and by
//! how much. Nothing is logged while nothing is dropped. The userspace data plane's period is
//! [`SUMMARY_PERIOD`]; the kernel's is longer ([`super::kernel::KERNEL_DROPS_PERIOD`]), as
//! its totals are the sum of the kernel's per-session counters, read in one dump a period.

use std::time::{Duration, Instant};

use l2tp_dataplane::DataplaneTotals;

/// How often the userspace data plane's totals are compared with the last look.
pub const SUMMARY_PERIOD: Duration = Duration::from_secs(10);

/// The totals at the last look, and when that was.
#[derive(Debug)]
pub struct DropSummary {
    last: DataplaneTotals,
    looked: Instant,
    /// How often it looks.
    period: Duration,
    /// What the line calls the data plane ("userspace data plane").
    name: String,
}

impl DropSummary {
    /// A summary of the data plane called `name`, that looks once a `period`, whose first
    /// period starts `now`, from totals of zero (a data plane that has just started).
    pub fn new(now: Instant, period: Duration, name: String) -> Self {
        Self {
            last: DataplaneTotals::default(),
            looked: now,
            period,
            name,
        }
    }

    /// Once a period is over: takes the `totals` (asked for only then) and returns the line
    /// to log, if any reason grew since the last look.
    #[must_use]
    pub fn poll(
        &mut self,
        now: Instant,
        totals: impl FnOnce() -> DataplaneTotals,
    ) -> Option<String> {
        if now.saturating_duration_since(self.looked) < self.period {
            return None;
        }
        self.last_look(now, totals)
    }

    /// The line to log of what the data plane dropped since the last look, the period over or
    /// not: the daemon's last look as it stops, so that what its last seconds dropped (the
    /// LCP Terminate-Requests of many native-PPP sessions that did not fit their tunnel's
    /// socket, say) is said as well as counted.
    #[must_use]
    pub fn last_look(
        &mut self,
        now: Instant,
        totals: impl FnOnce() -> DataplaneTotals,
    ) -> Option<String> {
        let since = now.saturating_duration_since(self.looked);
        let totals = totals();
        let grown: Vec<(&str, u64)> = totals
            .reasons()
            .into_iter()
            .zip(self.last.reasons())
            // A data plane started again counts from zero: what it has is new.
            .map(|((reason, n), (_, was))| (reason, if n >= was { n - was } else { n }))
            .filter(|(_, d)| *d > 0)
            .collect();
        self.last = totals;
        self.looked = now;
        describe(&self.name, &grown, since)
    }
}

/// What a reason's drops are called in the summary, after their number.
fn phrase(reason: &str) -> &'static str {
    match reason {
        "rx_errors" => "lost to receive errors of a tunnel's socket",
        "rx_malformed" => "malformed",
        "rx_unknown_session" => "for no session",
        "rx_truncated" => "truncated",
        "rx_oversize" => "longer than their TAP's MTU allows",
        "cookie_mismatches" => "with a wrong cookie",
        "seq_errors" => "out of sequence",
        "tap_errors" => "lost to TAP read or write errors",
        "tx_errors" => "that could not be sent",
        "peer_unreachable" => "on an ICMP port unreachable from the peer",
        "spoofed" => "PPP packets from a spoofed source",
        "ppp_not_carried" => "PPP packets of a network protocol not open",
        "ppp_invalid" => "invalid PPP frames",
        "ppp_control_rate" => "PPP control frames past their session's rate",
        "tun_unrouted" => "unrouted TUN packets",
        "tun_multicast" => "multicast TUN packets",
        "tun_errors" => "lost to TUN read or write errors",
        _ => "for another reason",
    }
}

/// The log line of the drops that `grown` (reason, how many) over the last `since`.
fn describe(name: &str, grown: &[(&str, u64)], since: Duration) -> Option<String> {
    if grown.is_empty() {
        return None;
    }
    let each: Vec<String> = grown
        .iter()
        .map(|(reason, n)| format!("{n} {}", phrase(reason)))
        .collect();
    Some(format!(
        "{name} dropped in the last {} s: {} (see l2tpctl show system)",
        since.as_secs(),
        each.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_said_before_the_period_is_over_or_when_nothing_grew() {
        let t0 = Instant::now();
        let mut s = DropSummary::new(t0, SUMMARY_PERIOD, "userspace data plane".into());
        let asked = std::cell::Cell::new(0);
        let totals = |t: DataplaneTotals| {
            asked.set(asked.get() + 1);
            t
        };
        let some = DataplaneTotals {
            seq_errors: 3,
            ..Default::default()
        };
        // Not yet a period: the totals are not even read.
        assert_eq!(s.poll(t0 + Duration::from_secs(9), || totals(some)), None);
        assert_eq!(asked.get(), 0);
        // A period with nothing dropped.
        let none = DataplaneTotals::default();
        assert_eq!(s.poll(t0 + Duration::from_secs(10), || totals(none)), None);
        assert_eq!(asked.get(), 1);
        // The next period starts at that look.
        assert_eq!(s.poll(t0 + Duration::from_secs(19), || totals(some)), None);
        assert!(
            s.poll(t0 + Duration::from_secs(20), || totals(some))
                .is_some()
        );
        // The same totals again: nothing new.
        assert_eq!(s.poll(t0 + Duration::from_secs(30), || totals(some)), None);
    }

    #[test]
    fn the_line_names_each_reason_that_grew_by_how_much() {
        let t0 = Instant::now();
        let mut s = DropSummary::new(t0, SUMMARY_PERIOD, "userspace data plane".into());
        let first = DataplaneTotals {
            seq_errors: 3,
            rx_truncated: 1,
            tun_unrouted: 2,
            tx_errors: 5,
            ..Default::default()
        };
        assert_eq!(
            s.poll(t0 + Duration::from_secs(10), || first).as_deref(),
            Some(
                "userspace data plane dropped in the last 10 s: 1 truncated, 3 out of \
                 sequence, 5 that could not be sent, 2 unrouted TUN packets (see l2tpctl show \
                 system)"
            )
        );
        // Only what grew since, by the growth; a late look says how long it covered.
        let second = DataplaneTotals {
            rx_malformed: 4,
            tx_errors: 6,
            ..first
        };
        assert_eq!(
            s.poll(t0 + Duration::from_secs(21), || second).as_deref(),
            Some(
                "userspace data plane dropped in the last 11 s: 4 malformed, 1 that could \
                 not be sent (see l2tpctl show system)"
            )
        );
    }

    #[test]
    fn the_last_look_says_what_a_period_not_over_dropped() {
        let t0 = Instant::now();
        let mut s = DropSummary::new(t0, SUMMARY_PERIOD, "userspace data plane".into());
        let unsent = DataplaneTotals {
            tx_errors: 700,
            ..Default::default()
        };
        let stop = t0 + Duration::from_secs(2);
        assert_eq!(s.poll(stop, || unsent), None);
        assert_eq!(
            s.last_look(stop, || unsent).as_deref(),
            Some(
                "userspace data plane dropped in the last 2 s: 700 that could not be sent \
                 (see l2tpctl show system)"
            )
        );
        // Said once.
        assert_eq!(s.last_look(stop, || unsent), None);
    }

    #[test]
    fn every_reason_has_a_phrase_of_its_own() {
        let t = DataplaneTotals::default();
        let phrases: std::collections::BTreeSet<_> =
            t.reasons().iter().map(|(r, _)| phrase(r)).collect();
        assert_eq!(phrases.len(), t.reasons().len());
        assert!(!phrases.contains("for another reason"));
    }

    #[test]
    fn a_peers_port_unreachable_is_said_in_words_not_as_a_receive_error() {
        let t0 = Instant::now();
        let mut s = DropSummary::new(t0, SUMMARY_PERIOD, "userspace data plane".into());
        let refused = DataplaneTotals {
            peer_unreachable: 4,
            ..Default::default()
        };
        assert_eq!(
            s.poll(t0 + Duration::from_secs(10), || refused).as_deref(),
            Some(
                "userspace data plane dropped in the last 10 s: 4 on an ICMP port unreachable \
                 from the peer (see l2tpctl show system)"
            )
        );
    }

    #[test]
    fn a_data_plane_counting_from_zero_again_is_taken_as_new() {
        let t0 = Instant::now();
        let mut s = DropSummary::new(t0, SUMMARY_PERIOD, "userspace data plane".into());
        let many = DataplaneTotals {
            rx_errors: 50,
            ..Default::default()
        };
        assert!(s.poll(t0 + Duration::from_secs(10), || many).is_some());
        let fresh = DataplaneTotals {
            rx_errors: 2,
            ..Default::default()
        };
        assert_eq!(
            s.poll(t0 + Duration::from_secs(20), || fresh).as_deref(),
            Some(
                "userspace data plane dropped in the last 10 s: 2 lost to receive errors of \
                 a tunnel's socket (see l2tpctl show system)"
            )
        );
    }
}
