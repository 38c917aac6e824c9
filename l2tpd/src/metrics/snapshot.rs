//! What one scrape reads: plain figures, copied out of the main loop in one go so that the
//! encoding ([`super::encode`]) runs outside it.
//!
//! The counters themselves live where they are counted (the protocol's `Stats`, the engine's
//! registry and admission, the core, the data plane, the script runner); a [`Snapshot`] only
//! gathers them. A new subsystem (PPP, address pools, RADIUS) adds a field here with its own
//! figures and a function in `encode` that writes its families.

use std::collections::BTreeMap;
use std::time::Duration;

use l2tp_config::MetricsDetail;
use l2tp_ctl::SystemStats;
use l2tp_proto::DownCause;

use crate::dataplane::DataStats;

// The kinds of `show system`'s counters by reason that it and the metrics give, 0 before the
// first (l2tpctl(1), JSON OUTPUT); other reasons counted are added to them.

/// The reasons of `show system`'s `data_discards` (core/answers.rs, the data plane's totals).
pub const DATA_DISCARD_REASONS: [&str; 13] = [
    "rx_errors",
    "rx_malformed",
    "rx_unknown_session",
    "rx_truncated",
    "rx_oversize",
    "seq_errors",
    "tap_errors",
    "tx_errors",
    "peer_unreachable",
    "spoofed",
    "ppp_not_carried",
    "ppp_invalid",
    "ppp_control_rate",
];
/// Why native-PPP links end, as `ppp_proto::DownReason::kind` names them.
pub const PPP_DOWN_REASONS: [&str; 18] = [
    "closed",
    "replaced_by_new_login",
    "peer_terminated",
    "lower_down",
    "negotiation_failed",
    "rejected",
    "auth_not_negotiated",
    "auth_failed",
    "auth_rejected_by_peer",
    "auth_no_verdict",
    "authenticator_invalid",
    "auth_timeout",
    "no_network_protocol",
    "echo_timeout",
    "idle_timeout",
    "session_timeout",
    "loopback",
    "renegotiations",
];
/// Why native-PPP peers are refused at authentication: by the local users, then by RADIUS
/// (`engine::ppp::access`).
pub const PPP_AUTH_FAILURES: [&str; 6] = [
    "unknown_user",
    "wrong_credentials",
    "radius_reject",
    "radius_challenge",
    "radius_no_answer",
    "radius_unusable",
];
/// Why authenticated native-PPP peers are refused for want of an address.
pub const PPP_ADDRESS_REFUSALS: [&str; 4] = [
    "pool_exhausted",
    "address_in_use",
    "no_pool",
    "address_unusable",
];
/// The kinds of RADIUS values left out (or raised to l2tpd's least).
pub const RADIUS_VALUES_IGNORED: [&str; 10] = [
    "route_default",
    "route_taken",
    "route_invalid",
    "prefix_malformed",
    "mtu",
    "dns_server",
    "nbns_server",
    "interface_id",
    "interim_raised",
    "class_no_room",
];
/// Why packets of the userspace data plane's shared PPP TUN are dropped.
pub const PPP_TUN_DISCARDS: [&str; 3] = ["unrouted", "multicast", "io_error"];
/// What becomes of LACs' proxy LCP and authentication AVPs.
pub const PPP_PROXY: [&str; 5] = [
    "lcp_taken",
    "lcp_refused",
    "lcp_malformed",
    "auth_taken",
    "auth_ignored",
];

/// Upper bounds, in seconds, of the set-up latency histograms: 1 ms to 60 s (the last bucket,
/// `+Inf`, holds the slower ones).
pub const SETUP_BUCKETS: [f64; 15] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// A histogram of durations over [`SETUP_BUCKETS`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Histogram {
    /// Observations per bucket (not cumulative); the last one is `+Inf`.
    counts: [u64; SETUP_BUCKETS.len() + 1],
    /// The sum of the observations, in seconds.
    sum: f64,
}

impl Histogram {
    /// Counts one duration.
    pub fn observe(&mut self, d: Duration) {
        let s = d.as_secs_f64();
        let i = SETUP_BUCKETS
            .iter()
            .position(|b| s <= *b)
            .unwrap_or(SETUP_BUCKETS.len());
        if let Some(n) = self.counts.get_mut(i) {
            *n += 1;
        }
        self.sum += s;
    }

    /// The number of observations.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The sum of the observations, in seconds.
    pub fn sum(&self) -> f64 {
        self.sum
    }

