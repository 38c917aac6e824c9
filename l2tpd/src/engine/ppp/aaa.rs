//! RADIUS for the server links of native PPP: what they ask of the shell's RADIUS client
//! (RFC 2865 Access-Requests, RFC 2866 Accounting-Requests) and what becomes of the answers.
//!
//! The engine does no I/O: a request leaves as [`EngineEvent::Radius`] with a key, and its
//! outcome comes back through [`Engine::handle_radius`](crate::engine::Engine) with the same
//! key. [`Aaa`] numbers the requests and remembers, per key, the session and what the request
//! was for; a link waiting for its verdict keeps the request's key ([`RadiusLink`]), and a
//! session that goes away cancels it (its accounting goes on: the Stop is what counts).
//!
//! Each server link of a profile that uses RADIUS has a [`RadiusLink`]: its Acct-Session-Id,
//! the pending Access-Request, what the Access-Accept set (Class, timeouts, interim interval,
//! MTU) and where its accounting is. Counters are added by the shell: it reads the data plane's
//! counters of the session when it sends the request.
//!
//! This module holds the state and the attributes that need no more than it; the attributes
//! that need the session's record and the config are built by `request`.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use l2tp_proto as proto;
use ppp_proto::{AuthId, AuthRequest, PeerCredentials};
use radius_proto::client::Service;
use radius_proto::dict::values;
use radius_proto::{Attributes, EncodeError};

use super::super::api::RadiusRequest;

type PInstant = proto::time::Instant;

/// The shortest interval between Interim-Updates l2tpd keeps to, whatever a server says (RFC
/// 2869 §2.1 advises servers against less than 60 s; shorter ones serve tests).
pub(super) const MIN_INTERIM: Duration = Duration::from_secs(10);

/// What a request was for.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(super) enum Purpose {
    /// The Access-Request of a link's authentication request.
    Auth(AuthId),
    /// The Access-Request of the Response to a re-challenge (`chap_interval`).
    Reauth(AuthId),
    /// An Accounting-Request of a session, with its Acct-Status-Type.
    Acct(u32),
    /// Accounting-On or Accounting-Off.
    Daemon(u32),
}

/// A request waiting for its outcome.
#[derive(Clone, Copy, Debug)]
pub(super) struct Pending {
    /// The session's handle (0 for the daemon's own requests).
    pub(super) handle: u64,
    pub(super) purpose: Purpose,
}

/// RADIUS counters, for `show system` and the metrics.
#[derive(Clone, Debug, Default)]
pub(in crate::engine) struct AaaCounters {
    /// Access-Requests sent.
    pub(in crate::engine) access_requests: u64,
    /// Access-Accepts taken.
    pub(in crate::engine) accepts: u64,
    /// Access-Rejects (and -Challenges, which are refused).
    pub(in crate::engine) rejects: u64,
    /// Access-Requests no server answered.
    pub(in crate::engine) no_answer: u64,
    /// Of those, the peers checked against the local users instead (`radius_then_local`).
    pub(in crate::engine) local_fallbacks: u64,
    /// Of the Access-Requests and their outcomes above, those of re-challenges
    /// (`chap_interval`) of sessions already up.
    pub(in crate::engine) reauth: ReauthCounters,
    /// Accounting-Requests sent, by Acct-Status-Type (`start`, `interim`, `stop`, `on`, `off`).
    pub(in crate::engine) accounting: BTreeMap<&'static str, u64>,
    /// Accounting-Responses.
    pub(in crate::engine) accounting_responses: u64,
    /// Accounting records lost: dropped from the full queue, or too long for a packet.
    pub(in crate::engine) accounting_lost: u64,
    /// Disconnect- and CoA-Requests by answer (`disconnect_ack`, `coa_nak`, ...).
    pub(in crate::engine) dynauth: BTreeMap<&'static str, u64>,
}

/// The Access-Requests of re-challenges and what became of them.
#[derive(Clone, Copy, Debug, Default)]
pub(in crate::engine) struct ReauthCounters {
    pub(in crate::engine) requests: u64,
    pub(in crate::engine) accepts: u64,
    pub(in crate::engine) rejects: u64,
    pub(in crate::engine) no_answer: u64,
}

