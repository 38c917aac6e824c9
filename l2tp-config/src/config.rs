//! The typed config: system settings, profiles of each kind (with built-in `default`s) and
//! instances, and the resolution of an instance's effective settings.

use std::net::IpAddr;

use crate::diagnostic::Diagnostic;
use crate::model::{
    PeerProfile, PeerSettings, PppProfile, Profile, PseudowireParams, PseudowireProfile,
    PseudowireSettings, ResolvedSession, ResolvedTunnel, SessionInstance, SessionParams,
    SessionProfile, SessionSettings, System, TunnelInstance, TunnelParams, TunnelProfile,
    TunnelSettings,
};
use crate::ppp::{IpPool, PppParams, PppSettings, User, UserTable};
use crate::radius::{DynauthClient, RadiusServer};
use crate::value::{Encap, PseudowireType};

/// The name of the built-in profile of every kind.
pub const DEFAULT_PROFILE: &str = "default";

/// A checked config file: every reference names an existing profile or tunnel, every instance
/// has its required parameters and no settings conflict.
///
/// Obtain one with [`parse`](crate::parse) or [`load`](crate::load); [`Config::default`] is what
/// an empty file gives. Profiles and instances keep their order in the file.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Config {
    pub(crate) system: System,
    pub(crate) peer_profiles: Vec<PeerProfile>,
    pub(crate) tunnel_profiles: Vec<TunnelProfile>,
    pub(crate) session_profiles: Vec<SessionProfile>,
    pub(crate) pseudowire_profiles: Vec<PseudowireProfile>,
    pub(crate) ppp_profiles: Vec<PppProfile>,
    pub(crate) ip_pools: Vec<IpPool>,
    pub(crate) users: UserTable,
    pub(crate) radius_servers: Vec<RadiusServer>,
    pub(crate) dynauth_clients: Vec<DynauthClient>,
    pub(crate) tunnels: Vec<TunnelInstance>,
    pub(crate) sessions: Vec<SessionInstance>,
    pub(crate) warnings: Vec<Diagnostic>,
    /// Where each session profile of the file sets `pseudowire_types`: a warning there with
    /// no message yet ([`Config::pseudowire_types_warnings`]).
    pub(crate) pseudowire_types_at: Vec<(String, Diagnostic)>,
    /// Where each parameter of the `system` block and each `session` block is: an error there
    /// with no message yet ([`Config::host_error`]).
    pub(crate) places: Vec<(Place, Diagnostic)>,
}

/// A place in the file that a check of the host may point at ([`Config::host_error`]).
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum Place {
    /// The value of a parameter of the `system` block, by its name.
    System(String),
    /// A `session` block, by its name.
    Session(String),
}

impl Default for Config {
    fn default() -> Self {
        Self {
            system: System::default(),
            peer_profiles: vec![builtin()],
            tunnel_profiles: vec![builtin()],
            session_profiles: vec![builtin()],
            pseudowire_profiles: vec![builtin()],
            ppp_profiles: vec![builtin()],
            ip_pools: Vec::new(),
            users: UserTable::default(),
            radius_servers: Vec::new(),
            dynauth_clients: Vec::new(),
            tunnels: Vec::new(),
            sessions: Vec::new(),
            warnings: Vec::new(),
            pseudowire_types_at: Vec::new(),
            places: Vec::new(),
        }
    }
}

pub(crate) fn builtin<P: Default>() -> Profile<P> {
    Profile {
        name: DEFAULT_PROFILE.to_owned(),
        params: P::default(),
        builtin: true,
    }
}

pub(crate) fn find<'a, P>(list: &'a [Profile<P>], name: &str) -> Option<&'a Profile<P>> {
    list.iter().find(|p| p.name == name)
}

