//! The report: JSON for programs, text for people.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::Ipv4Addr;

use serde::Serialize;

/// Set-up latencies of the sessions that came up, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub(crate) struct Latency {
    pub(crate) min: f64,
    pub(crate) p50: f64,
    pub(crate) p90: f64,
    pub(crate) p99: f64,
    pub(crate) max: f64,
}

impl Latency {
    /// From microseconds, sorted ascending.
    pub(crate) fn of(sorted: &[u64]) -> Latency {
        let at = |q: f64| {
            if sorted.is_empty() {
                return 0.0;
            }
            let i = ((sorted.len() - 1) as f64 * q).round() as usize;
            let micros = sorted.get(i).copied().unwrap_or_default();
            (micros as f64 / 10.0).round() / 100.0
        };
        Latency {
            min: at(0.0),
            p50: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
            max: at(1.0),
        }
    }
}

/// Everything a run measured.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Report {
    pub(crate) peer: String,
    pub(crate) version: u8,
    pub(crate) tunnels: usize,
    pub(crate) sessions_per_tunnel: usize,
    pub(crate) concurrency: usize,
    /// UDP sockets used (one per tunnel unless file descriptors ran short).
    pub(crate) sockets: usize,
    pub(crate) tunnels_up: usize,
    pub(crate) sessions_up: usize,
    /// Tunnels that never came up.
    pub(crate) tunnels_failed: usize,
    /// Sessions that never came up (including those of failed tunnels).
    pub(crate) sessions_failed: usize,
    /// Tunnels that went down before the teardown.
    pub(crate) tunnels_lost: usize,
    /// Sessions that went down before the teardown.
    pub(crate) sessions_lost: usize,
    /// The sum of the four above.
    pub(crate) failed: usize,
    /// Seconds until everything was up (or had failed).
    pub(crate) elapsed_s: f64,
    /// Seconds until every tunnel was up (or had failed); `tunnels_per_s` is over this time.
    pub(crate) tunnels_elapsed_s: f64,
    pub(crate) tunnels_per_s: f64,
    pub(crate) sessions_per_s: f64,
    pub(crate) session_setup_ms: Latency,
    pub(crate) hold_s: f64,
    /// Tunnels closed with StopCCN and the sessions that were up in them.
    pub(crate) teardown_tunnels: usize,
    pub(crate) teardown_sessions: usize,
    /// Seconds until the peer had acknowledged every StopCCN.
    pub(crate) teardown_s: f64,
    pub(crate) teardown_tunnels_per_s: f64,
    pub(crate) teardown_sessions_per_s: f64,
    pub(crate) teardown_complete: bool,
    /// Control message retransmissions over the whole run, and during set-up.
    pub(crate) retransmissions: u64,
    pub(crate) setup_retransmissions: u64,
    pub(crate) auth_failures: u64,
    pub(crate) send_errors: u64,
    pub(crate) failure_reasons: BTreeMap<String, u64>,
    /// With `--ppp`: the PPP figures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ppp: Option<PppReport>,
}

/// The PPP figures of a run with `--ppp`.
/// Distinct DNS and NBNS servers received through IPCP (RFC 1877).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub(crate) struct Servers {
    pub(crate) dns: BTreeSet<Ipv4Addr>,
    pub(crate) nbns: BTreeSet<Ipv4Addr>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct PppReport {
    /// The authentication method offered: `pap`, `chap-md5` or `mschapv2`.
    pub(crate) auth: &'static str,
    /// Sessions whose IPCP opened.
    pub(crate) sessions_up: usize,
    /// Sessions whose PPP never came up (their L2TP session did): authentication refused,
    /// negotiation failed, timed out...
    pub(crate) sessions_failed: usize,
    /// Sessions whose PPP went down after it was up, before the teardown.
    pub(crate) sessions_lost: usize,
    /// Seconds from the start of the run until the last PPP session came up or failed;
    /// `sessions_per_s` is over this time, so it includes the L2TP set-up.
    pub(crate) elapsed_s: f64,
    pub(crate) sessions_per_s: f64,
    /// From the L2TP session up (ICCN acknowledged) to IPCP Opened, in milliseconds.
    pub(crate) setup_ms: Latency,
    /// Distinct IPv4 addresses received.
    pub(crate) addresses: usize,
    /// Sessions given an address that another session held (a failure of the LNS).
    pub(crate) duplicate_addresses: usize,
    /// The DNS and NBNS servers given (with --ask-servers).
    pub(crate) servers: Servers,
    /// LCP Echo-Requests of the peer answered.
    pub(crate) echo_requests_answered: u64,
    /// PPP frames received and sent.
    pub(crate) frames_in: u64,
    pub(crate) frames_out: u64,
    /// Data messages for no session, or refused by their session (wrong cookie, version).
    pub(crate) data_discarded: u64,
    /// Whether the ICCNs carried proxy LCP and authentication AVPs (`--proxy`).
    pub(crate) proxy: bool,
    /// LCP Configure-Requests and CHAP Challenges received from the LNS: with `--proxy`, an
    /// LNS that takes the proxied LCP and authentication sends neither.
    pub(crate) lcp_configure_requests_in: u64,
    pub(crate) chap_challenges_in: u64,
    /// Our LCP Configure-Requests sent again when the restart timer ran out: with
    /// `--ppp-eager`, first ones the LNS lost (or never answered).
    pub(crate) lcp_configure_requests_resent: u64,
    /// With `--ppp-echo-flood`: the flood and what came back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) echo_flood: Option<FloodReport>,
}

