//! Real L2TPv2 traffic captured between two xl2tpd 1.3.18 instances by
//! `tools/capture-xl2tpd.sh` (see `testdata/xl2tpd/README.md`).
//!
//! LAC 192.0.2.1:1701 (host name `lac`), LNS 192.0.2.2:1701 (host name
//! `lns`). Every capture: SCCRQ, SCCRP, SCCCN, ICRQ, ICRP, ICCN, then the
//! LAC sends a CDN and a StopCCN; the LNS acknowledges with ZLBs. `plain`
//! also holds a HELLO. Tunnel and session ids are random per capture: read
//! them from the packets.

use std::path::PathBuf;

use crate::pcap::{self, Datagram};

/// One xl2tpd capture scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scenario {
    /// No tunnel authentication, no hidden AVPs; includes a HELLO.
    Plain,
    /// Tunnel authentication: Challenge in SCCRQ and SCCRP, Challenge
    /// Response in SCCRP and SCCCN.
    Challenge,
    /// `hidden bit = yes` (and challenge): every message carries a Random
    /// Vector AVP right after the Message Type. xl2tpd 1.3.18 (built without
    /// `TEST_HIDDEN`) sets the H bit on no AVP, so nothing is hidden.
    Hidden,
}

impl Scenario {
    /// All scenarios.
    pub const ALL: [Scenario; 3] = [Scenario::Plain, Scenario::Challenge, Scenario::Hidden];

    /// File stem: `plain`, `challenge`, `hidden`.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Plain => "plain",
            Scenario::Challenge => "challenge",
            Scenario::Hidden => "hidden",
        }
    }

    /// The shared tunnel secret both peers used, if any.
    pub fn secret(self) -> Option<&'static [u8]> {
        match self {
            Scenario::Plain => None,
            Scenario::Challenge => Some(b"challenge-secret"),
            Scenario::Hidden => Some(b"hidden-secret"),
        }
    }

    /// Path of the pcap.
    pub fn path(self) -> PathBuf {
        testdata_dir()
            .join("xl2tpd")
            .join(format!("{}.pcap", self.name()))
    }

    /// The UDP datagrams of the capture, in order.
    pub fn datagrams(self) -> Result<Vec<Datagram>, pcap::Error> {
        pcap::read_udp(self.path())
    }
}

/// `testdata/` at the workspace root.
pub fn testdata_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("testdata")
}

