//! Checks of the daemon's own PPP: PPP profiles, address pools, users and the users files
//! (read here), and which pseudowire settings have no effect with or without `use_pppd`.

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::path::PathBuf;

use super::{Builder, Info, Kind, ReadFile, with_effective};
use crate::config::{Config, DEFAULT_PROFILE};
use crate::diagnostic::Diagnostic;
use crate::model::{Profile, PseudowireParams};
use crate::ppp::{PppAuthMethod, User, UserOrigin};
use crate::span::Span;
use crate::users::parse_users_file;

/// The parameters of a pseudowire profile that only pppd uses.
const PPPD_ONLY: [&str; 2] = ["pppd_path", "pppd_options"];

impl Builder {
    pub(super) fn check_ppp(&mut self, config: &mut Config, read_file: Option<ReadFile<'_>>) {
        self.check_pools();
        self.check_ppp_profiles(config);
        self.check_pppd_use();
        if let Some(read) = read_file {
            self.read_users_files(config, read);
        }
        self.check_users(config);
    }

    /// Every range well formed (the value parser saw to it), no address in two ranges or two
    /// pools, and every pool with at least one range.
    fn check_pools(&mut self) {
        let pools = self.ip_pools.clone();
        // (first, last, pool name, where) of every range, by first address.
        let mut all: Vec<(Ipv4Addr, Ipv4Addr, &str, Span)> = Vec::new();
        for ((name, p), info) in &pools {
            match &p.ranges {
                Some(ranges) => all.extend(
                    ranges
                        .iter()
                        .map(|&(a, b)| (a, b, name.as_str(), info.at("ranges"))),
                ),
                None if info.value("ranges").is_none() => self.error(
                    info.name,
                    format!("ip pool `{name}` has no `ranges`: a pool needs addresses to give"),
                ),
                None => {}
            }
        }
        all.sort_by_key(|&(a, b, ..)| (a, b));
        // The range reaching furthest so far: any range starting before its end overlaps it.
        let mut reach: Option<(Ipv4Addr, Ipv4Addr, &str, Span)> = None;
        for r in all {
            if let Some(o) = reach
                && r.0 <= o.1
            {
                let whose = if r.2 == o.2 {
                    "another range of this pool".to_owned()
                } else {
                    format!("ip pool `{}`", o.2)
                };
                self.diags.push(
                    Diagnostic::error(
                        r.3,
                        format!(
                            "range {}-{} of ip pool `{}` overlaps {whose} ({}-{}): an address \
                             may be in one range of one pool only",
                            r.0, r.1, r.2, o.0, o.1
                        ),
                    )
                    .with_note(o.3, "the other range"),
                );
            }
            if reach.is_none_or(|o| r.1 > o.1) {
                reach = Some(r);
            }
        }
    }

    /// References to pools, authentication methods, credentials and addresses of each PPP
    /// profile, each problem reported in the first layer (the `default` profile or a named
    /// one) where it arises.
    fn check_ppp_profiles(&mut self, config: &Config) {
        let pool_names: Vec<&str> = config.ip_pools.iter().map(|p| p.name.as_str()).collect();
        let profiles = with_effective(&config.ppp_profiles, &self.ppp_profiles);
        for (p, info, effective) in &profiles {
            let own = &p.params;
            let set = |k: &str| own.is_set(k);
            self.reference(
                Kind::IpPool,
                own.ip_pool_name.as_ref(),
                info.at("ip_pool_name"),
                &pool_names,
            );
            let s = effective.resolve();
            self.check_ppp_unsupported(&p.name, info, &s, &set);
            let auth_keys = ["auth_none", "auth_mschapv2", "auth_chap", "auth_pap"];
            if !s.auth_none
                && s.auth_methods().is_empty()
                && let Some(key) = auth_keys.into_iter().find(|k| set(k))
            {
                self.error(
                    info.at(key),
                    format!(
                        "ppp profile `{}` allows no way to authenticate the peer: turn on one of \
                         `auth_mschapv2`, `auth_chap` or `auth_pap`, or say `auth_none true` to \
                         let peers in unauthenticated",
                        p.name
                    ),
                );
            }
            if s.user_name.is_some() != s.user_password.is_some()
                && (set("user_name") || set("user_password"))
            {
                let (has, lacks) = if s.user_name.is_some() {
                    ("user_name", "user_password")
                } else {
                    ("user_password", "user_name")
                };
                self.error(
                    info.at(has),
                    format!("`{has}` needs a `{lacks}` to go with it"),
                );
            }
            for key in ["local_ip_addr", "peer_ip_addr"] {
                let addr = if key == "local_ip_addr" {
                    own.local_ip_addr
                } else {
                    own.peer_ip_addr
                };
                let Some(addr) = addr else { continue };
                if let Some(pool) = config.ip_pools.iter().find(|pool| pool.contains(addr)) {
                    let mut d = Diagnostic::error(
                        info.at(key),
                        format!(
                            "`{key}` {addr} is in ip pool `{}`, which could give it to a peer",
                            pool.name
                        ),
                    );
                    if let Some((_, pinfo)) =
                        self.ip_pools.iter().find(|((n, _), _)| *n == pool.name)
                    {
                        d = d.with_note(pinfo.at("ranges"), "the pool's ranges");
                    }
                    self.diags.push(d);
                }
            }
            if let (Some(l), Some(r)) = (s.local_ip_addr, s.peer_ip_addr)
                && l == r
                && (set("local_ip_addr") || set("peer_ip_addr"))
            {
                let key = if set("peer_ip_addr") {
                    "peer_ip_addr"
                } else {
                    "local_ip_addr"
                };
                self.error(
                    info.at(key),
                    format!("`local_ip_addr` and `peer_ip_addr` are both {l}"),
                );
            }
        }
        let pseudowires: Vec<(Profile<PseudowireParams>, Info)> = self.pseudowire_profiles.clone();
        let ppp_names: Vec<&str> = config
            .ppp_profiles
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        for (p, info) in &pseudowires {
            self.reference(
                Kind::PppProfile,
                p.params.ppp_profile_name.as_ref(),
                info.at("ppp_profile_name"),
                &ppp_names,
            );
        }
    }

