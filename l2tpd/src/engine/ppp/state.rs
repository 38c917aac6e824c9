//! The state of native PPP: each session's [`PppLink`] (kept in its registry record) and what
//! the links share ([`Ppp`]: policies, pools, the timer list, randomness, counters). The inputs
//! and outputs that act on them are the parent module's.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Instant;

use l2tp_ctl as ctl;
use l2tp_proto::{self as proto, Refusal};
use ppp_proto::{AuthMethod, DownReason, Ipv4Info, Ipv6Info, Link, LinkInfo};

use super::aaa::{Aaa, RadiusLink};
use super::config::{self, PppPolicies};
use super::policy::{PppPolicy, Role};
use crate::dataplane::PppNetwork;
use crate::engine::clock::Clock;
use crate::engine::pools::Pools;

pub(in crate::engine) type PInstant = proto::time::Instant;

/// The PPP of one native-PPP session.
#[derive(Debug)]
pub(in crate::engine) struct PppLink {
    pub(in crate::engine) link: Link,
    pub(in crate::engine) role: Role,
    pub(in crate::engine) policy: Arc<PppPolicy>,
    /// Its entry in the timer list.
    pub(in crate::engine) deadline: Option<PInstant>,
    /// The user the peer authenticated as (server), or we did (client).
    pub(in crate::engine) user: Option<Box<[u8]>>,
    pub(in crate::engine) method: Option<AuthMethod>,
    pub(in crate::engine) info: Option<LinkInfo>,
    /// What IPCP and IPv6CP last negotiated (kept once they close, for the down event).
    pub(in crate::engine) ipv4: Option<Ipv4Info>,
    pub(in crate::engine) ipv6: Option<Ipv6Info>,
    /// Which of them are open now.
    pub(in crate::engine) open: NetOpen,
    /// When the first network protocol came up.
    pub(in crate::engine) up_since: Option<Instant>,
    /// Why the session must end, decided before the link says it is down (no address).
    pub(in crate::engine) refusal: Option<Refusal>,
    /// The session ends then with this CDN, unless the peer ends it first: the link ended at
    /// the peer's word, and the peer's CDN, which says why, is the one to hear.
    pub(in crate::engine) end_at: Option<Box<(PInstant, Refusal, String)>>,
    /// Whether the host is closing the link on purpose, and what ends its session then
    /// (`super::ending`).
    pub(in crate::engine) ending: Option<Ending>,
    /// A client's link opens then, or at the peer's first frame if sooner: an L2TPv2 LAC's
    /// session is up when its ICCN is queued, and a Configure-Request sent at once can reach
    /// the peer before the ICCN, which drops it and waits a Restart period.
    pub(in crate::engine) start_at: Option<PInstant>,
    /// The ACCM of the peer's last Set-Link-Info.
    pub(in crate::engine) sli_accm: Option<l2tp_proto::wire::avp::types::Accm>,
    /// RADIUS authentication and accounting, for a server link of a profile that uses it.
    pub(in crate::engine) radius: Option<Box<RadiusLink>>,
    /// The peer's interface identifier this link holds in [`Ppp::peer_ifids`] (0: none).
    pub(in crate::engine) peer_ifid: u64,
    /// The proxy AVPs of the LAC's ICCN (RFC 2661 §4.4.5), from the session's set-up until
    /// the link opens, when the profile takes proxy LCP.
    pub(in crate::engine) proxy: Option<Box<proto::session::ProxyAvps>>,
    /// What the link took of them.
    pub(in crate::engine) proxied: Option<ppp_proto::Proxied>,
    /// The MRU the link asks for: the profile's `mru`, else what the tunnel's underlay carries.
    pub(in crate::engine) mru: u16,
    /// The most this end sends in a packet, the peer's MRU aside: what the underlay carries
    /// in the headers we send, capped by the pseudowire profile's `mtu`.
    pub(in crate::engine) path_mtu: u16,
}

/// What ends the L2TP session of a link the host closes on purpose (`super::ending`).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(in crate::engine) enum Ending {
    /// Its own CDN, once the link is down or at its `end_at`.
    Session,
    /// Its tunnel's StopCCN, once every closing link of the tunnel is down or at the tunnel's
    /// deadline.
    Tunnel,
    /// The CDN went at `end_at`: nothing more to send when the link goes down.
    Ended,
}

