//! The netfilter marks of the tunnels' sockets ([`crate::marks`]): learnt for a peer's tunnel
//! before or after its socket opens, applied to the socket, and forgotten when no tunnel takes
//! them in time.

use std::os::fd::AsFd;
use std::time::Instant;

use super::DataplaneHost;
use crate::marks::{Learnt, MarkSource, PeerTunnel};

impl DataplaneHost {
    /// A netfilter mark for the tunnel that the peer at `key.0` opened with tunnel id `key.1`:
    /// its socket takes it at once if the tunnel exists without a mark, else when it is opened
    /// (within [`crate::marks::PENDING_TTL`]). A tunnel with a mark already may be another
    /// client's (behind the same NAT, with the same tunnel id) or the old one of a client that
    /// restarted, and the SCCRQ a new tunnel's: the mark waits for that tunnel, and the
    /// existing one keeps its own.
    pub fn learn_mark(&mut self, now: Instant, key: PeerTunnel, learnt: Learnt) {
        let existing = self.by_peer.get(&key).copied();
        match existing {
            Some(tid) if self.tunnel_mark(tid).is_none() => self.apply_mark(tid, &learnt),
            _ => self.marks.learn(now, key, learnt),
        }
    }

    /// Forgets the marks that waited too long for their tunnel.
    pub fn expire_marks(&mut self, now: Instant) {
        if self.marks.is_empty() {
            return;
        }
        for ((ip, peer_tid), learnt) in self.marks.expire(now) {
            match learnt.source {
                MarkSource::Nfq { host_name } => tracing::info!(
                    "l2tp-nfqd: no tunnel from {ip} with peer tunnel id {peer_tid} (host name \
                     {host_name}) within {}s; its mark {:#x} is dropped",
                    crate::marks::PENDING_TTL.as_secs(),
                    learnt.mark
                ),
                MarkSource::Sccrq => tracing::debug!(
                    "the marked SCCRQ from {ip} (peer tunnel id {peer_tid}) made no tunnel"
                ),
            }
        }
    }

    /// The netfilter mark of tunnel `tid`'s socket, if it has one.
    pub fn tunnel_mark(&self, tid: u32) -> Option<u32> {
        self.tunnels.get(&tid).and_then(|t| t.mark)
    }

    /// Gives tunnel `tid`'s socket the mark `learnt`.
    pub(super) fn apply_mark(&mut self, tid: u32, learnt: &Learnt) {
        let Some(t) = self.tunnels.get_mut(&tid) else {
            return;
        };
        if t.mark == Some(learnt.mark) {
            return;
        }
        let Some(socket) = &t.socket else {
            tracing::warn!(
                "tunnel {tid}: no socket of its own to send with mark {:#x} ({}): its \
                 messages leave through the listen socket, unmarked",
                learnt.mark,
                learnt.source
            );
            return;
        };
        if let Err(e) = l2tp_dataplane::marks::set_mark(socket.as_fd(), learnt.mark) {
            tracing::warn!(
                "tunnel {tid}: cannot mark its socket {:#x} ({}): {e}",
                learnt.mark,
                learnt.source
            );
            return;
        }
        match t.mark.replace(learnt.mark) {
            None => tracing::info!(
                "tunnel {tid}: its socket sends with mark {:#x} ({})",
                learnt.mark,
                learnt.source
            ),
            Some(old) => crate::notice!(
                "tunnel {tid}: its socket's mark changes from {old:#x} to {:#x} ({})",
                learnt.mark,
                learnt.source
            ),
        }
    }
}
