//! From the syntax tree to a checked [`Config`]: block types, parameter names and values,
//! duplicates, references, required values and conflicting settings.
//!
//! Every check runs even after earlier ones failed, so one run reports every problem. A conflict
//! between settings is reported once, in the first block (default profile, named profile or
//! instance) where it appears.

use std::collections::HashMap;
use std::path::Path;

use crate::config::{Config, DEFAULT_PROFILE, builtin};
use crate::convert::{Res, Values};
use crate::diagnostic::Diagnostic;
use crate::model::{
    PeerParams, Profile, PseudowireParams, SessionInstance, SessionInstanceParams, SessionParams,
    SystemParams, TunnelInstance, TunnelInstanceParams, TunnelParams,
};
use crate::ppp::{IpPool, IpPoolParams, PppParams, User, UserOrigin, UserParams, UserTable};
use crate::radius::{DynauthClient, DynauthClientParams, RadiusServer, RadiusServerParams};
use crate::span::Span;
use crate::suggest::{self, hint};
use crate::syntax::{Block, Item, Node};

mod check;
mod places;
mod ppp;
mod pw_types;
mod radius;

/// Reads a users file, given its path.
pub(crate) type ReadFile<'a> = &'a mut dyn FnMut(&Path) -> std::io::Result<String>;

#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
enum Kind {
    System,
    PeerProfile,
    TunnelProfile,
    SessionProfile,
    PseudowireProfile,
    PppProfile,
    IpPool,
    User,
    RadiusServer,
    DynauthClient,
    Tunnel,
    Session,
}

const KINDS: &[(&str, Kind)] = &[
    ("system", Kind::System),
    ("peer profile", Kind::PeerProfile),
    ("tunnel profile", Kind::TunnelProfile),
    ("session profile", Kind::SessionProfile),
    ("pseudowire profile", Kind::PseudowireProfile),
    ("ppp profile", Kind::PppProfile),
    ("ip pool", Kind::IpPool),
    ("user", Kind::User),
    ("radius server", Kind::RadiusServer),
    ("dynauth client", Kind::DynauthClient),
    ("tunnel", Kind::Tunnel),
    ("session", Kind::Session),
];

impl Kind {
    fn name(self) -> &'static str {
        KINDS
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("?", |(n, _)| n)
    }

    fn keys(self) -> Vec<&'static str> {
        match self {
            Kind::System => SystemParams::KEYS.to_vec(),
            Kind::PeerProfile => PeerParams::KEYS.to_vec(),
            Kind::TunnelProfile => TunnelParams::KEYS.to_vec(),
            Kind::SessionProfile => SessionParams::KEYS.to_vec(),
            Kind::PseudowireProfile => PseudowireParams::KEYS.to_vec(),
            Kind::PppProfile => PppParams::KEYS.to_vec(),
            Kind::IpPool => IpPoolParams::KEYS.to_vec(),
            Kind::User => UserParams::KEYS.to_vec(),
            Kind::RadiusServer => RadiusServerParams::KEYS.to_vec(),
            Kind::DynauthClient => DynauthClientParams::KEYS.to_vec(),
            Kind::Tunnel => [TunnelInstanceParams::KEYS, TunnelParams::KEYS].concat(),
            Kind::Session => [SessionInstanceParams::KEYS, SessionParams::KEYS].concat(),
        }
    }
}

/// Where a block and its parameters are in the source.
#[derive(Clone, Debug, Default)]
struct Info {
    /// The block's name (or header, for `system`).
    name: Span,
    /// Parameter name → span of its values.
    values: HashMap<String, Span>,
    /// Parameters whose value was reported as invalid: checks that combine settings leave
    /// them out, rather than report a conflict with the default that stood in for them.
    invalid: std::collections::HashSet<String>,
}

impl Info {
    /// Whether `key`'s value in this block was invalid (and reported).
    fn invalid(&self, key: &str) -> bool {
        self.invalid.contains(key)
    }

    fn value(&self, key: &str) -> Option<Span> {
        self.values.get(key).copied()
    }