/// Tunnels whose StopCCN waits for their links' Terminate-Acks (`super::ending`): one entry
/// per tunnel, however many sessions.
#[derive(Debug, Default)]
pub(in crate::engine) struct ClosingTunnels {
    /// By tunnel id: the tunnel's handle, its deadline and how many links are still closing.
    by_tid: HashMap<u32, (u64, PInstant, u32)>,
    /// (deadline, tunnel id).
    deadlines: BTreeSet<(PInstant, u32)>,
    /// How many links the host is closing whose L2TP session is still to end (`ending` is
    /// [`Ending::Session`] or [`Ending::Tunnel`]): the sessions `show system` and the metrics
    /// count as closing while their phase is still up, without a scan.
    links: usize,
}

impl ClosingTunnels {
    /// The earliest deadline.
    pub(in crate::engine) fn next(&self) -> Option<PInstant> {
        self.deadlines.first().map(|(t, _)| *t)
    }

    /// Whether tunnel `tid` waits.
    pub(in crate::engine) fn contains(&self, tid: u32) -> bool {
        self.by_tid.contains_key(&tid)
    }

    /// Tunnel `tid` (handle `handle`) waits until `at` for `left` links.
    pub(in crate::engine) fn insert(&mut self, tid: u32, handle: u64, at: PInstant, left: u32) {
        self.by_tid.insert(tid, (handle, at, left));
        self.deadlines.insert((at, tid));
    }

    /// How many tunnels wait for their links.
    pub(in crate::engine) fn len(&self) -> usize {
        self.by_tid.len()
    }

    /// How many links the host is closing whose L2TP session is still to end.
    pub(in crate::engine) fn links(&self) -> usize {
        self.links
    }

    /// Sets link `st`'s `ending` to `to`, keeping [`Self::links`] in step.
    pub(in crate::engine) fn set_ending(&mut self, st: &mut PppLink, to: Option<Ending>) {
        let counted = |e: Option<Ending>| matches!(e, Some(Ending::Session | Ending::Tunnel));
        match (counted(st.ending), counted(to)) {
            (false, true) => self.links += 1,
            (true, false) => self.links = self.links.saturating_sub(1),
            _ => {}
        }
        st.ending = to;
    }

    /// Whether no tunnel waits.
    pub(in crate::engine) fn is_empty(&self) -> bool {
        self.by_tid.is_empty()
    }

    pub(in crate::engine) fn remove(&mut self, tid: u32) -> Option<u64> {
        let (handle, at, _) = self.by_tid.remove(&tid)?;
        self.deadlines.remove(&(at, tid));
        Some(handle)
    }

    /// One closing link of tunnel `tid` is down: the tunnel's handle when it was the last.
    pub(in crate::engine) fn link_down(&mut self, tid: u32) -> Option<u64> {
        let entry = self.by_tid.get_mut(&tid)?;
        entry.2 = entry.2.saturating_sub(1);
        if entry.2 > 0 {
            return None;
        }
        self.remove(tid)
    }

    /// A tunnel whose deadline has passed.
    pub(in crate::engine) fn due(&mut self, now: PInstant) -> Option<u64> {
        let &(at, tid) = self.deadlines.first()?;
        if at > now {
            return None;
        }
        self.remove(tid)
    }
}

/// How long a client waits for the server's first frame before it speaks first.
pub(in crate::engine) const CLIENT_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// The network protocols open on a link.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub(in crate::engine) struct NetOpen {
    pub(in crate::engine) ipv4: bool,
    pub(in crate::engine) ipv6: bool,
}

impl PppLink {
    /// The data plane's view of the network layer, if any protocol is up.
    pub(in crate::engine) fn network(&self) -> Option<PppNetwork> {
        let ipv4 = self.ipv4.filter(|_| self.open.ipv4);
        let ipv6 = self.ipv6.filter(|_| self.open.ipv6);
        if ipv4.is_none() && ipv6.is_none() {
            return None;
        }
        let framing = self.info.map(|i| i.framing).unwrap_or_default();
        Some(PppNetwork {
            ipv4: ipv4.map(|i| (i.local, i.peer)),
            ipv6: ipv6.map(|i| (i.local.to_u64(), i.peer.to_u64())),
            mtu: self.mtu(),
            acfc: framing.acfc,
            pfc: framing.pfc,
        })
    }

