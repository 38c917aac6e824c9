//! From the config's vocabulary to the protocol library's: tunnel and session settings become
//! [`TunnelConfig`] and [`SessionConfig`], a tunnel instance's `peer` and `local` become socket
//! addresses, and the protocol's data-plane requests become the data plane's specs. From here on
//! the daemon speaks `l2tp_proto`'s types (encapsulation, version, sublayer, sequencing).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU16;
use std::time::{Duration, Instant};

use l2tp_config as cfg;
use l2tp_proto::wire::access_line::AccessLine;
use l2tp_proto::wire::header::{Cookie, Encapsulation, L2SpecificSublayer, Version};
use l2tp_proto::{self as proto, SessionConfig, TunnelConfig};

use super::api::HostFacts;
use super::names::{Lookup, Names};
use crate::dataplane::{PppSpec, PppdSpec, SessionSpec, TunnelSpec};

/// The encapsulation of a config `encap`.
pub(super) fn encap(e: cfg::Encap) -> Encapsulation {
    match e {
        cfg::Encap::Udp => Encapsulation::Udp,
        cfg::Encap::Ip => Encapsulation::Ip,
    }
}

/// The version a tunnel's settings ask for, L2TPv3 when they leave it open.
pub(super) fn version(v: Option<cfg::L2tpVersion>) -> Version {
    match v {
        Some(cfg::L2tpVersion::V2) => Version::V2,
        _ => Version::V3,
    }
}

/// The sublayer of a config `l2spec_type`.
pub(super) fn l2spec(t: cfg::L2specType) -> L2SpecificSublayer {
    match t {
        cfg::L2specType::None => L2SpecificSublayer::None,
        cfg::L2specType::Default => L2SpecificSublayer::Default,
    }
}

/// The sequencing of a config `data_sequencing`.
pub(super) fn sequencing(d: cfg::DataSequencing) -> proto::DataSequencing {
    match d {
        cfg::DataSequencing::None => proto::DataSequencing::None,
        cfg::DataSequencing::NonIp => proto::DataSequencing::NonIp,
        cfg::DataSequencing::All => proto::DataSequencing::All,
    }
}

/// A cookie from its configured bytes (none when absent or of a length the RFC forbids).
pub(super) fn cookie(bytes: Option<&[u8]>) -> Option<Cookie> {
    bytes.and_then(Cookie::new)
}

fn window(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).unwrap_or(NonZeroU16::MIN)
}

/// The engine's parameters for a tunnel with `settings`. `host_name` and `router_id` are the
/// system's, used when `settings` sets none.
pub fn tunnel_config(
    settings: &cfg::TunnelSettings,
    system: &cfg::System,
    facts: &HostFacts,
) -> TunnelConfig {
    use l2tp_proto::wire::avp::types::{bearer, framing};
    let host_name = settings
        .host_name
        .clone()
        .or_else(|| system.host_name.clone())
        .unwrap_or_else(|| facts.host_name.clone());
    let secret = settings
        .secret
        .as_ref()
        .map(|s| proto::auth::Secret::new(s.as_bytes()))
        .unwrap_or_default();
    let mut framing_caps = 0;
    if settings.framing_caps.sync {
        framing_caps |= framing::SYNC;
    }
    if settings.framing_caps.async_ {
        framing_caps |= framing::ASYNC;
    }
    let mut bearer_caps = 0;
    if settings.bearer_caps.digital {
        bearer_caps |= bearer::DIGITAL;
    }
    if settings.bearer_caps.analog {
        bearer_caps |= bearer::ANALOG;
    }
    TunnelConfig {
        version: match settings.version {
            Some(cfg::L2tpVersion::V2) => proto::VersionMode::V2,
            Some(cfg::L2tpVersion::V3) => proto::VersionMode::V3,
            None => proto::VersionMode::V3WithFallback,
        },
        encap: encap(settings.encap),
        host_name: host_name.into_bytes(),
        router_id: system.router_id.unwrap_or(facts.router_id),
        secret,
        auth_mode: match settings.auth_mode {
            cfg::AuthMode::None => proto::AuthMode::None,
            cfg::AuthMode::Simple => proto::AuthMode::Simple,
            cfg::AuthMode::Challenge => proto::AuthMode::Challenge,
        },
        peer_host_name: None,
        hide_avps: settings.hide_avps,
        digest_type: match settings.digest_type {
            cfg::DigestType::HmacMd5 => proto::wire::digest::DigestType::HmacMd5,
            cfg::DigestType::HmacSha1 => proto::wire::digest::DigestType::HmacSha1,
        },
        hello_timeout: Duration::from_secs(settings.hello_timeout.into()),
        idle_timeout: Duration::from_secs(settings.idle_timeout.into()),
        retry_timeout: Duration::from_secs(settings.retry_timeout.into()),
        max_retries: u16::try_from(settings.max_retries).unwrap_or(u16::MAX),
        rx_window: window(settings.rx_window_size),
        tx_window: window(settings.tx_window_size),
        framing_caps,
        bearer_caps,
        use_tiebreaker: settings.use_tiebreaker,
        max_sessions: settings.max_sessions,
        establish_timeout: Duration::from_secs(system.tunnel_establish_timeout.into()),
        udp_checksums: settings.use_udp_checksums,
        ..TunnelConfig::default()
    }
}

