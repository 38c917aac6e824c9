//! The send side of native PPP: IP packets read from this worker's queue of the shared TUN,
//! routed to the session whose peer has their destination address (IPv4, or IPv6
//! link-local), framed and sent on that
//! session's tunnel socket.
//!
//! Without offloads, up to [`BATCH`] packets are read, each encapsulated in place (the PPP and
//! L2TP headers written into the [`HEADROOM`] in front of it), and runs of packets for one
//! tunnel leave in one `sendmmsg`. With offloads, the TUN hands out TCP (and UDP) super-frames
//! behind a virtio-net header, with the IP header at offset 0: they are segmented as the TAP
//! path segments Ethernet super-frames, each segment framed and numbered on its own, and the
//! datagrams of one session leave in GSO runs ([`super::tx::send_datagrams`]).
//!
//! IPv6 packets go by the interface identifier of their link-local destination `fe80::<id>`
//! (the peer's, as IPv6CP negotiated it). IPv6 multicast (whatever the host sends to a group
//! through the TUN) and packets to an address no session claims (its session went down meanwhile, a
//! global IPv6 address) are dropped and counted in the data plane's totals, apart.

use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use nix::libc;

use super::ppp::{PppCommon, PppShared, mark_sent};
use super::tx::{ARENA_LEN, Datagram, IN_ARENA, TxBuffers, send_datagrams, send_each, tx_dropped};
use super::{BATCH, Worker};
use crate::codec::HEADROOM;
use crate::offload::{GsoType, Segmenter, VNET_HDR_LEN, VnetHdr, complete_checksum};
use crate::ppp::routes::Routes;
use crate::stats::TotalCounters;
use crate::tap::Tap;

/// What one read from the TUN gave.
enum Read {
    Packet(usize),
    Drained,
    /// The TUN is unusable (deleted): why.
    Gone(String),
}

fn read(tun: &Tap, buf: &mut [u8], failed: bool, totals: &TotalCounters) -> Read {
    match tun.read(buf) {
        Ok(0) => Read::Drained,
        Ok(len) => Read::Packet(len),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Read::Drained,
        Err(e) if e.raw_os_error() == Some(libc::EBADFD) => {
            Read::Gone(format!("the TUN {} was deleted", tun.name()))
        }
        Err(e) if failed => Read::Gone(format!("the TUN {} failed: {e}", tun.name())),
        Err(_) => {
            totals.tun_errors.fetch_add(1, Relaxed);
            Read::Drained
        }
    }
}

/// The session an IP packet goes to, if its network protocol is up, and whether it is IPv6.
fn route<'r>(
    routes: &'r Routes<Arc<PppShared>>,
    packet: &[u8],
    totals: &TotalCounters,
) -> Option<(&'r Arc<PppShared>, bool)> {
    let s = match packet.first().map(|b| b >> 4) {
        Some(4) => packet
            .get(16..20)
            .and_then(|dst| routes.get([dst[0], dst[1], dst[2], dst[3]]))
            .filter(|s| s.net().peer_ipv4.is_some())
            .map(|s| (s, false)),
        Some(6) => {
            let dst = packet
                .get(24..40)
                .and_then(|d| <&[u8; 16]>::try_from(d).ok());
            if dst.is_some_and(|d| d[0] == 0xff) {
                // RFC 4291 §2.7: multicast, no one session's.
                totals.tun_multicast.fetch_add(1, Relaxed);
                return None;
            }
            dst.and_then(|d| routes.get_v6(d))
                .filter(|s| s.net().peer_ifid.is_some())
                .map(|s| (s, true))
        }
        _ => None,
    };
    if s.is_none() {
        totals.tun_unrouted.fetch_add(1, Relaxed);
    }
    s
}

impl Worker {
    /// Reads a batch of packets from this worker's queue of the TUN and sends them. Returns
    /// why the TUN cannot be read any more, when it is gone.
    pub(super) fn tun_readable(&mut self, failed: bool) -> Option<String> {
        let Self {
            tun,
            tx,
            ppp_common,
            totals,
            ..
        } = self;
        let tun = tun.as_ref()?;
        // Held over the batch: a route removed meanwhile waits for its end (see `PppCommon`).
        let routes = ppp_common.routes();
        if tun.vnet() {
            send_offloaded(tun, &routes, tx, (ppp_common, totals), failed)
        } else {
            send_plain(tun, &routes, tx, (ppp_common, totals), failed)
        }
    }
}