    /// The MTU this end sends with: the peer's MRU (LCP lets a sender send less, RFC 1661
    /// §6.1), no more than the underlay carries without fragmentation nor the pseudowire
    /// profile's `mtu`, and Framed-MTU (RFC 2865 §5.12) caps it too.
    pub(in crate::engine) fn mtu(&self) -> u16 {
        let framed = self.radius.as_deref().and_then(|r| r.framed_mtu);
        let peer = self.info.map_or(1500, |i| i.peer_mru);
        let mtu = peer.min(self.path_mtu);
        framed.map_or(mtu, |f| mtu.min(f))
    }

    /// The user, as text for logs and `show` (bytes that are not UTF-8 replaced).
    pub(in crate::engine) fn user(&self) -> Option<String> {
        self.user
            .as_deref()
            .map(|u| String::from_utf8_lossy(u).into_owned())
    }

    /// Whether `name` is the session's user: the name the peer logged in with, or the
    /// User-Name of its Access-Accept (RADIUS may give another, RFC 2865 §5.1).
    pub(in crate::engine) fn is_user(&self, name: &[u8]) -> bool {
        self.user.as_deref() == Some(name)
            || self.radius.as_deref().and_then(|r| r.acct_user.as_deref()) == Some(name)
    }

    /// The peer's IPv4 address, once IPCP is up.
    pub(in crate::engine) fn peer_ipv4(&self) -> Option<Ipv4Addr> {
        self.ipv4.map(|i| i.peer)
    }

    /// What `show session` says of it.
    pub(in crate::engine) fn detail(&self, now: Instant) -> ctl::PppDetail {
        let c = self.link.counters();
        // The servers we give (server), or were given (client).
        let servers = match self.role {
            Role::Server => self.policy.server.ipv4.map(|c| {
                (self.radius.as_deref())
                    .and_then(|r| r.dns)
                    .unwrap_or(c.defaults.dns)
            }),
            Role::Client => self.ipv4.map(|i| i.dns),
        };
        let mut dns: Vec<Ipv4Addr> = servers.iter().flatten().flatten().copied().collect();
        dns.dedup();
        ctl::PppDetail {
            profile: self.policy.profile.clone(),
            role: self.role.label().to_owned(),
            phase: phase_label(self.link.phase()).to_owned(),
            user: self.user(),
            auth: self.method.map(method_label).map(str::to_owned),
            local_ipv4: self.ipv4.map(|i| i.local),
            peer_ipv4: self.peer_ipv4(),
            dns,
            local_ipv6_ifid: self.ipv6.map(|i| ctl::format_ifid(i.local.to_u64())),
            peer_ipv6_ifid: self.ipv6.map(|i| ctl::format_ifid(i.peer.to_u64())),
            // What LCP requested once up (a proxied LCP's, or a Nak's), else what it will.
            mru: Some(self.info.map_or(self.mru, |i| i.local_mru)),
            peer_mru: self.info.map(|i| i.peer_mru),
            mtu: self.info.map(|_| self.mtu()),
            uptime_s: self
                .up_since
                .filter(|_| self.network().is_some())
                .map_or(0, |t| now.saturating_duration_since(t).as_secs()),
            echo_sent: c.echo_sent,
            echo_missed: c.echo_missed,
            frames_in: c.frames_in,
            frames_out: c.frames_out,
            frames_discarded: c.malformed + c.stale + c.discarded,
            down_reason: self.link.down_reason().map(|r| r.kind().to_owned()),
            proxied: self.proxied.map(|p| {
                match p {
                    ppp_proto::Proxied::Lcp => "lcp",
                    ppp_proto::Proxied::LcpAndAuth => "lcp, authentication",
                }
                .to_owned()
            }),
            sli_accm: self
                .sli_accm
                .map(|a| format!("send {:#010x} receive {:#010x}", a.send, a.receive)),
            radius: self
                .radius
                .as_deref()
                .map(|rl| Box::new(rl.detail(&self.policy))),
        }
    }

