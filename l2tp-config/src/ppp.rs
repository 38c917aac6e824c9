//! The daemon's own PPP: `ppp profile` blocks ([`PppParams`], resolved to [`PppSettings`]),
//! IPv4 address pools (`ip pool`, [`IpPool`]) and local users (`user` blocks and users files in
//! pppd's `chap-secrets` format, together a [`UserTable`]).
//!
//! The config only describes; the engine authenticates, hands out pool addresses and refuses a
//! session when its pool is exhausted.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use crate::convert as p;
use crate::params::params;
use crate::value::{AuthSource, Relogin, Secret};

params! {
    /// A `ppp profile` block as written.
    pub struct PppParams;
    /// A PPP profile's settings with defaults applied.
    pub struct PppSettings;
    (_p) {
        /// `auth_pap`: ask the peer for PAP \[false\].
        auth_pap: bool => bool = false, p::boolean;
        /// `auth_chap`: ask the peer for CHAP with MD5 \[true\].
        auth_chap: bool => bool = true, p::boolean;
        /// `auth_mschapv2`: ask the peer for MS-CHAPv2 \[true\].
        auth_mschapv2: bool => bool = true, p::boolean;
        /// `auth_none`: do not authenticate the peer, whatever the `auth_*` methods say
        /// \[false\].
        auth_none: bool => bool = false, p::boolean;
        /// `local_name`: our name in CHAP Challenges, and the server name that users-file
        /// lines must give (or `*`) to apply \[`l2tpd`\].
        local_name: String => String = "l2tpd".to_owned(), p::name;
        /// `user_name`: the name we authenticate with when the peer asks (LAC, client,
        /// site-to-site) \[`None`\].
        user_name: String => Option<String> = None, p::name;
        /// `user_password`: the password that goes with `user_name` \[`None`\].
        user_password: Secret => Option<Secret> = None, p::secret;
        /// `local_ip_addr`: our IPv4 address on the links \[`None`: ask the peer for one\].
        local_ip_addr: Ipv4Addr => Option<Ipv4Addr> = None, p::ipv4_host;
        /// `peer_ip_addr`: the one address of the peer of a site-to-site link \[`None`\].
        peer_ip_addr: Ipv4Addr => Option<Ipv4Addr> = None, p::ipv4_host;
        /// `ip_pool_name`: the `ip pool` peer addresses come from \[`None`\].
        ip_pool_name: String => Option<String> = None, p::name;
        /// `dns_addr_1`: primary DNS server offered to the peer (RFC 1877) \[`None`\].
        dns_addr_1: Ipv4Addr => Option<Ipv4Addr> = None, p::ipv4_host;
        /// `dns_addr_2`: secondary DNS server \[`None`\].
        dns_addr_2: Ipv4Addr => Option<Ipv4Addr> = None, p::ipv4_host;
        /// `wins_addr_1`: primary NBNS (WINS) server (RFC 1877) \[`None`\].
        wins_addr_1: Ipv4Addr => Option<Ipv4Addr> = None, p::ipv4_host;
        /// `wins_addr_2`: secondary NBNS (WINS) server \[`None`\].
        wins_addr_2: Ipv4Addr => Option<Ipv4Addr> = None, p::ipv4_host;
        /// `mru`: the MRU we ask for, 128 to 16384 \[`None`: what a 1500-octet underlay
        /// carries in the tunnel's headers without fragmentation\].
        mru: u16 => Option<u16> = None, p::number(128, 16384);
        /// `lcp_echo_interval`: seconds between LCP Echo-Requests, 0 = none \[30\].
        lcp_echo_interval: u32 => u32 = 30, p::number(0, 86_400);
        /// `lcp_echo_fail_count`: Echo-Requests unanswered in a row before the link is
        /// closed \[3\].
        lcp_echo_fail_count: u8 => u8 = 3, p::number(1, 255);
        /// `idle_timeout`: seconds without data before the link is closed, 0 = none \[0\].
        idle_timeout: u32 => u32 = 0, p::number(0, u32::MAX.into());
        /// `max_connect_time`: seconds after which the session is closed, 0 = none \[0\].
        max_connect_time: u32 => u32 = 0, p::number(0, u32::MAX.into());
        /// `ipv6cp`: negotiate IPv6 (IPv6CP) \[true\].
        ipv6cp: bool => bool = true, p::boolean;
        /// `lcp_retransmit_interval`: seconds before a Configure- or Terminate-Request is
        /// sent again (the Restart timer of RFC 1661 §4.6) \[3\].
        lcp_retransmit_interval: u32 => u32 = 3, p::number(1, 60);
        /// `lcp_max_cfg_reqs`: Configure-Requests sent without an answer before giving up
        /// (Max-Configure of RFC 1661 §4.6) \[10\].
        lcp_max_cfg_reqs: u8 => u8 = 10, p::number(1, 255);
        /// `lcp_max_cfg_naks`: Configure-Naks sent before further ones turn into
        /// Configure-Rejects, and Naks received before giving up (Max-Failure of RFC 1661
        /// §4.6) \[5\].
        lcp_max_cfg_naks: u8 => u8 = 5, p::number(1, 255);
        /// `lcp_max_term_reqs`: Terminate-Requests sent without an answer before the link
        /// ends anyway (Max-Terminate of RFC 1661 §4.6) \[2\].
        lcp_max_term_reqs: u8 => u8 = 2, p::number(1, 255);
        /// `max_renegotiations`: renegotiations (LCP, IPCP or IPv6CP leaving Opened on the
        /// peer's packet) a peer may start within a minute; one more closes the link, 0 = no
        /// limit \[10\].
        max_renegotiations: u16 => u16 = 10, p::number(0, 10_000);
        /// `ipcp_retransmit_interval`: the Restart timer of IPCP and IPv6CP, in seconds \[3\].
        ipcp_retransmit_interval: u32 => u32 = 3, p::number(1, 60);
        /// `ipcp_max_cfg_reqs`: Max-Configure of IPCP and IPv6CP \[10\].
        ipcp_max_cfg_reqs: u8 => u8 = 10, p::number(1, 255);
        /// `ipcp_max_cfg_naks`: Max-Failure of IPCP and IPv6CP \[5\].
        ipcp_max_cfg_naks: u8 => u8 = 5, p::number(1, 255);
        /// `ipcp_max_term_reqs`: Max-Terminate of IPCP and IPv6CP \[2\].
        ipcp_max_term_reqs: u8 => u8 = 2, p::number(1, 255);
        /// `auth_timeout`: seconds the whole authentication phase may take, in either
        /// direction, before the link is closed \[30\].
        auth_timeout: u32 => u32 = 30, p::number(5, 600);
        /// `chap_restart`: seconds before an unanswered CHAP Challenge is sent again \[3\].
        chap_restart: u32 => u32 = 3, p::number(1, 60);
        /// `chap_max_challenge`: CHAP Challenges sent without a Response before the link is
        /// closed \[10\].
        chap_max_challenge: u8 => u8 = 10, p::number(1, 255);
        /// `chap_interval`: seconds between CHAP re-challenges once the link is up (RFC 1994
        /// §2), 0 = none \[0\].
        chap_interval: u32 => u32 = 0, p::number(0, 86_400);
        /// `pap_restart_interval`: seconds before our unanswered PAP Authenticate-Request is
        /// sent again \[3\].
        pap_restart_interval: u32 => u32 = 3, p::number(1, 60);
        /// `pap_max_auth_reqs`: PAP Authenticate-Requests sent without an answer before the
        /// link is closed \[10\].
        pap_max_auth_reqs: u8 => u8 = 10, p::number(1, 255);
        /// `pap_timeout`: seconds to wait for the peer's PAP Authenticate-Request, 0 =
        /// `auth_timeout` alone \[0\].
        pap_timeout: u32 => u32 = 0, p::number(0, 600);
        /// `auth_mschapv1`: MS-CHAPv1, not implemented: only `false` is taken \[false\].
        auth_mschapv1: bool => bool = false, p::boolean;
        /// `auth_eap`: EAP, not implemented: only `false` is taken \[false\].
        auth_eap: bool => bool = false, p::boolean;
        /// `multilink`: Multilink PPP (RFC 1990), not implemented: only `false` is taken
        /// \[false\].
        multilink: bool => bool = false, p::boolean;
        /// `proxy_lcp`: as LNS of an L2TPv2 call, take the LCP the LAC negotiated with the
        /// caller (its ICCN's proxy LCP AVPs, RFC 2661 §4.4.5) when every option is one we
        /// would have agreed to, instead of negotiating again \[true\].
        proxy_lcp: bool => bool = true, p::boolean;
        /// `proxy_auth`: with the LAC's LCP taken, judge the caller's answer to the LAC's
        /// CHAP Challenge or PAP request (the proxy authentication AVPs) instead of
        /// authenticating it again \[true\].
        proxy_auth: bool => bool = true, p::boolean;
        /// `relogin`: when a user's fixed address (`ip_addr`, a users file's address, RADIUS
        /// Framed-IP-Address) is held by another native-PPP session of the same user, that
        /// session is disconnected and the address goes to the new login (`replace`), or the
        /// new login is refused (`refuse`) \[`replace`\].
        relogin: Relogin => Relogin = Relogin::Replace, p::keyword;
        /// `users_file`: local users in pppd's `chap-secrets` format \[`None`\].
        users_file: PathBuf => Option<PathBuf> = None, p::path;
        /// `auth_source`: who checks the peer's credentials: the local users, the RADIUS
        /// servers, or the RADIUS servers and the local users when none answers \[`local`\].
        auth_source: AuthSource => AuthSource = AuthSource::Local, p::keyword;
        /// `radius_accounting`: send RADIUS accounting (Start, Interim-Update, Stop) for the
        /// sessions of this profile \[false\].
        radius_accounting: bool => bool = false, p::boolean;
        /// `acct_interim_interval`: seconds between Interim-Updates, 0 = none unless the
        /// Access-Accept gives an Acct-Interim-Interval \[0\].
        acct_interim_interval: u32 => u32 = 0, p::number(0, 86_400);
    }
}

