//! A stand-in for l2tp-nfqd: reads the packets of a netfilter queue (NFQUEUE, over netlink),
//! lets each one through, and for each L2TP SCCRQ among them sends l2tp-nfqd's message (peer
//! address, peer tunnel id, the packet's mark, the peer's host name) to a unix datagram
//! socket, before its verdict, as l2tp-nfqd does. At start it sends one message that matches
//! no SCCRQ (peer 203.0.113.99, tunnel 4242), which l2tpd must drop after a while.

use super::*;

/// NETLINK_NETFILTER messages of the queue subsystem (linux/netfilter/nfnetlink_queue.h).
const NFNL_SUBSYS_QUEUE: u16 = 3;
const NFQNL_MSG_PACKET: u16 = 0;
const NFQNL_MSG_VERDICT: u16 = 1;
const NFQNL_MSG_CONFIG: u16 = 2;
const NFQA_CFG_CMD: u16 = 1;
const NFQA_CFG_PARAMS: u16 = 2;
const NFQA_PACKET_HDR: u16 = 1;
const NFQA_VERDICT_HDR: u16 = 2;
const NFQA_MARK: u16 = 3;
const NFQA_PAYLOAD: u16 = 10;
const NFQNL_CFG_CMD_BIND: u8 = 1;
const NFQNL_COPY_PACKET: u8 = 2;
const NF_ACCEPT: u32 = 1;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
const AF_INET: u8 = 2;

/// A netlink message of the queue subsystem: header, nfgenmsg, attributes.
fn message(kind: u16, flags: u16, seq: u32, queue: u16, attrs: &[(u16, &[u8])]) -> Vec<u8> {
    let mut m = vec![0u8; 16];
    m.extend_from_slice(&[AF_INET, 0]);
    m.extend_from_slice(&queue.to_be_bytes());
    for (t, v) in attrs {
        let len = 4 + v.len() as u16;
        m.extend_from_slice(&len.to_ne_bytes());
        m.extend_from_slice(&t.to_ne_bytes());
        m.extend_from_slice(v);
        while !m.len().is_multiple_of(4) {
            m.push(0);
        }
    }
    let len = m.len() as u32;
    m[0..4].copy_from_slice(&len.to_ne_bytes());
    m[4..6].copy_from_slice(&(NFNL_SUBSYS_QUEUE << 8 | kind).to_ne_bytes());
    m[6..8].copy_from_slice(&(NLM_F_REQUEST | flags).to_ne_bytes());
    m[8..12].copy_from_slice(&seq.to_ne_bytes());
    m
}

/// The attributes of one nfnetlink message (after its nfgenmsg).
fn attributes(mut b: &[u8]) -> BTreeMap<u16, &[u8]> {
    let mut out = BTreeMap::new();
    while b.len() >= 4 {
        let len = usize::from(u16::from_ne_bytes([b[0], b[1]]));
        let t = u16::from_ne_bytes([b[2], b[3]]) & 0x3fff;
        if len < 4 || len > b.len() {
            break;
        }
        out.insert(t, &b[4..len]);
        // The last attribute need not be padded.
        b = b.get((len + 3) & !3..).unwrap_or_default();
    }
    out
}

/// The peer, its tunnel id and host name of the SCCRQ in IPv4 packet `ip`, if it is one.
fn sccrq(ip: &[u8]) -> Option<(Ipv4Addr, u32, Vec<u8>)> {
    let ihl = usize::from(*ip.first()? & 0x0f) * 4;
    if ip.get(9) != Some(&17) {
        return None;
    }
    let peer = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
    let l2tp = ip.get(ihl + 8..)?;
    let packet = Packet::parse(l2tp, Encapsulation::Udp).ok()?;
    let tid = l2tpd::marks::sccrq_peer_tunnel(&packet)?;
    let Packet::Control { body, .. } = packet else {
        return None;
    };
    let host = l2tp_proto::wire::avp::AvpIter::new(body)
        .map_while(Result::ok)
        .find(|a| a.vendor_id == 0 && a.attr_type == 7 && !a.hidden)
        .map(|a| a.value.to_vec())
        .unwrap_or_default();
    Some((peer, tid, host))
}

pub(super) fn run(args: &[String]) -> ExitCode {
    let [queue, path] = args else {
        eprintln!("usage: --nfqd QUEUE SOCKET");
        return ExitCode::FAILURE;
    };
    let queue: u16 = queue.parse().unwrap();
    let out = UnixDatagram::unbound().unwrap();
    let stray = NfqMessage {
        peer: Ipv4Addr::new(203, 0, 113, 99),
        peer_tid: 4242,
        mark: 0x99,
        host_name: b"nobody".to_vec(),
    };
    out.send_to(&stray.encode(), path).unwrap();
    let mut nl = netlink_sys::Socket::new(netlink_sys::protocols::NETLINK_NETFILTER).unwrap();
    nl.bind_auto().unwrap();
    let bind = [NFQNL_CFG_CMD_BIND, 0, 0, AF_INET];
    nl.send(
        &message(
            NFQNL_MSG_CONFIG,
            NLM_F_ACK,
            1,
            queue,
            &[(NFQA_CFG_CMD, &bind)],
        ),
        0,
    )
    .unwrap();
    let mut params = 0xffffu32.to_be_bytes().to_vec();
    params.push(NFQNL_COPY_PACKET);
    nl.send(
        &message(
            NFQNL_MSG_CONFIG,
            NLM_F_ACK,
            2,
            queue,
            &[(NFQA_CFG_PARAMS, &params)],
        ),
        0,
    )
    .unwrap();
    println!("listening on queue {queue}, messages to {path}");
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
    let mut seq = 3;
    loop {
        buf.clear();
        if nl.recv(&mut buf, 0).is_err() {
            continue;
        }
        let mut at = 0;
        while at + 16 <= buf.len() {
            let len = u32::from_ne_bytes(buf[at..at + 4].try_into().unwrap()) as usize;
            let kind = u16::from_ne_bytes([buf[at + 4], buf[at + 5]]);
            if len < 16 || at + len > buf.len() {
                break;
            }
            if kind == NFNL_SUBSYS_QUEUE << 8 | NFQNL_MSG_PACKET && len >= 20 {
                let a = attributes(&buf[at + 20..at + len]);
                let id = a.get(&NFQA_PACKET_HDR).map(|h| &h[..4]);
                let mark = a.get(&NFQA_MARK).map_or(0, |m| {
                    u32::from_be_bytes(m[..4].try_into().unwrap_or([0; 4]))
                });
                if let Some((peer, peer_tid, host_name)) =
                    a.get(&NFQA_PAYLOAD).and_then(|p| sccrq(p))
                    && mark != 0
                {
                    let m = NfqMessage {
                        peer,
                        peer_tid,
                        mark,
                        host_name,
                    };
                    match out.send_to(&m.encode(), path) {
                        Ok(_) => println!("sent {peer} tunnel {peer_tid} mark {mark:#x}"),
                        Err(e) => println!("cannot send to {path}: {e}"),
                    }
                }
                if let Some(id) = id {
                    let mut verdict = NF_ACCEPT.to_be_bytes().to_vec();
                    verdict.extend_from_slice(id);
                    seq += 1;
                    let v = message(
                        NFQNL_MSG_VERDICT,
                        0,
                        seq,
                        queue,
                        &[(NFQA_VERDICT_HDR, &verdict)],
                    );
                    if let Err(e) = nl.send(&v, 0) {
                        println!("verdict: {e}");
                    }
                }
            }
            at += (len + 3) & !3;
        }
    }
}