/// The RADIUS requests of every link. See the [module documentation](self).
#[derive(Debug)]
pub(in crate::engine) struct Aaa {
    next_key: u64,
    pending: HashMap<u64, Pending>,
    /// The first half of every Acct-Session-Id: random, so that ids do not repeat when the
    /// daemon starts again.
    id_prefix: u32,
    next_id: u32,
    pub(in crate::engine) counters: AaaCounters,
}

impl Aaa {
    /// `id_prefix` starts every Acct-Session-Id (random in a deployment).
    pub(super) fn new(id_prefix: u32) -> Self {
        Aaa {
            next_key: 1,
            pending: HashMap::new(),
            id_prefix,
            next_id: 0,
            counters: AaaCounters::default(),
        }
    }

    /// A new Acct-Session-Id: 16 hexadecimal digits, unique within this daemon's life.
    pub(super) fn session_id(&mut self) -> Box<str> {
        self.next_id = self.next_id.wrapping_add(1);
        format!("{:08X}{:08X}", self.id_prefix, self.next_id).into_boxed_str()
    }

    /// A request to send `attributes` (for the shell): its key names it in the outcome.
    pub(super) fn submit(
        &mut self,
        pending: Pending,
        service: Service,
        attributes: Attributes,
        counters: Option<(u32, u32)>,
    ) -> (u64, RadiusRequest) {
        let key = self.next_key;
        self.next_key += 1;
        self.pending.insert(key, pending);
        match (service, pending.purpose) {
            (Service::Access, purpose) => {
                self.counters.access_requests += 1;
                if matches!(purpose, Purpose::Reauth(_)) {
                    self.counters.reauth.requests += 1;
                }
            }
            (_, Purpose::Acct(s) | Purpose::Daemon(s)) => {
                *self.counters.accounting.entry(status_label(s)).or_default() += 1;
            }
            _ => {}
        }
        let request = RadiusRequest::Submit {
            key,
            service,
            attributes,
            counters,
        };
        (key, request)
    }

    /// The request `key` is answered: what it was for.
    pub(super) fn take(&mut self, key: u64) -> Option<Pending> {
        self.pending.remove(&key)
    }

    /// Forgets request `key`: the request that tells the shell to, if it was pending.
    pub(super) fn cancel(&mut self, key: u64) -> Option<RadiusRequest> {
        self.pending
            .remove(&key)
            .map(|_| RadiusRequest::Cancel { key })
    }

    /// The first half of the daemon's Acct-Session-Ids.
    pub(super) fn id_prefix(&self) -> u32 {
        self.id_prefix
    }

    /// Requests waiting for their outcome.
    pub(super) fn pending(&self) -> usize {
        self.pending.len()
    }
}

/// `start`, `interim`, `stop`, `on`, `off`.
pub(super) fn status_label(status: u32) -> &'static str {
    use values::acct_status_type as s;
    match status {
        s::START => "start",
        s::INTERIM_UPDATE => "interim",
        s::STOP => "stop",
        s::ACCOUNTING_ON => "on",
        s::ACCOUNTING_OFF => "off",
        _ => "other",
    }
}

/// Where a session's accounting is.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub(super) enum AcctState {
    /// Not started (the network is not up, or the profile does not account).
    #[default]
    Off,
    /// The Start is sent, not answered yet.
    StartSent,
    /// A server answered the Start.
    Started,
    /// The Stop is sent.
    Stopped,
}

impl AcctState {
    /// `off`, `start-sent`, `started`, `stopped`.
    pub(super) fn label(self) -> &'static str {
        match self {
            AcctState::Off => "off",
            AcctState::StartSent => "start-sent",
            AcctState::Started => "started",
            AcctState::Stopped => "stopped",
        }
    }

    /// Whether a Start went out and no Stop yet.
    pub(super) fn is_open(self) -> bool {
        matches!(self, AcctState::StartSent | AcctState::Started)
    }
}

