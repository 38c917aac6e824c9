//! How large a native-PPP link's packets may be without fragmenting the tunnel's underlay:
//! the MRU the link asks for when its profile sets no `mru`, and the MTU it sends with (the
//! TUN route's on the userspace data plane, the PPP unit's on the kernel's).
//!
//! As for an Ethernet pseudowire's TAP (`l2tp_dataplane::userspace::default_mtu`), the
//! underlay is taken to carry 1500 octets; from them go the IP header, UDP's (over UDP), the
//! L2TP data header as the sender may send it, and the PPP header. LCP lets a sender send
//! less than the peer's MRU (RFC 1661 §6.1), so the MTU in use is the smaller of the two.

use l2tp_proto::wire::header::{Encapsulation, L2SpecificSublayer, Version};

/// The MTU assumed for the underlay, as for an Ethernet pseudowire's TAP.
const UNDERLAY_MTU: u16 = 1500;

/// PPP's Address and Control fields and a two-octet Protocol field (RFC 1662 §3.1): the
/// longest header a sender may put before the IP packet (ACFC and PFC only shorten it).
const PPP_HEADER: u16 = 4;

/// What the L2TP data packets of a session travel in.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(in crate::engine) struct Underlay {
    pub(in crate::engine) version: Version,
    pub(in crate::engine) encap: Encapsulation,
    pub(in crate::engine) ipv6: bool,
    pub(in crate::engine) l2spec: L2SpecificSublayer,
}

impl Underlay {
    /// The L2TP data header of a packet carrying `cookie_len` octets of cookie.
    fn l2tp_header(self, cookie_len: usize) -> u16 {
        match self.version {
            // Flags and version, Length (L), Tunnel ID, Session ID, Ns and Nr (S): the longest
            // a peer sends without an Offset (RFC 2661 §3.1).
            Version::V2 => 12,
            // Over UDP a 4-octet header first (RFC 3931 §4.1.2.1), then the Session ID, the
            // cookie (§4.1) and the Default L2-Specific Sublayer (§4.6).
            Version::V3 => {
                let udp = if self.encap == Encapsulation::Udp {
                    4
                } else {
                    0
                };
                let sublayer = match self.l2spec {
                    L2SpecificSublayer::Default => 4,
                    L2SpecificSublayer::None => 0,
                };
                udp + 4 + u16::try_from(cookie_len).unwrap_or(8) + sublayer
            }
        }
    }

    /// The largest IP packet a PPP frame can carry in an L2TP data packet with `cookie_len`
    /// octets of cookie, that fits the underlay without fragmentation.
    pub(in crate::engine) fn ppp_mtu(self, cookie_len: usize) -> u16 {
        let ip = if self.ipv6 { 40 } else { 20 };
        let udp = if self.encap == Encapsulation::Udp {
            8
        } else {
            0
        };
        UNDERLAY_MTU - ip - udp - self.l2tp_header(cookie_len) - PPP_HEADER
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn underlay(version: Version, encap: Encapsulation, ipv6: bool, sublayer: bool) -> Underlay {
        let l2spec = if sublayer {
            L2SpecificSublayer::Default
        } else {
            L2SpecificSublayer::None
        };
        Underlay {
            version,
            encap,
            ipv6,
            l2spec,
        }
    }

    #[test]
    fn l2tpv2_over_udp() {
        // 1500 - IPv4 20 - UDP 8 - L2TPv2 12 - PPP 4; IPv6 40.
        let v4 = underlay(Version::V2, Encapsulation::Udp, false, false);
        assert_eq!(v4.ppp_mtu(0), 1456);
        let v6 = underlay(Version::V2, Encapsulation::Udp, true, false);
        assert_eq!(v6.ppp_mtu(0), 1436);
    }

    #[test]
    fn l2tpv3_over_ip() {
        // 1500 - IPv4 20 - Session ID 4 - cookie - sublayer - PPP 4.
        let plain = underlay(Version::V3, Encapsulation::Ip, false, false);
        assert_eq!(plain.ppp_mtu(0), 1472);
        assert_eq!(plain.ppp_mtu(4), 1468);
        let full = underlay(Version::V3, Encapsulation::Ip, false, true);
        assert_eq!(full.ppp_mtu(8), 1460);
        let v6 = underlay(Version::V3, Encapsulation::Ip, true, true);
        assert_eq!(v6.ppp_mtu(8), 1440);
    }

    #[test]
    fn l2tpv3_over_udp() {
        // 1500 - IP - UDP 8 - header 4 - Session ID 4 - cookie - sublayer - PPP 4.
        let v4 = underlay(Version::V3, Encapsulation::Udp, false, false);
        assert_eq!(v4.ppp_mtu(0), 1460);
        let v6 = underlay(Version::V3, Encapsulation::Udp, true, true);
        assert_eq!(v6.ppp_mtu(8), 1428);
    }

    /// The same overheads as an Ethernet pseudowire's TAP, less Ethernet's 14 and plus PPP's 4.
    #[test]
    fn as_the_ethernet_mtu_is_worked_out() {
        for (encap, ipv6, header, cookie, sublayer) in [
            (Encapsulation::Udp, false, 8, 0, false),
            (Encapsulation::Ip, false, 4, 0, false),
            (Encapsulation::Udp, true, 20, 8, true),
        ] {
            let u = underlay(Version::V3, encap, ipv6, sublayer);
            let eth = l2tp_dataplane::default_mtu(encap, ipv6, header);
            assert_eq!(u32::from(u.ppp_mtu(cookie)), eth + 14 - 4, "{u:?}");
        }
    }
}
