//! The PPP mode (`--ppp`): every session, once up at the L2TP level, runs a
//! [`ppp_proto::Link`] as the client (it authenticates with the user name and password, takes
//! the address it is given and answers LCP echoes), its frames carried in the session's L2TP
//! data messages ([`lower`]) on its tunnel's socket.
//!
//! A link starts passive: it opens when the LNS's first LCP Configure-Request arrives, which
//! shows that the LNS has the session (a first Configure-Request of ours could otherwise
//! overtake the ICCN still queued behind the tunnel's send window, and the LNS would drop
//! it), or after [`PASSIVE`] without one. With `--ppp-eager` ([`PppPlan::eager`]) it opens at
//! once instead, as Windows' and Apple's clients do: its first Configure-Request goes out
//! right behind the ICCN (in the same turn of the driver, after the ICCN was handed to the
//! socket), and the LCP Configure-Requests that the restart timer had to send again are
//! counted (`lcp_configure_requests_resent`): an LNS that lost the first one shows there.
//!
//! One [`Sessions`] value holds the links of every session in one slab indexed like the
//! driver's sessions, a map from the key of a received data message to its session, and one
//! timer heap keyed by session: no task or thread per session, and no allocation per frame
//! (frames are encoded into one reused buffer and handed to a send function).
//!
//! With `--ppp-echo-flood`, each session floods the LNS with LCP Echo-Requests once its PPP is
//! up ([`flood`]).

mod flood;
mod lower;
mod proxy;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use l2tp_proto::SessionParams;
use l2tp_proto::time::Instant;
use l2tp_proto::wire::header::{Packet, Version};
use ppp_proto::wire::{code, protocol, split_protocol};
use ppp_proto::{
    AuthMethod, Credentials, DownReason, Event, Ipv4Config, Link, LinkConfig, Password, Phase,
    Verdict,
};

use crate::report::{Latency, PppReport, Servers};
use crate::sys::OsRng;
use lower::{Lower, packet_key, session_key};

/// How long a link waits for the LNS's first Configure-Request before it sends its own.
const PASSIVE: Duration = Duration::from_secs(1);

/// What the command line asks of PPP.
#[derive(Clone, Debug)]
pub(crate) struct PppPlan {
    pub(crate) user: String,
    pub(crate) password: Password,
    pub(crate) auth: AuthMethod,
    /// Our own LCP Echo-Requests; `None`: we only answer the peer's.
    pub(crate) echo_interval: Option<Duration>,
    /// Ask IPCP for DNS and NBNS servers.
    pub(crate) ask_servers: bool,
    /// Act as a LAC that negotiated LCP and authenticated the caller: proxy AVPs in the ICCN
    /// ([`proxy`]).
    pub(crate) proxy: bool,
    /// Open each link as soon as its session is up, not passive ([`PASSIVE`]).
    pub(crate) eager: bool,
    /// LCP Echo-Requests each session sends a second once up ([`flood`]); 0: none.
    pub(crate) echo_flood: u32,
}

impl PppPlan {
    /// The configuration every link shares: a client that authenticates itself with `auth`
    /// only, does not authenticate the LNS, asks for an IPv4 address (and DNS and NBNS
    /// servers with `ask_servers`) and runs no IPv6CP.
    fn link_config(&self, timeout: Duration) -> LinkConfig {
        LinkConfig {
            authenticate_peer: Vec::new(),
            name: b"l2tp-loadgen".to_vec(),
            credentials: Some(self.credentials(self.user.clone())),
            accept_auth: vec![self.auth],
            auth_timeout: timeout,
            ipv4: Some(Ipv4Config {
                request_dns: self.ask_servers,
                request_nbns: self.ask_servers,
                ..Ipv4Config::default()
            }),
            ipv6: None,
            echo_interval: self.echo_interval,
            ..LinkConfig::default()
        }
    }

    /// The user name of session number `n` (from 1) when the name has a `%d` for the number,
    /// else `None`: every session shares the one name.
    fn numbered_user(&self, n: usize) -> Option<String> {
        self.user
            .contains(USER_NUMBER)
            .then(|| self.user.replace(USER_NUMBER, &n.to_string()))
    }

    fn credentials(&self, user: String) -> Credentials {
        Credentials {
            user: user.into_bytes(),
            password: self.password.clone(),
        }
    }
}