    pub(in crate::engine) fn event_info(&self, reason: Option<&DownReason>) -> ctl::PppEventInfo {
        ctl::PppEventInfo {
            user: self.user(),
            auth: self.method.map(method_label).map(str::to_owned),
            peer_ipv4: self.peer_ipv4(),
            local_ipv4: self.ipv4.map(|i| i.local),
            peer_ipv6_ifid: self.ipv6.map(|i| ctl::format_ifid(i.peer.to_u64())),
            reason: reason.map(|r| r.kind().to_owned()),
        }
    }
}

/// `pap`, `chap`, `mschapv2`.
pub(in crate::engine) fn method_label(m: AuthMethod) -> &'static str {
    match m {
        AuthMethod::Pap => "pap",
        AuthMethod::ChapMd5 => "chap",
        AuthMethod::MsChapV2 => "mschapv2",
    }
}

pub(in crate::engine) fn phase_label(p: ppp_proto::Phase) -> &'static str {
    match p {
        ppp_proto::Phase::Dead => "dead",
        ppp_proto::Phase::Establish => "establish",
        ppp_proto::Phase::Authenticate => "authenticate",
        ppp_proto::Phase::Network => "network",
        ppp_proto::Phase::Terminate => "terminate",
    }
}

/// A fixed address that went from an older session to a newer one of the same user
/// (`relogin replace`).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(in crate::engine) struct Replacement {
    /// The session that held the address; it is to be disconnected.
    pub(in crate::engine) older: u64,
    /// The session that has it now.
    pub(in crate::engine) newer: u64,
    pub(in crate::engine) addr: std::net::Ipv4Addr,
}

/// Native PPP's counters, for `show system` and the metrics.
#[derive(Clone, Debug, Default)]
pub(in crate::engine) struct PppCounters {
    /// Links whose network came up.
    pub(in crate::engine) up: u64,
    /// Links ended, by reason.
    pub(in crate::engine) down: BTreeMap<&'static str, u64>,
    /// Peers refused at authentication, by reason.
    pub(in crate::engine) auth_failures: BTreeMap<&'static str, u64>,
    /// Authenticated peers refused for want of an address, by reason.
    pub(in crate::engine) address_refusals: BTreeMap<&'static str, u64>,
    /// Values of Access-Accepts and CoA-Requests left out (or raised to l2tpd's least), by
    /// kind (`values`).
    pub(in crate::engine) values_ignored: BTreeMap<&'static str, u64>,
    /// Frames for no native-PPP session.
    pub(in crate::engine) frames_discarded: u64,
    /// Frames a link found malformed (bad lengths, options or fields) and dropped.
    pub(in crate::engine) frames_malformed: u64,
    /// Well-formed frames a link had no use for (a duplicate or late answer, RFC 1661 §5.2)
    /// and dropped.
    pub(in crate::engine) frames_stale: u64,
    /// Renegotiations peers started (LCP, IPCP or IPv6CP leaving Opened on their packet).
    pub(in crate::engine) renegotiations: u64,
    /// What became of the proxy LCP and authentication AVPs of LACs' ICCNs, by outcome.
    pub(in crate::engine) proxy: BTreeMap<&'static str, u64>,
}

/// The link timers run at the end of slots this long ([`Ppp::poll_timeout`]): a timer is
/// late by less than that, far less than the seconds of PPP's restart and echo intervals.
pub(in crate::engine) const TIMER_SLOT: std::time::Duration = std::time::Duration::from_millis(20);

/// What every native-PPP link shares. See the [module documentation](self).
pub(in crate::engine) struct Ppp {
    pub(in crate::engine) clock: Clock,
    pub(in crate::engine) rng: Box<dyn proto::Rng + Send>,
    /// (deadline, session handle) of every link with a timer running.
    pub(in crate::engine) timers: BTreeSet<(PInstant, u64)>,
    pub(in crate::engine) policies: HashMap<String, Arc<PppPolicy>>,
    pub(in crate::engine) pools: Pools,
    pub(in crate::engine) counters: PppCounters,
    /// The RADIUS requests of every link.
    pub(in crate::engine) aaa: Aaa,
    /// Our IPv6 interface identifier on every link whose profile sets none: one link-local
    /// address `fe80::<id>` for the userspace data plane's shared TUN, however many sessions.
    pub(in crate::engine) local_ifid: u64,
    /// The peers' IPv6 interface identifiers while their IPv6CP is up, and whose each is (the
    /// session handle): a peer asking for one another session's peer has is Nak'ed, so that
    /// the peers' link-local addresses on a shared TUN are apart.
    pub(in crate::engine) peer_ifids: HashMap<u64, u64>,
    /// The prefixes RADIUS routed to the sessions.
    pub(in crate::engine) routed: super::values::Routed,
    /// Fixed addresses just taken from older sessions of their users, whose sessions are to
    /// be disconnected (`relogin replace`).
    pub(in crate::engine) replaced: Vec<Replacement>,
    /// Tunnels whose StopCCN waits for the Terminate-Acks of their links.
    pub(in crate::engine) closing: ClosingTunnels,
    /// Set by tests that give the policies directly: the config's do not replace them.
    #[cfg(test)]
    pub(in crate::engine) pinned: bool,
}

