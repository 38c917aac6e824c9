//! The data plane seam: what the daemon asks of whatever carries session data.
//!
//! The protocol engine decides *when* a tunnel or session needs data-plane state and emits a
//! [`DataplaneRequest`]; the daemon executes it on the [`Dataplane`] in use and reports the
//! outcome back to the engine. Three implementations are planned: `kernel` (generic netlink
//! `l2tp`, PPPoL2TP and pppd, rtnetlink), `userspace` (TUN/TAP fed by the daemon, which then
//! hands it the data packets arriving on the control plane's sockets through
//! [`Dataplane::handle_data`]), and [`NoneDataplane`] (control plane only), the only one so far.
//!
//! Calls are synchronous and must not block for long: kernel requests are quick netlink round
//! trips, and a userspace data plane spawns its own tasks on the current tokio runtime.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use l2tp_config::{DataSequencing, Encap, L2specType, L2tpVersion, MacAddr, PseudowireType};

/// Everything a data plane needs to carry a tunnel's data packets.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct TunnelSpec {
    /// Local tunnel id.
    pub tid: u32,
    /// The peer's tunnel id.
    pub peer_tid: u32,
    /// L2TP version.
    pub version: L2tpVersion,
    /// UDP or IP encapsulation.
    pub encap: Encap,
    /// Local address (and port for UDP).
    pub local: SocketAddr,
    /// The peer's address (and port for UDP).
    pub peer: SocketAddr,
    /// Send UDP checksums (IPv4 only; IPv6 always has them).
    pub udp_checksums: bool,
    /// Data-plane debugging.
    pub debug: bool,
}

/// Everything a data plane needs to carry a session's data packets.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct SessionSpec {
    /// Local tunnel id.
    pub tid: u32,
    /// Local session id.
    pub sid: u32,
    /// The peer's tunnel id.
    pub peer_tid: u32,
    /// The peer's session id.
    pub peer_sid: u32,
    /// Pseudowire type.
    pub pseudowire_type: PseudowireType,
    /// Cookie we send (L2TPv3), empty for none.
    pub cookie: Vec<u8>,
    /// Cookie we expect from the peer, empty for none.
    pub peer_cookie: Vec<u8>,
    /// L2-Specific Sublayer.
    pub l2spec: L2specType,
    /// Which data packets carry sequence numbers.
    pub data_sequencing: DataSequencing,
    /// Reorder timeout, milliseconds, 0 for none.
    pub reorder_timeout_ms: u32,
    /// Interface name or `%d` template; `None` lets the data plane choose.
    pub interface_name: Option<String>,
    /// MTU, if configured.
    pub mtu: Option<u16>,
    /// MAC address of an Ethernet pseudowire, if configured.
    pub mac: Option<MacAddr>,
    /// VLAN id of an `eth_vlan` pseudowire.
    pub vlan_id: Option<u16>,
    /// Bridge to add the interface to.
    pub bridge: Option<String>,
    /// How to run pppd for a PPP pseudowire (kernel data plane).
    pub ppp: Option<PppSpec>,
    /// Data-plane debugging.
    pub debug: bool,
}

/// How to start pppd on a PPP session.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct PppSpec {
    /// The pppd executable.
    pub pppd_path: PathBuf,
    /// Extra arguments.
    pub pppd_options: Vec<String>,
}

/// What the data plane made for a session.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct SessionInstalled {
    /// The network interface carrying the session, once known.
    pub interface_name: Option<String>,
}

/// A request from the protocol engine to the data plane.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum DataplaneRequest {
    /// Create the data-plane state of an established tunnel.
    InstallTunnel(TunnelSpec),
    /// Remove a tunnel's state (and that of its sessions).
    RemoveTunnel {
        /// Local tunnel id.
        tid: u32,
    },
    /// Create the data-plane state of an established session.
    InstallSession(Box<SessionSpec>),
    /// Remove a session's state.
    RemoveSession {
        /// Local tunnel id.
        tid: u32,
        /// Local session id.
        sid: u32,
    },
}

/// The outcome of a [`DataplaneRequest`], reported back to the engine.
#[derive(Debug)]
pub enum DataplaneOutcome {
    /// A tunnel was installed or failed to be.
    TunnelInstalled {
        /// Local tunnel id.
        tid: u32,
        /// The result.
        result: Result<(), DataplaneError>,
    },
    /// A session was installed or failed to be.
    SessionInstalled {
        /// Local tunnel id.
        tid: u32,
        /// Local session id.
        sid: u32,
        /// The result.
        result: Result<SessionInstalled, DataplaneError>,
    },
    /// A removal finished (failures are logged; the state is gone from the engine anyway).
    Removed,
}