/// The parameters of profile `name` over those of the `default` profile of the same kind.
fn chain<P>(list: &[Profile<P>], name: &str, overlay: fn(&P, &P) -> P) -> Option<P>
where
    P: Clone + Default,
{
    let profile = find(list, name)?;
    let default = find(list, DEFAULT_PROFILE)
        .map(|d| d.params.clone())
        .unwrap_or_default();
    Some(if name == DEFAULT_PROFILE {
        default
    } else {
        overlay(&profile.params, &default)
    })
}

impl Config {
    /// The global settings.
    pub fn system(&self) -> &System {
        &self.system
    }

    /// Every peer profile, the `default` one included.
    pub fn peer_profiles(&self) -> &[PeerProfile] {
        &self.peer_profiles
    }

    /// Every tunnel profile, the `default` one included.
    pub fn tunnel_profiles(&self) -> &[TunnelProfile] {
        &self.tunnel_profiles
    }

    /// Every session profile, the `default` one included.
    pub fn session_profiles(&self) -> &[SessionProfile] {
        &self.session_profiles
    }

    /// Every pseudowire profile, the `default` one included.
    pub fn pseudowire_profiles(&self) -> &[PseudowireProfile] {
        &self.pseudowire_profiles
    }

    /// Every PPP profile, the `default` one included.
    pub fn ppp_profiles(&self) -> &[PppProfile] {
        &self.ppp_profiles
    }

    /// Every `ip pool`, in file order.
    pub fn ip_pools(&self) -> &[IpPool] {
        &self.ip_pools
    }

    /// The `ip pool` named `name`.
    pub fn ip_pool(&self, name: &str) -> Option<&IpPool> {
        self.ip_pools.iter().find(|p| p.name == name)
    }

    /// The ranges of `ip pool` `name`, for [`diff`](crate::diff).
    pub(crate) fn ip_pool_ranges(
        &self,
        name: &str,
    ) -> Option<Vec<(std::net::Ipv4Addr, std::net::Ipv4Addr)>> {
        self.ip_pool(name).map(|p| p.ranges.clone())
    }

    /// Every `radius server`, in file order.
    pub fn radius_servers(&self) -> &[RadiusServer] {
        &self.radius_servers
    }

    /// The `radius server` named `name`.
    pub fn radius_server(&self, name: &str) -> Option<&RadiusServer> {
        self.radius_servers.iter().find(|r| r.name == name)
    }

    /// Every `dynauth client`, in file order.
    pub fn dynauth_clients(&self) -> &[DynauthClient] {
        &self.dynauth_clients
    }

    /// The `dynauth client` named `name`.
    pub fn dynauth_client(&self, name: &str) -> Option<&DynauthClient> {
        self.dynauth_clients.iter().find(|c| c.name == name)
    }

    /// The local users: `user` blocks and the users files that PPP profiles name (read by
    /// [`load`](crate::load) and [`parse_with`](crate::parse_with), not by
    /// [`parse`](crate::parse)).
    pub fn users(&self) -> &UserTable {
        &self.users
    }

    /// The local user `name` as a PPP profile with `settings` sees it: a `user` block, else
    /// the best line of the profile's users file for its `local_name` (see
    /// [`UserTable::lookup`]).
    pub fn ppp_user(&self, settings: &PppSettings, name: &str) -> Option<&User> {
        self.users
            .lookup(name, &settings.local_name, settings.users_file.as_deref())
    }

    /// What is accepted but has no effect, or is overridden (e.g. `pppd_options` without
    /// `use_pppd`, a user both in a `user` block and in a users file), in file order.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// An error at `place` with `message`: a problem that a check of the host (by `l2tpd -n`)
    /// found with what the file says there, located like the file's own problems. `None` when
    /// the file does not have that place (a `system` parameter left at its default).
    pub fn host_error(&self, place: &Place, message: impl Into<String>) -> Option<Diagnostic> {
        let (_, at) = self.places.iter().find(|(p, _)| p == place)?;
        Some(at.clone().with_message(message))
    }