/// A method of authenticating the peer.
#[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub enum PppAuthMethod {
    /// MS-CHAPv2 (RFC 2759).
    MsChapV2,
    /// CHAP with MD5 (RFC 1994).
    Chap,
    /// PAP (RFC 1334).
    Pap,
}

impl fmt::Display for PppAuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MsChapV2 => "mschapv2",
            Self::Chap => "chap",
            Self::Pap => "pap",
        })
    }
}

impl PppSettings {
    /// The methods to ask the peer for, in order of preference (MS-CHAPv2, CHAP, PAP); empty
    /// with `auth_none`: the peer is not authenticated.
    pub fn auth_methods(&self) -> Vec<PppAuthMethod> {
        if self.auth_none {
            return Vec::new();
        }
        [
            (self.auth_mschapv2, PppAuthMethod::MsChapV2),
            (self.auth_chap, PppAuthMethod::Chap),
            (self.auth_pap, PppAuthMethod::Pap),
        ]
        .into_iter()
        .filter_map(|(on, m)| on.then_some(m))
        .collect()
    }

    /// The name and password to authenticate ourselves with, when both are set.
    pub fn credentials(&self) -> Option<(&str, &Secret)> {
        Some((self.user_name.as_deref()?, self.user_password.as_ref()?))
    }

