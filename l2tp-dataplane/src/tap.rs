//! TAP devices (Documentation/networking/tuntap.rst): one per Ethernet pseudowire session.
//!
//! A [`Tap`] is created with `IFF_TAP | IFF_NO_PI`, so each `read` returns one whole Ethernet
//! frame and each `write` injects one, with no packet-information prefix. The descriptor is
//! non-blocking and the device is not persistent: dropping the [`Tap`] closes the descriptor,
//! and the kernel deletes the interface.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use crate::sys;

/// A TAP interface and its descriptor.
#[derive(Debug)]
pub struct Tap {
    fd: OwnedFd,
    name: String,
}

impl Tap {
    /// Creates a TAP interface named `name`, or the first free name of a `%d` template such as
    /// `l2tpeth%d`.
    pub fn create(name: &str) -> io::Result<Self> {
        let (fd, name) = sys::tap_open(name)?;
        Ok(Self { fd, name })
    }

    /// Sets the interface's MTU.
    pub fn set_mtu(&self, mtu: u32) -> io::Result<()> {
        sys::set_mtu(&self.name, mtu)
    }

    /// Sets the interface's Ethernet address.
    pub fn set_mac(&self, mac: [u8; 6]) -> io::Result<()> {
        sys::set_mac(&self.name, mac)
    }

    /// Gives the interface an IPv4 address and netmask.
    pub fn set_ipv4(&self, ip: std::net::Ipv4Addr, netmask: std::net::Ipv4Addr) -> io::Result<()> {
        sys::set_ipv4(&self.name, nix::libc::SIOCSIFADDR, ip)?;
        sys::set_ipv4(&self.name, nix::libc::SIOCSIFNETMASK, netmask)
    }

    /// Brings the interface up.
    pub fn set_up(&self) -> io::Result<()> {
        sys::set_up(&self.name)
    }

    /// Makes the interface a port of the bridge `bridge`.
    pub fn add_to_bridge(&self, bridge: &str) -> io::Result<()> {
        let index = nix::net::if_::if_nametoindex(self.name.as_str()).map_err(io::Error::from)?;
        sys::bridge_add(bridge, index)
    }

    /// Reads one frame into `buf` (`WouldBlock` when none is queued).
    pub fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        nix::unistd::read(&self.fd, buf).map_err(io::Error::from)
    }

    /// Writes one frame.
    pub fn write(&self, frame: &[u8]) -> io::Result<usize> {
        nix::unistd::write(&self.fd, frame).map_err(io::Error::from)
    }

    /// The interface's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl AsFd for Tap {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
