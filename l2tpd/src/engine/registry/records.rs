//! The records of tunnels and sessions: their phase, who made them and under which name, how a
//! tunnel is carried, a session's ids, profiles and the facts of the peer's call. Their phase
//! and ids are set only by the [`Registry`](super::Registry).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use l2tp_config as cfg;
use l2tp_ctl as ctl;
use l2tp_proto::ConnectSpeed;
use l2tp_proto::wire::access_line::AccessLine;

/// Where a tunnel or session is in its life, as the daemon sees it.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(in crate::engine) enum Phase {
    /// Being set up.
    Connecting {
        /// Since when.
        since: Instant,
    },
    /// Established.
    Up {
        /// When it came up.
        since: Instant,
    },
    /// Going down (a StopCCN or CDN sent or received); the record goes when the protocol
    /// deletes it.
    Closing {
        /// When it had come up, if it ever did.
        up_since: Option<Instant>,
    },
}

impl Phase {
    /// Not closing.
    pub(in crate::engine) fn is_live(self) -> bool {
        !matches!(self, Phase::Closing { .. })
    }

    /// Up and not closing.
    pub(in crate::engine) fn is_up(self) -> bool {
        matches!(self, Phase::Up { .. })
    }

    /// Up now, or up before it began to close.
    pub(in crate::engine) fn was_up(self) -> bool {
        self.up_since().is_some()
    }

    /// How long since it came up, at `now`, counting on while it closes: 0 when it never
    /// came up.
    pub(in crate::engine) fn uptime(self, now: Instant) -> std::time::Duration {
        self.up_since().map_or(std::time::Duration::ZERO, |since| {
            now.saturating_duration_since(since)
        })
    }

    /// When it came up, if it did.
    pub(in crate::engine) fn up_since(self) -> Option<Instant> {
        match self {
            Phase::Connecting { .. } => None,
            Phase::Up { since } => Some(since),
            Phase::Closing { up_since } => up_since,
        }
    }

    pub(super) fn closing(self) -> Phase {
        Phase::Closing {
            up_since: self.up_since(),
        }
    }
}

/// Who made a tunnel or session, and under which name.
#[derive(Clone, Debug)]
pub(in crate::engine) struct Origin {
    pub(in crate::engine) created_by: ctl::CreatedBy,
    pub(in crate::engine) name: Option<String>,
}

impl Origin {
    /// A peer's: no name.
    pub(in crate::engine) fn net() -> Self {
        Origin {
            created_by: ctl::CreatedBy::Net,
            name: None,
        }
    }

    /// An instance's: it has a name.
    pub(in crate::engine) fn instance(created_by: ctl::CreatedBy, name: &str) -> Self {
        Origin {
            created_by,
            name: Some(name.to_owned()),
        }
    }
}

/// How a tunnel is carried.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(in crate::engine) enum Control {
    /// By a control connection of the protocol engine.
    Managed,
    /// Static (`peer_tunnel_id`): no control connection, between these addresses.
    Static {
        local: SocketAddr,
        remote: SocketAddr,
    },
}

/// A tunnel.
#[derive(Debug)]
pub(in crate::engine) struct TunnelRec {
    pub(super) tid: u32,
    pub(super) phase: Phase,
    pub(in crate::engine) peer_tid: u32,
    pub(in crate::engine) control: Control,
    pub(in crate::engine) origin: Origin,
    pub(in crate::engine) profile: String,
    pub(in crate::engine) session_profile: String,
    pub(in crate::engine) pw_profile: String,
    pub(in crate::engine) lac_lns: cfg::LacLns,
    pub(in crate::engine) settings: cfg::TunnelSettings,
    pub(in crate::engine) debug: bool,
    /// Its own socket's (local, remote) addresses, once asked for.
    pub(in crate::engine) socket: Option<(SocketAddr, SocketAddr)>,
    /// The address the peer's control messages last arrived on: the local address in use
    /// where the protocol's is the unspecified one or has port 0 (a client on a wildcard or
    /// ephemeral socket).
    pub(in crate::engine) local_seen: Option<SocketAddr>,
    /// Why it went down, the Result Code's message as its octets (`notify::result_code` makes
    /// the text `show` and watchers get of it; scripts get the octets).
    pub(in crate::engine) last_down: Option<Box<l2tp_proto::DownReason>>,
    /// The Host Name the peer sent (its SCCRQ, or its SCCRP once up), when it sent one.
    pub(in crate::engine) peer_host_name: Option<Box<[u8]>>,
    /// When the engine last probed it with a HELLO of its own ([`crate::engine::restart::probe`]).
    pub(in crate::engine) probed_at: Option<Instant>,
    pub(in crate::engine) rx: u64,
    pub(in crate::engine) tx: u64,
}