    /// DNS servers offered to the peer: primary, secondary.
    pub fn dns(&self) -> [Option<Ipv4Addr>; 2] {
        [self.dns_addr_1, self.dns_addr_2]
    }

    /// NBNS (WINS) servers offered to the peer: primary, secondary.
    pub fn wins(&self) -> [Option<Ipv4Addr>; 2] {
        [self.wins_addr_1, self.wins_addr_2]
    }
}

params! {
    /// An `ip pool` block as written.
    pub struct IpPoolParams;
    /// An `ip pool` block's settings.
    pub struct IpPoolSettings;
    (_p) {
        /// `ranges`: the pool's addresses, `first-last` ranges or single addresses
        /// (required).
        ranges: Vec<(Ipv4Addr, Ipv4Addr)> => Vec<(Ipv4Addr, Ipv4Addr)> = Vec::new(),
            p::ipv4_ranges;
    }
}

/// An IPv4 address pool: several ranges, no address in two ranges or two pools.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct IpPool {
    /// The pool's name.
    pub name: String,
    /// Its ranges, first and last address included, in file order.
    pub ranges: Vec<(Ipv4Addr, Ipv4Addr)>,
}

impl IpPool {
    /// Whether `addr` is in one of the ranges.
    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        self.ranges.iter().any(|&(a, b)| (a..=b).contains(&addr))
    }

    /// How many addresses the pool holds.
    pub fn size(&self) -> u64 {
        self.ranges
            .iter()
            .map(|&(a, b)| u64::from(b.to_bits() - a.to_bits()) + 1)
            .sum()
    }
}

params! {
    /// A `user` block as written.
    pub struct UserParams;
    /// A `user` block's settings.
    pub struct UserSettings;
    (_p) {
        /// `password` (required).
        password: Secret => Option<Secret> = None, p::secret;
        /// `ip_addr`: the address this user always gets \[`None`: one from the pool\].
        ip_addr: Ipv4Addr => Option<Ipv4Addr> = None, p::ipv4_host;
    }
}

/// One local user: a `user` block, or a line of a users file.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct User {
    /// The user name the peer authenticates with; `*` on a users-file line that matches any
    /// name.
    pub name: String,
    /// The server name the line applies to (its second word, matched against a PPP profile's
    /// `local_name`); `None` for `*` and for `user` blocks, which apply whatever our name.
    pub server: Option<String>,
    /// The password (for CHAP and MS-CHAPv2, the shared secret).
    pub password: Secret,
    /// The address this user always gets; `None`: one from the profile's pool.
    pub ip_addr: Option<Ipv4Addr>,
    /// Where the user is defined.
    pub origin: UserOrigin,
}

