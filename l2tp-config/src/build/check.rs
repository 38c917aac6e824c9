//! Cross-block checks: references to profiles and tunnels, required instance parameters and
//! settings that conflict, each reported in the first layer where it appears.

use std::collections::HashMap;
use std::net::SocketAddr;

use super::{Builder, Info, Kind, with_effective};
use crate::config::{Config, DEFAULT_PROFILE};
use crate::diagnostic::Diagnostic;
use crate::model::{PeerParams, SessionInstance, SessionParams, TunnelInstance, TunnelParams};
use crate::span::Span;
use crate::suggest::hint;
use crate::value::{
    AuthMode, DataSequencing, Encap, Host, L2specType, L2tpVersion, PseudowireType,
};

impl Builder {
    pub(super) fn reference(
        &mut self,
        kind: Kind,
        name: Option<&String>,
        span: Span,
        exists: &[&str],
    ) {
        let Some(name) = name else { return };
        if !exists.contains(&name.as_str()) {
            self.error(
                span,
                format!(
                    "unknown {} `{name}`{}",
                    kind.name(),
                    hint(name, exists.iter().copied())
                ),
            );
        }
    }

    pub(super) fn check_references(&mut self, config: &Config) {
        let tp: Vec<&str> = config
            .tunnel_profiles
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        let sp: Vec<&str> = config
            .session_profiles
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        let pp: Vec<&str> = config
            .pseudowire_profiles
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        let tn: Vec<&str> = config.tunnels.iter().map(|t| t.name.as_str()).collect();
        let peers: Vec<(PeerParams, Info)> = self
            .peers
            .iter()
            .map(|(p, i)| (p.params.clone(), i.clone()))
            .collect();
        for (p, info) in &peers {
            let at = |k| info.at(k);
            self.reference(
                Kind::TunnelProfile,
                p.tunnel_profile_name.as_ref(),
                at("tunnel_profile_name"),
                &tp,
            );
            self.reference(
                Kind::SessionProfile,
                p.session_profile_name.as_ref(),
                at("session_profile_name"),
                &sp,
            );
            self.reference(
                Kind::PseudowireProfile,
                p.pseudowire_profile_name.as_ref(),
                at("pseudowire_profile_name"),
                &pp,
            );
        }
        let tunnels: Vec<(TunnelParams, Option<String>, Info)> = self
            .tunnel_profiles
            .iter()
            .map(|(p, i)| (p.params.clone(), None, i.clone()))
            .chain(
                self.tunnels
                    .iter()
                    .map(|(t, i)| (t.params.clone(), t.instance.profile.clone(), i.clone())),
            )
            .collect();
        for (p, profile, info) in &tunnels {
            self.reference(
                Kind::TunnelProfile,
                profile.as_ref(),
                info.at("profile"),
                &tp,
            );
            self.reference(
                Kind::SessionProfile,
                p.session_profile_name.as_ref(),
                info.at("session_profile_name"),
                &sp,
            );
            self.reference(
                Kind::PseudowireProfile,
                p.pseudowire_profile_name.as_ref(),
                info.at("pseudowire_profile_name"),
                &pp,
            );
        }
        let sessions: Vec<(SessionParams, Option<String>, Option<String>, Info)> = self
            .session_profiles
            .iter()
            .map(|(p, i)| (p.params.clone(), None, None, i.clone()))
            .chain(self.sessions.iter().map(|(s, i)| {
                (
                    s.params.clone(),
                    s.instance.profile.clone(),
                    s.instance.tunnel.clone(),
                    i.clone(),
                )
            }))
            .collect();
        for (p, profile, tunnel, info) in &sessions {
            self.reference(
                Kind::SessionProfile,
                profile.as_ref(),
                info.at("profile"),
                &sp,
            );
            self.reference(
                Kind::PseudowireProfile,
                p.pseudowire_profile_name.as_ref(),
                info.at("pseudowire_profile_name"),
                &pp,
            );
            self.reference(Kind::Tunnel, tunnel.as_ref(), info.at("tunnel"), &tn);
        }
    }

