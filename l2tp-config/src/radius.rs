//! RADIUS (RFC 2865, 2866, 5176) for the daemon's own PPP: `radius server` blocks (the
//! authentication and accounting servers, [`RadiusServer`]), `dynauth client` blocks (who may
//! send Disconnect- and CoA-Requests, [`DynauthClient`]), and how a `ppp profile` uses them
//! ([`AuthSource`], `radius_accounting`, `acct_interim_interval`). The `radius_*` parameters
//! of the `system` block say what l2tpd calls itself in its requests and where it listens for
//! dynamic authorization.
//!
//! The config only describes; the daemon's RADIUS client sends the requests.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::convert as p;
use crate::params::params;
use crate::value::{AuthSource, Secret};

/// The RADIUS authentication port (RFC 2865 §3).
pub const RADIUS_AUTH_PORT: u16 = 1812;
/// The RADIUS accounting port (RFC 2866 §3).
pub const RADIUS_ACCT_PORT: u16 = 1813;
/// The port Disconnect- and CoA-Requests are sent to (RFC 5176 §3).
pub const DYNAUTH_PORT: u16 = 3799;

params! {
    /// A `radius server` block as written.
    pub struct RadiusServerParams;
    /// A `radius server` block's settings with defaults applied.
    pub struct RadiusServerSettings;
    (_p) {
        /// `address`: the server's IPv4 or IPv6 address (required).
        address: IpAddr => Option<IpAddr> = None, p::ip;
        /// `secret`: the secret shared with the server (required).
        secret: Secret => Option<Secret> = None, p::secret;
        /// `auth_port`: its authentication port, 0 = it does not authenticate \[1812\].
        auth_port: u16 => u16 = RADIUS_AUTH_PORT, p::number(0, u16::MAX.into());
        /// `acct_port`: its accounting port, 0 = it does not take accounting \[1813\].
        acct_port: u16 => u16 = RADIUS_ACCT_PORT, p::number(0, u16::MAX.into());
        /// `priority`: lower is preferred; servers of equal priority share the load \[1\].
        priority: u8 => u8 = 1, p::number(0, 255);
        /// `timeout`: seconds to wait for an answer to one transmission \[3\].
        timeout: u32 => u32 = 3, p::number(1, 60);
        /// `retries`: retransmissions before the server is declared dead and the request goes
        /// to the next one \[2\].
        retries: u32 => u32 = 2, p::number(0, 10);
        /// `dead_time`: seconds a dead server is left alone before it is tried again \[30\].
        dead_time: u32 => u32 = 30, p::number(0, 86_400);
        /// `max_outstanding`: the most requests in flight to this server; more wait in a
        /// queue \[256\].
        max_outstanding: u32 => u32 = 256, p::number(1, 65_536);
        /// `require_message_authenticator`: drop answers without a valid Message-Authenticator
        /// (against Blast-RADIUS forgeries) \[true\].
        require_message_authenticator: bool => bool = true, p::boolean;
        /// `status_server`: when its dead time is over, probe it with Status-Server (RFC 5997)
        /// and use it again only once it answers, instead of trying it with a user's request
        /// \[false: RFC 5997 forbids probing a server not known to support it\].
        status_server: bool => bool = false, p::boolean;
    }
}

/// A `radius server` block, checked: its address and secret are set.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct RadiusServer {
    /// The block's name.
    pub name: String,
    /// Its settings.
    pub settings: RadiusServerSettings,
}

impl RadiusServer {
    /// The server's address (checked to be set).
    pub fn address(&self) -> Option<IpAddr> {
        self.settings.address
    }

    /// Where it takes Access-Requests, if it authenticates.
    pub fn auth_address(&self) -> Option<SocketAddr> {
        let s = &self.settings;
        (s.auth_port != 0).then_some(SocketAddr::new(s.address?, s.auth_port))
    }

    /// Where it takes Accounting-Requests, if it takes accounting.
    pub fn acct_address(&self) -> Option<SocketAddr> {
        let s = &self.settings;
        (s.acct_port != 0).then_some(SocketAddr::new(s.address?, s.acct_port))
    }

    /// The wait for an answer to one transmission.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(u64::from(self.settings.timeout))
    }

    /// How long a dead server is left alone.
    pub fn dead_time(&self) -> Duration {
        Duration::from_secs(u64::from(self.settings.dead_time))
    }
}

params! {
    /// A `dynauth client` block as written.
    pub struct DynauthClientParams;
    /// A `dynauth client` block's settings with defaults applied.
    pub struct DynauthClientSettings;
    (_p) {
        /// `address`: the address Disconnect- and CoA-Requests come from (required).
        address: IpAddr => Option<IpAddr> = None, p::ip;
        /// `secret`: the secret shared with it (required).
        secret: Secret => Option<Secret> = None, p::secret;
        /// `require_message_authenticator`: drop its requests without a Message-Authenticator
        /// \[false\].
        require_message_authenticator: bool => bool = false, p::boolean;
    }
}

/// A `dynauth client` block, checked: its address and secret are set.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct DynauthClient {
    /// The block's name.
    pub name: String,
    /// Its settings.
    pub settings: DynauthClientSettings,
}

impl AuthSource {
    /// Whether the RADIUS servers are asked.
    pub fn uses_radius(self) -> bool {
        self != AuthSource::Local
    }
}
