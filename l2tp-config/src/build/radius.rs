//! Checks of RADIUS: every server and dynamic authorization client has its address and secret,
//! no two serve the same address and port, and every ppp profile that asks RADIUS for
//! authentication or accounting has a server for it.

use std::collections::HashMap;
use std::net::SocketAddr;

use super::{Builder, Info, with_effective};
use crate::config::Config;
use crate::diagnostic::Diagnostic;
use crate::radius::{DynauthClientParams, RadiusServerParams};
use crate::span::Span;
use crate::value::AuthSource;

impl Builder {
    pub(super) fn check_radius(&mut self, config: &Config) {
        self.check_radius_servers();
        self.check_dynauth_clients(config);
        self.check_ppp_radius(config);
    }

    fn check_radius_servers(&mut self) {
        let servers: Vec<((String, RadiusServerParams), Info)> = self.radius_servers.clone();
        // (address, port) → (server, where), per service.
        let mut seen: [HashMap<SocketAddr, (String, Span)>; 2] = Default::default();
        for ((name, p), info) in &servers {
            self.required(name, "radius server", info, p.address.is_some(), "address");
            self.required(name, "radius server", info, p.secret.is_some(), "secret");
            let s = p.resolve();
            if s.auth_port == 0 && s.acct_port == 0 {
                let at = info.value("auth_port").or(info.value("acct_port"));
                self.error(
                    at.unwrap_or(info.name),
                    format!(
                        "radius server `{name}` serves nothing: `auth_port` and `acct_port` are \
                         both 0"
                    ),
                );
            }
            let Some(address) = s.address else { continue };
            for (i, (port, key, what)) in [
                (s.auth_port, "auth_port", "authentication"),
                (s.acct_port, "acct_port", "accounting"),
            ]
            .into_iter()
            .enumerate()
            {
                if port == 0 {
                    continue;
                }
                let at = SocketAddr::new(address, port);
                let here = info.value(key).unwrap_or(info.at("address"));
                if let Some((other, first)) = seen[i].get(&at) {
                    let d = Diagnostic::error(
                        here,
                        format!(
                            "radius server `{name}` has the {what} address {at} of radius \
                             server `{other}`"
                        ),
                    )
                    .with_note(*first, "the other server");
                    self.diags.push(d);
                } else {
                    seen[i].insert(at, (name.clone(), here));
                }
            }
        }
    }

    fn check_dynauth_clients(&mut self, config: &Config) {
        let clients: Vec<((String, DynauthClientParams), Info)> = self.dynauth_clients.clone();
        let mut seen: HashMap<std::net::IpAddr, (String, Span)> = HashMap::new();
        for ((name, p), info) in &clients {
            self.required(name, "dynauth client", info, p.address.is_some(), "address");
            self.required(name, "dynauth client", info, p.secret.is_some(), "secret");
            let Some(address) = p.address else { continue };
            let here = info.at("address");
            if let Some((other, first)) = seen.get(&address) {
                let d = Diagnostic::error(
                    here,
                    format!("dynauth client `{name}` has the address {address} of `{other}`"),
                )
                .with_note(*first, "the other client");
                self.diags.push(d);
            } else {
                seen.insert(address, (name.clone(), here));
            }
        }
        let listen = !config.system.radius_dynauth_listen.is_empty();
        let system_at = self.system.as_ref().map(|(_, s)| *s);
        match (listen, clients.first()) {
            (true, None) => self.diags.push(Diagnostic::warning(
                system_at.unwrap_or_default(),
                "`radius_dynauth_listen` is set but no `dynauth client` is listed: every \
                 Disconnect- and CoA-Request will be dropped",
            )),
            (false, Some((_, info))) => self.diags.push(Diagnostic::warning(
                info.name,
                "a `dynauth client` is listed but the `system` block sets no \
                 `radius_dynauth_listen`: no request is taken",
            )),
            _ => {}
        }
        if !listen && config.system.radius_dynauth_require_event_timestamp {
            self.diags.push(Diagnostic::warning(
                self.system_info
                    .at("radius_dynauth_require_event_timestamp"),
                "`radius_dynauth_require_event_timestamp` is set but the `system` block sets \
                 no `radius_dynauth_listen`: no request is taken",
            ));
        }
    }

    /// A ppp profile that authenticates with RADIUS needs an authentication server, one with
    /// accounting an accounting server; an interim interval is 10 s or more (a warning under
    /// the 60 s of RFC 2869 §2.1). Each problem is reported in the first layer where it
    /// arises.
    fn check_ppp_radius(&mut self, config: &Config) {
        let auth = config
            .radius_servers
            .iter()
            .any(|r| r.auth_address().is_some());
        let acct = config
            .radius_servers
            .iter()
            .any(|r| r.acct_address().is_some());
        let profiles = with_effective(&config.ppp_profiles, &self.ppp_profiles);
        for (p, info, effective) in &profiles {
            let own = &p.params;
            let s = effective.resolve();
            if s.auth_source != AuthSource::Local && !auth && own.auth_source.is_some() {
                self.error(
                    info.at("auth_source"),
                    format!(
                        "ppp profile `{}` asks RADIUS (`auth_source {}`) but no `radius server` \
                         authenticates (each has `auth_port 0`, or there is none)",
                        p.name, s.auth_source
                    ),
                );
            }
            if s.radius_accounting && !acct && own.radius_accounting.is_some() {
                self.error(
                    info.at("radius_accounting"),
                    format!(
                        "ppp profile `{}` sends RADIUS accounting but no `radius server` takes \
                         it (each has `acct_port 0`, or there is none)",
                        p.name
                    ),
                );
            }
            match own.acct_interim_interval {
                Some(n @ 1..10) => self.error(
                    info.at("acct_interim_interval"),
                    format!(
                        "`acct_interim_interval` {n} is too short: 0 (none) or at least 10 \
                         seconds"
                    ),
                ),
                Some(n @ 10..60) => self.diags.push(Diagnostic::warning(
                    info.at("acct_interim_interval"),
                    format!(
                        "`acct_interim_interval` {n} is under the 60 seconds RFC 2869 §2.1 \
                         advises"
                    ),
                )),
                _ => {}
            }
        }
    }

    /// Reports a required parameter `key` of block `name` of type `kind` that is missing.
    fn required(&mut self, name: &str, kind: &str, info: &Info, present: bool, key: &str) {
        if !present && info.value(key).is_none() {
            self.error(
                info.name,
                format!("{kind} `{name}` has no `{key}`, which it needs"),
            );
        }
    }
}