    /// The value of `key` if set in this block, else the block's name.
    fn at(&self, key: &str) -> Span {
        self.value(key).unwrap_or(self.name)
    }
}

type Located<T> = Vec<(T, Info)>;

#[derive(Default)]
struct Builder {
    diags: Vec<Diagnostic>,
    system: Option<(SystemParams, Span)>,
    /// Where the `system` block's parameters are.
    system_info: Info,
    names: HashMap<(Kind, String), Span>,
    peers: Located<Profile<PeerParams>>,
    tunnel_profiles: Located<Profile<TunnelParams>>,
    session_profiles: Located<Profile<SessionParams>>,
    pseudowire_profiles: Located<Profile<PseudowireParams>>,
    ppp_profiles: Located<Profile<PppParams>>,
    ip_pools: Located<(String, IpPoolParams)>,
    users: Located<(String, UserParams)>,
    radius_servers: Located<(String, RadiusServerParams)>,
    dynauth_clients: Located<(String, DynauthClientParams)>,
    tunnels: Located<TunnelInstance>,
    sessions: Located<SessionInstance>,
    /// The resolved `system` of a base config ([`build_onto`]).
    base_system: Option<crate::model::System>,
    /// The PPP parts of a base config ([`build_onto`]): pools, users (files read) and
    /// warnings, taken as they are.
    base_ppp: Option<(Vec<IpPool>, UserTable, Vec<Diagnostic>)>,
    /// The RADIUS servers and dynamic authorization clients of a base config
    /// ([`build_onto`]), taken as they are.
    base_radius: Option<(Vec<RadiusServer>, Vec<DynauthClient>)>,
}

/// Builds `blocks` on top of the checked config `base`: its profiles, instances and system
/// settings are there first, as if written before `blocks`, so references, duplicates and
/// conflicts are checked exactly as in one file.
pub(crate) fn build_onto(base: &Config, blocks: &[Block]) -> (Config, Vec<Diagnostic>) {
    fn located<T: Clone>(list: &[T]) -> Located<T> {
        list.iter().cloned().map(|v| (v, Info::default())).collect()
    }
    let mut b = Builder {
        base_system: Some(base.system.clone()),
        peers: located(&base.peer_profiles),
        tunnel_profiles: located(&base.tunnel_profiles),
        session_profiles: located(&base.session_profiles),
        pseudowire_profiles: located(&base.pseudowire_profiles),
        ppp_profiles: located(&base.ppp_profiles),
        tunnels: located(&base.tunnels),
        sessions: located(&base.sessions),
        base_ppp: Some((
            base.ip_pools.clone(),
            base.users.clone(),
            base.warnings.clone(),
        )),
        base_radius: Some((base.radius_servers.clone(), base.dynauth_clients.clone())),
        ..Builder::default()
    };
    for (kind, list) in [
        (
            Kind::PeerProfile,
            base.peer_profiles
                .iter()
                .map(|p| &p.name)
                .collect::<Vec<_>>(),
        ),
        (
            Kind::TunnelProfile,
            base.tunnel_profiles.iter().map(|p| &p.name).collect(),
        ),
        (
            Kind::SessionProfile,
            base.session_profiles.iter().map(|p| &p.name).collect(),
        ),
        (
            Kind::PseudowireProfile,
            base.pseudowire_profiles.iter().map(|p| &p.name).collect(),
        ),
        (
            Kind::PppProfile,
            base.ppp_profiles.iter().map(|p| &p.name).collect(),
        ),
        (
            Kind::IpPool,
            base.ip_pools.iter().map(|p| &p.name).collect(),
        ),
        (
            Kind::User,
            base.users.blocks().iter().map(|u| &u.name).collect(),
        ),
        (
            Kind::RadiusServer,
            base.radius_servers.iter().map(|r| &r.name).collect(),
        ),
        (
            Kind::DynauthClient,
            base.dynauth_clients.iter().map(|c| &c.name).collect(),
        ),
        (Kind::Tunnel, base.tunnels.iter().map(|t| &t.name).collect()),
        (
            Kind::Session,
            base.sessions.iter().map(|s| &s.name).collect(),
        ),
    ] {
        for name in list {
            b.names.insert((kind, name.clone()), Span::default());
        }
    }
    for block in blocks {
        b.block(block);
    }
    b.finish(None)
}

