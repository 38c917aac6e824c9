//! Reading and writing classic pcap files of L2TP traffic.
//!
//! * [`read_udp`] returns the UDP datagrams of a capture, whatever link type
//!   tcpdump or tshark chose: Ethernet (with VLAN tags), Linux cooked capture
//!   v1 and v2 (`-i any`), raw IP, IPv4/IPv6 link types and BSD loopback.
//!   [`read_ip_proto`] does the same for a bare IP protocol, e.g. L2TPv3 over
//!   IP (protocol [`IPPROTO_L2TP`] = 115). IPv4 fragments are skipped.
//! * [`write_udp`] / [`write_l2tp_ip`] write datagrams as Ethernet + IPv4/IPv6
//!   (+ UDP, with correct checksums) frames, so that our own encoded messages
//!   can be handed to tshark (see [`crate::tshark`]).
//!
//! Written files are deterministic: the timestamps start at
//! [`WRITE_EPOCH_SECS`] and advance by 1 ms per packet, and each MAC address
//! is `02:00` followed by the low 4 bytes of the IP address.
//!
//! ```no_run
//! use l2tp_testkit::pcap::{read_udp, write_udp, Datagram};
//!
//! let captured = read_udp("testdata/xl2tpd/plain.pcap").unwrap();
//! let sccrq = &captured[0];
//! assert_eq!(sccrq.dst.port(), 1701);
//! write_udp("/tmp/copy.pcap", &captured).unwrap();
//! ```

use std::fmt;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use etherparse::{EtherType, IpNumber, NetSlice, PacketBuilder, SlicedPacket, TransportSlice};
use pcap_file::DataLink;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapReader, PcapWriter};

/// IP protocol number of L2TPv3 over IP (RFC 3931 §4.1.1).
pub const IPPROTO_L2TP: u8 = 115;

/// First timestamp (seconds since the Unix epoch) of files written here:
/// 2024-01-01T00:00:00Z.
pub const WRITE_EPOCH_SECS: u64 = 1_704_067_200;

/// One datagram: UDP (ports are the UDP ports) or bare IP (ports are 0).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Datagram {
    /// Source address and port.
    pub src: SocketAddr,
    /// Destination address and port.
    pub dst: SocketAddr,
    /// UDP payload, or IP payload for a bare IP protocol.
    pub payload: Vec<u8>,
}

impl Datagram {
    /// Builds a datagram from anything that converts to socket addresses.
    pub fn new(
        src: impl Into<SocketAddr>,
        dst: impl Into<SocketAddr>,
        payload: impl Into<Vec<u8>>,
    ) -> Self {
        Datagram {
            src: src.into(),
            dst: dst.into(),
            payload: payload.into(),
        }
    }
}

/// How datagrams are carried in a written file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encap {
    /// IP + UDP with the datagram's ports.
    Udp,
    /// A bare IP protocol with this number (ports are ignored), e.g.
    /// [`IPPROTO_L2TP`].
    Ip(u8),
}

