//! The Linux kernel's L2TP data plane: generic netlink `l2tp` for tunnels and sessions,
//! PPPoL2TP sockets and pppd for PPP, rtnetlink for the interfaces.

use std::os::fd::BorrowedFd;

use super::{
    Dataplane, DataplaneError, SessionInstalled, SessionSpec, TunnelInstalled, TunnelSpec,
};

/// The kernel data plane.
#[derive(Debug)]
pub struct KernelDataplane {
    _private: (),
}

/// Whether this host's kernel has the `l2tp` generic netlink family, after trying to load the
/// L2TP modules; else why not.
pub fn probe() -> Result<(), String> {
    Err("the kernel data plane is not in this build yet".into())
}

impl KernelDataplane {
    /// Connects to the kernel's `l2tp` generic netlink family, loading the L2TP modules first
    /// when it is missing.
    pub fn open() -> Result<Self, String> {
        Err("the kernel data plane is not in this build yet".into())
    }
}

impl Dataplane for KernelDataplane {
    fn name(&self) -> &'static str {
        "kernel"
    }

    fn install_tunnel(
        &mut self,
        spec: &TunnelSpec,
        _socket: Option<BorrowedFd<'_>>,
    ) -> Result<TunnelInstalled, DataplaneError> {
        Err(DataplaneError::Unknown {
            tid: spec.tid,
            sid: None,
        })
    }

    fn remove_tunnel(&mut self, tid: u32) -> Result<(), DataplaneError> {
        Err(DataplaneError::Unknown { tid, sid: None })
    }

    fn install_session(&mut self, spec: &SessionSpec) -> Result<SessionInstalled, DataplaneError> {
        Err(DataplaneError::Unknown {
            tid: spec.tid,
            sid: Some(spec.sid),
        })
    }

    fn remove_session(&mut self, tid: u32, sid: u32) -> Result<(), DataplaneError> {
        Err(DataplaneError::Unknown {
            tid,
            sid: Some(sid),
        })
    }

    fn counts(&self) -> (usize, usize) {
        (0, 0)
    }

    fn remove_all(&mut self) {}
}