    /// The addresses of each list of the `system` block that l2tpd binds: no two alike, and
    /// no address beside the unspecified one of its IP version with the same port, which
    /// holds it already (a start-up would fail with "address already in use").
    pub(super) fn check_system(&mut self, config: &Config) {
        let sys = &config.system;
        // The dynamic authorization sockets are dual-stack: `[::]` holds the IPv4 port too.
        for (key, list, dual_stack) in [
            ("listen", &sys.listen, false),
            ("metrics_listen", &sys.metrics_listen, false),
            ("radius_dynauth_listen", &sys.radius_dynauth_listen, true),
        ] {
            let Some(at) = self.system_info.value(key) else {
                continue;
            };
            // Whether `any`, an unspecified address, holds `one` too.
            let holds = |any: &SocketAddr, one: &SocketAddr| {
                any.ip().is_unspecified()
                    && (any.is_ipv4() == one.is_ipv4() || (dual_stack && any.is_ipv6()))
            };
            for (i, a) in list.iter().enumerate() {
                let clash = list[..i].iter().find(|b| {
                    a.port() == b.port() && (a.ip() == b.ip() || holds(a, b) || holds(b, a))
                });
                let Some(b) = clash else { continue };
                let message = if a == b {
                    format!("`{key}` has {a} twice")
                } else {
                    let (any, one) = if holds(b, a) { (b, a) } else { (a, b) };
                    let every = if any.is_ipv4() == one.is_ipv4() {
                        "every address of its IP version"
                    } else {
                        "every IPv6 and IPv4 address"
                    };
                    format!(
                        "`{key}` has both {any} and {one}: {any} is {every} on port {}, {one} \
                         included, so {one} cannot be bound beside it",
                        a.port()
                    )
                };
                self.error(at, message);
            }
        }
        // The L2TP listen sockets and the dynamic authorization ones are both UDP: one port
        // cannot serve both (the second bind fails at start-up).
        let Some(at) = self.system_info.value("radius_dynauth_listen") else {
            return;
        };
        for d in &sys.radius_dynauth_listen {
            let clash = sys.listen.iter().find(|l| {
                l.port() == d.port()
                    && (l.ip() == d.ip()
                        || (d.ip().is_unspecified() && (d.is_ipv6() || l.is_ipv4()))
                        || (l.ip().is_unspecified() && l.is_ipv4() == d.is_ipv4()))
            });
            if let Some(l) = clash {
                let message = format!(
                    "`radius_dynauth_listen` {d} and `listen` {l} are on one UDP port: \
                     l2tpd cannot bind both; give them different ports"
                );
                self.error(at, message);
            }
        }
    }

    pub(super) fn check_peer_profiles(&mut self) {
        // The `default` peer profile is the match of last resort: what it matches on does not
        // keep anyone out, which is what writing it there usually means.
        let default_matchers: Vec<Span> = self
            .peers
            .iter()
            .filter(|(p, _)| p.name == DEFAULT_PROFILE && !p.builtin)
            .flat_map(|(_, info)| {
                ["peer_ipaddr", "peer_host_name"]
                    .into_iter()
                    .filter_map(|k| info.value(k))
            })
            .collect();
        for at in default_matchers {
            self.diags.push(Diagnostic::warning(
                at,
                "the `default` peer profile takes every peer that no other profile matches, \
                 whatever its `peer_ipaddr` or `peer_host_name`: this does not keep other peers \
                 out (set `deny_remote_tunnel_creates`, or give the default tunnel profile a \
                 `secret`)",
            ));
        }
        let peers: Vec<(PeerParams, Info)> = self
            .peers
            .iter()
            .map(|(p, i)| (p.params.clone(), i.clone()))
            .collect();
        for (p, info) in &peers {
            let Some(mask) = p.netmask else { continue };
            match p.peer_ipaddr {
                None => self.error(
                    info.at("netmask"),
                    "`netmask` needs a `peer_ipaddr` to apply to",
                ),
                Some(ip) if ip.len.is_some() => self.error(
                    info.at("netmask"),
                    "`netmask` conflicts with the `/prefix` length already given in `peer_ipaddr`",
                ),
                Some(ip) if ip.addr.is_ipv4() != mask.is_ipv4() => self.error(
                    info.at("netmask"),
                    format!(
                        "netmask `{mask}` and peer_ipaddr `{}` are of different IP versions",
                        ip.addr
                    ),
                ),
                Some(_) => {}
            }
        }
    }