/// The engine's parameters for a session with `settings` and pseudowire profile `pw`.
pub fn session_config(
    settings: &cfg::SessionSettings,
    pw: &cfg::PseudowireSettings,
    system: &cfg::System,
) -> SessionConfig {
    let text = |s: &Option<String>| s.as_deref().unwrap_or_default().as_bytes().to_vec();
    SessionConfig {
        pw_type: settings.pseudowire_type.number(),
        l2spec: l2spec(settings.l2spec_type),
        cookie_length: settings.cookie_length,
        cookie: cookie(settings.cookie.as_deref()),
        peer_cookie: cookie(settings.peer_cookie.as_deref()),
        data_sequencing: sequencing(settings.data_sequencing),
        remote_end_id: settings
            .remote_end_id
            .as_ref()
            .map(|r| r.as_bytes().to_vec())
            .unwrap_or_default(),
        calling_number: text(&settings.calling_number),
        called_number: text(&settings.called_number),
        sub_address: text(&settings.sub_address),
        private_group_id: text(&settings.priv_group_id),
        access_line: access_line(settings),
        proxy: None,
        tx_connect_speed: settings.tx_connect_speed,
        rx_connect_speed: settings.rx_connect_speed.unwrap_or(0),
        connect_speed_updates: settings.connect_speed_updates,
        framing_type: match settings.framing_type {
            cfg::Framing::Sync => 1,
            cfg::Framing::Async => 2,
            cfg::Framing::Any => 3,
        },
        bearer_type: match settings.bearer_type {
            cfg::Bearer::Digital => 1,
            cfg::Bearer::Analog => 2,
            cfg::Bearer::Any => 0,
        },
        interface_name: settings
            .interface_name
            .clone()
            .or_else(|| pw.interface_name.clone()),
        establish_timeout: Duration::from_secs(system.session_establish_timeout.into()),
        local_id: None,
    }
}

/// The local address of a tunnel with `settings` to `peer`: its `local` setting (port: the
/// listen port of that family), else the first listen address of the peer's family. Over IP
/// the port is 0, and without a `local` setting the address is still that listen address:
/// the control messages leave from its socket, so the data must too (RFC 3931 §4.1.1: the
/// peer knows the tunnel by that address; its data socket, connected to it, hears nothing
/// else).
pub(super) fn local_for(
    facts: &HostFacts,
    settings: &cfg::TunnelSettings,
    peer: SocketAddr,
) -> SocketAddr {
    let listen_port = |v4: bool| {
        facts
            .listen
            .iter()
            .find(|a| a.is_ipv4() == v4)
            .map_or(cfg::L2TP_PORT, SocketAddr::port)
    };
    let unspecified = |v4: bool| {
        if v4 {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        } else {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        }
    };
    let local_ip = match &settings.local {
        Some(cfg::Endpoint {
            host: cfg::Host::Ip(ip),
            port,
        }) => Some((*ip, *port)),
        _ => None,
    };
    let first_listen = facts
        .listen
        .iter()
        .find(|a| a.is_ipv4() == peer.is_ipv4())
        .copied()
        .unwrap_or_else(|| SocketAddr::new(unspecified(peer.is_ipv4()), 0));
    if settings.encap == cfg::Encap::Ip {
        let ip = local_ip.map_or_else(|| first_listen.ip(), |(ip, _)| ip);
        return SocketAddr::new(ip, 0);
    }
    if let Some((ip, port)) = local_ip {
        return SocketAddr::new(ip, port.unwrap_or_else(|| listen_port(ip.is_ipv4())));
    }
    first_listen
}

