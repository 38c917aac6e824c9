//! The data plane seam: what the daemon asks of whatever carries session data.
//!
//! The protocol engine decides *when* a tunnel or session needs data-plane state and emits a
//! [`DataplaneRequest`]; the daemon executes it on the [`Dataplane`] in use and reports the
//! outcome back to the engine. The implementations:
//!
//! - [`kernel`]: the Linux kernel's L2TP (generic netlink `l2tp`, PPPoL2TP and pppd,
//!   rtnetlink for the interfaces);
//! - [`userspace`]: L2TPv3 Ethernet pseudowires over TAP devices, and PPP sessions (L2TPv2,
//!   L2TPv3 PPP pseudowires) whose PPP l2tpd terminates itself, their IP over one shared TUN,
//!   carried by the `l2tp-dataplane` crate's data-path threads, which adopt each tunnel's UDP
//!   socket;
//! - [`none`]: the control plane only.
//!
//! Calls are synchronous and must not block for long: kernel requests are quick netlink round
//! trips, and the userspace data plane hands its work to its own thread. What happens later
//! (a control message read by the data path, pppd exiting) comes back as a
//! [`DataplaneEvent`] on the channel of [`Dataplane::take_events`].

use l2tp_proto::wire::header::Version;

mod api;
mod bridges;
pub mod drops;
mod host;
pub mod kernel;
pub(crate) mod names;
pub mod none;
mod shared;
pub mod userspace;

pub use api::{
    DataStats, Dataplane, DataplaneError, DataplaneEvent, DataplaneOutcome, DataplaneRequest, Kind,
    PPP_ACTIVITY_PERIOD, PppNetwork, PppSpec, PppdSpec, SessionInstalled, SessionSpec,
    SocketChange, SocketRequest, TunnelDataStats, TunnelInstalled, TunnelSpec,
};
pub use host::{DataplaneHost, ShellSocket};
pub use names::InterfaceNames;
pub use none::NoneDataplane;

/// The data plane for a config's `dataplane`, with a note to log about the choice.
///
/// `auto` takes the kernel when its generic netlink family `l2tp` is there (after trying to
/// load the L2TP modules), else the userspace data plane, else (no TAP either) none. An
/// explicit choice that this host cannot provide is an error naming why.
pub fn choose(wanted: l2tp_config::Dataplane) -> Result<(Kind, Option<String>), String> {
    use l2tp_config::Dataplane as D;
    match wanted {
        D::None => Ok((Kind::None, None)),
        D::Kernel => kernel::probe()
            .map(|()| (Kind::Kernel, None))
            .map_err(|e| format!("dataplane kernel: {e}")),
        D::Userspace => userspace::probe()
            .map(|()| (Kind::Userspace, None))
            .map_err(|e| format!("dataplane userspace: {e}")),
        D::Auto => match kernel::probe() {
            Ok(()) => Ok((
                Kind::Kernel,
                Some("dataplane auto: using the kernel's L2TP".to_owned()),
            )),
            Err(why) => match userspace::probe() {
                Ok(()) => Ok((
                    Kind::Userspace,
                    Some(format!(
                        "dataplane auto: no kernel L2TP ({why}); using the userspace data plane \
                         (Ethernet pseudowires, and PPP that l2tpd terminates itself)"
                    )),
                )),
                Err(e) => Ok((
                    Kind::None,
                    Some(format!(
                        "dataplane auto: no kernel L2TP ({why}), and {e}; running the control \
                         plane only (dataplane none)"
                    )),
                )),
            },
        },
    }
}

/// Opens the data plane `kind`, with the `system` block's settings for it. Data planes start
/// threads, so call this after the fork.
pub fn open(kind: Kind, system: &l2tp_config::System) -> Result<Box<dyn Dataplane>, String> {
    Ok(match kind {
        Kind::None => Box::new(NoneDataplane::default()),
        Kind::Kernel => Box::new(kernel::KernelDataplane::open()?),
        Kind::Userspace => Box::new(userspace::UserspaceAdapter::open(
            l2tp_dataplane::DataplaneOptions {
                offloads: system.dataplane_offloads,
                threads: system.dataplane_threads as usize,
            },
            &system.ppp_interface,
        )?),
    })
}