impl std::fmt::Debug for Ppp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ppp")
            .field("timers", &self.timers.len())
            .field("policies", &self.policies.keys().collect::<Vec<_>>())
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

impl Ppp {
    /// No policies, users or pools yet; `clock` is the protocol's, `rng` a source for magic
    /// numbers, challenges and interface identifiers.
    pub(in crate::engine) fn new(clock: Clock, mut rng: Box<dyn proto::Rng + Send>) -> Self {
        let mut prefix = [0u8; 4];
        rng.fill(&mut prefix);
        // RFC 5072 §4.1: non-zero, the "u" bit clear (not globally unique).
        let local_ifid = (rng.next_u64() & !0x0200_0000_0000_0000).max(1);
        Ppp {
            aaa: Aaa::new(u32::from_be_bytes(prefix)),
            local_ifid,
            peer_ifids: HashMap::new(),
            routed: Default::default(),
            replaced: Vec::new(),
            closing: Default::default(),
            clock,
            rng,
            timers: BTreeSet::new(),
            policies: HashMap::new(),
            pools: Pools::default(),
            counters: PppCounters::default(),
            #[cfg(test)]
            pinned: false,
        }
    }

    /// Takes the ppp profiles, users and pools of `config` (a load or a reload). Running links
    /// keep the policy they started with, and their addresses.
    /// `policies` are those of `config`'s ppp profiles, built beforehand ([`PppPolicies::of`],
    /// off the main loop on a reload). The policies they replace are handed back, for the
    /// caller to drop where it likes: a users index of 100 000 users takes a while to free.
    pub(in crate::engine) fn apply(
        &mut self,
        config: &l2tp_config::Config,
        policies: PppPolicies,
    ) -> HashMap<String, Arc<PppPolicy>> {
        #[cfg(test)]
        if self.pinned {
            return HashMap::new();
        }
        let pools = config::pools(config);
        let old = std::mem::take(&mut self.policies);
        self.configure(policies.0, pools);
        old
    }

