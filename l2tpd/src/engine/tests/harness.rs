//! Two or more engines on a virtual network: datagrams pass between them in memory, time is
//! virtual and jumps to the next deadline, randomness is seeded, and data-plane requests are
//! answered as the `none` data plane answers them. Optional seeded loss.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use l2tp_config::Config;
use l2tp_ctl::{self as ctl, EventKind, Response};
use l2tp_proto::wire::header::Packet;
use l2tp_proto::{self as proto, Rng};

use super::super::{Command, Engine, EngineEvent, HostFacts, RadiusOutcome, RadiusRequest};
use crate::dataplane::{
    Dataplane, DataplaneError, DataplaneOutcome, DataplaneRequest, NoneDataplane,
};

/// Parses a config text, panicking with the rendered diagnostics.
pub(crate) fn parse(text: &str) -> Config {
    match l2tp_config::parse("t.conf", text) {
        Ok(c) => c,
        Err(d) => panic!("{}", l2tp_config::render_all(&d, text)),
    }
}

/// The address of node `i`: 192.0.2.(i+1), port 1701.
pub(crate) fn addr(i: usize) -> SocketAddr {
    let last = u8::try_from(i + 1).unwrap_or(u8::MAX);
    SocketAddr::from(([192, 0, 2, last], 1701))
}

fn facts(i: usize) -> HostFacts {
    HostFacts {
        listen: vec![addr(i)],
        ip_listen: vec![addr(i).ip()],
        ip_tunnel_sockets: false,
        control_socket: "/nonexistent/l2tpd.sock".into(),
        host_name: format!("node{i}"),
        router_id: 0x0a00_0001 + u32::try_from(i).unwrap_or(0),
        native_ppp: true,
    }
}

/// One daemon's engine and what it reported.
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) engine: Engine,
    dataplane: NoneDataplane,
    /// Every watcher event, in order.
    pub(crate) events: Vec<ctl::Event>,
    /// Every data-plane request, in order.
    pub(crate) requests: Vec<DataplaneRequest>,
    /// Every user script to run, in order.
    pub(crate) scripts: Vec<crate::scripts::ScriptEvent>,
    /// Datagrams sent, with the time.
    pub(crate) sent: Vec<(Duration, proto::Transmit)>,
    /// How many names it asked to resolve.
    pub(crate) resolves: usize,
    /// Every RADIUS request, in order.
    pub(crate) radius: Vec<RadiusRequest>,
    /// RADIUS requests and data-plane removals of sessions, in the order asked:
    /// `radius:start`, `radius:cancel`, `dataplane:remove_session TID/SID`, ...
    pub(crate) order: Vec<String>,
    /// The goodbyes it sent, with the time, in order: `lcp:terminate-request TID/SID`,
    /// `lcp:terminate-ack TID/SID` (PPP frames, whether or not they arrive), `l2tp:CDN`,
    /// `l2tp:StopCCN`.
    pub(crate) goodbyes: Vec<(Duration, String)>,
    /// Answers its RADIUS requests: the outcome, or `None` to leave one unanswered.
    pub(crate) radius_server: Option<RadiusServer>,
    /// When set, its data plane refuses every session with this cause
    /// (`DataplaneError::Unavailable`).
    pub(crate) refuse_sessions: Option<String>,
}

/// Plays the RADIUS servers of a node.
#[allow(clippy::type_complexity)]
pub(crate) struct RadiusServer(
    pub(crate)  Box<
        dyn FnMut(
            radius_proto::client::Service,
            &radius_proto::Attributes,
        ) -> Option<RadiusOutcome>,
    >,
);

impl std::fmt::Debug for RadiusServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RadiusServer")
    }
}

impl Node {
    /// Whether a watcher event of `kind` about tunnel `tid` was reported.
    pub(crate) fn saw(&self, kind: EventKind) -> usize {
        self.events.iter().filter(|e| e.event == kind).count()
    }

    /// The result (the CDN's) of the first session-down event.
    pub(crate) fn first_cdn(&self) -> ctl::ResultCode {
        self.events
            .iter()
            .find(|e| e.event == EventKind::SessionDown)
            .and_then(|e| e.result.clone())
            .unwrap_or_else(|| panic!("no session-down with a result: {:#?}", self.events))
    }

