//! What `show session`, `show sessions` and `l2tpwatch` say of a session whose PPP l2tpd
//! terminates itself (native PPP): who is online, with which address.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

/// The PPP of a native-PPP session, in `show session`.
#[derive(Clone, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
pub struct PppDetail {
    /// The ppp profile it follows.
    pub profile: String,
    /// `server` (authenticates the peer, assigns its address) or `client`.
    pub role: String,
    /// The link's phase (RFC 1661 §3.2): `dead`, `establish`, `authenticate`, `network`,
    /// `terminate`.
    pub phase: String,
    /// The user the peer authenticated as (server), or the one we authenticated as (client).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The authentication method: `pap`, `chap`, `mschapv2`; absent when none ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<String>,
    /// Our IPv4 address on the link, once IPCP is Opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_ipv4: Option<Ipv4Addr>,
    /// The peer's IPv4 address, once IPCP is Opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_ipv4: Option<Ipv4Addr>,
    /// DNS servers given or received.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns: Vec<Ipv4Addr>,
    /// Our IPv6 interface identifier, once IPv6CP is Opened (`xxxx:xxxx:xxxx:xxxx`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_ipv6_ifid: Option<String>,
    /// The peer's IPv6 interface identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_ipv6_ifid: Option<String>,
    /// The MRU we ask for (the profile's `mru`, or what the tunnel's underlay carries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mru: Option<u16>,
    /// The peer's MRU, once LCP is Opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_mru: Option<u16>,
    /// The MTU we send with, once LCP is Opened: the peer's MRU, capped by what the underlay
    /// carries without fragmentation, the pseudowire profile's `mtu` and Framed-MTU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u16>,
    /// Seconds since the first network protocol came up; 0 when none is up.
    pub uptime_s: u64,
    /// LCP Echo-Requests sent.
    pub echo_sent: u32,
    /// Echo-Requests not answered in a row now.
    pub echo_missed: u32,
    /// PPP control frames received.
    pub frames_in: u32,
    /// PPP control frames sent.
    pub frames_out: u32,
    /// Frames that were malformed or discarded.
    pub frames_discarded: u32,
    /// Why the link ended (a `ppp_proto` down reason's kind), once it has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub down_reason: Option<String>,
    /// What the LNS took of the LAC's proxy AVPs (RFC 2661 §4.4.5): `lcp` (its LCP
    /// negotiation), or `lcp, authentication` (and the caller's answer to its authentication);
    /// absent when the link negotiated everything itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxied: Option<String>,
    /// The ACCM the LNS's last Set-Link-Info gave (on a LAC), as `send 0x... receive 0x...`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sli_accm: Option<String>,
    /// RADIUS authentication and accounting, for a session of a profile that uses RADIUS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub radius: Option<Box<PppRadius>>,
}

/// The RADIUS side of a native-PPP session, in `show session`.
#[derive(Clone, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
pub struct PppRadius {
    /// Its Acct-Session-Id, in every RADIUS request about it.
    pub acct_session_id: String,
    /// Who authenticated the peer: `radius` or `local`; absent until it is authenticated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentic: Option<String>,
    /// The Class attributes of the Access-Accept, echoed in accounting (text, or `0x` and hex
    /// digits when not printable).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub class: Vec<String>,
    /// Where its accounting is: `off`, `start-sent`, `started`, `stopped`.
    pub accounting: String,
    /// Seconds between Interim-Updates, when they are sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interim_interval_s: Option<u64>,
    /// Session-Timeout, as the server (or a CoA-Request) set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_timeout_s: Option<u32>,
    /// Idle-Timeout, as the server (or a CoA-Request) set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_timeout_s: Option<u32>,
    /// Framed-MTU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framed_mtu: Option<u16>,
}

/// A RADIUS value for display: its text when printable ASCII, else `0x` and hex digits.
pub fn radius_text(v: &[u8]) -> String {
    if !v.is_empty() && v.iter().all(|c| c.is_ascii_graphic() || *c == b' ') {
        String::from_utf8_lossy(v).into_owned()
    } else {
        let mut s = String::from("0x");
        for b in v {
            s.push_str(&format!("{b:02x}"));
        }
        s
    }
}

/// What a `ppp_up` or `ppp_down` event tells.
#[derive(Clone, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
pub struct PppEventInfo {
    /// The user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The authentication method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<String>,
    /// The peer's IPv4 address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_ipv4: Option<Ipv4Addr>,
    /// Our IPv4 address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_ipv4: Option<Ipv4Addr>,
    /// The peer's IPv6 interface identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_ipv6_ifid: Option<String>,
    /// Why it went down (`ppp_down`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// An interface identifier as `xxxx:xxxx:xxxx:xxxx`, as the lower half of an IPv6 address is
/// written.
pub fn format_ifid(id: u64) -> String {
    format!(
        "{:x}:{:x}:{:x}:{:x}",
        id >> 48,
        (id >> 32) & 0xffff,
        (id >> 16) & 0xffff,
        id & 0xffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interface_identifier_reads_as_the_low_half_of_an_address() {
        assert_eq!(format_ifid(0x0200_5eff_fe00_5301), "200:5eff:fe00:5301");
        assert_eq!(format_ifid(1), "0:0:0:1");
    }
}