/// Why a data-plane operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataplaneError {
    /// The system lacks something (a kernel module, a device, pppd).
    #[error("data plane unavailable: {0}")]
    Unavailable(String),
    /// The tunnel or session is unknown to the data plane.
    #[error("no such tunnel or session in the data plane: tid {tid}, sid {sid:?}")]
    Unknown {
        /// Local tunnel id.
        tid: u32,
        /// Local session id, for sessions.
        sid: Option<u32>,
    },
    /// An OS call failed.
    #[error("data plane: {0}")]
    Io(#[from] std::io::Error),
}

/// A data plane: installs and removes the per-tunnel and per-session state that carries data.
pub trait Dataplane: fmt::Debug {
    /// `none`, `kernel` or `userspace`, as in the config's `dataplane`.
    fn name(&self) -> &'static str;

    /// Creates a tunnel's state.
    fn install_tunnel(&mut self, spec: &TunnelSpec) -> Result<(), DataplaneError>;

    /// Removes a tunnel's state and that of its sessions.
    fn remove_tunnel(&mut self, tid: u32) -> Result<(), DataplaneError>;

    /// Creates a session's state (its tunnel is installed) and names its interface.
    fn install_session(&mut self, spec: &SessionSpec) -> Result<SessionInstalled, DataplaneError>;

    /// Removes a session's state.
    fn remove_session(&mut self, tid: u32, sid: u32) -> Result<(), DataplaneError>;

    /// Offers a data packet that arrived on a control-plane socket (a userspace data plane
    /// takes it; the others never see data there). Returns whether it was taken.
    fn handle_data(&mut self, _from: SocketAddr, _packet: &[u8]) -> bool {
        false
    }

    /// Numbers of installed tunnels and sessions.
    fn counts(&self) -> (usize, usize);

    /// Removes every tunnel and session (at shutdown).
    fn remove_all(&mut self);

    /// Executes `request`, for the engine.
    fn execute(&mut self, request: &DataplaneRequest) -> DataplaneOutcome {
        match request {
            DataplaneRequest::InstallTunnel(spec) => DataplaneOutcome::TunnelInstalled {
                tid: spec.tid,
                result: self.install_tunnel(spec),
            },
            DataplaneRequest::RemoveTunnel { tid } => {
                if let Err(e) = self.remove_tunnel(*tid) {
                    tracing::warn!("removing tunnel {tid}: {e}");
                }
                DataplaneOutcome::Removed
            }
            DataplaneRequest::InstallSession(spec) => DataplaneOutcome::SessionInstalled {
                tid: spec.tid,
                sid: spec.sid,
                result: self.install_session(spec),
            },
            DataplaneRequest::RemoveSession { tid, sid } => {
                if let Err(e) = self.remove_session(*tid, *sid) {
                    tracing::warn!("removing session {tid}/{sid}: {e}");
                }
                DataplaneOutcome::Removed
            }
        }
    }
}

/// The data plane chosen for a config's `dataplane`, with a message to log when it is not the
/// one asked for.
pub fn select(wanted: l2tp_config::Dataplane) -> (Box<dyn Dataplane>, Option<String>) {
    use l2tp_config::Dataplane as D;
    let note = match wanted {
        D::None => None,
        D::Auto => Some(
            "dataplane auto: no kernel or userspace data plane in this build yet; running the \
             control plane only (dataplane none)"
                .to_owned(),
        ),
        D::Kernel | D::Userspace => Some(format!(
            "dataplane {wanted} is not implemented yet; running the control plane only \
             (dataplane none)"
        )),
    };
    (Box::new(NoneDataplane::default()), note)
}

/// The `none` data plane: carries no data, but records what it was asked to install so that
/// `show` and tests can see it.
#[derive(Debug, Default)]
pub struct NoneDataplane {
    tunnels: BTreeMap<u32, TunnelSpec>,
    sessions: BTreeMap<(u32, u32), SessionSpec>,
    /// Interface names in use, so that naming a session costs O(log n), not a scan.
    names: std::collections::HashSet<String>,
    /// Per `%d` template, the numbers handed out and those freed again.
    pools: std::collections::HashMap<String, NumberPool>,
    /// The template and number each session's name was made from.
    numbered: std::collections::HashMap<(u32, u32), (String, u32)>,
}