    /// The result (the StopCCN's) of the first tunnel-down event, if any.
    pub(crate) fn first_tunnel_down(&self) -> Option<ctl::ResultCode> {
        self.events
            .iter()
            .find(|e| e.event == EventKind::TunnelDown)
            .and_then(|e| e.result.clone())
    }

    /// The PPP part of the first event of `kind`.
    pub(crate) fn first_ppp(&self, kind: EventKind) -> ctl::PppEventInfo {
        self.events
            .iter()
            .find(|e| e.event == kind)
            .and_then(|e| e.ppp.as_deref().cloned())
            .unwrap_or_else(|| panic!("no {kind:?} event with PPP: {:#?}", self.events))
    }

    /// How many events it has reported and requests it has made of the data plane, for
    /// [`Net::quiet_since`].
    pub(crate) fn marks(&self) -> (usize, usize) {
        (self.events.len(), self.requests.len())
    }

    /// The tunnels and sessions up now.
    pub(crate) fn up(&self) -> (u32, u32) {
        let c = self.engine.counts();
        (c.tunnels_up, c.sessions_up)
    }
}

/// Engines on one virtual network.
#[derive(Debug)]
pub(crate) struct Net {
    pub(crate) nodes: Vec<Node>,
    start: Instant,
    pub(crate) now: Instant,
    /// Chance (per million) that a datagram is lost.
    loss_ppm: u32,
    /// Every datagram is lost while this is set.
    pub(crate) blackhole: bool,
    /// What the virtual resolver answers, by name: addresses, or no answer at all (`None`).
    /// A name not listed does not resolve.
    pub(crate) dns: std::collections::HashMap<String, Option<Vec<std::net::IpAddr>>>,
    /// Names asked for and not answered yet, by node.
    unanswered: Vec<(usize, String)>,
    /// PPP frames sent and not delivered yet: (node, tid, sid, frame).
    ppp_flight: Vec<(usize, u32, u32, Vec<u8>)>,
    /// RADIUS answers not delivered yet: (node, key, outcome).
    radius_flight: Vec<(usize, u64, RadiusOutcome)>,
    /// Decides, for each PPP frame node `i` sends on its session (tid, sid), whether it
    /// arrives (it may change it); every frame arrives when unset.
    pub(crate) ppp_wire: Option<PppWire>,
    /// Decides, for each L2TP datagram from node `i` to node `j`, what arrives instead: none,
    /// the datagram (perhaps changed), or several; every datagram arrives when unset.
    pub(crate) l2tp_wire: Option<L2tpWire>,
    /// The UDP source port of what node `i` sends, where not its own (a NAT's mapping).
    pub(crate) source_ports: std::collections::HashMap<usize, u16>,
    rng: proto::DeterministicRng,
}

/// What happens to an L2TP datagram on the virtual wire: the datagrams that arrive instead.
#[allow(clippy::type_complexity)]
pub(crate) struct L2tpWire(pub(crate) Box<dyn FnMut(usize, usize, Vec<u8>) -> Vec<Vec<u8>>>);

impl std::fmt::Debug for L2tpWire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("L2tpWire")
    }
}

/// What happens to a PPP frame on the virtual wire: `true` to deliver it (perhaps changed).
#[allow(clippy::type_complexity)]
pub(crate) struct PppWire(pub(crate) Box<dyn FnMut(usize, (u32, u32), &mut Vec<u8>) -> bool>);

impl std::fmt::Debug for PppWire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PppWire")
    }
}

impl Net {
    /// The L2TPv2 Message Types of the control messages node `node` sent since its `from`th
    /// datagram.
    pub(crate) fn sent_v2_types(&self, node: usize, from: usize) -> Vec<u16> {
        let field = |c: &[u8], i: usize| Some(u16::from_be_bytes([*c.get(i)?, *c.get(i + 1)?]));
        self.nodes[node].sent[from..]
            .iter()
            .filter_map(|(_, t)| {
                let c = &t.contents;
                (c.first()? & 0x80 != 0 && field(c, 16)? == 0).then_some(())?;
                field(c, 18)
            })
            .collect()
    }

    /// Engines for `configs`, node `i` at [`addr`]`(i)`, each started with its config.
    pub(crate) fn new(configs: &[&str], seed: u64) -> Net {
        Self::unstarted(configs, seed).start()
    }