/// Builds the config of `blocks`, reading the users files with `read_file` if given.
pub(crate) fn build(
    blocks: &[Block],
    read_file: Option<ReadFile<'_>>,
) -> (Config, Vec<Diagnostic>) {
    let mut b = Builder::default();
    for block in blocks {
        b.block(block);
    }
    b.finish(read_file)
}

impl Builder {
    fn error(&mut self, span: Span, msg: impl Into<String>) {
        self.diags.push(Diagnostic::error(span, msg));
    }

    fn block(&mut self, block: &Block) {
        let Some((kind, name)) = self.header(block) else {
            return;
        };
        let name_text = name.as_ref().map(|n| n.text.clone()).unwrap_or_default();
        let name_span = name.as_ref().map_or(block.header_span(), |n| n.span);
        if kind != Kind::System {
            let key = (kind, name_text.clone());
            if let Some(&first) = self.names.get(&key) {
                self.diags.push(
                    Diagnostic::error(
                        name_span,
                        format!("duplicate {} `{name_text}`", kind.name()),
                    )
                    .with_note(first, "first defined here"),
                );
            } else {
                self.names.insert(key, name_span);
            }
        }
        fn profile<P>(name: &str, params: P) -> Profile<P> {
            Profile {
                name: name.to_owned(),
                params,
                builtin: false,
            }
        }
        match kind {
            Kind::System => {
                let mut params = SystemParams::default();
                let info = self.entries(block, kind, name_span, |v| params.set(v));
                if let Some((_, first)) = self.system {
                    self.diags.push(
                        Diagnostic::error(
                            block.header_span(),
                            "a second `system` block: the file may have only one",
                        )
                        .with_note(first, "first `system` block here"),
                    );
                } else {
                    self.system = Some((params, block.header_span()));
                    self.system_info = info;
                }
            }
            Kind::PeerProfile => {
                let mut params = PeerParams::default();
                let info = self.entries(block, kind, name_span, |v| params.set(v));
                self.peers.push((profile(&name_text, params), info));
            }
            Kind::TunnelProfile => {
                let mut params = TunnelParams::default();
                let info = self.entries(block, kind, name_span, |v| params.set(v));
                self.tunnel_profiles
                    .push((profile(&name_text, params), info));
            }
            Kind::SessionProfile => {
                let mut params = SessionParams::default();
                let info = self.entries(block, kind, name_span, |v| params.set(v));
                self.session_profiles
                    .push((profile(&name_text, params), info));
            }
            Kind::PseudowireProfile => {
                let mut params = PseudowireParams::default();
                let info = self.entries(block, kind, name_span, |v| params.set(v));
                self.pseudowire_profiles
                    .push((profile(&name_text, params), info));
            }
            Kind::PppProfile => {
                let mut params = PppParams::default();
                let info = self.entries(block, kind, name_span, |v| params.set(v));
                self.ppp_profiles.push((profile(&name_text, params), info));
            }
            Kind::IpPool => {
                let mut params = IpPoolParams::default();
                let info = self.entries(block, kind, name_span, |v| params.set(v));
                self.ip_pools.push(((name_text, params), info));
            }
            Kind::User => {
                let mut params = UserParams::default();
                let info = self.entries(block, kind, name_span, |v| params.set(v));
                self.users.push(((name_text, params), info));
            }
            Kind::RadiusServer => {
                let mut params = RadiusServerParams::default();
                let info = self.entries(block, kind, name_span, |v| params.set(v));
                self.radius_servers.push(((name_text, params), info));
            }
            Kind::DynauthClient => {
                let mut params = DynauthClientParams::default();
                let info = self.entries(block, kind, name_span, |v| params.set(v));
                self.dynauth_clients.push(((name_text, params), info));
            }
            Kind::Tunnel => {
                let mut instance = TunnelInstanceParams::default();
                let mut params = TunnelParams::default();
                let info = self.entries(block, kind, name_span, |v| {
                    instance.set(v).or_else(|| params.set(v))
                });
                self.tunnels.push((
                    TunnelInstance {
                        name: name_text,
                        instance,
                        params,
                    },
                    info,
                ));
            }
            Kind::Session => {
                let mut instance = SessionInstanceParams::default();
                let mut params = SessionParams::default();
                let info = self.entries(block, kind, name_span, |v| {
                    instance.set(v).or_else(|| params.set(v))
                });
                self.sessions.push((
                    SessionInstance {
                        name: name_text,
                        instance,
                        params,
                    },
                    info,
                ));
            }
        }
    }