    /// Checks tunnel settings that must agree, in each layer where they first meet: the
    /// `default` profile, each named profile, each instance.
    fn tunnel_conflicts(&mut self, effective: &TunnelParams, own: &TunnelParams, info: &Info) {
        let set = |k: &str| own.is_set(k);
        // A setting whose value was invalid is left out: the default in its place is not
        // what the user wrote.
        let known = !info.invalid("encap") && !info.invalid("version");
        if known
            && effective.encap == Some(Encap::Ip)
            && effective.version == Some(L2tpVersion::V2)
            && (set("encap") || set("version"))
        {
            let key = if set("encap") { "encap" } else { "version" };
            self.error(
                info.at(key),
                "conflicting settings: `encap ip` needs L2TPv3, but `version` is 2 (L2TPv2 runs \
                 only over UDP)",
            );
        }
        if known
            && effective.digest_type.is_some()
            && effective.version == Some(L2tpVersion::V2)
            && (set("digest_type") || set("version"))
        {
            let key = if set("digest_type") {
                "digest_type"
            } else {
                "version"
            };
            self.error(
                info.at(key),
                "conflicting settings: `digest_type` chooses the hash of the L2TPv3 Message \
                 Digest, but `version` is 2 (L2TPv2 has no Message Digest)",
            );
        }
        if effective.secret.is_none() {
            if effective.digest_type.is_some() && set("digest_type") {
                self.error(
                    info.at("digest_type"),
                    "`digest_type` needs a `secret`: without one no Message Digest is sent",
                );
            }
            if effective.hide_avps == Some(true) && set("hide_avps") {
                self.error(
                    info.at("hide_avps"),
                    "`hide_avps true` needs a `secret` to hide AVPs with",
                );
            }
            if effective.auth_mode == Some(AuthMode::Challenge) && set("auth_mode") {
                self.error(
                    info.at("auth_mode"),
                    "`auth_mode challenge` needs a `secret`",
                );
            }
        }
    }

    pub(super) fn check_tunnels(&mut self, config: &Config) {
        let profiles = with_effective(&config.tunnel_profiles, &self.tunnel_profiles);
        for (p, info, effective) in &profiles {
            self.tunnel_conflicts(effective, &p.params, info);
        }
        let tunnels: Vec<(TunnelInstance, Info)> = self.tunnels.clone();
        let mut ids: HashMap<u32, Span> = HashMap::new();
        for (t, info) in &tunnels {
            let inst = &t.instance;
            if inst.peer.is_none() && info.value("peer").is_none() {
                self.error(
                    info.name,
                    format!(
                        "tunnel `{}` has no `peer`: a tunnel instance needs the address of the \
                         peer to connect to",
                        t.name
                    ),
                );
            }
            let profile = inst.profile.as_deref().unwrap_or(DEFAULT_PROFILE);
            let Some(base) = config.tunnel_profile_params(profile) else {
                continue;
            };
            let effective = t.params.overlay(&base);
            self.tunnel_conflicts(&effective, &t.params, info);
            let Some(peers) = &inst.peer else { continue };
            let v2 = effective.version == Some(L2tpVersion::V2);
            if inst.peer_tunnel_id.is_some() {
                if peers.len() > 1 {
                    self.error(
                        info.at("peer"),
                        "a static tunnel (`peer_tunnel_id` set) has one `peer`: with no control \
                         connection there is no failing over to another",
                    );
                }
                if inst.tunnel_id.is_none() {
                    self.error(
                        info.at("peer_tunnel_id"),
                        "a static tunnel (`peer_tunnel_id` set) needs a `tunnel_id` too",
                    );
                }
                if v2 {
                    self.error(
                        info.at("peer_tunnel_id"),
                        "conflicting settings: static tunnels (`peer_tunnel_id`) are L2TPv3 \
                         only, but `version` is 2",
                    );
                }
            }
            // With no version, a tunnel over UDP opens with the L2TPv2 SCCRQ that offers
            // L2TPv3 (RFC 3931 §4.7.3): its id goes in a 16-bit Assigned Tunnel ID.
            let probes = effective.version.is_none()
                && effective.encap != Some(Encap::Ip)
                && inst.peer_tunnel_id.is_none();
            if let Some(tid) = inst.tunnel_id {
                if (v2 || probes) && tid > u32::from(u16::MAX) {
                    let why = if v2 {
                        "L2TPv2 tunnel ids are from 1 to 65535"
                    } else {
                        "with no `version`, the tunnel opens with the L2TPv2 SCCRQ that offers \
                         L2TPv3, whose tunnel ids are from 1 to 65535 (set `version 3` for more)"
                    };
                    self.error(
                        info.at("tunnel_id"),
                        format!("value `{tid}` is out of range: {why}"),
                    );
                }
                match ids.get(&tid) {
                    Some(&first) => self.diags.push(
                        Diagnostic::error(
                            info.at("tunnel_id"),
                            format!("tunnel id {tid} is used by two tunnels"),
                        )
                        .with_note(first, "also used here"),
                    ),
                    None => {
                        ids.insert(tid, info.at("tunnel_id"));
                    }
                }
            }
            let local = effective.local.as_ref();
            for peer in peers {
                if let (Some(l), Host::Ip(p)) = (local, &peer.host)
                    && let Host::Ip(lip) = l.host
                    && lip.is_ipv4() != p.is_ipv4()
                {
                    let key = if t.params.local.is_some() {
                        "local"
                    } else {
                        "peer"
                    };
                    self.error(
                        info.at(key),
                        format!(
                            "conflicting settings: `local` {l} and `peer` {peer} are of different \
                             IP versions"
                        ),
                    );
                }
            }
            if effective.encap == Some(Encap::Ip) {
                let ported = [
                    ("peer", peers.iter().any(|p| p.port.is_some())),
                    ("local", local.is_some_and(|l| l.port.is_some())),
                ];
                for (key, has_port) in ported {
                    if has_port {
                        self.error(
                            info.at(key),
                            format!(
                                "conflicting settings: `{key}` has a port, but `encap ip` carries \
                                 L2TPv3 directly over IP, without ports"
                            ),
                        );
                    }
                }
            }
        }
    }