/// What stands for the session's number in a user name.
const USER_NUMBER: &str = "%d";

/// Where a session's PPP is.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
enum State {
    /// Its L2TP session is not up (yet).
    #[default]
    Idle,
    /// Up at the L2TP level; the link waits for the LNS's first LCP packet.
    Passive,
    /// LCP, authentication or IPCP is under way.
    Negotiating,
    /// IPCP is Opened.
    Up,
    /// It never came up.
    Failed,
    /// It went down after it was up, before the teardown.
    Lost,
    /// Closed by the teardown.
    Closed,
}

/// One session's PPP.
#[derive(Debug, Default)]
struct Slot {
    link: Option<Link>,
    lower: Option<Lower>,
    state: State,
    /// When its L2TP session came up.
    l2tp_up: Instant,
    /// The earliest deadline pushed on the heap for it.
    scheduled: Option<Instant>,
    address: Option<Ipv4Addr>,
    key: u64,
    /// It sent an LCP Configure-Request.
    lcp_requested: bool,
}

/// Counters for the report.
#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    negotiating: usize,
    up: usize,
    failed: usize,
    lost: usize,
    duplicates: usize,
    echo_requests: u64,
    /// LCP Configure-Requests and CHAP Challenges of the LNS.
    lcp_requests: u64,
    /// Our LCP Configure-Requests sent again when the restart timer ran out (RFC 1661 §4.6).
    lcp_requests_resent: u64,
    challenges: u64,
    frames_in: u64,
    frames_out: u64,
    /// Data messages for no session of ours, or refused by their session (cookie, version).
    data_discarded: u64,
}

/// Where to send a tunnel's data: its socket and the peer's address.
#[derive(Clone, Copy, Debug)]
struct Route {
    socket: usize,
    remote: SocketAddr,
}

/// Sends one datagram on socket `socket` to `remote`.
pub(crate) type SendFn<'a> = dyn FnMut(usize, SocketAddr, &[u8]) + 'a;

/// The PPP side of every session. See the [module documentation](self).
#[derive(Debug)]
pub(crate) struct Sessions {
    config: Arc<LinkConfig>,
    /// A user name with a number: each link gets a configuration of its own, made as it
    /// starts (see [`PppPlan::numbered_user`]).
    plan: Option<PppPlan>,
    auth: AuthMethod,
    version: Version,
    per_tunnel: usize,
    slots: Vec<Slot>,
    routes: Vec<Option<Route>>,
    by_key: HashMap<u64, usize>,
    timers: BinaryHeap<Reverse<(Instant, usize)>>,
    rng: OsRng,
    out: Vec<u8>,
    /// Every address received, with the number of sessions that hold it now.
    addresses: HashMap<Ipv4Addr, u32>,
    /// The DNS and NBNS servers received.
    servers: Servers,
    latencies: Vec<u64>,
    reasons: BTreeMap<String, u64>,
    /// Sessions whose PPP ended on our side: their L2TP sessions are to be closed (CDN).
    to_close: Vec<usize>,
    counts: Counts,
    /// When the last session came up or failed during the set-up.
    last_settled: Option<Instant>,
    /// With `--proxy`: the negotiation every session's PPP starts from.
    proxy: Option<proxy::LacNegotiation>,
    /// With `--ppp-eager`: links open as soon as their session is up.
    eager: bool,
    /// With `--ppp-echo-flood`: the sessions that flood the LNS.
    flood: Option<flood::Flood>,
}

impl Sessions {
    /// PPP for `tunnels` × `per_tunnel` sessions of `version`, each allowed `timeout` to
    /// authenticate.
    pub(crate) fn new(
        plan: &PppPlan,
        timeout: Duration,
        version: Version,
        tunnels: usize,
        per_tunnel: usize,
        rng: OsRng,
    ) -> Sessions {
        let mut slots = Vec::new();
        slots.resize_with(tunnels * per_tunnel, Slot::default);
        let mut rng = rng;
        let proxy = plan
            .proxy
            .then(|| proxy::LacNegotiation::new(plan, &mut rng));
        Sessions {
            config: Arc::new(plan.link_config(timeout)),
            plan: plan.user.contains(USER_NUMBER).then(|| plan.clone()),
            auth: plan.auth,
            version,
            per_tunnel,
            slots,
            routes: vec![None; tunnels],
            by_key: HashMap::new(),
            timers: BinaryHeap::new(),
            rng,
            out: Vec::with_capacity(2048),
            addresses: HashMap::new(),
            servers: Servers::default(),
            latencies: Vec::new(),
            reasons: BTreeMap::new(),
            to_close: Vec::new(),
            counts: Counts::default(),
            last_settled: None,
            proxy,
            eager: plan.eager,
            flood: (plan.echo_flood > 0).then(|| flood::Flood::new(plan.echo_flood)),
        }
    }

