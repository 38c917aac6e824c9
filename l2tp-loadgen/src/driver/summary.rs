//! The report of a run, from the driver's records.

use std::time::Duration;

use l2tp_proto::wire::header::Version;

use super::{Driver, SState, TState};
use crate::report::{Latency, Report};

#[derive(Debug)]
pub(super) struct ReportInput {
    pub(super) elapsed: Duration,
    pub(super) tunnels_elapsed: Duration,
    pub(super) tunnels_up: usize,
    pub(super) sessions_up: usize,
    /// From the start until the last PPP link came up or failed.
    pub(super) ppp_elapsed: Duration,
    pub(super) setup_retransmissions: u64,
    pub(super) held: Duration,
    pub(super) teardown: Duration,
    pub(super) teardown_complete: bool,
    pub(super) closed_tunnels: usize,
    pub(super) closed_sessions: usize,
}

impl Driver {
    pub(super) fn report(&mut self, r: ReportInput) -> Report {
        let secs = |d: Duration| (d.as_secs_f64() * 1000.0).round() / 1000.0;
        let rate = |n: usize, d: Duration| {
            if d.is_zero() || n == 0 {
                0.0
            } else {
                (n as f64 / d.as_secs_f64() * 10.0).round() / 10.0
            }
        };
        let stats = *self.ep.stats();
        let tunnels_failed = self.count_t(|s| s == TState::Failed);
        let sessions_failed = self.count_s(|s| s == SState::Failed);
        let tunnels_lost = self.count_t(|s| s == TState::Lost);
        let sessions_lost = self.count_s(|s| s == SState::Lost);
        let ppp = self
            .ppp
            .as_mut()
            .map(|p| p.report(r.ppp_elapsed, &mut self.reasons));
        let ppp_failed = ppp.as_ref().map_or(0, |p| {
            p.sessions_failed + p.sessions_lost + p.duplicate_addresses
        });
        self.latencies.sort_unstable();
        Report {
            peer: self.plan.peer.to_string(),
            version: if self.plan.version == Version::V2 {
                2
            } else {
                3
            },
            tunnels: self.tunnels.len(),
            sessions_per_tunnel: self.plan.sessions,
            concurrency: self.plan.concurrency,
            sockets: self.sockets.list.len(),
            tunnels_up: r.tunnels_up,
            sessions_up: r.sessions_up,
            tunnels_failed,
            sessions_failed,
            tunnels_lost,
            sessions_lost,
            failed: tunnels_failed + sessions_failed + tunnels_lost + sessions_lost + ppp_failed,
            elapsed_s: secs(r.elapsed),
            tunnels_elapsed_s: secs(r.tunnels_elapsed),
            tunnels_per_s: rate(r.tunnels_up, r.tunnels_elapsed),
            sessions_per_s: rate(r.sessions_up, r.elapsed),
            session_setup_ms: Latency::of(&self.latencies),
            hold_s: secs(r.held),
            teardown_tunnels: r.closed_tunnels,
            teardown_sessions: r.closed_sessions,
            teardown_s: secs(r.teardown),
            teardown_tunnels_per_s: rate(r.closed_tunnels, r.teardown),
            teardown_sessions_per_s: rate(r.closed_sessions, r.teardown),
            teardown_complete: r.teardown_complete,
            retransmissions: stats.retransmissions,
            setup_retransmissions: r.setup_retransmissions,
            auth_failures: stats.auth_failures,
            send_errors: self.send_errors,
            failure_reasons: std::mem::take(&mut self.reasons),
            ppp,
        }
    }
}