    fn session_conflicts(&mut self, effective: &SessionParams, own: &SessionParams, info: &Info) {
        let set = |k: &str| own.is_set(k);
        if let Some(vlan) = effective.vlan_id
            && !info.invalid("pseudowire_type")
        {
            let ty = effective.pseudowire_type.unwrap_or(PseudowireType::Ppp);
            if ty != PseudowireType::EthVlan && (set("vlan_id") || set("pseudowire_type")) {
                let key = if set("vlan_id") {
                    "vlan_id"
                } else {
                    "pseudowire_type"
                };
                self.error(
                    info.at(key),
                    format!(
                        "conflicting settings: `vlan_id {vlan}` needs `pseudowire_type \
                         eth_vlan`, but the pseudowire type is `{ty}`"
                    ),
                );
            }
        }
        // `cookie_length` is the length of our own cookie, `cookie`: they must agree. The
        // peer's cookie (`peer_cookie`) has a length of its own: RFC 3931 §4.1 lets each end
        // choose its cookie (a 4-byte one one way and an 8-byte one the other).
        let (Some(len), Some(cookie)) = (effective.cookie_length, &effective.cookie) else {
            return;
        };
        // Report only where the conflict first appears: in a layer that sets one side.
        if cookie.len() == usize::from(len) || !(set("cookie") || set("cookie_length")) {
            return;
        }
        let key = if set("cookie") {
            "cookie"
        } else {
            "cookie_length"
        };
        let mut d = Diagnostic::error(
            info.at(key),
            format!(
                "conflicting settings: `cookie` is {} bytes long, but `cookie_length` is {len}",
                cookie.len()
            ),
        );
        if set("cookie")
            && let Some(other) = info.value("cookie_length")
        {
            d = d.with_note(other, "length set here");
        }
        self.diags.push(d);
    }

