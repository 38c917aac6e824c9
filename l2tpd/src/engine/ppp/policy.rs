//! What a PPP link is allowed and given: the [`PppPolicy`] of a ppp profile (the link
//! configuration of each role, the addresses it hands out) and the local [`Users`] the
//! authenticator checks credentials against.

use std::collections::HashMap;
use std::fmt;
use std::net::Ipv4Addr;
use std::sync::Arc;

use l2tp_config::{AuthSource, Relogin};
use ppp_proto::auth::maths::strip_domain;
use ppp_proto::{AuthRequest, LinkConfig, Password, Verdict};

/// Which end of the PPP link the daemon is.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub(in crate::engine) enum Role {
    /// The LNS, or the LCCE that answered the call: authenticates the peer, assigns its
    /// address.
    Server,
    /// The LAC or the LCCE that placed the call: authenticates itself, takes the address it is
    /// given.
    Client,
}

impl Role {
    /// `server` or `client`, for `show`.
    pub(in crate::engine) fn label(self) -> &'static str {
        match self {
            Role::Server => "server",
            Role::Client => "client",
        }
    }
}

/// One ppp profile, ready for links: shared by every link of the profile.
#[derive(Debug)]
pub(in crate::engine) struct PppPolicy {
    /// The ppp profile's name.
    pub(in crate::engine) profile: String,
    /// The configuration of links in the server role.
    pub(in crate::engine) server: Arc<LinkConfig>,
    /// The MRU the profile sets (`mru`); `None`: each link asks for what its tunnel's
    /// underlay carries.
    pub(in crate::engine) mru: Option<u16>,
    /// The configuration of links in the client role.
    pub(in crate::engine) client: Arc<LinkConfig>,
    /// Our address on the links (`local_ip_addr`); `None`: the tunnel's local IPv4 address.
    pub(in crate::engine) local_ip: Option<Ipv4Addr>,
    /// The one address of the peer (`peer_ip_addr`), for a site-to-site link.
    pub(in crate::engine) peer_ip: Option<Ipv4Addr>,
    /// The pool peers' addresses come from (`ip_pool_name`).
    pub(in crate::engine) pool: Option<String>,
    /// The users the server role accepts (`user` blocks and the profile's `users_file`).
    pub(in crate::engine) users: Arc<Users>,
    /// How the server role uses RADIUS.
    pub(in crate::engine) radius: RadiusPolicy,
    /// What the server role takes of a LAC's proxy AVPs.
    pub(in crate::engine) proxy: ProxyPolicy,
    /// What the server role does when a user's fixed address is held by another session of
    /// the same user (`relogin`).
    pub(in crate::engine) relogin: Relogin,
}

/// What a profile's server links take of a LAC's proxy LCP and authentication AVPs
/// (`proxy_lcp`, `proxy_auth`; RFC 2661 §4.4.5).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(in crate::engine) struct ProxyPolicy {
    /// Start LCP Opened on the LAC's negotiation when acceptable.
    pub(in crate::engine) lcp: bool,
    /// With the LAC's LCP taken, judge the caller's answer to the LAC.
    pub(in crate::engine) auth: bool,
}

impl Default for ProxyPolicy {
    /// Both, as the config's defaults.
    fn default() -> Self {
        Self {
            lcp: true,
            auth: true,
        }
    }
}

/// How a profile's server links use RADIUS (`auth_source`, `radius_accounting`,
/// `acct_interim_interval`).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(in crate::engine) struct RadiusPolicy {
    /// Who checks the peer's credentials.
    pub(in crate::engine) auth: AuthSource,
    /// Whether sessions are accounted.
    pub(in crate::engine) accounting: bool,
    /// Interim-Updates unless the Access-Accept gives its own interval.
    pub(in crate::engine) interim: Option<std::time::Duration>,
}

impl Default for RadiusPolicy {
    fn default() -> Self {
        RadiusPolicy {
            auth: AuthSource::Local,
            accounting: false,
            interim: None,
        }
    }
}

impl RadiusPolicy {
    /// Whether server links keep RADIUS state (an Acct-Session-Id, Class, accounting).
    pub(in crate::engine) fn is_used(&self) -> bool {
        self.auth.uses_radius() || self.accounting
    }
}

impl PppPolicy {
    /// The link configuration of `role`.
    pub(in crate::engine) fn link_config(&self, role: Role) -> &Arc<LinkConfig> {
        match role {
            Role::Server => &self.server,
            Role::Client => &self.client,
        }
    }
}

/// A local user: the password and, optionally, the user's own address.
#[derive(Clone)]
pub(in crate::engine) struct LocalUser {
    /// The password (PAP), or the shared secret (CHAP, MS-CHAPv2).
    pub(in crate::engine) password: Password,
    /// The address this user always gets.
    pub(in crate::engine) ip: Option<Ipv4Addr>,
}