/// Errors of this module.
#[derive(Debug)]
pub enum Error {
    /// Opening, reading or writing the file failed.
    Io(std::io::Error),
    /// The pcap container is malformed (or is pcapng, which is not supported).
    Pcap(pcap_file::PcapError),
    /// The link type of the file is not one this module understands.
    UnsupportedLinkType(DataLink),
    /// A datagram mixes IPv4 and IPv6 addresses.
    MixedAddressFamilies {
        /// Source of the offending datagram.
        src: SocketAddr,
        /// Destination of the offending datagram.
        dst: SocketAddr,
    },
    /// A datagram's payload is too long for one IP packet.
    TooLong(usize),
    /// Building a frame failed.
    Build(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "i/o error: {e}"),
            Error::Pcap(e) => write!(f, "pcap error: {e}"),
            Error::UnsupportedLinkType(l) => write!(f, "unsupported pcap link type {l:?}"),
            Error::MixedAddressFamilies { src, dst } => {
                write!(f, "datagram {src} -> {dst} mixes IPv4 and IPv6")
            }
            Error::TooLong(n) => write!(f, "payload of {n} bytes is too long for one IP packet"),
            Error::Build(e) => write!(f, "building a frame failed: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            Error::Pcap(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

impl From<pcap_file::PcapError> for Error {
    fn from(e: pcap_file::PcapError) -> Self {
        Error::Pcap(e)
    }
}

/// One packet of a capture that carried a datagram, with its capture time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// 1-based frame number in the file (as tshark counts).
    pub frame: usize,
    /// Capture timestamp (since the Unix epoch).
    pub timestamp: Duration,
    /// UDP, or the bare IP protocol number.
    pub encap: Encap,
    /// Addresses and payload.
    pub datagram: Datagram,
}

/// Reads every UDP and bare-IP datagram of a pcap, in file order. Frames that
/// carry neither (ARP, ICMP, TCP, IPv4 fragments, truncated frames) are skipped.
pub fn read_records_from(reader: impl Read) -> Result<Vec<Record>, Error> {
    let mut pcap = PcapReader::new(reader)?;
    let datalink = pcap.header().datalink;
    let mut out = Vec::new();
    let mut frame = 0;
    while let Some(pkt) = pcap.next_packet() {
        let pkt = pkt?;
        frame += 1;
        let Some(sliced) = slice_frame(datalink, &pkt.data)? else {
            continue;
        };
        if let Some((encap, datagram)) = extract(&sliced) {
            out.push(Record {
                frame,
                timestamp: pkt.timestamp,
                encap,
                datagram,
            });
        }
    }
    Ok(out)
}

/// [`read_records_from`] for a file.
pub fn read_records(path: impl AsRef<Path>) -> Result<Vec<Record>, Error> {
    read_records_from(BufReader::new(File::open(path)?))
}

/// Reads the UDP datagrams of a pcap file, in file order.
pub fn read_udp(path: impl AsRef<Path>) -> Result<Vec<Datagram>, Error> {
    read_udp_from(BufReader::new(File::open(path)?))
}

/// Reads the UDP datagrams of a pcap held by `reader`, in file order.
pub fn read_udp_from(reader: impl Read) -> Result<Vec<Datagram>, Error> {
    Ok(filter(read_records_from(reader)?, Encap::Udp))
}

/// Reads the datagrams of IP protocol `proto` (ports are 0), e.g.
/// [`IPPROTO_L2TP`] for L2TPv3 over IP.
pub fn read_ip_proto(path: impl AsRef<Path>, proto: u8) -> Result<Vec<Datagram>, Error> {
    Ok(filter(read_records(path)?, Encap::Ip(proto)))
}

fn filter(records: Vec<Record>, encap: Encap) -> Vec<Datagram> {
    records
        .into_iter()
        .filter(|r| r.encap == encap)
        .map(|r| r.datagram)
        .collect()
}

/// Splits a frame into its headers. `Ok(None)` means "not IP, skip".
fn slice_frame(datalink: DataLink, data: &[u8]) -> Result<Option<SlicedPacket<'_>>, Error> {
    let sliced = match datalink {
        DataLink::ETHERNET => SlicedPacket::from_ethernet(data),
        // Linux cooked capture v1: protocol type at offset 14, 16-byte header.
        DataLink::LINUX_SLL => match data.get(14..16) {
            Some(p) => SlicedPacket::from_ether_type(
                EtherType(u16::from_be_bytes([p[0], p[1]])),
                &data[16..],
            ),
            None => return Ok(None),
        },
        // Linux cooked capture v2: protocol type at offset 0, 20-byte header.
        DataLink::LINUX_SLL2 => match (data.get(0..2), data.get(20..)) {
            (Some(p), Some(rest)) => {
                SlicedPacket::from_ether_type(EtherType(u16::from_be_bytes([p[0], p[1]])), rest)
            }
            _ => return Ok(None),
        },
        DataLink::RAW | DataLink::IPV4 | DataLink::IPV6 => SlicedPacket::from_ip(data),
        // BSD loopback: 4-byte address family in host (NULL) or network
        // (LOOP) byte order; the IP version nibble tells us all we need.
        DataLink::NULL | DataLink::LOOP => match data.get(4..) {
            Some(rest) => SlicedPacket::from_ip(rest),
            None => return Ok(None),
        },
        other => return Err(Error::UnsupportedLinkType(other)),
    };
    Ok(sliced.ok())
}