/// The figures of `--ppp-echo-flood`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub(crate) struct FloodReport {
    /// LCP Echo-Requests each session sent a second.
    pub(crate) rate: u32,
    /// LCP Echo-Requests sent, over every session.
    pub(crate) echo_requests_sent: u64,
    /// LCP Echo-Replies received over the whole run (those to our own echoes of
    /// `--lcp-echo-interval` too).
    pub(crate) echo_replies_in: u64,
    /// Seconds from the first session's flood to the last one's end.
    pub(crate) seconds: f64,
}

impl Report {
    /// Whether the run is a success (exit status 0).
    pub(crate) fn ok(&self) -> bool {
        self.failed == 0 && self.teardown_complete
    }

    pub(crate) fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub(crate) fn text(&self) -> String {
        let mut s = String::new();
        let w = &mut s;
        let _ = writeln!(
            w,
            "l2tp-loadgen: L2TPv{} to {}: {} tunnel(s) x {} session(s), concurrency {}, {} \
             socket(s)",
            self.version,
            self.peer,
            self.tunnels,
            self.sessions_per_tunnel,
            self.concurrency,
            self.sockets
        );
        let _ = writeln!(
            w,
            "set-up:    {}/{} tunnels and {}/{} sessions up in {:.3} s ({:.1} sessions/s); \
             tunnels in {:.3} s ({:.1} tunnels/s)",
            self.tunnels_up,
            self.tunnels,
            self.sessions_up,
            self.tunnels * self.sessions_per_tunnel,
            self.elapsed_s,
            self.sessions_per_s,
            self.tunnels_elapsed_s,
            self.tunnels_per_s
        );
        let l = &self.session_setup_ms;
        if self.sessions_up > 0 {
            let _ = writeln!(
                w,
                "latency:   session set-up min {} ms, p50 {} ms, p90 {} ms, p99 {} ms, max {} ms",
                l.min, l.p50, l.p90, l.p99, l.max
            );
        }
        if let Some(p) = &self.ppp {
            let _ = writeln!(
                w,
                "ppp:       {}/{} PPP sessions up (IPCP opened, {}) in {:.3} s from the start \
                 ({:.1} sessions/s), {} failed, {} lost; {} distinct addresses, {} duplicates",
                p.sessions_up,
                self.tunnels * self.sessions_per_tunnel,
                p.auth,
                p.elapsed_s,
                p.sessions_per_s,
                p.sessions_failed,
                p.sessions_lost,
                p.addresses,
                p.duplicate_addresses
            );
            if p.sessions_up > 0 {
                let l = &p.setup_ms;
                let _ = writeln!(
                    w,
                    "latency:   PPP from L2TP session up to IPCP opened min {} ms, p50 {} ms, \
                     p90 {} ms, p99 {} ms, max {} ms",
                    l.min, l.p50, l.p90, l.p99, l.max
                );
            }
        }
        if self.hold_s > 0.0 {
            let _ = writeln!(w, "hold:      {:.3} s", self.hold_s);
        }
        if let Some(p) = &self.ppp {
            let _ = writeln!(
                w,
                "ppp data:  {} LCP echo requests answered, {} frames in, {} out, {} data \
                 messages discarded, {} LCP Configure-Requests sent again",
                p.echo_requests_answered,
                p.frames_in,
                p.frames_out,
                p.data_discarded,
                p.lcp_configure_requests_resent
            );
            if let Some(f) = &p.echo_flood {
                let _ = writeln!(
                    w,
                    "ppp flood: {} LCP Echo-Requests sent in {:.3} s ({} a second per session), \
                     {} Echo-Replies received",
                    f.echo_requests_sent, f.seconds, f.rate, f.echo_replies_in
                );
            }
            if p.proxy {
                let _ = writeln!(
                    w,
                    "ppp proxy: LCP and authentication proxied in every ICCN; {} LCP \
                     Configure-Requests and {} CHAP Challenges received",
                    p.lcp_configure_requests_in, p.chap_challenges_in
                );
            }
        }
        let _ = writeln!(
            w,
            "teardown:  {} tunnels ({} sessions) closed in {:.3} s ({:.1} tunnels/s, {:.1} \
             sessions/s){}",
            self.teardown_tunnels,
            self.teardown_sessions,
            self.teardown_s,
            self.teardown_tunnels_per_s,
            self.teardown_sessions_per_s,
            if self.teardown_complete {
                ""
            } else {
                ", NOT all acknowledged"
            }
        );
        let _ = writeln!(
            w,
            "control:   {} retransmissions ({} during set-up), {} authentication failures, {} \
             send errors",
            self.retransmissions, self.setup_retransmissions, self.auth_failures, self.send_errors
        );
        let _ = writeln!(
            w,
            "failed:    {} ({} tunnels and {} sessions never up, {} tunnels and {} sessions \
             lost)",
            self.failed,
            self.tunnels_failed,
            self.sessions_failed,
            self.tunnels_lost,
            self.sessions_lost
        );
        for (why, n) in &self.failure_reasons {
            let _ = writeln!(w, "  {n:>7}  {why}");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_sorted_microseconds() {
        let v: Vec<u64> = (1..=100).map(|i| i * 1000).collect();
        let l = Latency::of(&v);
        assert_eq!(l.min, 1.0);
        assert_eq!(l.max, 100.0);
        assert_eq!(l.p50, 51.0);
        assert_eq!(l.p99, 99.0);
        assert_eq!(Latency::of(&[]), Latency::default());
    }
}