    /// [`Config::host_error`] for a warning: what the host check found at `place` does not
    /// keep the file from being used (`dataplane auto` may mean another data plane elsewhere).
    pub fn host_warning(&self, place: &Place, message: impl Into<String>) -> Option<Diagnostic> {
        self.host_error(place, message)
            .map(Diagnostic::into_warning)
    }

    /// A warning at the `pseudowire_types` of each session profile of the file for each type
    /// it lists that `refusal` says is not carried (why, for `l2tpd -n`: the data plane the
    /// config asks for cannot carry it), in file order. `refusal` is asked with the
    /// `use_pppd` of each pseudowire profile the profile's calls may take
    /// ([`Config::call_use_pppd`]).
    pub fn pseudowire_types_warnings(
        &self,
        refusal: impl Fn(PseudowireType, bool) -> Option<String>,
    ) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for (name, at) in &self.pseudowire_types_at {
            let Some(settings) = self.session_profile_settings(name) else {
                continue;
            };
            let modes = self.call_use_pppd(name, settings.pseudowire_profile_name.as_deref());
            for ty in settings.pseudowire_types {
                if let Some(why) = modes.iter().find_map(|&pppd| refusal(ty, pppd)) {
                    out.push(at.clone().with_message(format!(
                        "session profile `{name}`: `pseudowire_types` lists {ty}, which peers \
                         cannot open here: {why}"
                    )));
                }
            }
        }
        out
    }

    /// The `use_pppd` of each pseudowire profile a peer's call taking session profile
    /// `session` may get: that of `own` (the session profile's `pseudowire_profile_name`),
    /// else that of each peer profile (its own, else its tunnel profile's) and `tunnel` block
    /// whose calls take `session`, else the `default` one's; a profile that does not exist
    /// reads as `default`, as when the call comes.
    fn call_use_pppd(&self, session: &str, own: Option<&str>) -> Vec<bool> {
        let mut names: Vec<String> = own.map(str::to_owned).into_iter().collect();
        if names.is_empty() {
            for peer in &self.peer_profiles {
                let p = peer.params.resolve();
                let Some(t) = self.tunnel_profile_settings(&p.tunnel_profile_name) else {
                    continue;
                };
                let (s, pw) = (
                    if peer.params.is_set("session_profile_name") {
                        p.session_profile_name
                    } else {
                        t.session_profile_name
                    },
                    if peer.params.is_set("pseudowire_profile_name") {
                        p.pseudowire_profile_name
                    } else {
                        t.pseudowire_profile_name
                    },
                );
                if s == session {
                    names.push(pw);
                }
            }
            for t in self.resolved_tunnels() {
                if t.settings.session_profile_name == session {
                    names.push(t.settings.pseudowire_profile_name);
                }
            }
        }
        if names.is_empty() {
            names.push(DEFAULT_PROFILE.to_owned());
        }
        let mut modes: Vec<bool> = names
            .iter()
            .map(|n| {
                self.pseudowire_profile_settings(n)
                    .or_else(|| self.pseudowire_profile_settings(DEFAULT_PROFILE))
                    .is_some_and(|pw| pw.use_pppd)
            })
            .collect();
        modes.sort_unstable();
        modes.dedup();
        modes
    }

    /// Every `tunnel` instance.
    pub fn tunnels(&self) -> &[TunnelInstance] {
        &self.tunnels
    }

    /// Every `session` instance.
    pub fn sessions(&self) -> &[SessionInstance] {
        &self.sessions
    }

    /// The peer profile `name`.
    pub fn peer_profile(&self, name: &str) -> Option<&PeerProfile> {
        find(&self.peer_profiles, name)
    }

    /// The tunnel profile `name`.
    pub fn tunnel_profile(&self, name: &str) -> Option<&TunnelProfile> {
        find(&self.tunnel_profiles, name)
    }

    /// The session profile `name`.
    pub fn session_profile(&self, name: &str) -> Option<&SessionProfile> {
        find(&self.session_profiles, name)
    }

    /// The pseudowire profile `name`.
    pub fn pseudowire_profile(&self, name: &str) -> Option<&PseudowireProfile> {
        find(&self.pseudowire_profiles, name)
    }

    /// The PPP profile `name`.
    pub fn ppp_profile(&self, name: &str) -> Option<&PppProfile> {
        find(&self.ppp_profiles, name)
    }

    /// The tunnel instance `name`.
    pub fn tunnel(&self, name: &str) -> Option<&TunnelInstance> {
        self.tunnels.iter().find(|t| t.name == name)
    }

    /// The session instance `name`.
    pub fn session(&self, name: &str) -> Option<&SessionInstance> {
        self.sessions.iter().find(|s| s.name == name)
    }

    /// The effective settings of peer profile `name`. Peer profiles do not inherit from the
    /// `default` peer profile: it is only the fallback when no other profile matches.
    pub fn peer_profile_settings(&self, name: &str) -> Option<PeerSettings> {
        self.peer_profile(name).map(|p| p.params.resolve())
    }

    /// The parameters of tunnel profile `name` over those of the `default` tunnel profile.
    pub fn tunnel_profile_params(&self, name: &str) -> Option<TunnelParams> {
        chain(&self.tunnel_profiles, name, TunnelParams::overlay)
    }

    /// The effective settings of tunnel profile `name` (for tunnels a peer creates): the
    /// profile over the file's `default` tunnel profile over the built-in defaults.
    pub fn tunnel_profile_settings(&self, name: &str) -> Option<TunnelSettings> {
        self.tunnel_profile_params(name).map(|p| p.resolve())
    }

    /// The parameters of session profile `name` over those of the `default` session profile.
    pub fn session_profile_params(&self, name: &str) -> Option<SessionParams> {
        chain(&self.session_profiles, name, SessionParams::overlay)
    }

    /// The effective settings of session profile `name`, as for tunnel profiles.
    pub fn session_profile_settings(&self, name: &str) -> Option<SessionSettings> {
        self.session_profile_params(name).map(|p| p.resolve())
    }

    /// The parameters of pseudowire profile `name` over those of the `default` one.
    pub fn pseudowire_profile_params(&self, name: &str) -> Option<PseudowireParams> {
        chain(&self.pseudowire_profiles, name, PseudowireParams::overlay)
    }

    /// The effective settings of pseudowire profile `name`, as for tunnel profiles.
    pub fn pseudowire_profile_settings(&self, name: &str) -> Option<PseudowireSettings> {
        self.pseudowire_profile_params(name).map(|p| p.resolve())
    }

    /// The parameters of PPP profile `name` over those of the `default` one.
    pub fn ppp_profile_params(&self, name: &str) -> Option<PppParams> {
        chain(&self.ppp_profiles, name, PppParams::overlay)
    }

    /// The effective settings of PPP profile `name`: the profile over the file's `default`
    /// PPP profile over the built-in defaults.
    pub fn ppp_profile_settings(&self, name: &str) -> Option<PppSettings> {
        self.ppp_profile_params(name).map(|p| p.resolve())
    }

    /// The effective settings of tunnel instance `name`; `None` if there is no such tunnel.
    pub fn resolve_tunnel(&self, name: &str) -> Option<ResolvedTunnel> {
        self.resolve_tunnel_instance(self.tunnel(name)?)
    }

    pub(crate) fn resolve_tunnel_instance(&self, t: &TunnelInstance) -> Option<ResolvedTunnel> {
        let inst = t.instance.resolve();
        let settings = t
            .params
            .overlay(&self.tunnel_profile_params(&inst.profile)?)
            .resolve();
        let mut peers = inst.peer;
        if peers.is_empty() {
            return None;
        }
        if settings.encap == Encap::Udp {
            // `peer x` and `peer x:1701` are the same peer.
            for peer in &mut peers {
                peer.port = Some(peer.port_or_default());
            }
        }
        Some(ResolvedTunnel {
            name: t.name.clone(),
            profile: inst.profile,
            peers,
            persist: inst.persist,
            tunnel_id: inst.tunnel_id,
            peer_tunnel_id: inst.peer_tunnel_id,
            config_id: inst.config_id,
            settings,
        })
    }

    /// The effective settings of session instance `name`; `None` if there is no such session.
    ///
    /// A session without `profile` uses its tunnel's `session_profile_name`; without
    /// `pseudowire_profile_name` it uses its tunnel's.
    pub fn resolve_session(&self, name: &str) -> Option<ResolvedSession> {
        self.resolve_session_instance(self.session(name)?)
    }

    pub(crate) fn resolve_session_instance(&self, s: &SessionInstance) -> Option<ResolvedSession> {
        let inst = s.instance.resolve();
        let tunnel = self.resolve_tunnel(inst.tunnel.as_deref()?)?;
        let profile = inst
            .profile
            .unwrap_or_else(|| tunnel.settings.session_profile_name.clone());
        let settings = s
            .params
            .overlay(&self.session_profile_params(&profile)?)
            .resolve();
        let pseudowire_profile = settings
            .pseudowire_profile_name
            .clone()
            .unwrap_or_else(|| tunnel.settings.pseudowire_profile_name.clone());
        let pseudowire = self.pseudowire_profile_settings(&pseudowire_profile)?;
        let ppp = (settings.pseudowire_type == PseudowireType::Ppp && !pseudowire.use_pppd)
            .then(|| self.ppp_profile_settings(&pseudowire.ppp_profile_name))
            .flatten();
        Some(ResolvedSession {
            name: s.name.clone(),
            tunnel: tunnel.name,
            profile,
            session_id: inst.session_id,
            peer_session_id: inst.peer_session_id,
            settings,
            pseudowire_profile,
            pseudowire,
            ppp,
        })
    }

    /// The effective settings of every tunnel instance, in file order.
    pub fn resolved_tunnels(&self) -> Vec<ResolvedTunnel> {
        self.tunnels
            .iter()
            .filter_map(|t| self.resolve_tunnel_instance(t))
            .collect()
    }

    /// The effective settings of every session instance, in file order.
    pub fn resolved_sessions(&self) -> Vec<ResolvedSession> {
        self.sessions
            .iter()
            .filter_map(|s| self.resolve_session_instance(s))
            .collect()
    }

    /// The peer profile for an incoming SCCRQ from `addr` with Host Name AVP `host_name`: the
    /// one whose `peer_host_name` equals it, else the one with the longest matching address
    /// prefix (the first in the file on a tie), else `default`.
    pub fn match_peer(&self, addr: IpAddr, host_name: Option<&str>) -> &PeerProfile {
        if let Some(host) = host_name
            && let Some(p) = self
                .peer_profiles
                .iter()
                .find(|p| p.params.peer_host_name.as_deref() == Some(host))
        {
            return p;
        }
        let mut best: Option<(&PeerProfile, u8)> = None;
        for p in &self.peer_profiles {
            let Some((net, len)) = p.params.resolve().prefix() else {
                continue;
            };
            if prefix_matches(net, len, addr) && best.is_none_or(|(_, l)| len > l) {
                best = Some((p, len));
            }
        }
        match best {
            Some((p, _)) => p,
            None => match self.peer_profile(DEFAULT_PROFILE) {
                Some(p) => p,
                None => &self.peer_profiles[0],
            },
        }
    }
}

fn prefix_matches(net: IpAddr, len: u8, addr: IpAddr) -> bool {
    let (a, b, width) = match (net, addr) {
        (IpAddr::V4(n), IpAddr::V4(a)) => (u128::from(n.to_bits()), u128::from(a.to_bits()), 32),
        (IpAddr::V6(n), IpAddr::V6(a)) => (n.to_bits(), a.to_bits(), 128),
        _ => return false,
    };
    let shift = u32::from(width - len.min(width));
    a.checked_shr(shift).unwrap_or(0) == b.checked_shr(shift).unwrap_or(0)
}