    /// Each bucket's upper bound (the last one infinite) with its own count (not cumulative).
    pub fn buckets(&self) -> Vec<(f64, u64)> {
        SETUP_BUCKETS
            .iter()
            .copied()
            .chain([f64::INFINITY])
            .zip(self.counts)
            .collect()
    }
}

/// The `state` label of tunnels and sessions, as `l2tpctl show` spells the coarse states.
pub const STATES: [&str; 3] = ["connecting", "up", "closing"];

/// The L2TP versions, as the `version` label spells them.
pub const VERSIONS: [u8; 2] = [2, 3];

/// How many tunnels (or sessions) are in each state, by L2TP version.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct ByState {
    /// Indexed by [`STATES`], then by [`VERSIONS`].
    counts: [[u64; VERSIONS.len()]; STATES.len()],
}

impl ByState {
    /// Counts one in state `state` (an index of [`STATES`]) of L2TP version `version`.
    pub fn add(&mut self, state: usize, version: u8) {
        let v = usize::from(version == 3);
        if let Some(n) = self.counts.get_mut(state).and_then(|row| row.get_mut(v)) {
            *n += 1;
        }
    }

    /// How many are in state `state` (an index of [`STATES`]) with version `version`.
    pub fn get(&self, state: usize, version: u8) -> u64 {
        let v = usize::from(version == 3);
        self.counts
            .get(state)
            .and_then(|row| row.get(v))
            .copied()
            .unwrap_or(0)
    }

    /// How many there are in all.
    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }
}

/// The `cause` label of teardowns, in the order of [`Teardowns`].
pub const DOWN_CAUSES: [&str; 8] = [
    "local",
    "peer",
    "retries_exhausted",
    "establish_timeout",
    "lost_tie_breaker",
    "tunnel_down",
    "idle_timeout",
    "peer_restarted",
];

/// The index of `cause` in [`DOWN_CAUSES`].
fn down_cause_index(cause: DownCause) -> usize {
    match cause {
        DownCause::Local => 0,
        DownCause::Peer => 1,
        DownCause::RetriesExhausted => 2,
        DownCause::EstablishTimeout => 3,
        DownCause::LostTieBreaker => 4,
        DownCause::TunnelDown => 5,
        DownCause::IdleTimeout => 6,
        DownCause::PeerRestarted => 7,
    }
}

/// The `cause` label of `cause` (`l2tpd(8)`, METRICS), which the log's down lines give in
/// words.
pub fn down_cause_label(cause: DownCause) -> &'static str {
    DOWN_CAUSES[down_cause_index(cause)]
}

/// Tunnels (or sessions) that went down, by cause.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Teardowns([u64; DOWN_CAUSES.len()]);

impl Teardowns {
    /// Counts one that went down for `cause`.
    pub fn add(&mut self, cause: DownCause) {
        if let Some(n) = self.0.get_mut(down_cause_index(cause)) {
            *n += 1;
        }
    }

    /// Each cause's label with its count.
    pub fn by_cause(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        DOWN_CAUSES.into_iter().zip(self.0)
    }
}

/// One tunnel, for the series per tunnel (`metrics_detail tunnels` or `sessions`).
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct TunnelRow {
    /// Local tunnel id.
    pub tid: u32,
    /// The instance's name, if it has one.
    pub name: Option<String>,
    /// The peer's address.
    pub peer: String,
    /// L2TP version.
    pub version: u8,
    /// An index of [`STATES`].
    pub state: usize,
    /// Its sessions.
    pub sessions: u32,
    /// Control messages received.
    pub control_rx: u64,
    /// Control messages sent.
    pub control_tx: u64,
    /// Control messages sent again.
    pub retransmits: u64,
}

/// One session, for the series per session (`metrics_detail sessions`).
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct SessionRow {
    /// Local tunnel id.
    pub tid: u32,
    /// Local session id.
    pub sid: u32,
    /// The instance's name, if it has one.
    pub name: Option<String>,
    /// Its interface, if it has one.
    pub interface: Option<String>,
    /// An index of [`STATES`].
    pub state: usize,
    /// The data plane's counters of it, if the data plane keeps any.
    pub data: Option<DataStats>,
}