    pub(super) fn check_sessions(&mut self, config: &Config) {
        let profiles = with_effective(&config.session_profiles, &self.session_profiles);
        for (p, info, effective) in &profiles {
            self.session_conflicts(effective, &p.params, info);
        }
        let sessions: Vec<(SessionInstance, Info)> = self.sessions.clone();
        // Session ids in use: by tunnel name for L2TPv2, over all tunnels (`None`) for L2TPv3.
        let mut ids: HashMap<(Option<String>, u32), Span> = HashMap::new();
        for (s, info) in &sessions {
            let inst = &s.instance;
            let Some(tunnel_name) = &inst.tunnel else {
                if info.value("tunnel").is_some() {
                    continue;
                }
                self.error(
                    info.name,
                    format!(
                        "session `{}` has no `tunnel`: name the tunnel it belongs to with \
                         `tunnel \"name\"`",
                        s.name
                    ),
                );
                continue;
            };
            let tunnel = config.resolve_tunnel(tunnel_name);
            let profile = inst.profile.clone().or_else(|| {
                tunnel
                    .as_ref()
                    .map(|t| t.settings.session_profile_name.clone())
            });
            let Some(base) =
                config.session_profile_params(profile.as_deref().unwrap_or(DEFAULT_PROFILE))
            else {
                continue;
            };
            let effective = s.params.overlay(&base);
            self.session_conflicts(&effective, &s.params, info);
            let ty = effective.pseudowire_type.unwrap_or(PseudowireType::Ppp);
            if ty == PseudowireType::EthVlan && effective.vlan_id.is_none() {
                self.error(
                    info.at("pseudowire_type"),
                    format!(
                        "session `{}` has `pseudowire_type eth_vlan` but no `vlan_id`",
                        s.name
                    ),
                );
            }
            // L2TPv3 data packets carry sequence numbers only in the Default L2-Specific
            // Sublayer (RFC 3931 §4.6): the peer refuses such a session (CDN result 15).
            let v3 = ty != PseudowireType::Ppp
                || tunnel
                    .as_ref()
                    .is_some_and(|t| t.settings.version == Some(L2tpVersion::V3));
            let sequenced = !matches!(effective.data_sequencing, None | Some(DataSequencing::None));
            if v3 && sequenced && effective.l2spec_type == Some(L2specType::None) {
                self.error(
                    info.at("data_sequencing"),
                    format!(
                        "session `{}` has `data_sequencing` but `l2spec_type none`: L2TPv3 \
                         carries sequence numbers in the Default L2-Specific Sublayer only",
                        s.name
                    ),
                );
            }
            if inst.peer_session_id.is_some() && inst.session_id.is_none() {
                self.error(
                    info.at("peer_session_id"),
                    "a static session (`peer_session_id` set) needs a `session_id` too",
                );
            }
            if let Some(sid) = inst.session_id {
                // An L2TPv3 data packet names its session by the Session ID alone (RFC 3931
                // §4.1), so L2TPv3 ids are unique over all tunnels; L2TPv2 ones per tunnel.
                let v2 = tunnel
                    .as_ref()
                    .is_some_and(|t| t.settings.version == Some(L2tpVersion::V2));
                let key = v2.then(|| tunnel_name.clone());
                match ids.get(&(key.clone(), sid)) {
                    Some(&first) => self.diags.push(
                        Diagnostic::error(
                            info.at("session_id"),
                            if v2 {
                                format!(
                                    "session id {sid} is used by two sessions of tunnel \
                                     `{tunnel_name}`"
                                )
                            } else {
                                format!(
                                    "session id {sid} is used by two L2TPv3 sessions (an \
                                     L2TPv3 session id names one session of this host, \
                                     whatever its tunnel)"
                                )
                            },
                        )
                        .with_note(first, "also used here"),
                    ),
                    None => {
                        ids.insert((key, sid), info.at("session_id"));
                    }
                }
            }
            let Some(tunnel) = tunnel else { continue };
            if tunnel.is_static() && (inst.session_id.is_none() || inst.peer_session_id.is_none()) {
                self.error(
                    info.name,
                    format!(
                        "session `{}` is in static tunnel `{}`, so it needs both `session_id` \
                         and `peer_session_id`",
                        s.name, tunnel.name
                    ),
                );
            }
            // With no version, a tunnel over UDP opens with the L2TPv2 SCCRQ that offers
            // L2TPv3 (RFC 3931 §4.7.3), and its sessions are numbered as L2TPv2 ones until the
            // peer's answer settles the version: a 16-bit id, as the tunnel's own.
            let v2 = tunnel.settings.version == Some(L2tpVersion::V2);
            let probes = tunnel.settings.version.is_none()
                && tunnel.settings.encap != Encap::Ip
                && !tunnel.is_static();
            if let Some(sid) = inst.session_id.filter(|&id| id > u32::from(u16::MAX))
                && (v2 || probes)
            {
                let why = if v2 {
                    "L2TPv2 session ids are from 1 to 65535".to_owned()
                } else {
                    format!(
                        "tunnel `{}` has no `version`, so it opens with the L2TPv2 SCCRQ that \
                         offers L2TPv3, and L2TPv2 session ids are from 1 to 65535 (set \
                         `version 3` in the tunnel for more)",
                        tunnel.name
                    )
                };
                self.error(
                    info.at("session_id"),
                    format!("value `{sid}` is out of range: {why}"),
                );
            }
            if v2 {
                if ty != PseudowireType::Ppp {
                    self.error(
                        info.at("pseudowire_type"),
                        format!(
                            "conflicting settings: tunnel `{}` is L2TPv2, which carries only \
                             PPP, but the pseudowire type is `{ty}`",
                            tunnel.name
                        ),
                    );
                }
                if effective.cookie_length.is_some_and(|l| l > 0)
                    || effective.cookie.is_some()
                    || effective.peer_cookie.is_some()
                {
                    let key = ["cookie", "peer_cookie", "cookie_length"]
                        .into_iter()
                        .find(|k| s.params.is_set(k))
                        .unwrap_or("tunnel");
                    self.error(
                        info.at(key),
                        format!(
                            "conflicting settings: cookies are L2TPv3 only, but tunnel `{}` is \
                             L2TPv2",
                            tunnel.name
                        ),
                    );
                }
            }
        }
    }
}