    /// With `--proxy`: the proxy AVPs every ICCN carries.
    pub(crate) fn proxy_avps(&self) -> Option<l2tp_proto::session::ProxyAvps> {
        self.proxy.as_ref().map(proxy::LacNegotiation::avps)
    }

    /// Tunnel `ti` is up: its data goes out on `socket` to `remote`.
    pub(crate) fn route(&mut self, ti: usize, socket: usize, remote: SocketAddr) {
        if let Some(r) = self.routes.get_mut(ti) {
            *r = Some(Route { socket, remote });
        }
    }

    /// The engine installs session `si` (just before it reports it up): how its frames travel.
    pub(crate) fn install(&mut self, si: usize, params: &SessionParams) {
        let Some(slot) = self.slots.get_mut(si) else {
            return;
        };
        if slot.state != State::Idle {
            return;
        }
        slot.lower = Some(Lower::of(self.version, params));
        slot.key = session_key(self.version, params.tunnel_id, params.session_id);
        self.by_key.insert(slot.key, si);
    }

    /// Session `si` is up at the L2TP level: its link waits (passive) for the LNS's first
    /// Configure-Request, at most [`PASSIVE`].
    pub(crate) fn start(&mut self, now: Instant, si: usize) {
        let Some(slot) = self.slots.get_mut(si) else {
            return;
        };
        if slot.state != State::Idle || slot.lower.is_none() {
            return;
        }
        let config = match self
            .plan
            .as_ref()
            .and_then(|p| Some((p, p.numbered_user(si + 1)?)))
        {
            Some((plan, user)) => Arc::new(LinkConfig {
                credentials: Some(plan.credentials(user)),
                ..LinkConfig::clone(&self.config)
            }),
            None => self.config.clone(),
        };
        let mut link = Link::new(config, &mut self.rng);
        slot.state = State::Passive;
        let mut at = now + PASSIVE;
        if self.eager && self.proxy.is_none() {
            // Its Configure-Request goes at its timer, due now: after the driver has sent
            // the ICCN that the session's coming up queued.
            slot.state = State::Negotiating;
            link.open(now);
            at = now;
        }
        if let Some(lac) = &self.proxy {
            // LCP is Opened and the answer given at the LAC: the LNS speaks next.
            // (Refused, which our own options cannot be, it negotiates as without.)
            if lac.open(&mut link, now, &mut self.rng).is_ok() {
                slot.state = State::Negotiating;
                at = link.poll_timeout().unwrap_or(at);
            }
        }
        slot.link = Some(link);
        slot.l2tp_up = now;
        self.counts.negotiating += 1;
        slot.scheduled = Some(at);
        self.timers.push(Reverse((at, si)));
    }

    /// A data message: handed to its session's link. Messages for no session of ours, or
    /// that their session refuses, are counted and dropped.
    pub(crate) fn handle_data(&mut self, now: Instant, packet: Packet<'_>, send: &mut SendFn<'_>) {
        let Some(si) = packet_key(&packet).and_then(|k| self.by_key.get(&k).copied()) else {
            self.counts.data_discarded += 1;
            return;
        };
        let Some(slot) = self.slots.get_mut(si) else {
            return;
        };
        let (Some(lower), Some(link)) = (&slot.lower, &mut slot.link) else {
            self.counts.data_discarded += 1;
            return;
        };
        let Ok(frame) = lower.frame(packet) else {
            self.counts.data_discarded += 1;
            return;
        };
        self.counts.frames_in += 1;
        match split_protocol(frame) {
            Some((protocol::CHAP, [1, ..])) => self.counts.challenges += 1,
            Some((protocol::LCP, [code::CONFIGURE_REQUEST, ..])) => self.counts.lcp_requests += 1,
            Some((protocol::LCP, [code::ECHO_REPLY, ..])) => {
                if let Some(f) = &mut self.flood {
                    f.reply();
                }
            }
            _ => {}
        }
        match split_protocol(frame) {
            // Answered in LCP Opened only (RFC 1661 §5.8).
            Some((protocol::LCP, [code::ECHO_REQUEST, ..]))
                if link.lcp_state() == ppp_proto::fsm::State::Opened =>
            {
                self.counts.echo_requests += 1
            }
            // RFC 1661 §4.3: Up, then Open; the packet is then taken in Req-Sent.
            Some((protocol::LCP, [code::CONFIGURE_REQUEST, ..]))
                if slot.state == State::Passive =>
            {
                slot.state = State::Negotiating;
                link.open(now);
            }
            _ => {}
        }
        link.handle_frame(now, frame, &mut self.rng);
        self.drive(now, si, send, false);
    }