    /// As [`Net::new`], but the configs are not applied yet ([`Net::start`]).
    pub(crate) fn unstarted(configs: &[&str], seed: u64) -> Net {
        let start = Instant::now();
        let nodes = configs
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let config = Arc::new(parse(text));
                let rng = Box::new(proto::DeterministicRng::new(seed + i as u64));
                Node {
                    engine: Engine::with_rng(config, facts(i), start, rng),
                    dataplane: NoneDataplane::default(),
                    events: Vec::new(),
                    requests: Vec::new(),
                    scripts: Vec::new(),
                    sent: Vec::new(),
                    resolves: 0,
                    radius: Vec::new(),
                    order: Vec::new(),
                    goodbyes: Vec::new(),
                    radius_server: None,
                    refuse_sessions: None,
                }
            })
            .collect();
        Net {
            nodes,
            start,
            now: start,
            loss_ppm: 0,
            blackhole: false,
            dns: std::collections::HashMap::new(),
            unanswered: Vec::new(),
            ppp_flight: Vec::new(),
            radius_flight: Vec::new(),
            ppp_wire: None,
            l2tp_wire: None,
            source_ports: std::collections::HashMap::new(),
            rng: proto::DeterministicRng::new(seed ^ 0x5eed),
        }
    }

    /// Node `i` listens on the unspecified address (0.0.0.0, port 1701), as by default,
    /// where it is still [`Net::unstarted`].
    pub(crate) fn listening_on_any(mut self, i: usize, seed: u64) -> Net {
        let config = Arc::clone(self.nodes[i].engine.config());
        let rng = Box::new(proto::DeterministicRng::new(seed + i as u64));
        let mut f = facts(i);
        f.listen = vec![SocketAddr::from(([0, 0, 0, 0], addr(i).port()))];
        f.ip_listen = vec![std::net::Ipv4Addr::UNSPECIFIED.into()];
        self.nodes[i].engine = Engine::with_rng(config, f, self.now, rng);
        self
    }

    /// Starts every engine with its config.
    pub(crate) fn start(mut self) -> Net {
        let now = self.now;
        for n in &mut self.nodes {
            let config = Arc::clone(n.engine.config());
            n.engine.apply_config(now, config, None);
        }
        self.settle();
        self
    }

    /// Loses each datagram with probability `ppm` per million from now on.
    pub(crate) fn with_loss(mut self, ppm: u32) -> Self {
        self.loss_ppm = ppm;
        self
    }

    /// Virtual time since the start.
    pub(crate) fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    /// Delivers datagrams and answers data-plane requests until nothing moves.
    pub(crate) fn settle(&mut self) {
        for _ in 0..100_000 {
            let mut moved = false;
            for i in 0..self.nodes.len() {
                moved |= self.drain_events(i);
            }
            let mut flight = Vec::new();
            for i in 0..self.nodes.len() {
                while let Some(t) = self.nodes[i].engine.poll_transmit() {
                    let at = self.now - self.start;
                    if let Some(m) = goodbye(&t) {
                        self.nodes[i].goodbyes.push((at, format!("l2tp:{m}")));
                    }
                    self.nodes[i].sent.push((at, t.clone()));
                    flight.push((i, t));
                }
            }
            for (i, key, outcome) in std::mem::take(&mut self.radius_flight) {
                moved = true;
                let now = self.now;
                self.nodes[i].engine.handle_radius(now, key, outcome);
            }
            for (i, tid, sid, mut frame) in std::mem::take(&mut self.ppp_flight) {
                moved = true;
                if let Some(wire) = self.ppp_wire.as_mut()
                    && !(wire.0)(i, (tid, sid), &mut frame)
                {
                    continue;
                }
                if let Some((to, peer)) = self.ppp_peer(i, tid, sid) {
                    let now = self.now;
                    self.nodes[to].engine.handle_ppp_frame(now, peer, &frame);
                }
            }
            for (sender, t) in flight {
                moved = true;
                if self.lost() {
                    continue;
                }
                let Some(to) = (0..self.nodes.len()).find(|j| addr(*j).ip() == t.remote.ip())
                else {
                    continue;
                };
                let local = SocketAddr::new(t.remote.ip(), addr(to).port());
                // The sender's address where it left the choice to its socket (L2TPv3 over
                // IP sends from an unbound address).
                let from_ip = if t.local.ip().is_unspecified() {
                    addr(sender).ip()
                } else {
                    t.local.ip()
                };
                let from = if t.encap == l2tp_proto::wire::header::Encapsulation::Ip {
                    SocketAddr::new(from_ip, 0)
                } else {
                    let port = self.source_ports.get(&sender).copied();
                    SocketAddr::new(from_ip, port.unwrap_or(t.local.port()))
                };
                let now = self.now;
                let Some(wire) = self.l2tp_wire.as_mut() else {
                    let packet = Packet::parse(&t.contents, t.encap);
                    self.nodes[to]
                        .engine
                        .handle_packet(now, (local, from), t.encap, packet);
                    continue;
                };
                for d in (wire.0)(sender, to, t.contents.to_vec()) {
                    let packet = Packet::parse(&d, t.encap);
                    self.nodes[to]
                        .engine
                        .handle_packet(now, (local, from), t.encap, packet);
                }
            }
            if !moved {
                return;
            }
        }
        panic!("the network never settled");
    }

    /// Where a PPP frame of node `i`'s session `tid`/`sid` goes: the peer node and its ids
    /// for the session, from the data-plane specs node `i` was given.
    fn ppp_peer(&self, i: usize, tid: u32, sid: u32) -> Option<(usize, (u32, u32))> {
        let reqs = &self.nodes[i].requests;
        let session = reqs.iter().rev().find_map(|r| match r {
            DataplaneRequest::InstallSession(s) if (s.tid, s.sid) == (tid, sid) => Some(s),
            _ => None,
        })?;
        let peer = reqs.iter().rev().find_map(|r| match r {
            DataplaneRequest::InstallTunnel(t) if t.tid == tid => Some(t.peer),
            _ => None,
        })?;
        let to = (0..self.nodes.len()).find(|j| addr(*j).ip() == peer.ip())?;
        Some((to, (session.peer_tid, session.peer_sid)))
    }

    fn lost(&mut self) -> bool {
        if self.blackhole {
            return true;
        }
        if self.loss_ppm == 0 {
            return false;
        }
        let mut b = [0u8; 4];
        self.rng.fill(&mut b);
        u32::from_be_bytes(b) % 1_000_000 < self.loss_ppm
    }

    fn drain_events(&mut self, i: usize) -> bool {
        let now = self.now;
        let mut moved = self.answer_names(i);
        let node = &mut self.nodes[i];
        while let Some(e) = node.engine.poll_event() {
            moved = true;
            match e {
                EngineEvent::Notify(ev) => node.events.push(ev),
                EngineEvent::Dataplane(DataplaneRequest::SendPpp { tid, sid, frame }) => {
                    // An IPCP Configure-Ack (RFC 1332 §2, RFC 1661 §5.2).
                    let f = frame.strip_prefix(&[0xff, 0x03]).unwrap_or(&frame);
                    if f.starts_with(&[0x80, 0x21, 2]) {
                        node.order.push(format!("ppp:ipcp-ack {tid}/{sid}"));
                    }
                    // LCP Terminate-Request and -Ack (RFC 1661 §5.5).
                    for (code, what) in [(5, "terminate-request"), (6, "terminate-ack")] {
                        if f.starts_with(&[0xc0, 0x21, code]) {
                            let at = now - self.start;
                            node.goodbyes.push((at, format!("lcp:{what} {tid}/{sid}")));
                        }
                    }
                    self.ppp_flight.push((i, tid, sid, frame));
                }
                EngineEvent::Dataplane(req) => {
                    match &req {
                        DataplaneRequest::RemoveSession { tid, sid } => node
                            .order
                            .push(format!("dataplane:remove_session {tid}/{sid}")),
                        DataplaneRequest::PppUp { tid, sid, net } if net.ipv4.is_some() => {
                            node.order
                                .push(format!("dataplane:ppp_up ipv4 {tid}/{sid}"));
                        }
                        _ => {}
                    }
                    let outcome = match (&req, &node.refuse_sessions) {
                        (DataplaneRequest::InstallSession(spec), Some(why)) => {
                            DataplaneOutcome::SessionInstalled {
                                tid: spec.tid,
                                sid: spec.sid,
                                result: Err(DataplaneError::Unavailable(why.clone())),
                            }
                        }
                        _ => answer(&mut node.dataplane, &req),
                    };
                    node.requests.push(req);
                    node.engine.handle_dataplane_outcome(now, outcome);
                }
                EngineEvent::Script(s) => node.scripts.push(s),
                EngineEvent::Resolve { host } => {
                    node.resolves += 1;
                    self.unanswered.push((i, host));
                }
                EngineEvent::Socket(_) => {}
                // No marks here: every stale tunnel is the same client's.
                EngineEvent::StaleTunnels { tid, stale } => {
                    node.engine.forget_stale_tunnels(now, tid, &stale);
                }
                EngineEvent::Radius(req) => {
                    node.order.push(match &req {
                        RadiusRequest::Submit { attributes, .. } => format!(
                            "radius:{}",
                            match attributes.acct_status_type() {
                                Some(1) => "start",
                                Some(2) => "stop",
                                Some(3) => "interim",
                                Some(7) => "on",
                                Some(8) => "off",
                                _ => "access",
                            }
                        ),
                        RadiusRequest::Cancel { .. } => "radius:cancel".to_owned(),
                    });
                    if let (
                        RadiusRequest::Submit {
                            key,
                            service,
                            attributes,
                            ..
                        },
                        Some(server),
                    ) = (&req, node.radius_server.as_mut())
                        && let Some(outcome) = (server.0)(*service, attributes)
                    {
                        self.radius_flight.push((i, *key, outcome));
                    }
                    node.radius.push(req);
                }
            }
        }
        moved
    }

    /// Answers the names node `i` asked for that the virtual resolver answers now.
    fn answer_names(&mut self, i: usize) -> bool {
        let now = self.now;
        let mut moved = false;
        let mut keep = Vec::new();
        for (node, host) in std::mem::take(&mut self.unanswered) {
            let answer = match self.dns.get(&host) {
                _ if node != i => None,
                Some(None) => None,
                Some(Some(ips)) => Some(Ok(ips.clone())),
                None => Some(Err("no such name".to_owned())),
            };
            match answer {
                Some(r) => {
                    moved = true;
                    self.nodes[i].engine.handle_resolved(now, &host, r);
                }
                None => keep.push((node, host)),
            }
        }
        self.unanswered = keep;
        moved
    }

    /// Runs the network for `d` of virtual time, handling every deadline on the way.
    pub(crate) fn run_for(&mut self, d: Duration) {
        let end = self.now + d;
        loop {
            self.settle();
            let next = self
                .nodes
                .iter()
                .filter_map(|n| n.engine.poll_timeout())
                .min();
            match next {
                Some(t) if t <= end => {
                    self.now = self.now.max(t);
                    let now = self.now;
                    for n in &mut self.nodes {
                        if n.engine.poll_timeout().is_some_and(|t| t <= now) {
                            n.engine.handle_timeout(now);
                        }
                    }
                }
                _ => {
                    self.now = end;
                    self.settle();
                    return;
                }
            }
        }
    }

    /// Runs until `done` holds, at most `limit` of virtual time; panics if it never does.
    pub(crate) fn run_until(&mut self, limit: Duration, what: &str, done: impl Fn(&Net) -> bool) {
        let end = self.now + limit;
        while !done(self) {
            assert!(self.now < end, "not within {limit:?}: {what}");
            self.run_for(Duration::from_millis(100));
        }
    }

    /// `show session` of node `i`'s first session (in `show sessions`' order).
    pub(crate) fn first_session(&self, i: usize) -> ctl::SessionDetail {
        let engine = &self.nodes[i].engine;
        let rows = engine
            .sessions(self.now, None)
            .unwrap_or_else(|e| panic!("sessions: {e:?}"));
        let row = rows
            .first()
            .unwrap_or_else(|| panic!("node {i} has no session"));
        engine
            .session(
                self.now,
                &ctl::Selector::Id(row.tid),
                &ctl::Selector::Id(row.sid),
            )
            .unwrap_or_else(|e| panic!("session: {e:?}"))
    }

    /// Runs until node 0 sees its session end, within `limit`: a CDN of result 2, "PPP
    /// authentication failed", as a failed login ends it.
    pub(crate) fn until_failed_login(&mut self, limit: Duration) {
        self.run_until(limit, "the session ends", |n| {
            n.nodes[0].saw(EventKind::SessionDown) >= 1
        });
        let r = self.nodes[0].first_cdn();
        assert_eq!(
            (r.result, r.message.as_deref()),
            (2, Some("PPP authentication failed"))
        );
    }

    /// Node `i`'s only session, which is up.
    pub(crate) fn only_session_up(&self, i: usize) -> ctl::SessionInfo {
        let rows = self.nodes[i]
            .engine
            .sessions(self.now, None)
            .unwrap_or_default();
        let [row]: [ctl::SessionInfo; 1] = rows
            .try_into()
            .unwrap_or_else(|rows| panic!("not one session: {rows:?}"));
        assert_eq!(row.state, ctl::State::Up, "{row:?}");
        row
    }

    /// Node `i`'s only session, up, after node `i` reported no event and asked the data plane
    /// nothing since `marks` (its [`Node::marks`]).
    pub(crate) fn quiet_since(&self, i: usize, marks: (usize, usize)) -> ctl::SessionInfo {
        let node = &self.nodes[i];
        assert_eq!(node.events.len(), marks.0, "{:?}", node.events);
        assert_eq!(node.requests.len(), marks.1);
        self.only_session_up(i)
    }

    /// Node `i` takes `command`.
    pub(crate) fn command(
        &mut self,
        i: usize,
        command: Command,
    ) -> Result<Response, ctl::CtlError> {
        let now = self.now;
        let r = self.nodes[i].engine.handle_command(now, command);
        self.settle();
        r
    }

    /// Node `i` restarts without a word to its peers: a new engine with its config and
    /// `seed` (the net's seed makes the choices it made at the start again, its tunnel ids
    /// among them), prepared by `setup` (its PPP, say) before it starts.
    pub(crate) fn reboot(&mut self, i: usize, seed: u64, setup: impl FnOnce(&mut Engine)) {
        let config = Arc::clone(self.nodes[i].engine.config());
        let rng = Box::new(proto::DeterministicRng::new(seed + i as u64));
        let mut engine = Engine::with_rng(Arc::clone(&config), facts(i), self.now, rng);
        setup(&mut engine);
        engine.apply_config(self.now, config, None);
        let node = &mut self.nodes[i];
        node.engine = engine;
        node.dataplane = NoneDataplane::default();
        self.settle();
    }

    /// Node `i` reloads with config `text`; returns the blocks it refused and those it applied
    /// after an earlier refusal.
    pub(crate) fn reload(&mut self, i: usize, text: &str) -> crate::engine::Applied {
        let new = Arc::new(parse(text));
        let diff = l2tp_config::diff(self.nodes[i].engine.config(), &new);
        let now = self.now;
        let applied = self.nodes[i].engine.apply_config(now, new, Some(&diff));
        self.settle();
        applied
    }
}