/// What the engine tells a scrape besides the counters of `show system`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EngineFigures {
    /// Tunnels by state and version.
    pub tunnels: ByState,
    /// Sessions by state and version (their tunnel's).
    pub sessions: ByState,
    /// How long tunnels with a control connection took to come up.
    pub tunnel_setup: Histogram,
    /// How long sessions with a control connection took to come up.
    pub session_setup: Histogram,
    /// Tunnels that went down, by cause.
    pub tunnel_teardowns: Teardowns,
    /// Sessions that went down, by cause.
    pub session_teardowns: Teardowns,
    /// One row per tunnel, when `metrics_detail` asks for them.
    pub tunnel_rows: Vec<TunnelRow>,
    /// One row per session, when `metrics_detail sessions` asks for them.
    pub session_rows: Vec<SessionRow>,
    /// The address pools of native PPP: (name, addresses, addresses in use).
    pub pools: Vec<(String, u64, u64)>,
}

/// The results of a user script's run, as the `result` label spells them.
pub const SCRIPT_RESULTS: [&str; 4] = ["success", "failure", "error", "timeout"];

/// Runs of the user scripts, by script name and result.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct ScriptFigures {
    /// By (script file name, an index of [`SCRIPT_RESULTS`]).
    pub runs: BTreeMap<(&'static str, usize), u64>,
    /// Scripts running now.
    pub running: u64,
}

/// Everything one scrape reads.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// `l2tpd`'s version.
    pub version: &'static str,
    /// The data plane in use.
    pub dataplane: &'static str,
    /// Time since start-up.
    pub uptime: Duration,
    /// The counters of `l2tpctl show system`, as it reports them.
    pub system: SystemStats,
    /// `max_tunnels` and `max_sessions`, 0 meaning none.
    pub limits: (u32, u32),
    /// The engine's figures.
    pub engine: EngineFigures,
    /// The data plane's counters over every session (removed ones included); `None` when it
    /// carries no data.
    pub data: Option<DataStats>,
    /// The user scripts' runs.
    pub scripts: ScriptFigures,
    /// Which series per tunnel and per session to give.
    pub detail: MetricsDetail,
    /// The RADIUS client's figures, as `l2tpctl show radius` gives them.
    pub radius: l2tp_ctl::RadiusInfo,
}

impl Default for Snapshot {
    fn default() -> Self {
        Snapshot {
            version: env!("CARGO_PKG_VERSION"),
            dataplane: "none",
            uptime: Duration::ZERO,
            system: SystemStats::default(),
            limits: (0, 0),
            engine: EngineFigures::default(),
            data: None,
            scripts: ScriptFigures::default(),
            detail: MetricsDetail::None,
            radius: l2tp_ctl::RadiusInfo::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_take_their_upper_bound() {
        let mut h = Histogram::default();
        for ms in [0, 1, 2, 900, 1000, 59_999, 60_000, 60_001, 3_600_000] {
            h.observe(Duration::from_millis(ms));
        }
        let b = h.buckets();
        assert_eq!(b.len(), SETUP_BUCKETS.len() + 1);
        assert_eq!(b[0], (0.001, 2), "0 and 1 ms");
        assert_eq!(b[1], (0.0025, 1), "2 ms");
        assert_eq!(b[9], (1.0, 2), "900 ms and 1 s");
        assert_eq!(b[14], (60.0, 2), "59.999 s and 60 s");
        assert_eq!(b[15].1, 2, "over a minute");
        assert!(b[15].0.is_infinite());
        assert_eq!(h.count(), 9);
        let sum = 0.003 + 0.9 + 1.0 + 59.999 + 60.0 + 60.001 + 3600.0;
        assert!((h.sum() - sum).abs() < 1e-9, "{}", h.sum());
    }

    #[test]
    fn by_state_counts_each_version_apart() {
        let mut s = ByState::default();
        s.add(1, 3);
        s.add(1, 3);
        s.add(1, 2);
        s.add(0, 2);
        assert_eq!(
            (s.get(1, 3), s.get(1, 2), s.get(0, 2), s.get(2, 3)),
            (2, 1, 1, 0)
        );
        assert_eq!(s.total(), 4);
        // Out of range: not counted, never a panic.
        s.add(7, 3);
        assert_eq!(s.get(7, 3), 0);
        assert_eq!(s.total(), 4);
    }

    #[test]
    fn teardowns_have_one_label_per_cause() {
        let mut t = Teardowns::default();
        t.add(DownCause::Peer);
        t.add(DownCause::Peer);
        t.add(DownCause::IdleTimeout);
        let m: BTreeMap<_, _> = t.by_cause().collect();
        assert_eq!(m.len(), DOWN_CAUSES.len());
        assert_eq!((m["peer"], m["idle_timeout"], m["local"]), (2, 1, 0));
    }
}