impl TunnelRec {
    /// A tunnel's record: profiles as its tunnel profile names them, the peer not limited to
    /// one role.
    pub(in crate::engine) fn new(
        tid: u32,
        origin: Origin,
        profile: String,
        settings: cfg::TunnelSettings,
        now: Instant,
    ) -> Self {
        TunnelRec {
            tid,
            phase: Phase::Connecting { since: now },
            peer_tid: 0,
            control: Control::Managed,
            origin,
            profile,
            session_profile: settings.session_profile_name.clone(),
            pw_profile: settings.pseudowire_profile_name.clone(),
            lac_lns: cfg::LacLns::Both,
            debug: settings.debug,
            settings,
            socket: None,
            local_seen: None,
            last_down: None,
            peer_host_name: None,
            probed_at: None,
            rx: 0,
            tx: 0,
        }
    }

    /// The record of tunnel instance `name` (a `tunnel` block or `l2tpctl create tunnel`).
    pub(in crate::engine) fn for_instance(
        tid: u32,
        name: &str,
        created_by: ctl::CreatedBy,
        resolved: &cfg::ResolvedTunnel,
        now: Instant,
    ) -> Self {
        let origin = Origin::instance(created_by, name);
        let s = resolved.settings.clone();
        Self::new(tid, origin, resolved.profile.clone(), s, now)
    }

    /// Local tunnel id.
    pub(in crate::engine) fn tid(&self) -> u32 {
        self.tid
    }

    /// Where it is in its life.
    pub(in crate::engine) fn phase(&self) -> Phase {
        self.phase
    }

    /// The Host Name the peer sent, if it did.
    pub(in crate::engine) fn peer_host(&self) -> Option<&[u8]> {
        self.peer_host_name.as_deref()
    }

    /// Keeps the Host Name the peer sent (nothing for an empty one).
    pub(in crate::engine) fn set_peer_host(&mut self, name: &[u8]) {
        if !name.is_empty() {
            self.peer_host_name = Some(name.into());
        }
    }

    /// The peer's address and port, for a tunnel over UDP (over IP the port is 0) with its
    /// own socket.
    pub(in crate::engine) fn udp_peer(&self) -> Option<(SocketAddr, SocketAddr)> {
        self.socket.filter(|(_, remote)| remote.port() != 0)
    }

    /// Whether it has no control connection.
    pub(in crate::engine) fn is_static(&self) -> bool {
        matches!(self.control, Control::Static { .. })
    }
}

/// The ids of a session: ours and the peer's.
#[derive(Clone, Copy, Debug)]
pub(in crate::engine) struct SessionIds {
    pub(in crate::engine) tid: u32,
    pub(in crate::engine) sid: u32,
    pub(in crate::engine) peer_tid: u32,
    pub(in crate::engine) peer_sid: u32,
}

/// The profiles a session was made from, and their settings.
#[derive(Debug)]
pub(in crate::engine) struct SessionProfiles {
    pub(in crate::engine) profile: String,
    pub(in crate::engine) pw_profile: String,
    pub(in crate::engine) settings: Arc<cfg::SessionSettings>,
    pub(in crate::engine) pseudowire: Arc<cfg::PseudowireSettings>,
}

impl SessionProfiles {
    /// The profiles of session instance `resolved`.
    pub(in crate::engine) fn of_instance(resolved: &cfg::ResolvedSession) -> Self {
        SessionProfiles {
            profile: resolved.profile.clone(),
            pw_profile: resolved.pseudowire_profile.clone(),
            settings: Arc::new(resolved.settings.clone()),
            pseudowire: Arc::new(resolved.pseudowire.clone()),
        }
    }
}

/// What a peer told of a call it placed (ICRQ, OCRQ).
#[derive(Clone, Debug, Default)]
pub(in crate::engine) struct CallFacts {
    pub(in crate::engine) calling_number: Option<Vec<u8>>,
    pub(in crate::engine) called_number: Option<Vec<u8>>,
    pub(in crate::engine) sub_address: Option<Vec<u8>>,
    /// The Access Line Information of an ICRQ (RFC 5515).
    pub(in crate::engine) access_line: Option<Box<AccessLine>>,
    /// The ICRQ carried Connect Speed Update Enable (RFC 5515 §6.2).
    pub(in crate::engine) speed_updates: bool,
    /// The Remote End ID of an L2TPv3 ICRQ: the circuit the peer asks for (RFC 3931 §5.4.4).
    pub(in crate::engine) remote_end_id: Option<Vec<u8>>,
}