impl fmt::Debug for LocalUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalUser")
            .field("password", &"<redacted>")
            .field("ip", &self.ip)
            .finish()
    }
}

/// The local users, by name, and the one any name matches (a users file's `*` line).
#[derive(Clone, Debug, Default)]
pub(in crate::engine) struct Users {
    by_name: HashMap<Box<[u8]>, LocalUser>,
    any: Option<LocalUser>,
}

/// Why a peer's credentials were refused, for the log and the counters (never the secret).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub(in crate::engine) enum AuthRefusal {
    /// No local user of that name.
    UnknownUser,
    /// The password or the response is wrong.
    WrongCredentials,
}

impl AuthRefusal {
    /// The counter's label.
    pub(in crate::engine) fn label(self) -> &'static str {
        match self {
            AuthRefusal::UnknownUser => "unknown_user",
            AuthRefusal::WrongCredentials => "wrong_credentials",
        }
    }
}

impl fmt::Display for AuthRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuthRefusal::UnknownUser => "no such user",
            AuthRefusal::WrongCredentials => "wrong password or response",
        })
    }
}

impl Users {
    /// Users from (name, user) pairs; a later name replaces an earlier one.
    #[cfg(test)]
    pub(in crate::engine) fn new(users: impl IntoIterator<Item = (Vec<u8>, LocalUser)>) -> Self {
        Self::with_wildcard(users, None)
    }

    /// Users from (name, user) pairs, and the one that any other name matches.
    pub(in crate::engine) fn with_wildcard(
        users: impl IntoIterator<Item = (Vec<u8>, LocalUser)>,
        any: Option<LocalUser>,
    ) -> Self {
        Users {
            by_name: users
                .into_iter()
                .map(|(n, u)| (n.into_boxed_slice(), u))
                .collect(),
            any,
        }
    }

    /// The user the peer named: by the name as sent, else (MS-CHAPv2 from Windows sends
    /// `DOMAIN\user`) without its domain, else the wildcard user.
    pub(in crate::engine) fn find(&self, name: &[u8]) -> Option<&LocalUser> {
        self.by_name
            .get(name)
            .or_else(|| self.by_name.get(strip_domain(name)))
            .or(self.any.as_ref())
    }

    /// The users' own addresses (`ip_addr`, a users file's address column).
    pub(in crate::engine) fn fixed_addresses(&self) -> impl Iterator<Item = Ipv4Addr> + '_ {
        self.by_name
            .values()
            .chain(self.any.as_ref())
            .filter_map(|u| u.ip)
    }

    /// Checks `req` against the local users: the user and the verdict for the link, or why
    /// not. The comparisons are constant-time (`ppp_proto`).
    pub(in crate::engine) fn verify(
        &self,
        req: &AuthRequest,
    ) -> Result<(&LocalUser, Verdict), AuthRefusal> {
        let user = self.find(&req.user).ok_or(AuthRefusal::UnknownUser)?;
        let verdict = req.verify(&user.password);
        if verdict.is_accept() {
            Ok((user, verdict))
        } else {
            Err(AuthRefusal::WrongCredentials)
        }
    }
}

#[cfg(test)]
mod tests {
    use ppp_proto::PeerCredentials;

    use super::*;

    fn users() -> Users {
        Users::new([
            (
                b"alice".to_vec(),
                LocalUser {
                    password: Password::new("wonderland"),
                    ip: Some(Ipv4Addr::new(198, 51, 100, 7)),
                },
            ),
            (
                b"bob".to_vec(),
                LocalUser {
                    password: Password::new("builder"),
                    ip: None,
                },
            ),
        ])
    }

    fn pap(user: &str, password: &str) -> AuthRequest {
        AuthRequest {
            id: ppp_proto::AuthId::from_raw(1),
            user: user.as_bytes().to_vec(),
            credentials: PeerCredentials::Pap {
                password: Password::new(password),
            },
        }
    }

    #[test]
    fn users_are_checked_by_name_with_or_without_a_domain() {
        let u = users();
        let (user, verdict) = u
            .verify(&pap("alice", "wonderland"))
            .unwrap_or_else(|e| panic!("alice: {e}"));
        assert!(verdict.is_accept());
        assert_eq!(user.ip, Some(Ipv4Addr::new(198, 51, 100, 7)));
        assert!(u.verify(&pap("CORP\\bob", "builder")).is_ok());
        assert_eq!(
            u.verify(&pap("bob", "wonderland")).err(),
            Some(AuthRefusal::WrongCredentials)
        );
        assert_eq!(
            u.verify(&pap("carol", "x")).err(),
            Some(AuthRefusal::UnknownUser)
        );
    }

    #[test]
    fn a_users_debug_output_hides_the_password() {
        let text = format!("{:?}", users());
        assert!(
            !text.contains("wonderland") && !text.contains("builder"),
            "{text}"
        );
    }
}
