//! From the config's `ppp profile`, `user` and `ip pool` blocks (and users files) to the
//! engine's [`PppPolicy`]s: a link configuration for each role, the addresses to give, and an
//! index of the users each profile accepts.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use l2tp_config::{self as cfg, Config, PppAuthMethod, PppSettings};
use ppp_proto::{
    AuthMethod, ChapTiming, Credentials, Ipv4Config, Ipv4Params, Ipv6Config, LcpConfig, LinkConfig,
    PapTiming, Password, Retries,
};

use super::policy::{LocalUser, PppPolicy, ProxyPolicy, RadiusPolicy, Users};

/// The policies of every ppp profile of a config, built ahead of applying it: with a users
/// file of 100 000 users the users index takes a tenth of a second, which a reload spends off
/// the main loop.
pub(in crate::engine) struct PppPolicies(pub(super) Vec<PppPolicy>);

impl PppPolicies {
    /// The policy of every ppp profile of `config`.
    pub(in crate::engine) fn of(config: &Config) -> Self {
        Self(policies(config))
    }
}

/// The profiles' names only: a policy holds its users' passwords.
impl std::fmt::Debug for PppPolicies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|p| &p.profile))
            .finish()
    }
}

/// The policy of every ppp profile of `config`.
pub(in crate::engine) fn policies(config: &Config) -> Vec<PppPolicy> {
    let mut users_cache: HashMap<(Option<PathBuf>, String), Arc<Users>> = HashMap::new();
    config
        .ppp_profiles()
        .iter()
        .filter_map(|p| {
            let s = config.ppp_profile_settings(&p.name)?;
            let key = (s.users_file.clone(), s.local_name.clone());
            let users = Arc::clone(
                users_cache
                    .entry(key)
                    .or_insert_with(|| Arc::new(users(config, &s))),
            );
            Some(policy(&p.name, &s, users))
        })
        .collect()
}

/// The pools of `config`, as the engine's pools take them.
pub(in crate::engine) fn pools(
    config: &Config,
) -> Vec<(&str, &[(std::net::Ipv4Addr, std::net::Ipv4Addr)])> {
    config
        .ip_pools()
        .iter()
        .map(|p| (p.name.as_str(), p.ranges.as_slice()))
        .collect()
}

fn secs(n: u32) -> Option<Duration> {
    (n > 0).then(|| Duration::from_secs(u64::from(n)))
}

/// The policy of ppp profile `name` with settings `s`.
pub(in crate::engine) fn policy(name: &str, s: &PppSettings, users: Arc<Users>) -> PppPolicy {
    let methods: Vec<AuthMethod> = s
        .auth_methods()
        .into_iter()
        .map(|m| match m {
            PppAuthMethod::MsChapV2 => AuthMethod::MsChapV2,
            PppAuthMethod::Chap => AuthMethod::ChapMd5,
            PppAuthMethod::Pap => AuthMethod::Pap,
        })
        .collect();
    let seconds = |n: u32| Duration::from_secs(u64::from(n));
    let base = LinkConfig {
        retries: Retries {
            restart: seconds(s.lcp_retransmit_interval),
            max_configure: s.lcp_max_cfg_reqs,
            max_terminate: s.lcp_max_term_reqs,
            max_failure: s.lcp_max_cfg_naks,
        },
        ncp_retries: Retries {
            restart: seconds(s.ipcp_retransmit_interval),
            max_configure: s.ipcp_max_cfg_reqs,
            max_terminate: s.ipcp_max_term_reqs,
            max_failure: s.ipcp_max_cfg_naks,
        },
        chap: ChapTiming {
            restart: seconds(s.chap_restart),
            max_challenges: s.chap_max_challenge,
            rechallenge: secs(s.chap_interval),
        },
        pap: PapTiming {
            restart: seconds(s.pap_restart_interval),
            max_requests: s.pap_max_auth_reqs,
            timeout: secs(s.pap_timeout),
        },
        lcp: LcpConfig {
            mru: s.mru.unwrap_or(LcpConfig::default().mru),
            ..LcpConfig::default()
        },
        name: s.local_name.as_bytes().to_vec(),
        ipv6: s.ipv6cp.then(Ipv6Config::default),
        echo_interval: secs(s.lcp_echo_interval),
        echo_failures: s.lcp_echo_fail_count,
        idle_timeout: secs(s.idle_timeout),
        session_timeout: secs(s.max_connect_time),
        auth_timeout: seconds(s.auth_timeout),
        max_renegotiations: s.max_renegotiations,
        ..LinkConfig::default()
    };
    let server = LinkConfig {
        authenticate_peer: methods,
        ipv4: Some(Ipv4Config {
            request_dns: false,
            request_nbns: false,
            defaults: Ipv4Params {
                local: s.local_ip_addr,
                peer: None,
                dns: s.dns(),
                nbns: s.wins(),
            },
        }),
        ..base.clone()
    };
    let client = LinkConfig {
        credentials: s.credentials().map(|(user, password)| Credentials {
            user: user.as_bytes().to_vec(),
            password: Password::new(password.as_bytes()),
        }),
        ipv4: Some(Ipv4Config {
            request_dns: true,
            request_nbns: false,
            defaults: Ipv4Params {
                local: s.local_ip_addr,
                peer: s.peer_ip_addr,
                ..Ipv4Params::default()
            },
        }),
        ..base
    };
    PppPolicy {
        profile: name.to_owned(),
        server: Arc::new(server),
        client: Arc::new(client),
        mru: s.mru,
        local_ip: s.local_ip_addr,
        peer_ip: s.peer_ip_addr,
        pool: s.ip_pool_name.clone(),
        users,
        radius: RadiusPolicy {
            auth: s.auth_source,
            accounting: s.radius_accounting,
            interim: secs(s.acct_interim_interval),
        },
        proxy: ProxyPolicy {
            lcp: s.proxy_lcp,
            auth: s.proxy_auth,
        },
        relogin: s.relogin,
    }
}

/// The users a profile with settings `s` accepts, by name, chosen as
/// [`cfg::UserTable::lookup`] chooses: a `user` block first, then the users file's line whose
/// server is the profile's `local_name`, then one whose server is `*`; a `*` client matches
/// any name.
fn users(config: &Config, s: &PppSettings) -> Users {
    let table = config.users();
    // (rank, user): higher ranks win; a user block outranks every line.
    let mut best: HashMap<&str, (u8, &cfg::User)> = HashMap::new();
    let lines = s
        .users_file
        .as_deref()
        .and_then(|f| table.file(f))
        .unwrap_or(&[]);
    for u in lines {
        let rank = match u.server.as_deref() {
            Some(server) if server == s.local_name => 2,
            None => 1,
            Some(_) => continue,
        };
        let e = best.entry(u.name.as_str()).or_insert((rank, u));
        if rank > e.0 {
            *e = (rank, u);
        }
    }
    for u in table.blocks() {
        best.insert(u.name.as_str(), (3, u));
    }
    let local = |u: &cfg::User| LocalUser {
        password: Password::new(u.password.as_bytes()),
        ip: u.ip_addr,
    };
    let any = best.remove("*").map(|(_, u)| local(u));
    let named = best
        .into_iter()
        .map(|(name, (_, u))| (name.as_bytes().to_vec(), local(u)));
    Users::with_wildcard(named, any)
}