/// The RADIUS side of one server link (boxed in its [`PppLink`](super::PppLink): only the
/// links of profiles that use RADIUS have one).
#[derive(Debug, Default)]
pub(in crate::engine) struct RadiusLink {
    /// Its Acct-Session-Id, in every request about it.
    pub(super) acct_session_id: Box<str>,
    /// The Access-Request waiting for its answer, and the link's request (kept to check it
    /// against the local users when no server answers).
    pub(super) auth: Option<(u64, Box<AuthRequest>)>,
    /// Acct-Authentic: RADIUS or local.
    pub(super) authentic: Option<u32>,
    /// The Class attributes of the Access-Accept, echoed in accounting (RFC 2865 §5.25).
    pub(super) class: Vec<Box<[u8]>>,
    /// The User-Name the Access-Accept gave, for accounting (RFC 2865 §5.1).
    pub(super) acct_user: Option<Box<[u8]>>,
    /// The State of the last Access-Accept, sent unchanged in a re-challenge's Access-Request
    /// (RFC 2865 §5.24).
    pub(super) state: Option<Box<[u8]>>,
    pub(super) accounting: AcctState,
    /// Seconds between Interim-Updates: the Access-Accept's Acct-Interim-Interval, else the
    /// profile's.
    pub(super) interim: Option<Duration>,
    /// When the next Interim-Update is due.
    pub(super) interim_at: Option<PInstant>,
    /// Framed-MTU: the interface's MTU is at most this.
    pub(super) framed_mtu: Option<u16>,
    /// The DNS servers the Access-Accept gave the peer instead of the profile's (RFC 2548
    /// §2.2), for `show session`.
    pub(super) dns: Option<[Option<std::net::Ipv4Addr>; 2]>,
    /// Prefixes routed to the session: Framed-IPv6-Prefix, Delegated-IPv6-Prefix, and the
    /// subnet of Framed-IP-Address and Framed-IP-Netmask when it is wider than the address.
    pub(super) routes: Vec<(std::net::IpAddr, u8)>,
    /// Session-Timeout and Idle-Timeout as the server (or a CoA-Request) set them, seconds.
    pub(super) session_timeout: Option<u32>,
    pub(super) idle_timeout: Option<u32>,
    /// When the peer was authenticated (Session-Timeout of a CoA-Request counts from then).
    pub(super) authenticated_at: Option<PInstant>,
    /// The Acct-Terminate-Cause, when decided before the link went down.
    pub(super) cause: Option<u32>,
    /// The data plane's removal of the session waits for the Stop, which reads its counters.
    pub(super) hold_removal: bool,
}

impl RadiusLink {
    /// The state of a new link, with its Acct-Session-Id.
    pub(super) fn new(acct_session_id: Box<str>) -> Box<Self> {
        Box::new(RadiusLink {
            acct_session_id,
            ..RadiusLink::default()
        })
    }

    /// What `show session` says of it, for a link of `policy`.
    pub(super) fn detail(&self, policy: &super::policy::PppPolicy) -> l2tp_ctl::PppRadius {
        let interim = self.interim.or(policy.radius.interim);
        l2tp_ctl::PppRadius {
            acct_session_id: self.acct_session_id.to_string(),
            authentic: self.authentic.map(|a| {
                if a == values::acct_authentic::RADIUS {
                    "radius".to_owned()
                } else {
                    "local".to_owned()
                }
            }),
            class: self
                .class
                .iter()
                .map(|c| l2tp_ctl::radius_text(c))
                .collect(),
            accounting: self.accounting.label().to_owned(),
            interim_interval_s: interim.map(|d| d.as_secs()),
            session_timeout_s: self.session_timeout,
            idle_timeout_s: self.idle_timeout,
            framed_mtu: self.framed_mtu,
        }
    }
}

/// Adds the peer's credentials to an Access-Request: User-Password (PAP, RFC 2865 §5.2),
/// CHAP-Password and CHAP-Challenge (CHAP, RFC 2865 §5.3, §5.40), MS-CHAP-Challenge and
/// MS-CHAP2-Response (MS-CHAPv2, RFC 2548 §2.3.2).
pub(super) fn push_credentials(a: &mut Attributes, req: &AuthRequest) -> Result<(), EncodeError> {
    match &req.credentials {
        PeerCredentials::Pap { password } => {
            a.push_user_password(password.as_bytes())?;
        }
        PeerCredentials::ChapMd5 {
            identifier,
            challenge,
            response,
        } => {
            let mut v = [0u8; 17];
            v[0] = *identifier;
            v[1..].copy_from_slice(response);
            a.push_chap_password(&v)?;
            a.push_chap_challenge(challenge)?;
        }
        PeerCredentials::MsChapV2 {
            identifier,
            authenticator_challenge,
            peer_challenge,
            nt_response,
        } => {
            // Ident, Flags, Peer-Challenge, 8 reserved octets, Response.
            let mut v = [0u8; 50];
            v[0] = *identifier;
            v[2..18].copy_from_slice(peer_challenge);
            v[26..].copy_from_slice(nt_response);
            a.push_ms_chap_challenge(authenticator_challenge)?;
            a.push_ms_chap2_response(&v)?;
        }
    }
    Ok(())
}