/// The Access Line Information a session's calls as LAC carry (RFC 5515), if it sets any.
fn access_line(settings: &cfg::SessionSettings) -> Option<Box<AccessLine>> {
    let mut rates = [None; 10];
    rates[0] = settings.actual_data_rate_upstream;
    rates[1] = settings.actual_data_rate_downstream;
    let line = AccessLine {
        agent_circuit_id: settings.agent_circuit_id.clone().map(String::into_bytes),
        agent_remote_id: settings.agent_remote_id.clone().map(String::into_bytes),
        rates,
        ..AccessLine::default()
    };
    (line != AccessLine::default()).then(|| Box::new(line))
}

/// Where the next attempt of tunnel instance `t` goes: the `attempt`th (modulo their number)
/// of its peers' addresses, in the order its `peer` gives them, a name standing for each of
/// its addresses (their port: none over IP); and how many there are. `None` while a name is
/// being resolved (see [`Names`]). A name that does not resolve is left out, with a warning,
/// unless it leaves nothing.
pub(super) fn peer_addr(
    t: &cfg::ResolvedTunnel,
    names: &mut Names,
    now: Instant,
    attempt: usize,
) -> Result<Option<(SocketAddr, usize)>, String> {
    let mut candidates = Vec::new();
    let mut failures = Vec::new();
    let mut pending = false;
    for peer in &t.peers {
        let port = if t.settings.encap == cfg::Encap::Ip {
            0
        } else {
            peer.port_or_default()
        };
        match &peer.host {
            cfg::Host::Ip(ip) => candidates.push(SocketAddr::new(*ip, port)),
            cfg::Host::Name(name) => match names.lookup(name, now) {
                Lookup::Ready(ips) => {
                    candidates.extend(ips.into_iter().map(|ip| SocketAddr::new(ip, port)));
                }
                Lookup::Pending => pending = true,
                Lookup::Failed(why) => failures.push(why),
            },
        }
    }
    if pending {
        return Ok(None);
    }
    if candidates.is_empty() {
        return Err(failures.join("; "));
    }
    for why in failures {
        tracing::warn!("tunnel \"{}\": {why}; trying its other peers", t.name);
    }
    Ok(Some((
        candidates[attempt % candidates.len()],
        candidates.len(),
    )))
}

/// The data plane's spec of a tunnel the protocol installs.
pub(super) fn tunnel_spec(p: &proto::event::TunnelParams, debug: bool) -> TunnelSpec {
    TunnelSpec {
        tid: p.tunnel_id,
        peer_tid: p.peer_tunnel_id,
        version: p.version,
        encap: p.encap,
        local: p.local,
        peer: p.remote,
        udp_checksums: p.udp_checksums,
        debug,
    }
}

/// What a session's data plane gets from its settings beyond the protocol's parameters.
#[derive(Clone, Copy, Debug)]
pub(super) struct SessionData<'a> {
    pub(super) settings: &'a cfg::SessionSettings,
    pub(super) pseudowire: &'a cfg::PseudowireSettings,
    pub(super) debug: bool,
    /// The call's Calling Number.
    pub(super) calling_number: Option<&'a [u8]>,
    /// The tunnel's peer.
    pub(super) peer: Option<SocketAddr>,
    /// Whether l2tpd terminates the session's PPP itself.
    pub(super) native_ppp: bool,
    /// The MRU and MTU of a PPP link that fit the tunnel's underlay without fragmentation.
    pub(super) underlay: Option<(u16, u16)>,
}