/// Numbers for one `%d` template: the lowest freed number first, else the next new one.
#[derive(Debug, Default)]
struct NumberPool {
    next: u32,
    freed: std::collections::BTreeSet<u32>,
}

impl NoneDataplane {
    /// Names the session's interface as the kernel would: the configured name, or its `%d`
    /// template (by default `ppp%d` for PPP and `l2tpeth%d` otherwise) with the lowest number
    /// that no installed session uses.
    fn name_interface(&mut self, spec: &SessionSpec) -> String {
        let template = spec.interface_name.clone().unwrap_or_else(|| {
            if spec.pseudowire_type == PseudowireType::Ppp {
                "ppp%d".to_owned()
            } else {
                "l2tpeth%d".to_owned()
            }
        });
        if !template.contains("%d") {
            self.names.insert(template.clone());
            return template;
        }
        let pool = self.pools.entry(template.clone()).or_default();
        loop {
            let n = pool.freed.pop_first().unwrap_or_else(|| {
                pool.next += 1;
                pool.next - 1
            });
            let name = template.replacen("%d", &n.to_string(), 1);
            // A number whose name a fixed `interface_name` already took is skipped for good.
            if self.names.insert(name.clone()) {
                self.numbered.insert((spec.tid, spec.sid), (template, n));
                return name;
            }
        }
    }

    /// Gives the session's interface name (and its number) back.
    fn release(&mut self, tid: u32, sid: u32, spec: &SessionSpec) {
        if let Some(name) = &spec.interface_name {
            self.names.remove(name);
        }
        if let Some((template, n)) = self.numbered.remove(&(tid, sid))
            && let Some(pool) = self.pools.get_mut(&template)
        {
            pool.freed.insert(n);
        }
    }

    /// The installed tunnels.
    pub fn tunnels(&self) -> impl Iterator<Item = &TunnelSpec> {
        self.tunnels.values()
    }

    /// The installed sessions.
    pub fn sessions(&self) -> impl Iterator<Item = &SessionSpec> {
        self.sessions.values()
    }
}

