//! What the data planes count, asked of the one that carries each tunnel (the fallback
//! data plane's included): drops, data counters of sessions and tunnels, numbers installed.

use super::DataplaneHost;
use crate::dataplane::api::{DataStats, TunnelDataStats};

impl DataplaneHost {
    /// Data packets dropped outside any one session's counters, the fallback data plane's
    /// included.
    pub fn drops(&self) -> l2tp_dataplane::DataplaneTotals {
        let mut d = self.dataplane.drops();
        if let Some(fb) = &self.fallback {
            d += fb.drops();
        }
        d.rx_unknown_session += self.unclaimed;
        d.peer_unreachable += self.unreachable;
        d.tx_errors += self.ppp_unsent.1;
        d
    }

    /// A PPP frame of the daemon's own (LCP, IPCP, authentication) that session `tid`/`sid`'s
    /// data plane failed to send and does not count itself (the kernel's, whose PPP channel
    /// refused the write): counted in the session's and the totals' `tx_errors`, so that the
    /// drop summary says it, as the userspace data plane counts a refused send.
    pub(super) fn note_ppp_unsent(&mut self, tid: u32, sid: u32) {
        *self.ppp_unsent.0.entry((tid, sid)).or_default() += 1;
        self.ppp_unsent.1 += 1;
    }

    /// Session `key`'s data counters `stats` with the PPP frames the host counted for it.
    fn with_unsent(&self, key: (u32, u32), stats: Option<DataStats>) -> Option<DataStats> {
        let Some(&n) = self.ppp_unsent.0.get(&key) else {
            return stats;
        };
        let mut s = stats.unwrap_or_default();
        s.tx_errors += n;
        Some(s)
    }

    /// An ICMP port unreachable reported on tunnel `tid`'s socket while the shell reads it
    /// (the kernel data plane's tunnels, those of no data plane, and any tunnel waiting out
    /// its StopCCN): the peer refused a datagram, data or control. Counted as the data planes
    /// count those they read, for the tunnel and in the totals.
    pub fn note_peer_unreachable(&mut self, tid: u32) {
        self.unreachable += 1;
        if let Some(t) = self.tunnels.get_mut(&tid) {
            t.unreachable += 1;
        }
    }

    /// Data counters over every session, removed ones included; `None` without data.
    pub fn data_totals(&self) -> Option<DataStats> {
        let fallback = self.fallback.as_ref().and_then(|fb| fb.data_totals());
        let totals = match (self.dataplane.data_totals(), fallback) {
            (Some(mut a), Some(b)) => {
                a.add(&b);
                Some(a)
            }
            (a, b) => a.or(b),
        };
        match self.ppp_unsent.1 {
            0 => totals,
            n => {
                let mut t = totals.unwrap_or_default();
                t.tx_errors += n;
                Some(t)
            }
        }
    }

    /// A session's data counters.
    pub fn session_stats(&self, tid: u32, sid: u32) -> Option<DataStats> {
        let stats = if self.apart.has_tunnel(tid) {
            self.fallback
                .as_ref()
                .and_then(|fb| fb.session_stats(tid, sid))
        } else {
            self.dataplane.session_stats(tid, sid)
        };
        self.with_unsent((tid, sid), stats)
    }

    /// A tunnel's own data counters.
    pub fn tunnel_stats(&self, tid: u32) -> Option<TunnelDataStats> {
        let plane = if self.apart.has_tunnel(tid) {
            self.fallback.as_ref().and_then(|fb| fb.tunnel_stats(tid))
        } else {
            self.dataplane.tunnel_stats(tid)
        };
        // Those the shell read on the tunnel's socket: the counts of a data plane that reads
        // none of its own (the kernel's), or added to what the data plane read.
        let read_here = self.tunnels.get(&tid).map_or(0, |t| t.unreachable);
        match plane {
            Some(mut s) => {
                s.peer_unreachable += read_here;
                Some(s)
            }
            None => (read_here > 0).then_some(TunnelDataStats {
                peer_unreachable: read_here,
            }),
        }
    }

    /// The data counters of each session of `keys` (tunnel id, session id), asking each
    /// data plane once for all it carries ([`Dataplane::sessions_stats`]).
    ///
    /// [`Dataplane::sessions_stats`]: crate::dataplane::Dataplane::sessions_stats
    pub fn sessions_stats(&self, keys: &[(u32, u32)]) -> Vec<Option<DataStats>> {
        let apart = |k: &(u32, u32)| self.apart.has_tunnel(k.0);
        let (aside, main): (Vec<_>, Vec<_>) = keys.iter().copied().partition(|k| apart(k));
        let mut main = self.dataplane.sessions_stats(&main).into_iter();
        let fb = self.fallback.as_ref().filter(|_| !aside.is_empty());
        let mut aside = fb
            .map_or_else(Vec::new, |fb| fb.sessions_stats(&aside))
            .into_iter();
        let mut next = |k| if apart(k) { aside.next() } else { main.next() };
        keys.iter()
            .map(|k| self.with_unsent(*k, next(k).flatten()))
            .collect()
    }

    /// Sessions' interfaces that stopped being ports of their deleted bridge, the fallback
    /// data plane's included.
    pub fn bridge_ports_lost(&self) -> u64 {
        self.dataplane.bridge_ports_lost()
            + self.fallback.as_ref().map_or(0, |f| f.bridge_ports_lost())
    }

    /// Numbers of installed tunnels and sessions.
    pub fn counts(&self) -> (usize, usize) {
        let (t, s) = self.dataplane.counts();
        let (ft, fs) = self.fallback.as_ref().map_or((0, 0), |fb| fb.counts());
        (t + ft, s + fs)
    }
}