/// Address of the xl2tpd LAC in the captures.
pub const LAC_ADDR: ([u8; 4], u16) = ([192, 0, 2, 1], 1701);
/// Address of the xl2tpd LNS in the captures.
pub const LNS_ADDR: ([u8; 4], u16) = ([192, 0, 2, 2], 1701);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::pcap::{Encap, to_bytes};
    use crate::tshark::{self, Packet, decode, decode_datagrams, message_name, tshark_available};
    use std::net::SocketAddr;

    fn names(pkts: &[Packet]) -> Vec<&'static str> {
        pkts.iter()
            .map(|p| message_name(p.first_l2tp().unwrap().message_type))
            .collect()
    }

    /// Message type (first AVP, vendor 0 type 0) read straight off the wire.
    fn wire_type(payload: &[u8]) -> Option<u16> {
        // flags(2) length(2) tunnel(2) session(2) Ns(2) Nr(2), then AVPs
        let avp = payload.get(12..20)?;
        (avp[2..6] == [0, 0, 0, 0]).then(|| u16::from_be_bytes([avp[6], avp[7]]))
    }

    #[test]
    fn captures_have_expected_messages() {
        let lac = SocketAddr::from(LAC_ADDR);
        let lns = SocketAddr::from(LNS_ADDR);
        for sc in Scenario::ALL {
            let d = sc.datagrams().unwrap();
            let types: Vec<_> = d
                .iter()
                .map(|d| message_name(wire_type(&d.payload)))
                .collect();
            let mut want = vec!["SCCRQ", "SCCRP", "SCCCN", "ICRQ", "ICRP", "ICCN"];
            if sc == Scenario::Plain {
                want.push("Hello");
            }
            want.extend(["CDN", "StopCCN"]);
            let non_zlb: Vec<_> = types.iter().copied().filter(|t| *t != "ZLB").collect();
            assert_eq!(non_zlb, want, "{sc:?}");
            assert!(d.iter().all(|d| d.src == lac || d.src == lns));
            assert!(
                d.iter()
                    .all(|d| d.payload[0] & 0x80 != 0 && d.payload[1] & 0x0f == 2)
            );
        }
    }

    #[test]
    fn tshark_accepts_captures() {
        if !tshark_available() {
            eprintln!("tshark not available: skipped");
            return;
        }
        for sc in Scenario::ALL {
            let pkts = decode(sc.path()).unwrap();
            assert_eq!(pkts.len(), sc.datagrams().unwrap().len());
            for p in &pkts {
                assert!(p.is_clean(), "{sc:?} frame {}: {:?}", p.number, p.expert);
                let l = p.first_l2tp().unwrap();
                assert_eq!((l.version, l.control), (Some(2), Some(true)));
                assert!(l.ns.is_some() && l.nr.is_some());
            }
            let n = names(&pkts);
            assert_eq!(n[0], "SCCRQ");
            let sccrq = pkts[0].first_l2tp().unwrap();
            assert_eq!((sccrq.tunnel_id, sccrq.session_id), (Some(0), Some(0)));
            // the SCCRP goes to the tunnel id the SCCRQ assigned
            let assigned = sccrq
                .avp(0, 9)
                .unwrap()
                .field("l2tp.avp.assigned_tunnel_id")
                .unwrap();
            let sccrp = pkts[1].first_l2tp().unwrap();
            assert_eq!(sccrp.tunnel_id.unwrap().to_string(), assigned);
            assert_eq!(
                sccrq.avp(0, 7).unwrap().field("l2tp.avp.host_name"),
                Some("lac")
            );
            // AVPs come in wire order and their raw bytes match the header
            for a in &sccrq.avps {
                let raw = a.raw.as_ref().unwrap();
                assert_eq!(raw.len(), usize::from(a.length));
                assert_eq!(u16::from_be_bytes([raw[0], raw[1]]) & 0x3ff, a.length);
                assert_eq!(u16::from_be_bytes([raw[4], raw[5]]), a.attr_type);
            }
            assert_eq!(sccrq.avps[0].attr_type, 0);
            match sc {
                Scenario::Plain => assert!(sccrq.avp(0, 11).is_none()),
                Scenario::Challenge | Scenario::Hidden => {
                    assert_eq!(sccrq.avp(0, 11).unwrap().value().unwrap().len(), 16);
                    assert!(sccrp.avp(0, 13).is_some() && sccrp.avp(0, 11).is_some());
                    let scccn = pkts[2].first_l2tp().unwrap();
                    assert!(scccn.avp(0, 13).is_some());
                }
            }
            if sc == Scenario::Hidden {
                for p in pkts.iter().filter(|p| !p.first_l2tp().unwrap().is_zlb()) {
                    assert_eq!(
                        p.first_l2tp().unwrap().avps[1].attr_type,
                        36,
                        "Random Vector"
                    );
                }
            }
        }
    }

    /// Our writer re-frames the captured payloads so that tshark decodes
    /// them exactly as it decoded the originals.
    #[test]
    fn rewritten_capture_decodes_identically() {
        if !tshark_available() {
            eprintln!("tshark not available: skipped");
            return;
        }
        let sc = Scenario::Challenge;
        let orig = decode(sc.path()).unwrap();
        let ours = decode_datagrams(Encap::Udp, &sc.datagrams().unwrap(), &[]).unwrap();
        assert_eq!(orig.len(), ours.len());
        for (a, b) in orig.iter().zip(&ours) {
            assert!(b.is_clean(), "{:?}", b.expert);
            assert_eq!(a.l2tp, b.l2tp);
        }
        // and the datagrams survive the round trip through our own reader
        let bytes = to_bytes(Encap::Udp, &sc.datagrams().unwrap()).unwrap();
        assert_eq!(
            pcap::read_udp_from(&bytes[..]).unwrap(),
            sc.datagrams().unwrap()
        );
    }

    #[test]
    fn tshark_reports_hidden_and_malformed() {
        if !tshark_available() {
            eprintln!("tshark not available: skipped");
            return;
        }
        // SCCRQ: Message Type, Random Vector, hidden Assigned Tunnel ID (M|H, 8 + 16 bytes)
        let mut msg = vec![0xc8, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        msg.extend([0x80, 8, 0, 0, 0, 0, 0, 1]);
        msg.extend([0x80, 22, 0, 0, 0, 36]);
        msg.extend([0x5a; 16]);
        msg.extend([0xc0, 24, 0, 0, 0, 9]);
        msg.extend([0xa5; 18]);
        let len = msg.len() as u16;
        msg[2..4].copy_from_slice(&len.to_be_bytes());
        let p = tshark::decode_l2tp_udp(&msg, &[]).unwrap();
        assert!(p.is_clean(), "{:?}", p.expert);
        let l = p.first_l2tp().unwrap();
        assert_eq!(message_name(l.message_type), "SCCRQ");
        let h = l.avp(0, 9).unwrap();
        assert!(h.hidden && h.mandatory);
        assert_eq!(h.value(), Some(&[0xa5; 18][..]));
        assert_eq!(l.avp(0, 36).unwrap().value(), Some(&[0x5a; 16][..]));

        // An AVP whose length runs past the message: malformed.
        let mut bad = vec![0xc8, 0x02, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0];
        bad.extend([0x80, 8, 0, 0, 0, 0, 0, 1]);
        bad.extend([0x80, 0x30, 0, 0]);
        let p = tshark::decode_l2tp_udp(&bad, &[]).unwrap();
        assert!(p.malformed && !p.is_clean());
        assert_eq!(p.errors().count(), 1);
    }

    #[test]
    fn extra_args_reach_tshark() {
        if !tshark_available() {
            eprintln!("tshark not available: skipped");
            return;
        }
        let pkts = tshark::decode_with(
            Scenario::Plain.path(),
            &["-Y", "l2tp.avp.message_type == 6"],
        )
        .unwrap();
        assert_eq!(names(&pkts), vec!["Hello"]);
        assert!(matches!(
            tshark::decode_with(Scenario::Plain.path(), &["-o", "l2tp.no_such_pref:1"]),
            Err(tshark::Error::Failed { .. })
        ));
    }

    #[test]
    fn l2tpv3_over_ip_with_prefs() {
        if !tshark_available() {
            eprintln!("tshark not available: skipped");
            return;
        }
        // L2TPv3 data over IP: session id 0x1234, 4-byte cookie, default
        // L2-specific sublayer, then an Ethernet frame.
        let mut data = vec![0, 0, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x40, 0, 0, 1];
        data.extend([0xff; 6]);
        data.extend([2, 0, 0, 0, 0, 1, 0x08, 0x06]);
        data.extend([0; 28]);
        let d = Datagram::new(([192, 0, 2, 1], 0), ([192, 0, 2, 2], 0), data);
        let args = [
            "-o",
            "l2tp.cookie_size:4 Byte Cookie",
            "-o",
            "l2tp.l2_specific:Default L2-Specific",
            "-d",
            "l2tp.pw_type==0,eth",
        ];
        let p = decode_datagrams(Encap::Ip(pcap::IPPROTO_L2TP), &[d], &args).unwrap();
        let p = &p[0];
        assert!(p.is_clean(), "{:?}", p.expert);
        assert!(p.protocols.contains("l2tp:eth"), "{}", p.protocols);
        let l = p.first_l2tp().unwrap();
        assert_eq!(l.session_id, Some(0x1234));
        assert_eq!(l.field("l2tp.cookie"), Some("de:ad:be:ef"));
    }
}