impl CallFacts {
    /// The facts of the peer's call `req`, if it told any.
    pub(in crate::engine) fn of_request(
        req: &l2tp_proto::SessionRequest,
    ) -> Option<Box<CallFacts>> {
        let facts = CallFacts {
            calling_number: req.calling_number.clone().filter(|v| !v.is_empty()),
            called_number: req.called_number.clone().filter(|v| !v.is_empty()),
            sub_address: req.sub_address.clone().filter(|v| !v.is_empty()),
            access_line: req.access_line.clone(),
            speed_updates: req.speed_updates,
            remote_end_id: req.remote_end_id.clone().filter(|v| !v.is_empty()),
        };
        let any = facts.calling_number.is_some()
            || facts.remote_end_id.is_some()
            || facts.called_number.is_some()
            || facts.sub_address.is_some()
            || facts.access_line.is_some()
            || facts.speed_updates;
        any.then(|| Box::new(facts))
    }
}

/// Where the data plane is with installing a session, for its session-up and session-down
/// events: told only of a session whose data path exists.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub(in crate::engine) enum Install {
    /// Not asked for, or installed.
    #[default]
    Settled,
    /// Asked for; the data plane's answer is not back.
    Pending,
    /// Asked for, and the session came up meanwhile: its session-up waits for the answer.
    UpWaiting,
    /// Refused by the data plane: its session-up and session-down are not told.
    Refused,
}

/// A session.
#[derive(Debug)]
pub(in crate::engine) struct SessionRec {
    pub(super) tid: u32,
    pub(super) sid: u32,
    pub(super) phase: Phase,
    /// Its tunnel's handle.
    pub(in crate::engine) tunnel: u64,
    pub(in crate::engine) peer_tid: u32,
    pub(in crate::engine) peer_sid: u32,
    /// Static (`peer_session_id`): no control messages.
    pub(in crate::engine) is_static: bool,
    pub(in crate::engine) origin: Origin,
    pub(in crate::engine) profile: String,
    pub(in crate::engine) pw_profile: String,
    /// Shared by the sessions resolved from the same profiles.
    pub(in crate::engine) settings: Arc<cfg::SessionSettings>,
    pub(in crate::engine) pseudowire: Arc<cfg::PseudowireSettings>,
    pub(in crate::engine) pw_type: u16,
    pub(in crate::engine) debug: bool,
    pub(in crate::engine) interface_name: Option<String>,
    /// Why it went down, as for a tunnel.
    pub(in crate::engine) last_down: Option<Box<l2tp_proto::DownReason>>,
    /// The parent tunnel's name, for scripts.
    pub(in crate::engine) tunnel_name: Option<String>,
    /// What the peer told of its call (boxed: most calls placed here carry none).
    pub(in crate::engine) call: Option<Box<CallFacts>>,
    /// The connect speeds the peer's ICCN or OCCN gave (RFC 2661 §4.4.5, RFC 3931 §5.4.5), or
    /// its latest CSUN (RFC 5515 §4.1); for a call we placed as LAC, those we told.
    pub(in crate::engine) connect_speed: Option<ConnectSpeed>,
    /// The PPP l2tpd terminates on this session itself (native PPP), from when its data plane
    /// is installed.
    pub(in crate::engine) ppp: Option<Box<crate::engine::ppp::state::PppLink>>,
    /// We placed the call as LAC with Connect Speed Update Enable in its ICRQ (RFC 5515 §6.2):
    /// a speed change of its session block goes to the LNS in a CSUN.
    pub(in crate::engine) lac_speed_updates: bool,
    /// Where the data plane is with installing it.
    pub(in crate::engine) install: Install,
    /// What its data path uses, as set up with the peer; `None` until it is asked for.
    pub(in crate::engine) data_path: Option<DataPath>,
}