/// Whether the interface `name` (a name or a `%d` template) can be the device `device`.
fn may_name(name: &str, device: &str) -> bool {
    match name.split_once("%d") {
        None => name == device,
        Some((before, after)) => device
            .strip_prefix(before)
            .and_then(|rest| rest.strip_suffix(after))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())),
    }
}

impl Builder {
    /// Two Ethernet session instances may not have one fixed interface name (not a `%d`
    /// template): the second's device could not be made.
    pub(super) fn check_fixed_interface_names(&mut self, config: &Config) {
        let sessions: Vec<(String, Info)> = self
            .sessions
            .iter()
            .map(|(s, i)| (s.name.clone(), i.clone()))
            .collect();
        let mut first: HashMap<String, (String, Span)> = HashMap::new();
        for (name, info) in &sessions {
            let Some(s) = config.resolve_session(name) else {
                continue;
            };
            if !matches!(
                s.settings.pseudowire_type,
                PseudowireType::Eth | PseudowireType::EthVlan
            ) {
                continue;
            }
            let Some(ifname) = s
                .settings
                .interface_name
                .clone()
                .or_else(|| s.pseudowire.interface_name.clone())
                .filter(|n| !n.contains("%d"))
            else {
                continue;
            };
            let at = info.at("interface_name");
            match first.get(&ifname) {
                Some((other, other_at)) => self.diags.push(
                    Diagnostic::error(
                        at,
                        format!(
                            "sessions `{other}` and `{name}` both have the interface `{ifname}`: \
                             a fixed name serves one session; give each its own, or a template \
                             with `%d`"
                        ),
                    )
                    .with_note(*other_at, format!("`{other}` has it here")),
                ),
                None => {
                    first.insert(ifname, (name.clone(), at));
                }
            }
        }
    }

    /// A session's interface may not take the name of native PPP's shared TUN
    /// (`ppp_interface`): the session's device could not be made, or the TUN could not.
    pub(super) fn check_interface_names(&mut self, config: &Config) {
        let tun = config.system.ppp_interface.clone();
        let pseudowires = self.pseudowire_profiles.iter().map(|(p, i)| (&p.params, i));
        let profiles = self.session_profiles.iter().map(|(p, i)| (&p.params, i));
        let sessions = self.sessions.iter().map(|(s, i)| (&s.params, i));
        let named: Vec<(String, Span)> = pseudowires
            .map(|(p, i)| (&p.interface_name, i))
            .chain(profiles.map(|(p, i)| (&p.interface_name, i)))
            .chain(sessions.map(|(p, i)| (&p.interface_name, i)))
            .filter_map(|(n, i)| Some((n.clone()?, i.at("interface_name"))))
            .collect();
        for (name, span) in named {
            if may_name(&name, &tun) {
                let what = if name.contains("%d") {
                    format!("interface name template `{name}` can make `{tun}`,")
                } else {
                    format!("interface name `{name}` is that of")
                };
                self.error(
                    span,
                    format!(
                        "{what} the TUN device of native PPP (`ppp_interface`): choose another \
                         name, or another `ppp_interface` in `system`"
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::may_name;

    #[test]
    fn names_and_templates_that_can_be_a_device() {
        assert!(may_name("l2tpppp0", "l2tpppp0"));
        assert!(may_name("l2tpppp%d", "l2tpppp0"));
        assert!(may_name("%d", "7"));
        assert!(may_name("a%db", "a12b"));
        assert!(!may_name("l2tpeth%d", "l2tpppp0"));
        assert!(!may_name("l2tpppp%d", "l2tpppp"));
        assert!(!may_name("l2tpppp%d", "l2tpppp0x"));
        assert!(!may_name("l2tpppp1", "l2tpppp0"));
    }
}
