//! The client's server list: checking a configuration, building the servers from it (taking
//! over those a reload keeps), indexing them, the reload itself, and checking an answer from
//! one server.

use std::collections::HashMap;
use std::net::SocketAddr;

use l2tp_proto::time::Instant;

use super::ids::IdSpace;
use super::{
    Client, ClientConfig, ConfigError, PROBE_OWNER, Server, ServerState, ServerStats, Service,
    canonical,
};
use crate::crypt::AUTHENTICATOR_LEN;
use crate::packet::{self, Packet, VerifyError};

impl Server {
    /// Checks `bytes`, an answer to the request sent with `request_authenticator`, against this
    /// server's secret (RFC 2865 §3 Response Authenticator; a Message-Authenticator when
    /// `require_message_authenticator`). A datagram that does not decode counts as malformed,
    /// one that fails the check as a bad authenticator; either is `None`, to be dropped.
    pub(super) fn verify_answer(
        &mut self,
        bytes: &[u8],
        request_authenticator: &[u8; AUTHENTICATOR_LEN],
        require_message_authenticator: bool,
    ) -> Option<Packet> {
        match packet::verify_response(
            bytes,
            request_authenticator,
            &self.config.secret,
            require_message_authenticator,
        ) {
            Ok(p) => Some(p),
            Err(VerifyError::Decode(_)) => {
                self.stats.malformed += 1;
                None
            }
            Err(_) => {
                self.stats.bad_authenticators += 1;
                None
            }
        }
    }
}

impl Client {
    /// Takes a new configuration (a reload), losing no request. A server of the new list with
    /// the same service, address and secret as one of the old list is the same server: it
    /// keeps its state, its counters, its identifiers and the requests in flight to it, and
    /// takes its new settings (priority, timeout, retries, dead time, cap). A request in flight
    /// to a server that is gone goes back to the head of its queue, for the new servers. Every
    /// request may try every server again. Accounting queued past a smaller
    /// `max_queued_accounting` is dropped and reported as usual.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] for a configuration that cannot work; the client is unchanged then.
    pub fn reconfigure(&mut self, now: Instant, config: ClientConfig) -> Result<(), ConfigError> {
        validate(&config)?;
        let old = std::mem::take(&mut self.servers);
        let (servers, moved) = build_servers(&config, old, self.sockets);
        let (by_address, order) = index_servers(&servers);
        self.servers = servers;
        self.by_address = by_address;
        self.order = order;
        self.config = config;
        let mut requeue = Vec::new();
        for (index, generation, request) in self.requests.iter_mut() {
            request.tried = 0;
            let Some(sent) = request.sent.as_mut() else {
                continue;
            };
            match moved.get(usize::from(sent.server)).copied().flatten() {
                Some(new) => sent.server = new,
                None => {
                    // Its identifier went with the old server; its timer and transmission
                    // entries are skipped now that it is not in flight.
                    request.sent = None;
                    request.earlier.clear();
                    requeue.push((request.service, request.interim, index, generation));
                }
            }
        }
        for (service, interim, index, generation) in requeue {
            self.queues[service as usize].push_front(interim, index, generation);
        }
        while self.queues[Service::Accounting as usize].len > self.config.max_queued_accounting {
            let before = self.queues[Service::Accounting as usize].len;
            self.drop_queued_accounting();
            if self.queues[Service::Accounting as usize].len >= before {
                break;
            }
        }
        // Probes not yet handed out: their entries name servers by their old index.
        self.transmits.retain(|&(index, _)| index != PROBE_OWNER);
        for (i, s) in self.servers.iter().enumerate() {
            if s.probe.is_some_and(|p| !p.sent) {
                self.transmits.push_back((PROBE_OWNER, i as u32));
            }
        }
        self.socket_wanted = false;
        self.dispatch(now, Service::Access);
        self.dispatch(now, Service::Accounting);
        Ok(())
    }
}

/// Refuses a configuration the client cannot work with.
pub(super) fn validate(config: &ClientConfig) -> Result<(), ConfigError> {
    if config.access_servers.len() > 64 || config.accounting_servers.len() > 64 {
        return Err(ConfigError::TooManyServers);
    }
    if config.max_sockets == 0 {
        return Err(ConfigError::NoSockets);
    }
    let all = config
        .access_servers
        .iter()
        .chain(&config.accounting_servers);
    match all
        .into_iter()
        .find(|s| s.max_outstanding == 0 || s.timeout.is_zero())
    {
        Some(s) => Err(ConfigError::Zero(s.address)),
        None => Ok(()),
    }
}

/// The servers of `config`, access servers first, each in configuration order; one of `old`
/// with the same service, address and secret is taken over with the new settings. Also
/// returns, per old server, its new index if it was taken over.
pub(super) fn build_servers(
    config: &ClientConfig,
    old: Vec<Server>,
    sockets: u16,
) -> (Vec<Server>, Vec<Option<u16>>) {
    let mut moved = vec![None; old.len()];
    let mut old: Vec<Option<Server>> = old.into_iter().map(Some).collect();
    let mut servers = Vec::new();
    for (service, list) in [
        (Service::Access, &config.access_servers),
        (Service::Accounting, &config.accounting_servers),
    ] {
        for s in list {
            let index = servers.len() as u16;
            let same = old.iter().position(|o| {
                o.as_ref().is_some_and(|o| {
                    o.service == service
                        && canonical(o.config.address) == canonical(s.address)
                        && o.config.secret == s.secret
                })
            });
            let server = match same.and_then(|i| Some((i, old[i].take()?))) {
                Some((i, mut o)) => {
                    moved[i] = Some(index);
                    o.config = s.clone();
                    o
                }
                None => Server {
                    config: s.clone(),
                    service,
                    state: ServerState::Alive,
                    outstanding: 0,
                    ids: (0..sockets).map(|_| IdSpace::new()).collect(),
                    stats: ServerStats::default(),
                    probe: None,
                },
            };
            servers.push(server);
        }
    }
    (servers, moved)
}

/// The servers by address, and per service by priority.
#[allow(clippy::type_complexity)]
pub(super) fn index_servers(servers: &[Server]) -> (HashMap<SocketAddr, Vec<u16>>, [Vec<u16>; 2]) {
    let mut by_address: HashMap<SocketAddr, Vec<u16>> = HashMap::new();
    let mut order = [Vec::new(), Vec::new()];
    for (i, s) in servers.iter().enumerate() {
        let index = i as u16;
        by_address
            .entry(canonical(s.config.address))
            .or_default()
            .push(index);
        order[s.service as usize].push(index);
    }
    for o in &mut order {
        o.sort_by_key(|&i| (servers[usize::from(i)].config.priority, i));
    }
    (by_address, order)
}