    /// The block type and name of a header, or `None` (after reporting) if the block is to be
    /// skipped.
    fn header(&mut self, block: &Block) -> Option<(Kind, Option<Item>)> {
        let split = block
            .header
            .iter()
            .position(|i| i.quoted)
            .unwrap_or(block.header.len());
        let (words, rest) = block.header.split_at(split);
        let joined = |w: &[Item]| {
            w.iter()
                .map(|i| i.text.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let span_of = |w: &[Item]| match (w.first(), w.last()) {
            (Some(a), Some(b)) => a.span.to(b.span),
            _ => block.open,
        };
        let lookup = |t: &str| KINDS.iter().find(|(n, _)| *n == t).map(|&(_, k)| k);
        if words.is_empty() {
            // `"tunnel" "x" {`: the block type quoted like a name.
            let quoted_type = block
                .header
                .first()
                .filter(|first| lookup(&first.text).is_some() && block.header.len() > 1);
            match quoted_type {
                Some(first) => self.error(
                    first.span,
                    format!(
                        "the block type is written without quotes: `{} \"{}\" {{`",
                        first.text, block.header[1].text
                    ),
                ),
                None => self.error(
                    span_of(&block.header),
                    "missing block type: expected e.g. `tunnel \"name\" {`",
                ),
            }
            return None;
        }
        let (kind, mut names) = match lookup(&joined(words)) {
            Some(kind) => (kind, rest.to_vec()),
            None => {
                // `tunnel to-hq {`: a bare name where a quoted one belongs.
                let (head, last) = words.split_at(words.len() - 1);
                match lookup(&joined(head)) {
                    Some(kind) if kind != Kind::System && rest.is_empty() && !head.is_empty() => {
                        let name = &last[0];
                        self.error(
                            name.span,
                            format!(
                                "block names must be quoted: write `{} \"{}\"`",
                                joined(head),
                                name.text
                            ),
                        );
                        (kind, last.to_vec())
                    }
                    _ => {
                        let text = joined(words);
                        self.error(
                            span_of(words),
                            format!(
                                "unknown block type `{text}`{}",
                                hint(&text, KINDS.iter().map(|(n, _)| *n))
                            ),
                        );
                        return None;
                    }
                }
            }
        };
        if kind == Kind::System {
            if let Some(first) = names.first() {
                self.error(
                    span_of(&names),
                    format!(
                        "the `system` block takes no name, found `\"{}\"`",
                        first.text
                    ),
                );
            }
            return Some((kind, None));
        }
        if names.is_empty() {
            self.error(
                span_of(words),
                format!(
                    "a `{0}` block needs a name: `{0} \"name\" {{ ... }}`",
                    kind.name()
                ),
            );
            return None;
        }
        if names.len() > 1 {
            self.error(span_of(&names[1..]), "unexpected text after the block name");
        }
        let name = names.swap_remove(0);
        if name.text.is_empty() {
            self.error(name.span, "a block name may not be empty");
        }
        // A name goes into log lines, listings and scripts' arguments as it is.
        if name.text.contains(char::is_control) {
            self.error(
                name.span,
                "a block name cannot hold a control character (a line break, a tab, an escape)",
            );
        }
        Some((kind, Some(name)))
    }

    /// Applies every entry of `block` through `set`, reporting nested blocks, unknown and
    /// duplicate parameters and bad values.
    fn entries(
        &mut self,
        block: &Block,
        kind: Kind,
        name: Span,
        mut set: impl FnMut(Values<'_>) -> Option<Res<()>>,
    ) -> Info {
        let mut info = Info {
            name,
            ..Info::default()
        };
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for node in &block.nodes {
            let entry = match node {
                Node::Entry(e) => e,
                Node::Block(inner) => {
                    self.error(
                        inner.header_span(),
                        format!("blocks cannot be nested inside a `{}` block", kind.name()),
                    );
                    continue;
                }
            };
            let key = entry.key.text.as_str();
            if let Some(&first) = seen.get(key) {
                self.diags.push(
                    Diagnostic::error(
                        entry.key.span,
                        format!(
                            "duplicate parameter `{key}` in this `{}` block",
                            kind.name()
                        ),
                    )
                    .with_note(first, "first set here"),
                );
                continue;
            }
            match set(Values {
                key: &entry.key,
                values: &entry.values,
            }) {
                Some(Ok(())) => {
                    seen.insert(key, entry.key.span);
                    let span = match (entry.values.first(), entry.values.last()) {
                        (Some(a), Some(b)) => a.span.to(b.span),
                        _ => entry.key.span,
                    };
                    info.values.insert(key.to_owned(), span);
                }
                Some(Err(e)) => {
                    // Remember the key, so that a bad value is not also reported as missing.
                    seen.insert(key, entry.key.span);
                    info.values.insert(key.to_owned(), e.span);
                    info.invalid.insert(key.to_owned());
                    self.error(e.span, e.message);
                }
                None => self.unknown_parameter(kind, &entry.key),
            }
        }
        info
    }

    fn unknown_parameter(&mut self, kind: Kind, key: &Item) {
        // "a `tunnel` block", "an `ip pool` block" ("a `user` block": no name starts with a
        // vowel sound spelt u).
        let a = |name: &str| {
            let article = if name.starts_with(['a', 'e', 'i', 'o']) {
                "an"
            } else {
                "a"
            };
            format!("{article} `{name}` block")
        };
        let elsewhere: Vec<String> = KINDS
            .iter()
            .filter(|&&(_, k)| k != kind && k.keys().contains(&key.text.as_str()))
            .map(|(n, _)| a(n))
            .collect();
        let msg = if elsewhere.is_empty() {
            format!(
                "unknown parameter `{}` in {}{}",
                key.text,
                a(kind.name()),
                hint(&key.text, kind.keys())
            )
        } else {
            // `local_ip` (of pseudowire profiles) in a ppp profile may be its `local_ip_addr`.
            let here = suggest::did_you_mean(&key.text, kind.keys())
                .map(|k| format!("; or did you mean `{k}`?"))
                .unwrap_or_default();
            format!(
                "`{}` is not a parameter of {}; it belongs in {}{here}",
                key.text,
                a(kind.name()),
                elsewhere.join(" or ")
            )
        };
        self.error(key.span, msg);
    }

    fn finish(mut self, read_file: Option<ReadFile<'_>>) -> (Config, Vec<Diagnostic>) {
        fn ensure_default<P: Default>(list: &mut Located<Profile<P>>) {
            if find_located(list, DEFAULT_PROFILE).is_none() {
                list.push((builtin(), Info::default()));
            }
        }
        ensure_default(&mut self.peers);
        ensure_default(&mut self.tunnel_profiles);
        ensure_default(&mut self.session_profiles);
        ensure_default(&mut self.pseudowire_profiles);
        ensure_default(&mut self.ppp_profiles);

        let (ip_pools, users, warnings) = match self.base_ppp.take() {
            Some(base) => base,
            None => (
                self.ip_pools
                    .iter()
                    .map(|((name, p), _)| IpPool {
                        name: name.clone(),
                        ranges: p.ranges.clone().unwrap_or_default(),
                    })
                    .collect(),
                UserTable::new(
                    self.users
                        .iter()
                        .filter_map(|((name, p), _)| {
                            Some(User {
                                name: name.clone(),
                                server: None,
                                password: p.password.clone()?,
                                ip_addr: p.ip_addr,
                                origin: UserOrigin::Block,
                            })
                        })
                        .collect(),
                ),
                Vec::new(),
            ),
        };
        let (radius_servers, dynauth_clients) = match self.base_radius.take() {
            Some(base) => base,
            None => (
                self.radius_servers
                    .iter()
                    .map(|((name, p), _)| RadiusServer {
                        name: name.clone(),
                        settings: p.resolve(),
                    })
                    .collect(),
                self.dynauth_clients
                    .iter()
                    .map(|((name, p), _)| DynauthClient {
                        name: name.clone(),
                        settings: p.resolve(),
                    })
                    .collect(),
            ),
        };
        let mut config = Config {
            system: match (&self.base_system, &self.system) {
                (Some(base), _) => base.clone(),
                (None, Some((p, _))) => p.resolve(),
                (None, None) => crate::model::System::default(),
            },
            peer_profiles: self.peers.iter().map(|(p, _)| p.clone()).collect(),
            tunnel_profiles: self
                .tunnel_profiles
                .iter()
                .map(|(p, _)| p.clone())
                .collect(),
            session_profiles: self
                .session_profiles
                .iter()
                .map(|(p, _)| p.clone())
                .collect(),
            pseudowire_profiles: self
                .pseudowire_profiles
                .iter()
                .map(|(p, _)| p.clone())
                .collect(),
            ppp_profiles: self.ppp_profiles.iter().map(|(p, _)| p.clone()).collect(),
            ip_pools,
            users,
            radius_servers,
            dynauth_clients,
            tunnels: self.tunnels.iter().map(|(t, _)| t.clone()).collect(),
            sessions: self.sessions.iter().map(|(s, _)| s.clone()).collect(),
            warnings,
            pseudowire_types_at: self
                .session_profiles
                .iter()
                .filter_map(|(p, info)| {
                    let at = info.value("pseudowire_types")?;
                    Some((p.name.clone(), Diagnostic::warning(at, String::new())))
                })
                .collect(),
            places: self.places(),
        };
        if self.base_system.is_none() {
            self.check_system(&config);
        }
        self.check_references(&config);
        self.check_peer_profiles();
        self.check_tunnels(&config);
        self.check_sessions(&config);
        self.check_pseudowire_types(&config);
        self.check_interface_names(&config);
        self.check_fixed_interface_names(&config);
        if self.base_system.is_none() {
            // A base config's PPP parts were checked with it; `build_onto` adds no PPP block.
            self.check_ppp(&mut config, read_file);
            self.check_radius(&config);
        }
        (config, self.diags)
    }
}

fn find_located<'a, P>(list: &'a Located<Profile<P>>, name: &str) -> Option<&'a Profile<P>> {
    list.iter().map(|(p, _)| p).find(|p| p.name == name)
}

/// The profiles of one kind as written (`located`), each with its effective parameters: its
/// own over those of the `default` profile of the finished config (`all`); the `default`
/// profile's own are those of `all`.
fn with_effective<P: crate::params::Overlay>(
    all: &[Profile<P>],
    located: &Located<Profile<P>>,
) -> Vec<(Profile<P>, Info, P)> {
    let default = crate::config::find(all, DEFAULT_PROFILE)
        .map(|p| p.params.clone())
        .unwrap_or_default();
    located
        .iter()
        .map(|(p, info)| {
            let effective = if p.name == DEFAULT_PROFILE {
                default.clone()
            } else {
                p.params.overlay(&default)
            };
            (p.clone(), info.clone(), effective)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::KINDS;

    #[test]
    fn every_block_type_starts_with_a_word_the_parser_knows_opens_a_block() {
        // Else a block left open before one of this type swallows it as a nested block.
        for (name, _) in KINDS {
            let first = name.split(' ').next().unwrap_or_default();
            assert!(
                crate::syntax::TOP_LEVEL_WORDS.contains(&first),
                "`{first}` (of `{name}`) is missing from syntax::TOP_LEVEL_WORDS"
            );
        }
    }
}
