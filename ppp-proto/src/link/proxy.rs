//! Starting a link from an LCP negotiation and an authentication that another party ran:
//! proxy LCP and proxy authentication (RFC 2661 §4.4.5). An L2TPv2 LAC that answered the call
//! negotiated LCP with the caller and may have authenticated it; its ICCN carries the options
//! of the last Configure-Request it sent and of the last one it received, and what the caller
//! answered its Challenge or sent in its Authenticate-Request. The LNS may take them and carry
//! on from there, or negotiate again (RFC 2661 §4.4.5: "the LNS policy may be to enter an
//! additional round of LCP negotiation and/or authentication").
//!
//! [`Link::open_proxied`] takes the two option lists only if every option is one this link
//! would have requested or acknowledged itself under its configuration; otherwise it changes
//! nothing and the host calls [`Link::open`] to negotiate again. The same call serves the
//! caller's side (a client whose LAC negotiated for it: a test LAC such as `l2tp-loadgen`).

use std::fmt;

use l2tp_proto::rng::Rng;
use l2tp_proto::time::Instant;

use super::auth::ProxiedStart;
use super::{Link, Phase, flag};
use crate::auth::{AuthMethod, PeerCredentials};
use crate::fsm::machine::{Answer, Negotiator};
use crate::lcp::{DEFAULT_MRU, LcpOptions, option};
use crate::wire::{OptionIter, PacketError};

/// LCP as another party negotiated it: the options of the two last Configure-Requests, each
/// an option list as RFC 2661 §4.4.5 carries them ("starting at the first option within the
/// body of the LCP message"), not a whole LCP packet.
#[derive(Clone, Copy, Debug)]
pub struct ProxiedLcp<'a> {
    /// The request made on this side's behalf, which the peer acknowledged: at an LNS the
    /// LAC's Last Sent LCP CONFREQ; at a client, its own last request (the LAC's Last Received).
    pub local: &'a [u8],
    /// The peer's last request, which was acknowledged: at an LNS the Last Received LCP
    /// CONFREQ; at a client, the LAC's Last Sent.
    pub peer: &'a [u8],
}

/// An authentication that ran before the link came here.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum ProxiedAuth {
    /// This link authenticates the peer, and the peer already answered (the LAC's Challenge,
    /// or its Authenticate-Request): the host judges the answer as it would its own
    /// ([`crate::Event::Authenticate`]), and the verdict's Success or Failure (PAP Ack or Nak)
    /// goes out with `identifier`.
    Peer {
        /// The Identifier of the CHAP Challenge, or of the PAP Authenticate-Request.
        identifier: u8,
        /// The peer's name.
        user: Vec<u8>,
        /// What the peer answered; CHAP-MD5 or PAP (MS-CHAPv2 is not proxied).
        credentials: PeerCredentials,
    },
    /// This link is the one authenticated, with CHAP-MD5: it answered Challenge `challenge`
    /// (Identifier `identifier`) with its configured password, and waits for the Success.
    ChapAnswered {
        /// The Challenge's Identifier.
        identifier: u8,
        /// The Challenge value.
        challenge: Vec<u8>,
    },
    /// This link is the one authenticated, with PAP: its Authenticate-Request (Identifier
    /// `identifier`) went out, and it waits for the Ack.
    PapSent {
        /// The request's Identifier.
        identifier: u8,
    },
}

/// Which of the two proxied requests.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum ProxiedSide {
    /// The request made on this side's behalf ([`ProxiedLcp::local`]).
    Local,
    /// The peer's request ([`ProxiedLcp::peer`]).
    Peer,
}

impl fmt::Display for ProxiedSide {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Local => "sent",
            Self::Peer => "received",
        })
    }
}

/// Why [`Link::open_proxied`] did not take the proxied negotiation (the link is unchanged).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum ProxyRefusal {
    /// The link was already opened.
    AlreadyOpened,
    /// An option list does not parse (an option's Length below 2 or past the end).
    Malformed(ProxiedSide, PacketError),
    /// An option this link would not have requested (local) or acknowledged (peer) as it
    /// stands: its type and its value's length.
    Unacceptable(ProxiedSide, u8, usize),
    /// This link authenticates the peer with other methods than the proxied request names
    /// (or names none), or it authenticates nobody and the request names a method.
    AuthMismatch,
}

impl fmt::Display for ProxyRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyOpened => f.write_str("the link is already open"),
            Self::Malformed(side, e) => write!(f, "the {side} LCP CONFREQ is malformed: {e}"),
            Self::Unacceptable(side, kind, len) => write!(
                f,
                "the {side} LCP CONFREQ has an option this link would not accept \
                 (type {kind}, {len} octets of value)"
            ),
            Self::AuthMismatch => f.write_str(
                "the sent LCP CONFREQ's Authentication-Protocol is not one the profile uses",
            ),
        }
    }
}

impl std::error::Error for ProxyRefusal {}

/// How much of the proxied state a link took.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum Proxied {
    /// LCP only: authentication runs here as without a proxy (or there is none).
    Lcp,
    /// LCP and the authentication: no Challenge of ours, the proxied answer is judged.
    LcpAndAuth,
}

