//! `show system`'s counts and what a scrape reads.

use std::collections::HashMap;

use l2tp_config::MetricsDetail;
use l2tp_ctl::Counts;

use super::super::registry::Phase;
use super::super::translate;
use super::Views;
use crate::metrics::snapshot::{EngineFigures, SessionRow, TunnelRow};

impl Views<'_> {
    /// The numbers of tunnels and sessions.
    pub(in crate::engine) fn counts(&self) -> Counts {
        let n = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
        let (t, s) = (self.registry.tunnel_tally(), self.registry.session_tally());
        // Up still by phase, but closing as `show tunnels` and `show sessions` read them: the
        // tunnels waiting for their native-PPP links' Terminate-Acks, and the sessions whose
        // PPP the host is closing (`ppp::ending`), kept counted so as not to scan.
        let (t_going, s_going) = (self.closing.len().min(t.up), self.closing.links().min(s.up));
        Counts {
            tunnels: n(t.total),
            tunnels_up: n(t.up - t_going),
            tunnels_closing: n(t.total.saturating_sub(t.live) + t_going),
            sessions: n(s.total),
            sessions_up: n(s.up - s_going),
            sessions_closing: n(s.total.saturating_sub(s.live) + s_going),
        }
    }

    /// What a scrape reads: tunnels and sessions by state and version, set-up latency,
    /// teardowns, and a row per tunnel (and per session) when `detail` asks for them. One pass
    /// over the tunnels and one over the sessions.
    pub(in crate::engine) fn figures(&self, detail: MetricsDetail) -> EngineFigures {
        let ep = self.protocol.ep();
        let mut f = EngineFigures::default();
        let mut versions = HashMap::with_capacity(self.registry.tunnel_tally().total);
        for (h, t) in self.registry.tunnels() {
            let info = ep.tunnel(t.tid());
            let version = info.as_ref().map_or_else(
                || translate::version(t.settings.version).number(),
                |i| i.version.number(),
            );
            versions.insert(h, version);
            let state = if self.tunnel_going(t) {
                CLOSING
            } else {
                phase_index(t.phase())
            };
            f.tunnels.add(state, version);
            if detail != MetricsDetail::None {
                f.tunnel_rows.push(TunnelRow {
                    tid: t.tid(),
                    name: t.origin.name.clone(),
                    peer: info.map_or_else(
                        || t.udp_peer().map(|p| p.1.to_string()).unwrap_or_default(),
                        |i| i.remote.to_string(),
                    ),
                    version,
                    state,
                    sessions: self.registry.sessions_of(h),
                    control_rx: t.rx,
                    control_tx: t.tx,
                    retransmits: ep
                        .tunnel_channel_stats(t.tid())
                        .map_or(0, |c| c.retransmitted),
                });
            }
        }
        for (_, s) in self.registry.sessions() {
            let version = versions.get(&s.tunnel).copied().unwrap_or(3);
            let state = if super::session_going(s) {
                CLOSING
            } else {
                phase_index(s.phase())
            };
            f.sessions.add(state, version);
            if detail == MetricsDetail::Sessions {
                f.session_rows.push(SessionRow {
                    tid: s.tid(),
                    sid: s.sid(),
                    name: s.origin.name.clone(),
                    interface: s.interface(),
                    state,
                    data: None,
                });
            }
        }
        let (tunnel_setup, session_setup) = self.registry.setup_latency();
        f.tunnel_setup = tunnel_setup.clone();
        f.session_setup = session_setup.clone();
        (f.tunnel_teardowns, f.session_teardowns) = self.registry.teardowns();
        f
    }
}

/// The index in `metrics::snapshot::STATES` of `closing`: also of a tunnel or session up
/// whose native PPP the host is closing, as `show tunnels` and `show sessions` read it.
const CLOSING: usize = 2;

/// The index in `metrics::snapshot::STATES` of a phase.
fn phase_index(phase: Phase) -> usize {
    match phase {
        Phase::Connecting { .. } => 0,
        Phase::Up { .. } => 1,
        Phase::Closing { .. } => CLOSING,
    }
}