    /// Runs the links whose timers are due, and sends the flood's batch when it is due.
    pub(crate) fn handle_timeout(&mut self, now: Instant, send: &mut SendFn<'_>) {
        self.flood(now, send);
        while let Some(&Reverse((at, si))) = self.timers.peek() {
            if at > now {
                return;
            }
            self.timers.pop();
            let Some(slot) = self.slots.get_mut(si) else {
                continue;
            };
            if slot.scheduled != Some(at) {
                continue;
            }
            slot.scheduled = None;
            if let Some(link) = &mut slot.link {
                if slot.state == State::Passive {
                    slot.state = State::Negotiating;
                    link.open(now);
                }
                link.handle_timeout(now);
                self.drive(now, si, send, true);
            }
        }
    }

    /// When [`Sessions::handle_timeout`] is due next.
    #[must_use]
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        let link = self.timers.peek().map(|Reverse((at, _))| *at);
        let flood = self.flood.as_ref().and_then(flood::Flood::poll_timeout);
        link.into_iter().chain(flood).min()
    }

    /// Sends the Echo-Requests of the flooding sessions, when a batch is due.
    fn flood(&mut self, now: Instant, send: &mut SendFn<'_>) {
        let Some(f) = &mut self.flood else {
            return;
        };
        let mut frame = Vec::with_capacity(12);
        for (si, n) in f.due(now) {
            let route = self
                .routes
                .get(si / self.per_tunnel.max(1))
                .copied()
                .flatten();
            let Some(lower) = self.slots.get_mut(si).and_then(|s| s.lower.as_mut()) else {
                continue;
            };
            for _ in 0..n {
                f.frame(si, &mut frame);
                lower.encode(&frame, &mut self.out);
                self.counts.frames_out += 1;
                if let Some(r) = route {
                    send(r.socket, r.remote, &self.out);
                }
            }
        }
    }

    /// The teardown begins: no more flooding.
    pub(crate) fn stop_flood(&mut self, now: Instant) {
        if let Some(f) = &mut self.flood {
            f.stop(now);
        }
    }

    /// The L2TP session of `si` went down. Returns whether its PPP accounts for it: it had
    /// started, and ends (a failure or loss with the link's own reason if it had one, else
    /// with `l2tp_reason`), unless this is the teardown.
    pub(crate) fn lower_down(
        &mut self,
        now: Instant,
        si: usize,
        teardown: bool,
        l2tp_reason: impl FnOnce() -> String,
    ) -> bool {
        let Some(slot) = self.slots.get_mut(si) else {
            return false;
        };
        let reason = slot.link.as_ref().and_then(Link::down_reason);
        let authenticating = slot
            .link
            .as_ref()
            .is_some_and(|l| l.phase() == Phase::Authenticate);
        let state = slot.state;
        match state {
            State::Idle => {
                self.forget(si);
                false
            }
            State::Passive | State::Negotiating | State::Up => {
                let why = match reason {
                    Some(r) => describe(r),
                    // Some LNSes answer wrong credentials with a CDN alone (l2tpns does).
                    None if authenticating => format!(
                        "ppp: authentication failed: the L2TP session went down before the \
                         peer's verdict (auth_no_verdict): {}",
                        l2tp_reason()
                    ),
                    None => format!("ppp: its L2TP session went down: {}", l2tp_reason()),
                };
                let end = if teardown { None } else { Some(why) };
                self.end(now, si, end);
                true
            }
            State::Failed | State::Lost | State::Closed => true,
        }
    }

    /// The set-up deadline passed: links still negotiating have failed for `why`.
    pub(crate) fn expire(&mut self, now: Instant, why: &str) {
        for si in 0..self.slots.len() {
            if self
                .slots
                .get(si)
                .is_some_and(|s| matches!(s.state, State::Passive | State::Negotiating))
            {
                self.end(now, si, Some(format!("ppp: {why}")));
            }
        }
    }

    /// The next session whose L2TP session is to be closed because its PPP ended on our side.
    pub(crate) fn pop_close(&mut self) -> Option<usize> {
        self.to_close.pop()
    }

    /// Links negotiating now (they count against `--concurrency`).
    pub(crate) fn negotiating(&self) -> usize {
        self.counts.negotiating
    }

    /// Sessions whose PPP is up now.
    pub(crate) fn up_now(&self) -> usize {
        self.slots.iter().filter(|s| s.state == State::Up).count()
    }

    /// Links that failed or were lost.
    pub(crate) fn failures(&self) -> usize {
        self.counts.failed + self.counts.lost + self.counts.duplicates
    }

    /// When the last link came up or failed during the set-up.
    pub(crate) fn last_settled(&self) -> Option<Instant> {
        self.last_settled
    }

    /// The report's PPP figures; the failure reasons are moved into `reasons`. `elapsed` is
    /// the time from the start of the run until the last link came up or failed.
    pub(crate) fn report(
        &mut self,
        elapsed: Duration,
        reasons: &mut BTreeMap<String, u64>,
    ) -> PppReport {
        for (why, n) in std::mem::take(&mut self.reasons) {
            *reasons.entry(why).or_default() += n;
        }
        self.latencies.sort_unstable();
        let c = self.counts;
        let rate = if elapsed.is_zero() || c.up == 0 {
            0.0
        } else {
            (c.up as f64 / elapsed.as_secs_f64() * 10.0).round() / 10.0
        };
        PppReport {
            auth: self.auth.name(),
            sessions_up: c.up,
            sessions_failed: c.failed,
            sessions_lost: c.lost,
            elapsed_s: (elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
            sessions_per_s: rate,
            setup_ms: Latency::of(&self.latencies),
            addresses: self.addresses.len(),
            duplicate_addresses: c.duplicates,
            servers: self.servers.clone(),
            echo_requests_answered: c.echo_requests,
            frames_in: c.frames_in,
            frames_out: c.frames_out,
            data_discarded: c.data_discarded,
            proxy: self.proxy.is_some(),
            lcp_configure_requests_in: c.lcp_requests,
            lcp_configure_requests_resent: c.lcp_requests_resent,
            chap_challenges_in: c.challenges,
            echo_flood: self.flood.as_ref().map(flood::Flood::report),
        }
    }

    /// Sends what the link of `si` has queued, acts on its events, re-arms its timer.
    /// `timed_out`: its timer ran out, so an LCP Configure-Request after its first is one
    /// sent again.
    fn drive(&mut self, now: Instant, si: usize, send: &mut SendFn<'_>, timed_out: bool) {
        let route = self
            .routes
            .get(si / self.per_tunnel.max(1))
            .copied()
            .flatten();
        loop {
            let Some(slot) = self.slots.get_mut(si) else {
                return;
            };
            let (Some(link), Some(lower)) = (&mut slot.link, &mut slot.lower) else {
                return;
            };
            while let Some(frame) = link.poll_transmit() {
                if let Some((protocol::LCP, [code::CONFIGURE_REQUEST, ..])) = split_protocol(frame)
                {
                    if timed_out && slot.lcp_requested {
                        self.counts.lcp_requests_resent += 1;
                    }
                    slot.lcp_requested = true;
                }
                lower.encode(frame, &mut self.out);
                self.counts.frames_out += 1;
                if let Some(r) = route {
                    send(r.socket, r.remote, &self.out);
                }
            }
            let Some(event) = link.poll_event() else {
                break;
            };
            self.on_event(now, si, event);
        }
        let Some(slot) = self.slots.get_mut(si) else {
            return;
        };
        if let Some(at) = slot.link.as_ref().and_then(Link::poll_timeout)
            && slot.scheduled.is_none_or(|s| at < s)
        {
            slot.scheduled = Some(at);
            self.timers.push(Reverse((at, si)));
        }
    }

    fn on_event(&mut self, now: Instant, si: usize, event: Event) {
        match event {
            Event::Ipv4Up(info) => {
                let given = |a: [Option<Ipv4Addr>; 2]| a.into_iter().flatten();
                self.servers.dns.extend(given(info.dns));
                self.servers.nbns.extend(given(info.nbns));
                self.address(now, si, info.local);
            }
            Event::Authenticate(req) => {
                // We authenticate no one; the configuration never asks for this.
                if let Some(link) = self.slots.get_mut(si).and_then(|s| s.link.as_mut()) {
                    let _ = link.auth_verdict(now, req.id, Verdict::reject("not an authenticator"));
                }
            }
            Event::Down(reason) => {
                let why = describe(reason);
                self.end(now, si, Some(why));
                self.to_close.push(si);
            }
            Event::LinkUp(info) => {
                if let Some(f) = &mut self.flood {
                    f.link_up(si, info.local_magic);
                }
            }
            Event::AuthRefused(_) | Event::Ipv4Down | Event::Ipv6Up(_) | Event::Ipv6Down => {}
        }
    }

    /// IPCP opened with `address` for us.
    fn address(&mut self, now: Instant, si: usize, address: Ipv4Addr) {
        let Some(slot) = self.slots.get_mut(si) else {
            return;
        };
        if address.is_unspecified() {
            self.end(now, si, Some("ppp: IPCP opened without an address".into()));
            self.to_close.push(si);
            return;
        }
        let previous = slot.address.replace(address);
        // IPCP opened again with the address the session had (a renegotiation): a clash with
        // another session's was counted when it was given, not again each time.
        let kept = slot.state == State::Up && previous == Some(address);
        match slot.state {
            State::Negotiating => {
                slot.state = State::Up;
                let micros = now.saturating_duration_since(slot.l2tp_up).as_micros();
                self.latencies
                    .push(u64::try_from(micros).unwrap_or(u64::MAX));
                self.counts.negotiating = self.counts.negotiating.saturating_sub(1);
                self.counts.up += 1;
                self.last_settled = Some(now);
                if let Some(f) = &mut self.flood {
                    f.start(now, si);
                }
            }
            State::Up => {
                // IPCP renegotiated.
                if let Some(old) = previous {
                    self.release(old);
                }
            }
            _ => return,
        }
        let holders = self.addresses.entry(address).or_default();
        if *holders > 0 && !kept {
            self.counts.duplicates += 1;
            *self
                .reasons
                .entry("ppp: address already given to another session (the LNS's fault)".into())
                .or_default() += 1;
        }
        *holders += 1;
    }

    fn release(&mut self, address: Ipv4Addr) {
        if let Some(n) = self.addresses.get_mut(&address) {
            *n = n.saturating_sub(1);
        }
    }

    /// The link of `si` ends: failed (it was negotiating), lost (it was up) or, without a
    /// reason, closed by the teardown.
    fn end(&mut self, now: Instant, si: usize, why: Option<String>) {
        let Some(slot) = self.slots.get_mut(si) else {
            return;
        };
        let was = slot.state;
        slot.link = None;
        if let Some(f) = &mut self.flood {
            f.end(now, si);
        }
        slot.state = match (was, &why) {
            (State::Passive | State::Negotiating, _) => {
                self.counts.negotiating = self.counts.negotiating.saturating_sub(1);
                self.counts.failed += 1;
                self.last_settled = Some(now);
                State::Failed
            }
            (State::Up, Some(_)) => {
                self.counts.lost += 1;
                State::Lost
            }
            (State::Up, None) => State::Closed,
            (other, _) => other,
        };
        if was == State::Up
            && let Some(a) = slot.address
        {
            self.release(a);
        }
        if let (State::Passive | State::Negotiating | State::Up, Some(why)) = (was, why) {
            let why = if was == State::Up {
                format!("{why} after it was up")
            } else {
                why
            };
            *self.reasons.entry(why).or_default() += 1;
        }
        self.forget(si);
    }

    fn forget(&mut self, si: usize) {
        if let Some(slot) = self.slots.get_mut(si)
            && slot.lower.take().is_some()
        {
            self.by_key.remove(&slot.key);
        }
    }
}

/// A failure reason as the report lists it: `ppp: TEXT (KIND)`.
fn describe(reason: DownReason) -> String {
    format!("ppp: {reason} ({})", reason.kind())
}

#[cfg(test)]
mod tests;