impl Link {
    /// Starts the link with LCP already Opened on the options of `lcp` (RFC 2661 §4.4.5),
    /// sending no Configure-Request: [`crate::Event::LinkUp`] comes at once, then the
    /// authentication phase or the network phase. With `auth` that fits the negotiated method
    /// (CHAP-MD5 with a 16-octet challenge and response, or PAP), authentication resumes from
    /// it instead of starting over ([`Proxied::LcpAndAuth`]); otherwise it starts as usual:
    /// our Challenge, or waiting for the peer's Authenticate-Request ([`Proxied::Lcp`]).
    ///
    /// # Errors
    ///
    /// A [`ProxyRefusal`] when the options are malformed or not what this link would have
    /// agreed to itself; the link is then unchanged, and [`Link::open`] negotiates afresh.
    pub fn open_proxied(
        &mut self,
        now: Instant,
        lcp: ProxiedLcp<'_>,
        auth: Option<ProxiedAuth>,
        rng: &mut dyn Rng,
    ) -> Result<Proxied, ProxyRefusal> {
        if self.flags & (flag::OPENED | flag::FINISHED) != 0 {
            return Err(ProxyRefusal::AlreadyOpened);
        }
        let opts = proxied_options(&self.lcp_opts, lcp, rng)?;
        self.lcp_opts = opts;
        self.flags |= flag::OPENED;
        self.phase = Phase::Establish;
        self.lcp
            .opened_by_proxy(self.shared.config.retries.max_configure);
        let start = auth.and_then(|a| self.proxied_start(a));
        let taken = start.is_some();
        self.link_up_with(now, rng, start);
        Ok(if taken {
            Proxied::LcpAndAuth
        } else {
            Proxied::Lcp
        })
    }

    /// Whether `auth` fits the methods LCP agreed on.
    fn proxied_start(&self, auth: ProxiedAuth) -> Option<ProxiedStart> {
        match auth {
            ProxiedAuth::Peer {
                identifier,
                user,
                credentials,
            } => {
                let method = match credentials {
                    PeerCredentials::Pap { .. } => AuthMethod::Pap,
                    PeerCredentials::ChapMd5 { .. } => AuthMethod::ChapMd5,
                    PeerCredentials::MsChapV2 { .. } => return None,
                };
                (self.lcp_opts.auth_peer() == Some(method)).then_some(ProxiedStart::Peer {
                    identifier,
                    user,
                    credentials,
                })
            }
            ProxiedAuth::ChapAnswered {
                identifier,
                challenge,
            } => (self.lcp_opts.auth_self == Some(AuthMethod::ChapMd5)
                && self.shared.config.credentials.is_some())
            .then_some(ProxiedStart::ChapAnswered {
                identifier,
                challenge,
            }),
            ProxiedAuth::PapSent { identifier } => (self.lcp_opts.auth_self
                == Some(AuthMethod::Pap)
                && self.shared.config.credentials.is_some())
            .then_some(ProxiedStart::PapSent { identifier }),
        }
    }
}

/// The LCP options a link would hold after agreeing to `lcp`, if it would have.
fn proxied_options(
    base: &LcpOptions,
    lcp: ProxiedLcp<'_>,
    rng: &mut dyn Rng,
) -> Result<LcpOptions, ProxyRefusal> {
    use ProxiedSide::{Local, Peer};
    let mut o = *base;
    o.restart();
    // What we requested (RFC 1661 §6): the values the peer acknowledged are ours now.
    let (mut mru, mut accm, mut auth, mut magic) = (None, None, None, None);
    for opt in OptionIter::new(lcp.local) {
        let opt = opt.map_err(|e| ProxyRefusal::Malformed(Local, e))?;
        let bad = ProxyRefusal::Unacceptable(Local, opt.kind, opt.value.len());
        match (opt.kind, opt.value.len()) {
            // An MRU we can receive: any a peer could sensibly Nak us to (as `nak` takes).
            (option::MRU, 2) => match opt.u16() {
                Some(m) if m >= 128 => mru = Some(m),
                _ => return Err(bad),
            },
            (option::ACCM, 4) => accm = opt.u32(),
            (option::AUTH, 2..) => match AuthMethod::from_option_value(opt.value) {
                Some(m) => auth = Some(m),
                None => return Err(bad),
            },
            (option::MAGIC, 4) => match opt.u32() {
                Some(m) if m != 0 => magic = Some(m),
                _ => return Err(bad),
            },
            // We read frames in every form: compressed ones are fine.
            (option::PFC | option::ACFC, 0) => {}
            _ => return Err(bad),
        }
    }
    // The method we authenticate the peer with must be one the profile allows; and a profile
    // that authenticates must have had the LAC ask for it.
    match auth {
        Some(m) if o.allows_auth_peer(m) => {}
        None if !o.authenticates_peer() => {}
        _ => return Err(ProxyRefusal::AuthMismatch),
    }
    o.set_proxied_request(mru.filter(|m| *m != DEFAULT_MRU), accm, auth, magic);
    // What the peer requested: each option must be one we would have acknowledged.
    for opt in OptionIter::new(lcp.peer) {
        let opt = opt.map_err(|e| ProxyRefusal::Malformed(Peer, e))?;
        if o.check(opt, rng) != Answer::Ack {
            return Err(ProxyRefusal::Unacceptable(Peer, opt.kind, opt.value.len()));
        }
    }
    for opt in OptionIter::new(lcp.peer).flatten() {
        o.accept(opt);
    }
    Ok(o)
}