fn extract(sliced: &SlicedPacket<'_>) -> Option<(Encap, Datagram)> {
    let (src, dst) = match sliced.net.as_ref()? {
        NetSlice::Ipv4(ip) => (
            IpAddr::V4(ip.header().source_addr()),
            IpAddr::V4(ip.header().destination_addr()),
        ),
        NetSlice::Ipv6(ip) => (
            IpAddr::V6(ip.header().source_addr()),
            IpAddr::V6(ip.header().destination_addr()),
        ),
        NetSlice::Arp(_) => return None,
    };
    if let Some(TransportSlice::Udp(udp)) = &sliced.transport {
        return Some((
            Encap::Udp,
            Datagram {
                src: SocketAddr::new(src, udp.source_port()),
                dst: SocketAddr::new(dst, udp.destination_port()),
                payload: udp.payload().to_vec(),
            },
        ));
    }
    let ip = sliced.net.as_ref()?.ip_payload_ref()?;
    if ip.fragmented || ip.ip_number == IpNumber::UDP {
        return None;
    }
    Some((
        Encap::Ip(ip.ip_number.0),
        Datagram {
            src: SocketAddr::new(src, 0),
            dst: SocketAddr::new(dst, 0),
            payload: ip.payload.to_vec(),
        },
    ))
}

fn mac_for(ip: IpAddr) -> [u8; 6] {
    let low = match ip {
        IpAddr::V4(a) => a.octets(),
        IpAddr::V6(a) => {
            let o = a.octets();
            [o[12], o[13], o[14], o[15]]
        }
    };
    [0x02, 0x00, low[0], low[1], low[2], low[3]]
}

/// Builds one Ethernet frame carrying `d`.
pub fn build_frame(encap: Encap, d: &Datagram) -> Result<Vec<u8>, Error> {
    let eth = PacketBuilder::ethernet2(mac_for(d.src.ip()), mac_for(d.dst.ip()));
    let mut buf = Vec::with_capacity(d.payload.len() + 62);
    let max = match d.src.ip() {
        IpAddr::V4(_) => 65_535 - 20 - 8,
        IpAddr::V6(_) => 65_535 - 8,
    };
    if d.payload.len() > max {
        return Err(Error::TooLong(d.payload.len()));
    }
    let res =
        match (d.src.ip(), d.dst.ip(), encap) {
            (IpAddr::V4(s), IpAddr::V4(t), Encap::Udp) => eth
                .ipv4(s.octets(), t.octets(), 64)
                .udp(d.src.port(), d.dst.port())
                .write(&mut buf, &d.payload),
            (IpAddr::V6(s), IpAddr::V6(t), Encap::Udp) => eth
                .ipv6(s.octets(), t.octets(), 64)
                .udp(d.src.port(), d.dst.port())
                .write(&mut buf, &d.payload),
            (IpAddr::V4(s), IpAddr::V4(t), Encap::Ip(p)) => eth
                .ipv4(s.octets(), t.octets(), 64)
                .write(&mut buf, IpNumber(p), &d.payload),
            (IpAddr::V6(s), IpAddr::V6(t), Encap::Ip(p)) => eth
                .ipv6(s.octets(), t.octets(), 64)
                .write(&mut buf, IpNumber(p), &d.payload),
            _ => {
                return Err(Error::MixedAddressFamilies {
                    src: d.src,
                    dst: d.dst,
                });
            }
        };
    res.map_err(|e| Error::Build(e.to_string()))?;
    Ok(buf)
}

/// Writes `datagrams` as an Ethernet pcap to `writer`.
pub fn write_to(writer: impl Write, encap: Encap, datagrams: &[Datagram]) -> Result<(), Error> {
    let header = PcapHeader {
        datalink: DataLink::ETHERNET,
        ..PcapHeader::default()
    };
    let mut pcap = PcapWriter::with_header(writer, header)?;
    for (i, d) in datagrams.iter().enumerate() {
        let frame = build_frame(encap, d)?;
        let ts = Duration::from_secs(WRITE_EPOCH_SECS) + Duration::from_millis(i as u64);
        let len = u32::try_from(frame.len()).map_err(|_| Error::TooLong(frame.len()))?;
        pcap.write_packet(&PcapPacket::new(ts, len, &frame))?;
    }
    pcap.into_writer().flush()?;
    Ok(())
}

/// Writes `datagrams` as an Ethernet pcap and returns the file's bytes.
pub fn to_bytes(encap: Encap, datagrams: &[Datagram]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    write_to(&mut out, encap, datagrams)?;
    Ok(out)
}