/// The data plane's spec of a session the protocol installs.
pub(super) fn session_spec(p: &proto::event::SessionParams, d: SessionData<'_>) -> SessionSpec {
    let pw = cfg::PseudowireType::from_number(p.pw_type);
    SessionSpec {
        tid: p.tunnel_id,
        sid: p.session_id,
        peer_tid: p.peer_tunnel_id,
        peer_sid: p.peer_session_id,
        pseudowire_type: pw,
        cookie: p.peer_cookie.as_bytes().to_vec(),
        peer_cookie: p.cookie.as_bytes().to_vec(),
        l2spec: p.l2spec,
        data_sequencing: sequencing(d.settings.data_sequencing),
        reorder_timeout_ms: d.settings.reorder_timeout,
        interface_name: p.interface_name.clone(),
        mtu: d.pseudowire.mtu,
        mac: d.pseudowire.mac,
        vlan_id: d.settings.vlan_id,
        bridge: d.pseudowire.bridge.clone(),
        local_ip: d.pseudowire.local_ip,
        peer_ip: d.pseudowire.peer_ip,
        netmask: d.pseudowire.netmask,
        lns: p.lns,
        send_seq: p.send_seq,
        recv_seq: p.recv_seq,
        ppp: (pw == cfg::PseudowireType::Ppp).then(|| {
            if d.native_ppp {
                return PppSpec::Native;
            }
            PppSpec::Pppd(PppdSpec {
                pppd_path: d.pseudowire.pppd_path.clone(),
                pppd_options: d.pseudowire.pppd_options.clone(),
                remote_number: d
                    .calling_number
                    .filter(|n| crate::scripts::is_printable(n))
                    .map(|n| String::from_utf8_lossy(n).into_owned()),
                ipparam: d.peer.map(|p| p.ip().to_string()),
                // The pseudowire profile's `mtu` caps what is sent, as on native PPP.
                sizes: d.underlay.map(|(mru, mtu)| {
                    let mtu = d.pseudowire.mtu.map_or(mtu, |m| mtu.min(m));
                    (mru, mtu)
                }),
            })
        }),
        debug: d.debug,
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;

    fn parse(text: &str) -> cfg::Config {
        match cfg::parse("t.conf", text) {
            Ok(c) => c,
            Err(d) => panic!("{}", cfg::render_all(&d, text)),
        }
    }

    fn facts() -> HostFacts {
        HostFacts {
            listen: vec![SocketAddr::from(([127, 0, 0, 1], 1701))],
            ip_listen: Vec::new(),
            ip_tunnel_sockets: false,
            control_socket: "/tmp/x.sock".into(),
            host_name: "sys-host".into(),
            router_id: 0x0a00_0001,
            native_ppp: false,
        }
    }

    #[test]
    fn tunnel_settings_become_the_engine_s_config() {
        let c = parse(
            "tunnel profile \"p\" {\n version 2\n secret \"s3cret\"\n hello_timeout 0\n \
             retry_timeout 2\n max_retries 7\n rx_window_size 4\n tx_window_size 8\n \
             framing_caps sync\n bearer_caps analog\n use_tiebreaker false\n max_sessions 3\n}\n",
        );
        let Some(s) = c.tunnel_profile_settings("p") else {
            panic!("no profile");
        };
        let t = tunnel_config(&s, c.system(), &facts());
        assert_eq!(t.version, proto::VersionMode::V2);
        assert_eq!(t.auth_mode, proto::AuthMode::Challenge);
        assert_eq!(t.secret.as_bytes(), b"s3cret");
        assert!(!format!("{t:?}").contains("s3cret"));
        assert_eq!(t.host_name, b"sys-host");
        assert_eq!(t.router_id, 0x0a00_0001);
        assert_eq!(t.hello_timeout, Duration::ZERO);
        assert_eq!(t.retry_timeout, Duration::from_secs(2));
        assert_eq!(
            (t.max_retries, t.rx_window.get(), t.tx_window.get()),
            (7, 4, 8)
        );
        assert_eq!((t.framing_caps, t.bearer_caps), (1, 2));
        assert!(!t.use_tiebreaker);
        assert_eq!(t.max_sessions, 3);
        let d = c.tunnel_profile_settings("default");
        let d = tunnel_config(&d.unwrap_or_else(|| panic!()), c.system(), &facts());
        assert_eq!(d.version, proto::VersionMode::V3WithFallback);
        assert_eq!(d.auth_mode, proto::AuthMode::None);
    }

    #[test]
    fn session_settings_become_the_engine_s_config() {
        let c = parse(
            "session profile \"s\" {\n pseudowire_type eth\n l2spec_type none\n \
             cookie hex:01020304\n data_sequencing all\n remote_end_id \"far\"\n \
             calling_number \"123\"\n tx_connect_speed 1000\n connect_speed_updates true\n \
             interface_name \"l2tpeth%d\"\n}\n",
        );
        let (Some(s), Some(pw)) = (
            c.session_profile_settings("s"),
            c.pseudowire_profile_settings("default"),
        ) else {
            panic!("no profile");
        };
        let sc = session_config(&s, &pw, c.system());
        assert_eq!(sc.pw_type, 5);
        assert_eq!(sc.l2spec, L2SpecificSublayer::None);
        assert_eq!(sc.cookie_length, 4);
        assert_eq!(
            sc.cookie.map(|k| k.as_bytes().to_vec()),
            Some(vec![1, 2, 3, 4])
        );
        assert_eq!(sc.data_sequencing, proto::DataSequencing::All);
        assert_eq!(sc.remote_end_id, b"far");
        assert_eq!(sc.calling_number, b"123");
        assert_eq!(sc.tx_connect_speed, Some(1000));
        assert!(sc.connect_speed_updates);
        assert_eq!(sc.interface_name.as_deref(), Some("l2tpeth%d"));
        assert_eq!(sc.establish_timeout, Duration::from_secs(120));
    }

    #[test]
    fn a_tunnel_over_ip_sends_from_the_address_its_control_messages_leave_from() {
        let mut f = facts();
        f.listen = vec![
            "192.0.2.1:1701".parse().unwrap_or_else(|e| panic!("{e}")),
            "[2001:db8::1]:1701"
                .parse()
                .unwrap_or_else(|e| panic!("{e}")),
        ];
        let local_with = |f: &HostFacts, text: &str, peer: &str| {
            let c = parse(text);
            let s = c
                .tunnel_profile_settings("p")
                .unwrap_or_else(|| panic!("no profile"));
            let peer = peer.parse().unwrap_or_else(|e| panic!("{e}"));
            local_for(f, &s, peer).to_string()
        };
        let local = |text: &str, peer: &str| local_with(&f, text, peer);
        let ip = "tunnel profile \"p\" {\n version 3\n encap ip\n}\n";
        let udp = "tunnel profile \"p\" {\n version 3\n encap udp\n}\n";
        // Over IP, the listen address of the peer's family (the socket the control messages
        // leave from), with no port.
        assert_eq!(local(ip, "192.0.2.2:0"), "192.0.2.1:0");
        assert_eq!(local(ip, "[2001:db8::2]:0"), "[2001:db8::1]:0");
        assert_eq!(local(udp, "[2001:db8::2]:1701"), "[2001:db8::1]:1701");
        // A `local` setting still decides.
        let set = "tunnel profile \"p\" {\n version 3\n encap ip\n local 2001:db8::9\n}\n";
        assert_eq!(local(set, "[2001:db8::2]:0"), "[2001:db8::9]:0");
        // With no listen address of that family, none.
        let mut v4_only = facts();
        v4_only.listen.clone_from(&f.listen);
        v4_only.listen.truncate(1);
        assert_eq!(local_with(&v4_only, ip, "[2001:db8::2]:0"), "[::]:0");
    }
}