    /// What ProL2TP's and OpenL2TP's profiles take and l2tpd does not do: refused when turned
    /// on, so that a profile never silently means less than it says; and timers that cannot
    /// take effect.
    fn check_ppp_unsupported(
        &mut self,
        name: &str,
        info: &Info,
        s: &crate::ppp::PppSettings,
        set: &dyn Fn(&str) -> bool,
    ) {
        let unsupported = [
            (
                "auth_mschapv1",
                s.auth_mschapv1,
                "MS-CHAPv1 is not implemented; peers authenticate with MS-CHAPv2 \
                 (`auth_mschapv2`), CHAP (`auth_chap`) or PAP (`auth_pap`)",
            ),
            (
                "auth_eap",
                s.auth_eap,
                "EAP is not implemented (a peer asking for it is Nak'ed toward another \
                 method); peers authenticate with MS-CHAPv2 (`auth_mschapv2`), CHAP \
                 (`auth_chap`) or PAP (`auth_pap`)",
            ),
            (
                "multilink",
                s.multilink,
                "Multilink PPP (RFC 1990) is not implemented: each session is a link of its \
                 own and a peer's Multilink options are rejected",
            ),
        ];
        for (key, on, why) in unsupported {
            if on && set(key) {
                self.error(
                    info.at(key),
                    format!("ppp profile `{name}`: `{key} true` is not supported: {why}"),
                );
            }
        }
        if s.pap_timeout > 0
            && s.pap_timeout >= s.auth_timeout
            && let Some(key) = ["pap_timeout", "auth_timeout"].into_iter().find(|k| set(k))
        {
            self.diags.push(Diagnostic::warning(
                info.at(key),
                format!(
                    "`pap_timeout` has no effect: in ppp profile `{name}` it is not shorter \
                     than `auth_timeout` ({} s), which bounds the whole authentication",
                    s.auth_timeout
                ),
            ));
        }
        if s.chap_interval > 0
            && set("chap_interval")
            && !s.auth_methods().iter().any(|m| *m != PppAuthMethod::Pap)
        {
            self.diags.push(Diagnostic::warning(
                info.at("chap_interval"),
                format!(
                    "`chap_interval` has no effect: ppp profile `{name}` does not authenticate \
                     peers with CHAP or MS-CHAPv2"
                ),
            ));
        }
    }