/// What the `none` data plane answers to `req`.
fn answer(dp: &mut NoneDataplane, req: &DataplaneRequest) -> DataplaneOutcome {
    match req {
        DataplaneRequest::InstallTunnel(spec) => DataplaneOutcome::TunnelInstalled {
            tid: spec.tid,
            result: dp.install_tunnel(spec, None).map(|_| ()),
        },
        DataplaneRequest::InstallSession(spec) => DataplaneOutcome::SessionInstalled {
            tid: spec.tid,
            sid: spec.sid,
            result: dp.install_session(spec),
        },
        DataplaneRequest::RemoveTunnel { tid } => {
            let _ = dp.remove_tunnel(*tid);
            DataplaneOutcome::Removed
        }
        DataplaneRequest::RemoveSession { tid, sid } => {
            let _ = dp.remove_session(*tid, *sid);
            DataplaneOutcome::Removed
        }
        DataplaneRequest::SendPpp { .. }
        | DataplaneRequest::PppDown { .. }
        | DataplaneRequest::PppRoutes { .. } => DataplaneOutcome::Removed,
        DataplaneRequest::PppUp { tid, sid, net } => DataplaneOutcome::SessionInstalled {
            tid: *tid,
            sid: *sid,
            result: dp.ppp_up(*tid, *sid, net),
        },
    }
}

/// The name of datagram `t` when it is a CDN or a StopCCN.
fn goodbye(t: &proto::Transmit) -> Option<&'static str> {
    use proto::wire::MessageType;
    let Ok(Packet::Control { body, .. }) = Packet::parse(&t.contents, t.encap) else {
        return None;
    };
    match proto::wire::avp::message_type(body)? {
        MessageType::Cdn => Some("CDN"),
        MessageType::StopCcn => Some("StopCCN"),
        _ => None,
    }
}
