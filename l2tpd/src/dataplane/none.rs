//! The `none` data plane: carries no data, but records what it was asked to install (and
//! names interfaces as a real data plane would) so that `show` and tests can see it.

use std::collections::{BTreeMap, BTreeSet};
use std::os::fd::BorrowedFd;

use l2tp_config::PseudowireType;

use super::api::{
    Dataplane, DataplaneError, PppNetwork, SessionInstalled, SessionSpec, TunnelInstalled,
    TunnelSpec,
};
use super::names::{InterfaceNames, template};

/// The control plane only.
#[derive(Debug, Default)]
pub struct NoneDataplane {
    tunnels: BTreeMap<u32, TunnelSpec>,
    /// The installed sessions, (tunnel id, session id): only their interface names (in
    /// `names`) are kept, so that a session costs a few bytes here.
    sessions: BTreeSet<(u32, u32)>,
    names: InterfaceNames,
}

impl NoneDataplane {
    /// The installed tunnels.
    pub fn tunnels(&self) -> impl Iterator<Item = &TunnelSpec> {
        self.tunnels.values()
    }

    /// The installed sessions, as (tunnel id, session id).
    pub fn sessions(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.sessions.iter().copied()
    }
}

impl NoneDataplane {
    fn known(&self, tid: u32, sid: u32) -> Result<(), DataplaneError> {
        if self.sessions.contains(&(tid, sid)) {
            Ok(())
        } else {
            Err(DataplaneError::Unknown {
                tid,
                sid: Some(sid),
            })
        }
    }
}

impl Dataplane for NoneDataplane {
    fn name(&self) -> &'static str {
        "none"
    }

    fn install_tunnel(
        &mut self,
        spec: &TunnelSpec,
        _socket: Option<BorrowedFd<'_>>,
    ) -> Result<TunnelInstalled, DataplaneError> {
        self.tunnels.insert(spec.tid, spec.clone());
        Ok(TunnelInstalled::default())
    }

    fn remove_tunnel(&mut self, tid: u32) -> Result<(), DataplaneError> {
        let gone: Vec<(u32, u32)> = self
            .sessions
            .range((tid, 0)..=(tid, u32::MAX))
            .copied()
            .collect();
        for (t, sid) in gone {
            self.sessions.remove(&(t, sid));
            self.names.release(t, sid);
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
        let ppp = spec.pseudowire_type == PseudowireType::Ppp;
        let name = self.names.take(
            spec.tid,
            spec.sid,
            template(spec.interface_name.as_deref(), ppp),
        );
        self.sessions.insert((spec.tid, spec.sid));
        Ok(SessionInstalled {
            interface_name: Some(name),
        })
    }

    fn remove_session(&mut self, tid: u32, sid: u32) -> Result<(), DataplaneError> {
        if !self.sessions.remove(&(tid, sid)) {
            return Err(DataplaneError::Unknown {
                tid,
                sid: Some(sid),
            });
        }
        self.names.release(tid, sid);
        Ok(())
    }

    /// Carries nothing: a native-PPP session's frames are dropped like its data.
    fn send_ppp(&mut self, tid: u32, sid: u32, _frame: &[u8]) -> Result<(), DataplaneError> {
        self.known(tid, sid)
    }

    fn ppp_up(
        &mut self,
        tid: u32,
        sid: u32,
        _net: &PppNetwork,
    ) -> Result<SessionInstalled, DataplaneError> {
        self.known(tid, sid).map(|()| SessionInstalled::default())
    }

    fn ppp_down(&mut self, tid: u32, sid: u32) -> Result<(), DataplaneError> {
        self.known(tid, sid)
    }

    fn ppp_routes(
        &mut self,
        tid: u32,
        sid: u32,
        _routes: &[(std::net::IpAddr, u8)],
    ) -> Result<(), DataplaneError> {
        self.known(tid, sid)
    }

    fn counts(&self) -> (usize, usize) {
        (self.tunnels.len(), self.sessions.len())
    }

    fn remove_all(&mut self) {
        self.sessions.clear();
        self.tunnels.clear();
        self.names.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{session, tunnel};
    use super::*;

    #[test]
    fn records_state_and_names_interfaces() {
        let mut dp = NoneDataplane::default();
        assert!(dp.install_session(&session(1, 2)).is_err());
        assert_eq!(
            dp.install_tunnel(&tunnel(1), None).ok(),
            Some(TunnelInstalled::default())
        );
        let name = dp.install_session(&session(1, 2)).ok();
        assert_eq!(
            name.and_then(|i| i.interface_name).as_deref(),
            Some("l2tpeth0")
        );
        let mut ppp = session(1, 3);
        ppp.pseudowire_type = PseudowireType::Ppp;
        let name = dp.install_session(&ppp).ok();
        assert_eq!(name.and_then(|i| i.interface_name).as_deref(), Some("ppp0"));
        assert_eq!(dp.counts(), (1, 2));
        assert_eq!(dp.sessions().count(), 2);
        dp.remove_tunnel(1).ok();
        assert_eq!(dp.counts(), (0, 0));
        assert!(dp.remove_session(1, 2).is_err());
        // The names came back with the tunnel's sessions.
        dp.install_tunnel(&tunnel(3), None).ok();
        let name = dp.install_session(&session(3, 4)).ok();
        assert_eq!(
            name.and_then(|i| i.interface_name).as_deref(),
            Some("l2tpeth0")
        );
        dp.remove_all();
        assert_eq!(dp.tunnels().count(), 0);
    }
}