/// Without offloads: one packet per datagram, encapsulated in place.
fn send_plain(
    tun: &Tap,
    routes: &Routes<Arc<PppShared>>,
    tx: &mut TxBuffers,
    (common, totals): (&PppCommon, &TotalCounters),
    failed: bool,
) -> Option<String> {
    let mut n = 0;
    let mut gone = None;
    let mut to: [Option<&Arc<PppShared>>; BATCH] = [None; BATCH];
    let mut bytes = [0usize; BATCH];
    while n < BATCH {
        let buf = &mut tx.bufs[n];
        let len = match read(tun, &mut buf[HEADROOM..], failed, totals) {
            Read::Packet(len) => len,
            Read::Drained => break,
            Read::Gone(why) => {
                gone = Some(why);
                break;
            }
        };
        let Some((s, v6)) = route(routes, &buf[HEADROOM..HEADROOM + len], totals) else {
            continue;
        };
        let framing = s.net().framing;
        let ns = s.ns(s.numbered());
        tx.ranges[n] = s
            .codec
            .encap_ip(ns, framing, v6, buf, HEADROOM..HEADROOM + len);
        mark_sent(s, common);
        to[n] = Some(s);
        bytes[n] = len;
        n += 1;
    }
    // Runs of one session leave together (most batches are one flow's).
    let mut i = 0;
    while i < n {
        let Some(s) = to[i] else { break };
        let mut j = i + 1;
        while j < n && to[j].is_some_and(|t| Arc::ptr_eq(t, s)) {
            j += 1;
        }
        let mut msgs: [&[u8]; BATCH] = [&[]; BATCH];
        for k in i..j {
            msgs[k - i] = &tx.bufs[k][tx.ranges[k].clone()];
        }
        let sent = send_each(&s.tunnel, &s.counters, &msgs[..j - i], &bytes[i..j]);
        // The socket's send buffer is full: the rest is dropped, as a NIC queue would.
        tx_dropped(&s.tunnel, &s.counters, j - i - sent);
        i = j;
    }
    gone
}