/// What a session's data path uses, as set up with the peer (RFC 3931 §5.4.3: the peer's
/// L2-Specific Sublayer, the cookies of ICRQ and ICRP, random ones included; the sequencing
/// either end asked for), for `show session`. Cookies by their length only.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(in crate::engine) struct DataPath {
    /// Whether the tunnel is L2TPv3 (sublayer and cookies apply).
    pub(in crate::engine) v3: bool,
    /// The L2-Specific Sublayer.
    pub(in crate::engine) l2spec: l2tp_proto::wire::header::L2SpecificSublayer,
    /// The length of the cookie the peer puts on its packets (checked here).
    pub(in crate::engine) cookie_rx: u8,
    /// The length of the cookie this end puts on its packets.
    pub(in crate::engine) cookie_tx: u8,
    /// Whether data is sent with sequence numbers.
    pub(in crate::engine) send_seq: bool,
    /// Whether data received must carry them.
    pub(in crate::engine) recv_seq: bool,
}

impl SessionRec {
    /// A session's record, in tunnel `tunnel`.
    pub(in crate::engine) fn new(
        tunnel: u64,
        ids: SessionIds,
        origin: Origin,
        profiles: SessionProfiles,
        pw_type: u16,
        tunnel_name: Option<String>,
        now: Instant,
    ) -> Self {
        SessionRec {
            tid: ids.tid,
            sid: ids.sid,
            phase: Phase::Connecting { since: now },
            tunnel,
            peer_tid: ids.peer_tid,
            peer_sid: ids.peer_sid,
            is_static: false,
            origin,
            profile: profiles.profile,
            pw_profile: profiles.pw_profile,
            debug: profiles.settings.debug,
            settings: profiles.settings,
            pseudowire: profiles.pseudowire,
            pw_type,
            interface_name: None,
            last_down: None,
            tunnel_name,
            call: None,
            connect_speed: None,
            ppp: None,
            lac_speed_updates: false,
            install: Install::Settled,
            data_path: None,
        }
    }

    /// Local tunnel id.
    pub(in crate::engine) fn tid(&self) -> u32 {
        self.tid
    }

    /// Local session id.
    pub(in crate::engine) fn sid(&self) -> u32 {
        self.sid
    }

    /// Where it is in its life.
    pub(in crate::engine) fn phase(&self) -> Phase {
        self.phase
    }

    /// The session's interface: the data plane's name, else a configured name that is not a
    /// template.
    pub(in crate::engine) fn interface(&self) -> Option<String> {
        self.interface_name
            .clone()
            .or_else(|| self.configured_interface().filter(|n| !n.contains('%')))
    }

    /// The Access Line Information of the peer's call (RFC 5515), if it sent any.
    pub(in crate::engine) fn access_line(&self) -> Option<&AccessLine> {
        self.call.as_ref()?.access_line.as_deref()
    }

    /// Whether the call's ICRQ enabled connect speed updates (RFC 5515 §6.2): the peer's, or
    /// ours as LAC.
    pub(in crate::engine) fn speed_updates(&self) -> bool {
        self.lac_speed_updates || self.call.as_ref().is_some_and(|c| c.speed_updates)
    }

    /// The Remote End ID: the one the peer's ICRQ carried, for a call it placed, else the
    /// configured one.
    pub(in crate::engine) fn remote_end_id(&self) -> Option<&[u8]> {
        let own = self.settings.remote_end_id.as_ref().map(|r| r.as_bytes());
        self.call
            .as_ref()
            .and_then(|c| c.remote_end_id.as_deref())
            .or(own)
    }

    /// The Calling Number: the peer's, for a call it placed, else the configured one.
    pub(in crate::engine) fn calling_number(&self) -> Option<&[u8]> {
        let own = self.settings.calling_number.as_deref().map(str::as_bytes);
        self.call
            .as_ref()
            .and_then(|c| c.calling_number.as_deref())
            .or(own.filter(|v| !v.is_empty()))
    }

    /// The Called Number: the peer's, for a call it placed, else the configured one.
    pub(in crate::engine) fn called_number(&self) -> Option<&[u8]> {
        let own = self.settings.called_number.as_deref().map(str::as_bytes);
        self.call
            .as_ref()
            .and_then(|c| c.called_number.as_deref())
            .or(own.filter(|v| !v.is_empty()))
    }

    /// The Sub-Address: the peer's, for a call it placed, else the configured one.
    pub(in crate::engine) fn sub_address(&self) -> Option<&[u8]> {
        let own = self.settings.sub_address.as_deref().map(str::as_bytes);
        self.call
            .as_ref()
            .and_then(|c| c.sub_address.as_deref())
            .or(own.filter(|v| !v.is_empty()))
    }

    /// The configured interface name or template.
    pub(in crate::engine) fn configured_interface(&self) -> Option<String> {
        self.settings
            .interface_name
            .clone()
            .or_else(|| self.pseudowire.interface_name.clone())
    }
}