    /// Replaces the policies and pools. Running links keep the policy they started with and
    /// their addresses. Links with IPv6CP take [`Ppp::local_ifid`] as theirs unless the
    /// profile gives one.
    pub(in crate::engine) fn configure<'a>(
        &mut self,
        policies: impl IntoIterator<Item = PppPolicy>,
        pools: impl IntoIterator<Item = (&'a str, &'a [(Ipv4Addr, Ipv4Addr)])>,
    ) {
        let local = ppp_proto::InterfaceId::from_u64(self.local_ifid);
        self.policies = policies
            .into_iter()
            .map(|mut p| {
                for c in [&mut p.server, &mut p.client] {
                    if c.ipv6.is_some_and(|v6| v6.defaults.local.is_none())
                        && let Some(v6) = Arc::make_mut(c).ipv6.as_mut()
                    {
                        v6.defaults.local = Some(local);
                    }
                }
                (p.profile.clone(), Arc::new(p))
            })
            .collect();
        // The users' fixed addresses, each users index once (profiles share them).
        let mut seen = BTreeSet::new();
        let fixed: Vec<Ipv4Addr> = self
            .policies
            .values()
            .flat_map(|p| {
                let first = seen.insert(Arc::as_ptr(&p.users));
                let users = first.then(|| p.users.fixed_addresses());
                users.into_iter().flatten().chain(p.peer_ip)
            })
            .collect();
        self.pools.configure(pools, fixed);
    }

    /// The policy of ppp profile `name`.
    pub(in crate::engine) fn policy(&self, name: &str) -> Option<Arc<PppPolicy>> {
        self.policies.get(name).cloned()
    }

    /// When the link timers are next run: the end of the [`TIMER_SLOT`] that holds the
    /// earliest, so that the timers of many links (their echoes, most often) that fall due in
    /// one slot are run in one wake-up and their frames go out together.
    pub(in crate::engine) fn poll_timeout(&self) -> Option<Instant> {
        let links = self.timers.first().map(|(t, _)| *t);
        let t = [links, self.closing.next()].into_iter().flatten().min()?;
        let slot = TIMER_SLOT.as_micros() as u64;
        let end = t.as_micros().div_ceil(slot).saturating_mul(slot);
        Some(self.clock.to_std(PInstant::from_micros(end)))
    }

    /// A new link for a session in `role` under `policy` (not opened yet).
    pub(in crate::engine) fn new_link(
        &mut self,
        role: Role,
        policy: Arc<PppPolicy>,
    ) -> Box<PppLink> {
        let link = Link::new(Arc::clone(policy.link_config(role)), self.rng.as_mut());
        let radius = (role == Role::Server && policy.radius.is_used())
            .then(|| RadiusLink::new(self.aaa.session_id()));
        Box::new(PppLink {
            link,
            role,
            policy,
            deadline: None,
            user: None,
            method: None,
            info: None,
            ipv4: None,
            ipv6: None,
            open: NetOpen::default(),
            up_since: None,
            refusal: None,
            end_at: None,
            ending: None,
            start_at: None,
            sli_accm: None,
            radius,
            peer_ifid: 0,
            proxy: None,
            proxied: None,
            mru: 1500,
            path_mtu: 1500,
        })
    }

    /// Session `handle`'s peer has interface identifier `id` (0: none) from the moment its
    /// link acknowledges it (before IPv6CP is Opened, so that two negotiations at once cannot
    /// both take one identifier) until IPv6CP or the link goes down. An identifier another
    /// session's peer had first stays that one's.
    pub(in crate::engine) fn note_peer_ifid(&mut self, handle: u64, st: &mut PppLink, id: u64) {
        let old = std::mem::replace(&mut st.peer_ifid, id);
        if old == id {
            return;
        }
        if old != 0 && self.peer_ifids.get(&old) == Some(&handle) {
            self.peer_ifids.remove(&old);
        }
        if id != 0 {
            self.peer_ifids.entry(id).or_insert(handle);
        }
    }

    pub(in crate::engine) fn reschedule(&mut self, handle: u64, st: &mut PppLink) {
        let next = [
            st.link.poll_timeout(),
            st.end_at.as_deref().map(|e| e.0),
            st.start_at,
            st.radius.as_deref().and_then(|r| r.interim_at),
        ]
        .into_iter()
        .flatten()
        .min();
        if next != st.deadline {
            if let Some(old) = st.deadline {
                self.timers.remove(&(old, handle));
            }
            if let Some(new) = next {
                self.timers.insert((new, handle));
            }
            st.deadline = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::super::clock::{Clock, OsRng};
    use super::*;

    #[test]
    fn link_timers_wake_the_engine_at_the_end_of_their_slot() {
        let epoch = Instant::now();
        let mut ppp = Ppp::new(Clock::new(epoch), Box::new(OsRng));
        assert_eq!(ppp.poll_timeout(), None);
        let at = |ms: u64| epoch + Duration::from_millis(ms);
        // Deadlines at 30.001 s and 30.015 s fall in the slot that ends at 30.020 s: one
        // wake-up runs both; 30.021 s waits for the next.
        for (ms, handle) in [(30_021, 3), (30_015, 2), (30_001, 1)] {
            ppp.timers
                .insert((PInstant::from_micros(ms * 1000), handle));
        }
        assert_eq!(ppp.poll_timeout(), Some(at(30_020)));
        assert!(TIMER_SLOT <= Duration::from_millis(20));
        // A deadline on a slot's end is not put off.
        ppp.timers.clear();
        ppp.timers.insert((PInstant::from_micros(40_000_000), 1));
        assert_eq!(ppp.poll_timeout(), Some(at(40_000)));
    }
}