/// With offloads: super-frames segmented, each session's datagrams sent in GSO runs.
fn send_offloaded(
    tun: &Tap,
    routes: &Routes<Arc<PppShared>>,
    tx: &mut TxBuffers,
    (common, totals): (&PppCommon, &TotalCounters),
    failed: bool,
) -> Option<String> {
    let TxBuffers {
        bufs,
        arena,
        datagrams,
        ..
    } = tx;
    datagrams.clear();
    let mut cursor = 0;
    let mut gone = None;
    // The session of the datagrams collected so far.
    let mut current: Option<&Arc<PppShared>> = None;
    let at = HEADROOM - VNET_HDR_LEN;
    let mut n = 0;
    while n < BATCH {
        let len = match read(tun, &mut bufs[n][at..], failed, totals) {
            Read::Packet(len) => len,
            Read::Drained => break,
            Read::Gone(why) => {
                gone = Some(why);
                break;
            }
        };
        let end = at + len;
        let Some(hdr) = bufs[n].get(at..end).and_then(|b| VnetHdr::parse(b).ok()) else {
            totals.tun_errors.fetch_add(1, Relaxed);
            continue;
        };
        let Some((s, v6)) = route(routes, &bufs[n][HEADROOM..end], totals) else {
            continue;
        };
        if current.is_some_and(|c| !Arc::ptr_eq(c, s)) {
            if let Some(c) = current {
                send_datagrams((&c.tunnel, &c.counters), bufs, arena, datagrams);
            }
            cursor = 0;
        }
        current = Some(s);
        mark_sent(s, common);
        let framing = s.net().framing;
        if hdr.gso_type == GsoType::None {
            let packet = &mut bufs[n][HEADROOM..end];
            if hdr.needs_csum
                && complete_checksum(packet, 0, hdr.csum_start, hdr.csum_offset).is_err()
            {
                tx_dropped(&s.tunnel, &s.counters, 1);
                continue;
            }
            let ns = s.ns(s.numbered());
            let r = s
                .codec
                .encap_ip(ns, framing, v6, &mut bufs[n], HEADROOM..end);
            datagrams.push(Datagram {
                head_in: n,
                head: r,
                payload: (n, 0..0),
                frame_len: end - HEADROOM,
            });
            n += 1;
            continue;
        }
        let packet = &bufs[n][HEADROOM..end];
        let Ok(mut seg) = Segmenter::new(packet, 0, &hdr) else {
            tx_dropped(&s.tunnel, &s.counters, 1);
            continue;
        };
        // One header length for every segment of the super-frame.
        let numbered = s.numbered();
        let overhead = s.codec.overhead(framing, v6, numbered);
        let need = seg.remaining() * (overhead + seg.headers_len());
        if need > ARENA_LEN {
            tx_dropped(&s.tunnel, &s.counters, 1);
            continue;
        }
        if cursor + need > arena.len() {
            send_datagrams((&s.tunnel, &s.counters), bufs, arena, datagrams);
            cursor = 0;
        }
        while let Some((h, payload)) = seg.next_headers(&mut arena[cursor + overhead..]) {
            let start = cursor + overhead;
            let r = s
                .codec
                .encap_ip(s.ns(numbered), framing, v6, arena, start..start + h);
            cursor = r.end;
            datagrams.push(Datagram {
                head_in: IN_ARENA,
                head: r,
                payload: (n, HEADROOM + payload.start..HEADROOM + payload.end),
                frame_len: h + payload.len(),
            });
        }
        n += 1;
    }
    if let Some(c) = current {
        send_datagrams((&c.tunnel, &c.counters), bufs, arena, datagrams);
    }
    gone
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::ppp::codec::NetState;
    use crate::ppp::routes::{PeerDest, link_local};

    /// An IP packet's first 40 octets: IPv4 to `v4`, or IPv6 to `v6`.
    fn packet(v4: Option<Ipv4Addr>, v6: Option<std::net::Ipv6Addr>) -> Vec<u8> {
        let mut p = vec![0u8; 40];
        if let Some(d) = v4 {
            p[0] = 0x45;
            p[16..20].copy_from_slice(&d.octets());
        }
        if let Some(d) = v6 {
            p[0] = 0x60;
            p[24..40].copy_from_slice(&d.octets());
        }
        p
    }

    #[test]
    fn ipv6_goes_by_link_local_id_and_multicast_is_counted_apart() {
        let s = Arc::new(super::super::ppp::tests::session(false, false));
        let peer = Ipv4Addr::new(203, 0, 113, 10);
        s.set_net(NetState {
            peer_ipv4: Some(peer),
            peer_ifid: Some(7),
            ..NetState::default()
        });
        let mut routes = Routes::default();
        routes.insert(PeerDest::V4(peer), s.key, Arc::clone(&s));
        routes.insert(PeerDest::LinkLocal(7), s.key, Arc::clone(&s));
        let totals = TotalCounters::default();
        let v6 = |d: &str| packet(None, d.parse().ok());
        assert!(route(&routes, &packet(Some(peer), None), &totals).is_some_and(|(_, v6)| !v6));
        assert!(route(&routes, &packet(None, Some(link_local(7))), &totals).is_some_and(|r| r.1));
        // Another identifier, a global address, a runt: unrouted; multicast apart.
        assert!(route(&routes, &packet(None, Some(link_local(8))), &totals).is_none());
        assert!(route(&routes, &v6("2001:db8::7"), &totals).is_none());
        assert!(route(&routes, &packet(None, Some(link_local(7)))[..30], &totals).is_none());
        assert!(route(&routes, &v6("ff02::16"), &totals).is_none());
        assert!(route(&routes, &v6("ff02::1:ff00:7"), &totals).is_none());
        let t = totals.snapshot();
        assert_eq!((t.tun_unrouted, t.tun_multicast), (3, 2));
        // IPv6CP down: its identifier no longer leads anywhere, IPv4 still does.
        s.set_net(NetState {
            peer_ipv4: Some(peer),
            ..NetState::default()
        });
        assert!(route(&routes, &packet(None, Some(link_local(7))), &totals).is_none());
        assert!(route(&routes, &packet(Some(peer), None), &totals).is_some());
    }
}