/// The data plane for the tunnels that `primary` cannot carry because their peer's address
/// and port are another tunnel's (clients behind one NAT, on a kernel older than 6.10): the
/// userspace data plane, where it can carry PPP; `None` when `primary` needs none or there is
/// none (those tunnels' sessions are then refused). A failure is logged.
pub fn fallback(
    primary: &dyn Dataplane,
    system: &l2tp_config::System,
) -> Option<Box<dyn Dataplane>> {
    if primary.separates_shared_peers(Version::V2) && primary.separates_shared_peers(Version::V3) {
        return None;
    }
    if let Err(e) = userspace::probe() {
        tracing::info!(
            "no userspace data plane for the tunnels of clients behind one NAT that this \
             kernel's L2TP cannot tell apart: {e}; their sessions will be refused"
        );
        return None;
    }
    match open(Kind::Userspace, system) {
        Ok(dp) => Some(dp),
        Err(e) => {
            tracing::warn!(
                "cannot open the userspace data plane for the tunnels of clients behind one NAT \
                 that this kernel's L2TP cannot tell apart: {e}; their sessions will be refused"
            );
            None
        }
    }
}

/// The sessions of `config` that data plane `kind` cannot carry: the session's name and a line
/// naming the session, its tunnel, its pseudowire type and why.
pub fn refusals(config: &l2tp_config::Config, kind: Kind) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let versions: std::collections::HashMap<String, Version> = config
        .resolved_tunnels()
        .into_iter()
        .map(|t| {
            let v = match t.settings.version {
                Some(l2tp_config::L2tpVersion::V2) => Version::V2,
                _ => Version::V3,
            };
            (t.name, v)
        })
        .collect();
    for s in config.resolved_sessions() {
        let version = versions.get(&s.tunnel).copied().unwrap_or(Version::V3);
        if let Some(why) = kind.refusal(version, s.settings.pseudowire_type, s.pseudowire.use_pppd)
        {
            let text = format!(
                "session \"{}\" (tunnel \"{}\"): pseudowire_type {}: {why}",
                s.name, s.tunnel, s.settings.pseudowire_type
            );
            out.push((s.name, text));
        }
    }
    out
}

/// Specs for the data planes' unit tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use std::net::{Ipv4Addr, SocketAddr};

    use l2tp_config::PseudowireType;
    use l2tp_proto::DataSequencing;
    use l2tp_proto::wire::header::{Encapsulation, L2SpecificSublayer};

    use super::*;

    pub(crate) fn tunnel(tid: u32) -> TunnelSpec {
        TunnelSpec {
            tid,
            peer_tid: 7,
            version: Version::V3,
            encap: Encapsulation::Udp,
            local: SocketAddr::from((Ipv4Addr::LOCALHOST, 1701)),
            peer: SocketAddr::from((Ipv4Addr::LOCALHOST, 1702)),
            udp_checksums: true,
            debug: false,
        }
    }

    pub(crate) fn session(tid: u32, sid: u32) -> SessionSpec {
        SessionSpec {
            tid,
            sid,
            peer_tid: 7,
            peer_sid: 8,
            pseudowire_type: PseudowireType::Eth,
            cookie: vec![],
            peer_cookie: vec![],
            l2spec: L2SpecificSublayer::Default,
            data_sequencing: DataSequencing::None,
            reorder_timeout_ms: 0,
            interface_name: None,
            mtu: None,
            mac: None,
            vlan_id: None,
            bridge: None,
            local_ip: None,
            peer_ip: None,
            netmask: None,
            lns: false,
            send_seq: false,
            recv_seq: false,
            ppp: None,
            debug: false,
        }
    }
}