impl Dataplane for NoneDataplane {
    fn name(&self) -> &'static str {
        "none"
    }

    fn install_tunnel(&mut self, spec: &TunnelSpec) -> Result<(), DataplaneError> {
        self.tunnels.insert(spec.tid, spec.clone());
        Ok(())
    }

    fn remove_tunnel(&mut self, tid: u32) -> Result<(), DataplaneError> {
        let gone: Vec<(u32, u32)> = self
            .sessions
            .range((tid, 0)..=(tid, u32::MAX))
            .map(|(k, _)| *k)
            .collect();
        for (t, sid) in gone {
            if let Some(spec) = self.sessions.remove(&(t, sid)) {
                self.release(t, sid, &spec);
            }
        }
        self.tunnels
            .remove(&tid)
            .map(|_| ())
            .ok_or(DataplaneError::Unknown { tid, sid: None })
    }

    fn install_session(&mut self, spec: &SessionSpec) -> Result<SessionInstalled, DataplaneError> {
        if !self.tunnels.contains_key(&spec.tid) {
            return Err(DataplaneError::Unknown {
                tid: spec.tid,
                sid: None,
            });
        }
        if let Some(old) = self.sessions.remove(&(spec.tid, spec.sid)) {
            self.release(spec.tid, spec.sid, &old);
        }
        let name = self.name_interface(spec);
        let mut spec = spec.clone();
        spec.interface_name = Some(name.clone());
        self.sessions.insert((spec.tid, spec.sid), spec);
        Ok(SessionInstalled {
            interface_name: Some(name),
        })
    }

    fn remove_session(&mut self, tid: u32, sid: u32) -> Result<(), DataplaneError> {
        let spec = self
            .sessions
            .remove(&(tid, sid))
            .ok_or(DataplaneError::Unknown {
                tid,
                sid: Some(sid),
            })?;
        self.release(tid, sid, &spec);
        Ok(())
    }

    fn counts(&self) -> (usize, usize) {
        (self.tunnels.len(), self.sessions.len())
    }

    fn remove_all(&mut self) {
        self.sessions.clear();
        self.tunnels.clear();
        self.names.clear();
        self.pools.clear();
        self.numbered.clear();
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn tunnel(tid: u32) -> TunnelSpec {
        TunnelSpec {
            tid,
            peer_tid: 7,
            version: L2tpVersion::V3,
            encap: Encap::Udp,
            local: SocketAddr::from((Ipv4Addr::LOCALHOST, 1701)),
            peer: SocketAddr::from((Ipv4Addr::LOCALHOST, 1702)),
            udp_checksums: true,
            debug: false,
        }
    }

    fn session(tid: u32, sid: u32) -> SessionSpec {
        SessionSpec {
            tid,
            sid,
            peer_tid: 7,
            peer_sid: 8,
            pseudowire_type: PseudowireType::Eth,
            cookie: vec![],
            peer_cookie: vec![],
            l2spec: L2specType::Default,
            data_sequencing: DataSequencing::None,
            reorder_timeout_ms: 0,
            interface_name: None,
            mtu: None,
            mac: None,
            vlan_id: None,
            bridge: None,
            ppp: None,
            debug: false,
        }
    }

    #[test]
    fn none_dataplane_records_state() {
        let mut dp = NoneDataplane::default();
        assert!(dp.install_session(&session(1, 2)).is_err());
        let out = dp.execute(&DataplaneRequest::InstallTunnel(tunnel(1)));
        assert!(matches!(
            out,
            DataplaneOutcome::TunnelInstalled {
                tid: 1,
                result: Ok(())
            }
        ));
        let out = dp.execute(&DataplaneRequest::InstallSession(Box::new(session(1, 2))));
        assert!(matches!(
            out,
            DataplaneOutcome::SessionInstalled { result: Ok(_), .. }
        ));
        assert_eq!(dp.counts(), (1, 1));
        assert_eq!(dp.sessions().count(), 1);
        dp.remove_tunnel(1).ok();
        assert_eq!(dp.counts(), (0, 0));
        assert!(dp.remove_session(1, 2).is_err());
        dp.install_tunnel(&tunnel(3)).ok();
        dp.remove_all();
        assert_eq!(dp.tunnels().count(), 0);
    }

    #[test]
    fn interface_names_take_the_lowest_free_number() {
        let mut dp = NoneDataplane::default();
        dp.install_tunnel(&tunnel(1)).ok();
        dp.install_tunnel(&tunnel(2)).ok();
        let name = |dp: &mut NoneDataplane, tid, sid, fixed: Option<&str>| {
            let mut spec = session(tid, sid);
            spec.interface_name = fixed.map(str::to_owned);
            dp.install_session(&spec)
                .ok()
                .and_then(|i| i.interface_name)
        };
        // A fixed name that looks numbered takes that number out of the template's range.
        assert_eq!(
            name(&mut dp, 1, 9, Some("l2tpeth1")).as_deref(),
            Some("l2tpeth1")
        );
        assert_eq!(name(&mut dp, 1, 10, None).as_deref(), Some("l2tpeth0"));
        assert_eq!(name(&mut dp, 1, 11, None).as_deref(), Some("l2tpeth2"));
        assert_eq!(name(&mut dp, 2, 12, None).as_deref(), Some("l2tpeth3"));
        // A freed number is handed out again before new ones.
        dp.remove_session(1, 10).ok();
        assert_eq!(name(&mut dp, 2, 13, None).as_deref(), Some("l2tpeth0"));
        // Removing a tunnel frees its sessions' names, fixed ones included.
        dp.remove_tunnel(1).ok();
        assert_eq!(name(&mut dp, 2, 14, None).as_deref(), Some("l2tpeth2"));
        assert_eq!(
            name(&mut dp, 2, 15, Some("l2tpeth1")).as_deref(),
            Some("l2tpeth1")
        );
        // Many sessions: every name distinct (the naming no longer scans all sessions).
        let names: std::collections::HashSet<_> = (100..20_100)
            .filter_map(|sid| name(&mut dp, 2, sid, None))
            .collect();
        assert_eq!(names.len(), 20_000);
    }

    #[test]
    fn every_choice_falls_back_to_none_for_now() {
        use l2tp_config::Dataplane as D;
        assert!(select(D::None).1.is_none());
        for d in [D::Auto, D::Kernel, D::Userspace] {
            let (dp, note) = select(d);
            assert_eq!(dp.name(), "none");
            assert!(note.is_some());
        }
    }
}