    /// Warns of pppd's parameters in pseudowire profiles that never start pppd, and of
    /// `ppp_profile_name` in those that always do. A parameter of the `default` profile counts
    /// as used if a profile that inherits it uses it.
    fn check_pppd_use(&mut self) {
        let profiles: Vec<(Profile<PseudowireParams>, Info)> = self.pseudowire_profiles.clone();
        let default = profiles
            .iter()
            .find(|(p, _)| p.name == DEFAULT_PROFILE)
            .map(|(p, _)| p.params.clone())
            .unwrap_or_default();
        let use_pppd = |own: &PseudowireParams| own.use_pppd.or(default.use_pppd).unwrap_or(false);
        for (p, info) in &profiles {
            let is_default = p.name == DEFAULT_PROFILE;
            // Whether a key set here reaches a profile with (or without) `use_pppd`.
            let reaches = |key: &str, pppd: bool| {
                use_pppd(&p.params) == pppd
                    || (is_default
                        && profiles.iter().any(|(o, _)| {
                            o.name != DEFAULT_PROFILE
                                && !o.params.is_set(key)
                                && use_pppd(&o.params) == pppd
                        }))
            };
            for key in PPPD_ONLY {
                if p.params.is_set(key) && !reaches(key, true) {
                    self.diags.push(Diagnostic::warning(
                        info.at(key),
                        format!(
                            "`{key}` has no effect: pseudowire profile `{}` runs the daemon's own \
                             PPP (`use_pppd` is false); set `use_pppd true` to start pppd",
                            p.name
                        ),
                    ));
                }
            }
            let key = "ppp_profile_name";
            if p.params.is_set(key) && !reaches(key, false) {
                self.diags.push(Diagnostic::warning(
                    info.at(key),
                    format!(
                        "`{key}` has no effect: pseudowire profile `{}` starts pppd \
                         (`use_pppd true`), which takes its settings from `pppd_options`",
                        p.name
                    ),
                ));
            }
        }
    }

    /// Reads every users file a PPP profile names, once each, into `config.users`.
    fn read_users_files(&mut self, config: &mut Config, read: ReadFile<'_>) {
        let mut files: BTreeMap<PathBuf, Span> = BTreeMap::new();
        for (p, info) in &self.ppp_profiles {
            if let Some(path) = &p.params.users_file {
                files.entry(path.clone()).or_insert(info.at("users_file"));
            }
        }
        for (path, at) in files {
            match read(&path) {
                Ok(text) => match parse_users_file(&path, &text) {
                    Ok(users) => {
                        config.users.insert_file(path, users);
                    }
                    Err(problems) => self.diags.extend(problems),
                },
                Err(e) => self.error(
                    at,
                    format!("cannot read users file {}: {e}", path.display()),
                ),
            }
        }
    }

    /// `user` blocks: a password each, no `*`; a user both in a block and in a users file
    /// (the block wins, with a warning); no fixed address shared by two users or with a PPP
    /// profile's own address.
    fn check_users(&mut self, config: &Config) {
        let blocks = self.users.clone();
        for ((name, p), info) in &blocks {
            if name == "*" {
                self.error(
                    info.name,
                    "`*` is a wildcard of users files, not a user name",
                );
            }
            if p.password.is_none() && info.value("password").is_none() {
                self.error(info.name, format!("user `{name}` has no `password`"));
            }
        }
        let mut block_infos: HashMap<&str, &Info> = HashMap::new();
        for ((name, _), info) in &blocks {
            block_infos.entry(name.as_str()).or_insert(info);
        }
        let block_at = |name: &str| block_infos.get(name).copied();
        for u in config.users.iter() {
            let (Some(info), UserOrigin::File { path, line }) = (block_at(&u.name), &u.origin)
            else {
                continue;
            };
            self.diags.push(Diagnostic::warning(
                info.name,
                format!(
                    "user `{}` is also in users file {} (line {line}); this `user` block wins",
                    u.name,
                    path.display()
                ),
            ));
        }
        // Fixed addresses: the users that count (a file's user shadowed by a block does not).
        let mut owners: BTreeMap<Ipv4Addr, &User> = BTreeMap::new();
        let counted = config.users.iter().filter(|u| match u.origin {
            UserOrigin::Block => true,
            UserOrigin::File { .. } => block_at(&u.name).is_none(),
        });
        let mut problems = Vec::new();
        for u in counted {
            let Some(addr) = u.ip_addr else { continue };
            match owners.get(&addr) {
                Some(o) if o.name != u.name => problems.push((
                    u,
                    format!(
                        "{addr} is the fixed address of both user `{}` and user `{}`",
                        o.name, u.name
                    ),
                )),
                Some(_) => {}
                None => {
                    owners.insert(addr, u);
                }
            }
            let locals = self
                .ppp_profiles
                .iter()
                .filter(|(p, _)| p.params.local_ip_addr == Some(addr));
            for (p, _) in locals {
                problems.push((
                    u,
                    format!(
                        "{addr}, the fixed address of user `{}`, is the `local_ip_addr` of ppp \
                         profile `{}`",
                        u.name, p.name
                    ),
                ));
            }
        }
        for (u, message) in problems {
            self.diags.push(match &u.origin {
                UserOrigin::Block => {
                    let at = block_at(&u.name).map_or(Span::default(), |i| i.at("ip_addr"));
                    Diagnostic::error(at, message)
                }
                UserOrigin::File { path, line } => {
                    Diagnostic::external(&path.display().to_string(), *line, message)
                }
            });
        }
    }
}
