//! What the engine reports: tunnels and sessions coming up and going down, a LAC's refusal of
//! the calls a peer would place, and the data-plane parameters a session's PPP travels with.

use std::time::Instant;

use l2tp_proto::{DataplaneRequest, Decision, DownCause, DownReason, Event, Refusal};

use super::{Driver, Phase, SState, TState};

impl Driver {
    pub(super) fn refuse(&mut self, now: Instant, d: Decision) {
        let t = self.t(now);
        let _ = match d {
            Decision::Tunnel(r) => self.ep.reject_tunnel(t, r.id, Refusal::not_authorized()),
            Decision::Session(r) => self.ep.reject_session(
                t,
                r.id,
                Refusal {
                    result: l2tp_proto::wire::result::result_code::cdn::NO_FACILITIES_PERMANENT,
                    error: None,
                    message: Some("a load generator takes no calls".into()),
                },
            ),
            _ => Ok(()),
        };
    }

    pub(super) fn on_event(&mut self, now: Instant, e: Event) {
        match e {
            Event::TunnelUp {
                handle, tunnel_id, ..
            } => {
                let i = handle.0 as usize;
                if let Some(t) = self.tunnels.get_mut(i)
                    && t.state == TState::Opening
                {
                    t.state = TState::Up;
                    if let Some(ppp) = &mut self.ppp {
                        let remote = self
                            .ep
                            .tunnel(tunnel_id)
                            .map_or(self.plan.peer, |t| t.remote);
                        ppp.route(i, t.socket, remote);
                    }
                    self.inflight = self.inflight.saturating_sub(1);
                    self.tunnels_settled = Some(now);
                    if self.plan.sessions > 0 && self.phase == Phase::Setup {
                        self.ready.push_back(i);
                    }
                }
            }
            Event::TunnelDown { handle, reason, .. } => {
                let i = handle.0 as usize;
                let Some(state) = self.tunnels.get(i).map(|t| t.state) else {
                    return;
                };
                match state {
                    TState::Opening => {
                        self.inflight = self.inflight.saturating_sub(1);
                        self.tunnels_settled = Some(now);
                        self.tunnel_failed(i, TState::Failed, describe("tunnel", &reason));
                    }
                    TState::Up => {
                        let why = format!("{} after it was up", describe("tunnel", &reason));
                        self.tunnel_failed(i, TState::Lost, why);
                    }
                    _ => {}
                }
            }
            Event::Dataplane(DataplaneRequest::InstallSession(params)) => {
                if let Some(ppp) = &mut self.ppp {
                    ppp.install(params.handle.0 as usize, &params);
                }
            }
            Event::SessionUp {
                handle, session_id, ..
            } => {
                let i = handle.0 as usize;
                if let Some(s) = self.sessions.get_mut(i)
                    && s.state == SState::Opening
                {
                    s.state = SState::Up;
                    s.sid = session_id;
                    self.inflight = self.inflight.saturating_sub(1);
                    let micros = now.saturating_duration_since(s.opened).as_micros();
                    self.latencies
                        .push(u64::try_from(micros).unwrap_or(u64::MAX));
                    let t = self.t(now);
                    if let Some(ppp) = &mut self.ppp {
                        ppp.start(t, i);
                    }
                }
            }
            Event::SessionDown { handle, reason, .. } => {
                let i = handle.0 as usize;
                let teardown = self.phase == Phase::Teardown;
                let t = self.t(now);
                // A session whose PPP had started is accounted for by its PPP.
                let by_ppp = self
                    .ppp
                    .as_mut()
                    .is_some_and(|p| p.lower_down(t, i, teardown, || describe("session", &reason)));
                let Some(s) = self.sessions.get_mut(i) else {
                    return;
                };
                if by_ppp && s.state == SState::Up {
                    s.state = SState::Closed;
                    return;
                }
                match s.state {
                    SState::Opening => {
                        s.state = SState::Failed;
                        self.inflight = self.inflight.saturating_sub(1);
                        self.fail(describe("session", &reason));
                    }
                    SState::Up if teardown => s.state = SState::Closed,
                    SState::Up => {
                        s.state = SState::Lost;
                        self.fail(format!("{} after it was up", describe("session", &reason)));
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
}

fn describe(what: &str, r: &DownReason) -> String {
    let cause = match r.cause {
        DownCause::Local => "closed locally",
        DownCause::Peer => "closed by the peer",
        DownCause::RetriesExhausted => "peer stopped acknowledging",
        DownCause::EstablishTimeout => "set-up timed out",
        DownCause::LostTieBreaker => "lost a tie breaker",
        DownCause::TunnelDown => "its tunnel went down",
        DownCause::IdleTimeout => "closed for having no session (idle_timeout)",
        DownCause::PeerRestarted => "forgotten: the peer restarted",
    };
    let mut s = format!("{what}: {cause}");
    if r.cause != DownCause::TunnelDown {
        s.push_str(&format!(", result {}", r.result));
        if let Some(e) = r.error {
            s.push_str(&format!(" error {e}"));
        }
        if let Some(m) = &r.message {
            s.push_str(&format!(" ({})", m.escape_ascii()));
        }
    }
    s
}