/// Writes `datagrams` as Ethernet + IPv4/IPv6 + UDP frames to a pcap file.
pub fn write_udp(path: impl AsRef<Path>, datagrams: &[Datagram]) -> Result<(), Error> {
    write_file(path, Encap::Udp, datagrams)
}

/// Writes `datagrams` as Ethernet + IPv4/IPv6 frames of IP protocol 115
/// (L2TPv3 over IP) to a pcap file; the ports are ignored.
pub fn write_l2tp_ip(path: impl AsRef<Path>, datagrams: &[Datagram]) -> Result<(), Error> {
    write_file(path, Encap::Ip(IPPROTO_L2TP), datagrams)
}

/// Writes `datagrams` with the given encapsulation to a pcap file.
pub fn write_file(
    path: impl AsRef<Path>,
    encap: Encap,
    datagrams: &[Datagram],
) -> Result<(), Error> {
    let mut w = BufWriter::new(File::create(path)?);
    write_to(&mut w, encap, datagrams)?;
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn v4(a: u8, port: u16) -> SocketAddr {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, a)), port)
    }
    fn v6(a: u16, port: u16) -> SocketAddr {
        SocketAddr::new(
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, a)),
            port,
        )
    }

    fn sample() -> Vec<Datagram> {
        vec![
            Datagram::new(
                v4(1, 1701),
                v4(2, 1701),
                vec![0xc8, 0x02, 0x00, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0],
            ),
            Datagram::new(v4(2, 1701), v4(1, 40000), vec![1, 2, 3]),
            Datagram::new(v4(2, 1701), v4(1, 40000), vec![]),
        ]
    }

    #[test]
    fn udp_v4_roundtrip() {
        let bytes = to_bytes(Encap::Udp, &sample()).unwrap();
        assert_eq!(read_udp_from(&bytes[..]).unwrap(), sample());
    }

    #[test]
    fn udp_v6_roundtrip() {
        let d = vec![Datagram::new(v6(1, 1701), v6(2, 1701), vec![9; 300])];
        let bytes = to_bytes(Encap::Udp, &d).unwrap();
        assert_eq!(read_udp_from(&bytes[..]).unwrap(), d);
    }

    #[test]
    fn ip_proto_roundtrip_and_udp_filter() {
        let d = vec![
            Datagram::new(v4(1, 0), v4(2, 0), vec![0, 0, 0, 0, 0xc8, 3]),
            Datagram::new(v6(1, 0), v6(2, 0), vec![0, 0, 0, 7, 1, 2, 3, 4]),
        ];
        let bytes = to_bytes(Encap::Ip(IPPROTO_L2TP), &d).unwrap();
        let recs = read_records_from(&bytes[..]).unwrap();
        assert_eq!(recs.len(), 2);
        assert!(recs.iter().all(|r| r.encap == Encap::Ip(IPPROTO_L2TP)));
        assert_eq!(
            recs.iter().map(|r| r.datagram.clone()).collect::<Vec<_>>(),
            d
        );
        assert_eq!(recs[1].frame, 2);
        assert_eq!(
            recs[1].timestamp,
            Duration::from_secs(WRITE_EPOCH_SECS) + Duration::from_millis(1)
        );
        assert!(read_udp_from(&bytes[..]).unwrap().is_empty());
    }

    #[test]
    fn udp_checksum_is_correct() {
        let d = &sample()[0];
        let frame = build_frame(Encap::Udp, d).unwrap();
        // Ethernet 14 + IPv4 20 + UDP 8 + payload
        assert_eq!(frame.len(), 14 + 20 + 8 + d.payload.len());
        let ip = &frame[14..34];
        let udp = &frame[34..];
        // IPv4 header checksum: one's complement sum over the header is 0xffff.
        assert_eq!(ones_sum(ip), 0xffff);
        // UDP checksum over pseudo header + UDP header + payload is 0xffff.
        let mut pseudo = Vec::new();
        pseudo.extend_from_slice(&ip[12..20]);
        pseudo.extend_from_slice(&[0, 17]);
        pseudo.extend_from_slice(&(udp.len() as u16).to_be_bytes());
        pseudo.extend_from_slice(udp);
        assert_ne!(&udp[6..8], &[0, 0]);
        assert_eq!(ones_sum(&pseudo), 0xffff);
        assert_eq!(&frame[0..6], &[2, 0, 192, 0, 2, 2]);
        assert_eq!(&frame[6..12], &[2, 0, 192, 0, 2, 1]);
    }

    fn ones_sum(data: &[u8]) -> u16 {
        let mut sum: u32 = 0;
        for c in data.chunks(2) {
            let w = if c.len() == 2 {
                u16::from_be_bytes([c[0], c[1]])
            } else {
                u16::from_be_bytes([c[0], 0])
            };
            sum += u32::from(w);
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        sum as u16
    }

    #[test]
    fn mixed_families_rejected() {
        let d = vec![Datagram::new(v4(1, 1701), v6(2, 1701), vec![1])];
        assert!(matches!(
            to_bytes(Encap::Udp, &d),
            Err(Error::MixedAddressFamilies { .. })
        ));
    }

    /// A pcap with the given link type whose frames are `prefix ++ ip_packet`.
    fn pcap_with_link(datalink: DataLink, frames: &[Vec<u8>]) -> Vec<u8> {
        let mut out = Vec::new();
        let header = PcapHeader {
            datalink,
            ..PcapHeader::default()
        };
        let mut w = PcapWriter::with_header(&mut out, header).unwrap();
        for f in frames {
            w.write_packet(&PcapPacket::new(Duration::ZERO, f.len() as u32, f))
                .unwrap();
        }
        w.into_writer();
        out
    }

    fn ip_packet(d: &Datagram) -> Vec<u8> {
        build_frame(Encap::Udp, d).unwrap()[14..].to_vec()
    }

    #[test]
    fn reads_linux_sll_v1_and_v2() {
        let d = sample();
        // SLL v1: packet type, ARPHRD, addr len, addr[8], protocol.
        let sll: Vec<Vec<u8>> = d
            .iter()
            .map(|d| {
                let mut f = vec![0, 4, 0, 1, 0, 6, 2, 0, 192, 0, 2, 1, 0, 0, 0x08, 0x00];
                f.extend(ip_packet(d));
                f
            })
            .collect();
        assert_eq!(
            read_udp_from(&pcap_with_link(DataLink::LINUX_SLL, &sll)[..]).unwrap(),
            d
        );
        // SLL v2: protocol, reserved, ifindex, ARPHRD, packet type, addr len, addr[8].
        let sll2: Vec<Vec<u8>> = d
            .iter()
            .map(|d| {
                let mut f = vec![
                    0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 4, 6, 2, 0, 192, 0, 2, 1, 0, 0,
                ];
                f.extend(ip_packet(d));
                f
            })
            .collect();
        assert_eq!(
            read_udp_from(&pcap_with_link(DataLink::LINUX_SLL2, &sll2)[..]).unwrap(),
            d
        );
    }

    #[test]
    fn reads_raw_ip_and_loopback_v6() {
        let d = vec![Datagram::new(v6(1, 1701), v6(2, 1701), vec![0xc8, 0x02])];
        let raw: Vec<Vec<u8>> = d.iter().map(ip_packet).collect();
        assert_eq!(
            read_udp_from(&pcap_with_link(DataLink::RAW, &raw)[..]).unwrap(),
            d
        );
        let lo: Vec<Vec<u8>> = raw
            .iter()
            .map(|p| [vec![0, 0, 0, 30], p.clone()].concat())
            .collect();
        assert_eq!(
            read_udp_from(&pcap_with_link(DataLink::LOOP, &lo)[..]).unwrap(),
            d
        );
    }

    #[test]
    fn skips_non_ip_frames() {
        let arp = vec![0xff; 14 + 28];
        let mut frames = vec![arp];
        frames.push(build_frame(Encap::Udp, &sample()[0]).unwrap());
        frames.push(vec![1, 2, 3]); // truncated
        let recs = read_records_from(&pcap_with_link(DataLink::ETHERNET, &frames)[..]).unwrap();
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].frame, 2);
    }

    #[test]
    fn unsupported_link_type() {
        let p = pcap_with_link(DataLink::IEEE802_11, &[vec![0; 30]]);
        assert!(matches!(
            read_udp_from(&p[..]),
            Err(Error::UnsupportedLinkType(_))
        ));
    }
}