/// Where a [`User`] is defined.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum UserOrigin {
    /// A `user` block of the config file.
    Block,
    /// A line of a users file.
    File {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: usize,
    },
}

/// The local users: `user` blocks, which apply to every PPP profile, and the users files that
/// PPP profiles name (`users_file`), each of which applies to the profiles that name it.
///
/// Look-ups are by hash, whatever the number of users.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct UserTable {
    blocks: Vec<User>,
    /// Block users by name (the first, if a name is given twice).
    block_index: HashMap<String, usize>,
    files: BTreeMap<PathBuf, UsersFile>,
}

/// The users of one users file, with an index by client and server.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
struct UsersFile {
    users: Vec<User>,
    index: HashMap<(String, Option<String>), usize>,
}

impl UserTable {
    /// A table of the `user` blocks `blocks`, without users files.
    pub(crate) fn new(blocks: Vec<User>) -> Self {
        let mut block_index = HashMap::new();
        for (i, u) in blocks.iter().enumerate() {
            block_index.entry(u.name.clone()).or_insert(i);
        }
        Self {
            blocks,
            block_index,
            files: BTreeMap::new(),
        }
    }

    /// Adds the users of users file `path` (read with
    /// [`parse_users_file`](crate::parse_users_file), so no two share a client and server).
    pub(crate) fn insert_file(&mut self, path: PathBuf, users: Vec<User>) {
        let index = users
            .iter()
            .enumerate()
            .map(|(i, u)| ((u.name.clone(), u.server.clone()), i))
            .collect();
        self.files.insert(path, UsersFile { users, index });
    }

    /// The user `name` who authenticates with us, whose name is `server` (the profile's
    /// `local_name`), in a PPP profile whose `users_file` is `users_file`.
    ///
    /// A `user` block wins; then the users file's lines, best match first: the line whose
    /// client and server are both `name` and `server`, then client `name` with server `*`,
    /// then client `*` with server `server`, then `* *` (as pppd chooses).
    pub fn lookup(&self, name: &str, server: &str, users_file: Option<&Path>) -> Option<&User> {
        if let Some(&i) = self.block_index.get(name) {
            return self.blocks.get(i);
        }
        let file = self.files.get(users_file?)?;
        [
            (name, Some(server)),
            (name, None),
            ("*", Some(server)),
            ("*", None),
        ]
        .into_iter()
        .find_map(|(client, server)| {
            let key = (client.to_owned(), server.map(str::to_owned));
            file.index.get(&key).and_then(|&i| file.users.get(i))
        })
    }

    /// The `user` block named `name`.
    pub fn block(&self, name: &str) -> Option<&User> {
        self.block_index.get(name).and_then(|&i| self.blocks.get(i))
    }

    /// The users of `user` blocks, in file order.
    pub fn blocks(&self) -> &[User] {
        &self.blocks
    }

    /// The users of users file `path`, in line order; `None` if no profile names it, or if it
    /// was not read ([`parse`](crate::parse) reads no files).
    pub fn file(&self, path: &Path) -> Option<&[User]> {
        self.files.get(path).map(|f| f.users.as_slice())
    }

    /// Every user: the `user` blocks, then each users file's lines.
    pub fn iter(&self) -> impl Iterator<Item = &User> {
        self.blocks
            .iter()
            .chain(self.files.values().flat_map(|f| &f.users))
    }

    /// Every user by name, with what matters to a session (server, password, address and
    /// which file), for [`diff`](crate::diff): a user moved to another line is unchanged.
    pub(crate) fn by_name(&self) -> BTreeMap<String, Vec<UserKey>> {
        let mut out: BTreeMap<String, Vec<UserKey>> = BTreeMap::new();
        for u in self.iter() {
            let file = match &u.origin {
                UserOrigin::Block => None,
                UserOrigin::File { path, .. } => Some(path.clone()),
            };
            out.entry(u.name.clone()).or_default().push(UserKey {
                file,
                server: u.server.clone(),
                password: u.password.clone(),
                ip_addr: u.ip_addr,
            });
        }
        for v in out.values_mut() {
            v.sort_by(|a, b| (&a.file, &a.server).cmp(&(&b.file, &b.server)));
        }
        out
    }
}

/// A user as [`UserTable::by_name`] compares it.
#[derive(Clone, Debug, Eq, PartialEq)]
pub(crate) struct UserKey {
    file: Option<PathBuf>,
    server: Option<String>,
    password: Secret,
    ip_addr: Option<Ipv4Addr>,
}
