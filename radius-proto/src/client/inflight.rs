//! Requests in flight: retransmission (an Accounting-Request's earlier transmissions keep
//! their identifiers, RFC 2866 §5.2), fail-over, the release of identifiers, and the matching
//! of answers to any transmission of a request, or to one that completed (a duplicate).

use l2tp_proto::time::Instant;

use super::{Client, Event, Sent, ServerId, ServerState, Service, packet};

/// An earlier transmission of a request in flight: its identifier and Request Authenticator.
#[derive(Clone, Copy, Debug)]
pub(super) struct Earlier {
    pub(super) id: u8,
    pub(super) authenticator: [u8; 16],
}

impl Client {
    /// Sends a request again after its timeout.
    pub(super) fn retransmit(&mut self, now: Instant, index: u32, generation: u32, mut sent: Sent) {
        let server = &mut self.servers[usize::from(sent.server)];
        server.stats.retransmissions += 1;
        if let Some(request) = self
            .requests
            .get_mut_checked(index, generation)
            .filter(|r| r.service == Service::Accounting)
            && let Some(ids) = server.ids.get_mut(usize::from(sent.socket))
        {
            // A new Acct-Delay-Time: a new identifier (and authenticator) (RFC 2866 §5.2). The
            // earlier transmission keeps its own: the server may yet answer it.
            request.earlier.push(Earlier {
                id: sent.id,
                authenticator: sent.authenticator,
            });
            sent.id = match ids.alloc(index) {
                Some(id) => id,
                None => {
                    // Every identifier of the socket is taken: the oldest transmission gives
                    // its up.
                    let oldest = request.earlier.remove(0);
                    ids.retire(oldest.id, oldest.authenticator);
                    ids.alloc(index).unwrap_or(oldest.id)
                }
            };
        }
        self.transmit(now, index, generation, sent);
    }

    /// The server stayed silent: it is dead, and the request goes back to the head of its
    /// queue to be sent to the next one.
    pub(super) fn fail_over(&mut self, now: Instant, index: u32, generation: u32, sent: Sent) {
        let server = &mut self.servers[usize::from(sent.server)];
        server.stats.timeouts += 1;
        match server.state {
            ServerState::Alive => {
                server.state = ServerState::Dead {
                    until: now + server.config.dead_time,
                };
                self.events.push_back(Event::ServerDead {
                    server: ServerId(sent.server),
                });
            }
            // Tried while no server was alive, and still silent: dead for another dead time.
            ServerState::Dead { until } if until <= now => {
                server.state = ServerState::Dead {
                    until: now + server.config.dead_time,
                };
            }
            ServerState::Dead { .. } => {}
        }
        let service = server.service;
        let earlier = self
            .requests
            .get_mut_checked(index, generation)
            .map(|r| std::mem::take(&mut r.earlier))
            .unwrap_or_default();
        self.release(sent, &earlier);
        let bit = self.order[service as usize]
            .iter()
            .position(|&s| s == sent.server)
            .unwrap_or(0);
        let Some(request) = self.requests.get_mut_checked(index, generation) else {
            return;
        };
        request.tried |= 1 << bit;
        request.sent = None;
        let interim = request.interim;
        self.queues[service as usize].push_front(interim, index, generation);
        // The bound holds for records that come back from a dead server too.
        while service == Service::Accounting
            && self.queues[service as usize].len > self.config.max_queued_accounting
        {
            self.drop_queued_accounting();
        }
    }

    /// Frees the identifiers (those of the `earlier` transmissions too) and the server slot
    /// of a request that is no longer in flight. The identifiers keep their authenticators
    /// until reused, so that a late answer is known as a duplicate.
    pub(super) fn release(&mut self, sent: Sent, earlier: &[Earlier]) {
        let server = &mut self.servers[usize::from(sent.server)];
        if let Some(ids) = server.ids.get_mut(usize::from(sent.socket)) {
            ids.retire(sent.id, sent.authenticator);
            for e in earlier {
                ids.retire(e.id, e.authenticator);
            }
        }
        server.outstanding = server.outstanding.saturating_sub(1);
    }

    /// The generation, transmission and the Request Authenticator an answer with identifier
    /// `id` is to be checked against, if request `index` is in flight to server `s` on `socket`
    /// and its latest or an earlier transmission had `id`.
    pub(super) fn find_sent(
        &self,
        index: u32,
        s: u16,
        socket: u16,
        id: u8,
    ) -> Option<(u32, Sent, [u8; 16])> {
        // The id space knows the index only; find the live generation through the slab.
        let generation = self.requests.generation_of(index)?;
        let request = self.requests.get_checked(index, generation)?;
        let sent = request.sent?;
        if sent.server != s || sent.socket != socket {
            return None;
        }
        let authenticator = if sent.id == id {
            sent.authenticator
        } else {
            request.earlier.iter().find(|e| e.id == id)?.authenticator
        };
        Some((generation, sent, authenticator))
    }

    /// The server among `candidates` whose `socket` had identifier `id` retired from a
    /// request that `bytes` authentically answers: a late or repeated answer.
    pub(super) fn duplicate_of(
        &self,
        candidates: &[u16],
        expected: Service,
        socket: u16,
        id: u8,
        bytes: &[u8],
    ) -> Option<u16> {
        candidates.iter().copied().find(|&s| {
            let server = &self.servers[usize::from(s)];
            server.service == expected
                && server
                    .ids
                    .get(usize::from(socket))
                    .and_then(|ids| ids.retired(id))
                    .is_some_and(|a| {
                        packet::verify_response(bytes, a, &server.config.secret, false).is_ok()
                    })
        })
    }
}
