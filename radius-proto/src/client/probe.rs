//! Status-Server probes of dead servers (RFC 5997): sending one when a dead time is over,
//! checking its answer, and its timeout.

use l2tp_proto::time::Instant;

use super::{AliveReason, Client, Event, ServerId, ServerState, Service, SocketId, Transmit};
use crate::code::Code;
use crate::packet;

/// A Status-Server probe (RFC 5997). Its identifier is owned by [`PROBE_OWNER`].
#[derive(Clone, Copy, Debug)]
pub(super) struct Probe {
    socket: u16,
    id: u8,
    authenticator: [u8; 16],
    pub(super) deadline: Instant,
    /// Handed to the host by [`Client::poll_transmit`].
    pub(super) sent: bool,
}

/// The owner of a probe's identifier in an [`super::ids::IdSpace`], and the index of its entry in
/// `Client::transmits` (its generation is then the server index). Never a slab index: the
/// slab would need 2^32 requests.
pub(super) const PROBE_OWNER: u32 = u32::MAX;

impl Client {
    /// Marks dead servers whose dead time is over alive again, or probes them (see
    /// [`super::ServerConfig::status_server`]).
    pub(super) fn revive(&mut self, now: Instant) {
        for i in 0..self.servers.len() {
            let s = &mut self.servers[i];
            let ServerState::Dead { until } = s.state else {
                continue;
            };
            if until > now {
                continue;
            }
            if !s.config.status_server {
                s.state = ServerState::Alive;
                self.events.push_back(Event::ServerAlive {
                    server: ServerId(i as u16),
                    reason: AliveReason::DeadTimeOver,
                });
            } else if s.probe.is_none() {
                self.start_probe(now, i as u16);
            }
        }
    }

    /// Whether server `s` may take a real request: it is alive, or (`fallback`: no server of
    /// its service is alive) its dead time is over, probe in flight or not.
    pub(super) fn usable(&self, now: Instant, s: u16, fallback: bool) -> bool {
        match self.servers[usize::from(s)].state {
            ServerState::Alive => true,
            ServerState::Dead { until } => fallback && until <= now,
        }
    }

    /// Whether no server of `service` is alive (real requests then fall back on dead servers
    /// whose dead time is over).
    pub(super) fn fallback(&self, service: Service) -> bool {
        !self.order[service as usize]
            .iter()
            .any(|&s| self.servers[usize::from(s)].state == ServerState::Alive)
    }

    /// Starts a probe of server `s`, whose dead time is over. Without a free identifier, asks
    /// for a socket and tries again after one timeout.
    pub(super) fn start_probe(&mut self, now: Instant, s: u16) {
        let server = &mut self.servers[usize::from(s)];
        let timeout = server.config.timeout;
        let free = server
            .ids
            .iter_mut()
            .enumerate()
            .find_map(|(socket, ids)| Some((socket as u16, ids.alloc(PROBE_OWNER)?)));
        let Some((socket, id)) = free else {
            server.state = ServerState::Dead {
                until: now + timeout,
            };
            self.want_socket();
            return;
        };
        let mut authenticator = [0; 16];
        self.rng.fill(&mut authenticator);
        let server = &mut self.servers[usize::from(s)];
        server.stats.probes += 1;
        server.probe = Some(Probe {
            socket,
            id,
            authenticator,
            // RFC 5997: no retransmission; the next probe is a new packet.
            deadline: now + timeout,
            sent: false,
        });
        self.transmits.push_back((PROBE_OWNER, u32::from(s)));
    }

    /// Encodes the probe of server `s` into `buf`, if it has one not yet handed out.
    pub(super) fn probe_transmit(&mut self, buf: &mut Vec<u8>, s: u32) -> Option<Transmit> {
        let s = u16::try_from(s).ok()?;
        let server = self.servers.get_mut(usize::from(s))?;
        let probe = server.probe.as_mut().filter(|p| !p.sent)?;
        probe.sent = true;
        packet::encode_status_server(buf, probe.id, &probe.authenticator, &server.config.secret);
        Some(Transmit {
            socket: SocketId(probe.socket),
            destination: server.config.address,
            server: ServerId(s),
        })
    }

    /// A datagram on `socket` from server `s` whose identifier `id` is a probe's. Only the
    /// answer RFC 5997 names (Access-Accept from an authentication port, Accounting-Response
    /// from an accounting port), with valid authenticators, counts.
    pub(super) fn probe_answer(&mut self, now: Instant, s: u16, socket: u16, id: u8, bytes: &[u8]) {
        let server = &mut self.servers[usize::from(s)];
        let Some(probe) = server
            .probe
            .filter(|p| p.sent && p.socket == socket && p.id == id)
        else {
            server.stats.malformed += 1;
            return;
        };
        let (expected, require) = match server.service {
            Service::Access => (
                Code::AccessAccept,
                server.config.require_message_authenticator,
            ),
            // RFC 5997 does not ask for one in Accounting-Response; checked if present.
            Service::Accounting => (Code::AccountingResponse, false),
        };
        let Some(packet) = server.verify_answer(bytes, &probe.authenticator, require) else {
            return;
        };
        if packet.code != expected {
            server.stats.malformed += 1;
            return;
        }
        server.probe = None;
        // Retired, not freed: the server's answer to it again is a duplicate, not malformed.
        if let Some(ids) = server.ids.get_mut(usize::from(socket)) {
            ids.retire(id, probe.authenticator);
        }
        server.stats.probes_answered += 1;
        if matches!(server.state, ServerState::Dead { .. }) {
            server.state = ServerState::Alive;
            self.events.push_back(Event::ServerAlive {
                server: ServerId(s),
                reason: AliveReason::AnsweredStatusServer,
            });
        }
        let service = server.service;
        self.dispatch(now, service);
    }

    /// Ends the probes whose server stayed silent for its timeout: a server still dead is left
    /// alone for another dead time, then probed again.
    pub(super) fn probe_timeouts(&mut self, now: Instant) {
        for server in &mut self.servers {
            let Some(probe) = server.probe.filter(|p| p.deadline <= now) else {
                continue;
            };
            server.probe = None;
            // Retired, not freed: an answer after the timeout is late, not malformed.
            if let Some(ids) = server.ids.get_mut(usize::from(probe.socket)) {
                ids.retire(probe.id, probe.authenticator);
            }
            server.stats.probes_timed_out += 1;
            if let ServerState::Dead { until } = server.state
                && until <= now
            {
                server.state = ServerState::Dead {
                    until: now + server.config.dead_time,
                };
            }
        }
    }
}