/// The Acct-Terminate-Cause (RFC 2866 §5.10) of a link that ended for `reason`.
pub(super) fn terminate_cause(reason: &ppp_proto::DownReason) -> u32 {
    use ppp_proto::{CloseReason, DownReason as D};
    use values::acct_terminate_cause as c;
    match reason {
        D::PeerTerminated => c::USER_REQUEST,
        D::LowerLayerDown | D::EchoTimeout => c::LOST_CARRIER,
        D::IdleTimeout => c::IDLE_TIMEOUT,
        D::SessionTimeout => c::SESSION_TIMEOUT,
        D::Closed(
            CloseReason::Administrative
            | CloseReason::Disconnect
            | CloseReason::Deleted
            | CloseReason::Reconfigured,
        ) => c::ADMIN_RESET,
        D::Closed(CloseReason::Shutdown) => c::ADMIN_REBOOT,
        // A new login of the same user took the session's address (`relogin replace`): the
        // NAS ended it, for no error and at no administrator's word, to give what it held to
        // a use it puts first, which is what Port-Preempted says. Admin-Reset would tell the
        // RADIUS server an operator acted; User-Request or Lost-Carrier would claim to know
        // what became of the older client, which the NAS does not.
        D::Closed(CloseReason::Replaced) => c::PORT_PREEMPTED,
        D::Closed(_) => c::NAS_REQUEST,
        D::NoNetworkProtocol => SERVICE_UNAVAILABLE,
        // The NAS's own limit (`max_renegotiations`) ended a peer that would not settle.
        D::Renegotiations => c::NAS_REQUEST,
        _ => c::NAS_ERROR,
    }
}

/// Acct-Terminate-Cause Service-Unavailable (RFC 2866 §5.10).
const SERVICE_UNAVAILABLE: u32 = 15;

/// The Acct-Terminate-Cause of a session whose L2TP session went down for `cause` (while the
/// daemon stops, or not).
pub(super) fn lower_cause(cause: proto::DownCause, shutting_down: bool) -> u32 {
    use values::acct_terminate_cause as c;
    if shutting_down {
        return c::ADMIN_REBOOT;
    }
    match cause {
        proto::DownCause::Local => c::ADMIN_RESET,
        proto::DownCause::RetriesExhausted | proto::DownCause::TunnelDown => c::LOST_SERVICE,
        _ => c::LOST_CARRIER,
    }
}

/// Adds what every Accounting-Request of a session carries besides the session's identity
/// and its Class attributes ([`push_classes`]): Acct-Status-Type, Acct-Authentic, the peer's
/// address and interface id.
pub(super) fn push_accounting(
    a: &mut Attributes,
    status: u32,
    rl: &RadiusLink,
    net: (Option<std::net::Ipv4Addr>, Option<u64>),
) -> Result<(), EncodeError> {
    a.push_acct_status_type(status)?;
    if let Some(auth) = rl.authentic {
        a.push_acct_authentic(auth)?;
    }
    if let Some(ip) = net.0 {
        a.push_framed_ip_address(ip)?;
    }
    if let Some(id) = net.1 {
        a.push_framed_interface_id(id.to_be_bytes())?;
    }
    Ok(())
}

/// The octets of attributes an Accounting-Request may have before the shell adds its
/// counters, Event-Timestamp and Acct-Delay-Time (some 60 octets; 128 kept): a packet is at
/// most 4096 octets (RFC 2865 §3), 20 of them the header.
const ACCT_ROOM: usize = 4096 - 20 - 128;

/// Adds the Access-Accept's Class attributes (RFC 2865 §5.25), last, as many as fit in the
/// packet: a server that gave more than an Accounting-Request can carry loses those that do
/// not fit, not the whole record. Returns how many were left out.
pub(super) fn push_classes(a: &mut Attributes, rl: &RadiusLink) -> Result<usize, EncodeError> {
    let mut len: usize = a.iter().map(|x| 2 + x.value.len()).sum();
    for (i, c) in rl.class.iter().enumerate() {
        if len + 2 + c.len() > ACCT_ROOM {
            return Ok(rl.class.len() - i);
        }
        a.push_class(c)?;
        len += 2 + c.len();
    }
    Ok(0)
}
