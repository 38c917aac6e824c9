//! TAP devices (Documentation/networking/tuntap.rst): one per Ethernet pseudowire session;
//! and, opened with [`TapOptions::tun`], the TUN device that native-PPP sessions share (IP
//! packets rather than Ethernet frames, everything else alike).
//!
//! A [`Tap`] is one queue of a device created with `IFF_TAP | IFF_NO_PI`, so each `read`
//! returns one whole Ethernet frame and each `write` injects one, with no packet-information
//! prefix. With offloads ([`TapOptions::vnet`]) the device is opened with `IFF_VNET_HDR`: every
//! frame is preceded by a virtio-net header ([`crate::offload::vnet`]), and the kernel is told
//! (`TUNSETOFFLOAD`) that the reader takes partial checksums and TCP super-frames (and UDP
//! ones from Linux 6.2), so a TCP sender's 64 KiB segments come out of the device whole. With
//! more than one queue (`IFF_MULTI_QUEUE`) each queue is a descriptor of its own, and the
//! kernel spreads the frames it sends by flow over them.
//!
//! Descriptors are non-blocking and the device is not persistent: when the last queue's
//! descriptor is closed, the kernel deletes the interface.

use std::io::{self, IoSlice};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::libc;

use crate::sys;

/// How to open a TAP.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct TapOptions {
    /// Open it with a virtio-net header and ask for offloads.
    pub vnet: bool,
    /// Queues to open (`IFF_MULTI_QUEUE` when more than one).
    pub queues: usize,
    /// A TUN (`IFF_TUN`: IP packets, no Ethernet header) rather than a TAP.
    pub tun: bool,
}

impl Default for TapOptions {
    fn default() -> Self {
        Self {
            vnet: false,
            queues: 1,
            tun: false,
        }
    }
}

/// What a TAP was opened with.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct TapOffloads {
    /// Frames carry a virtio-net header.
    pub vnet: bool,
    /// The kernel hands TCP super-frames and partial checksums (`TUN_F_CSUM`, `TSO4`,
    /// `TSO6`, `TSO_ECN`).
    pub tso: bool,
    /// The kernel hands, and takes, UDP super-frames (`TUN_F_USO4`, `USO6`: Linux 6.2).
    pub uso: bool,
}

/// One queue of a TAP interface, and its descriptor.
#[derive(Debug)]
pub struct Tap {
    fd: OwnedFd,
    name: String,
    vnet: bool,
}

impl Tap {
    /// Creates a TAP interface named `name`, or the first free name of a `%d` template such as
    /// `l2tpeth%d`, with one queue and no offloads.
    pub fn create(name: &str) -> io::Result<Self> {
        let (fd, name) = sys::tap_open(name, libc::IFF_TAP)?;
        Ok(Self {
            fd,
            name,
            vnet: false,
        })
    }

    /// Creates a TAP interface with `options`: its queues (the first one first) and the
    /// offloads the kernel took. Whatever the kernel lacks is done without: a single queue
    /// when it refuses `IFF_MULTI_QUEUE`, no UDP super-frames before Linux 6.2, no virtio-net
    /// header when it refuses that.
    pub fn create_queues(name: &str, options: TapOptions) -> io::Result<(Vec<Self>, TapOffloads)> {
        let queues = options.queues.max(1);
        let mq = if queues > 1 { libc::IFF_MULTI_QUEUE } else { 0 };
        let kind = if options.tun {
            libc::IFF_TUN
        } else {
            libc::IFF_TAP
        };
        let flags = kind | mq | if options.vnet { libc::IFF_VNET_HDR } else { 0 };
        // The first queue makes the device, and fails (EBUSY) if one of that name exists:
        // without IFF_TUN_EXCL, a multi-queue TAP of another session (or another daemon) with
        // the same name would take this session's queues as more of its own, and the two
        // sessions would share one interface. The other queues attach to the device just made.
        let (fd, real) = match sys::tap_open(name, flags | libc::IFF_TUN_EXCL) {
            Ok(t) => t,
            Err(e) if mq != 0 && e.raw_os_error() != Some(libc::EBUSY) => {
                return Self::create_queues(
                    name,
                    TapOptions {
                        queues: 1,
                        ..options
                    },
                );
            }
            Err(e) => return Err(e),
        };
        let mut offloads = TapOffloads::default();
        if options.vnet {
            match sys::tap_set_vnet_header(fd.as_fd()) {
                Ok(()) => {
                    offloads.vnet = true;
                    let tso = libc::TUN_F_CSUM
                        | libc::TUN_F_TSO4
                        | libc::TUN_F_TSO6
                        | libc::TUN_F_TSO_ECN;
                    let uso = libc::TUN_F_USO4 | libc::TUN_F_USO6;
                    if sys::tap_set_offload(fd.as_fd(), tso | uso).is_ok() {
                        offloads.tso = true;
                        offloads.uso = true;
                    } else if sys::tap_set_offload(fd.as_fd(), tso).is_ok() {
                        offloads.tso = true;
                    }
                }
                Err(_) => {
                    // Without a header layout of ours, reopen the device without one.
                    drop(fd);
                    return Self::create_queues(
                        name,
                        TapOptions {
                            vnet: false,
                            ..options
                        },
                    );
                }
            }
        }
        let vnet = offloads.vnet;
        let mut taps = vec![Self {
            fd,
            name: real.clone(),
            vnet,
        }];
        for _ in 1..queues {
            let (fd, _) = sys::tap_open(&real, flags)?;
            taps.push(Self {
                fd,
                name: real.clone(),
                vnet,
            });
        }
        Ok((taps, offloads))
    }

    /// Another descriptor of the same queue (`dup`): writing to the device through it is the
    /// same as through this one.
    pub fn try_clone(&self) -> io::Result<Self> {
        Ok(Self {
            fd: self.fd.try_clone()?,
            name: self.name.clone(),
            vnet: self.vnet,
        })
    }

    /// Sets the interface's MTU.
    pub fn set_mtu(&self, mtu: u32) -> io::Result<()> {
        sys::set_mtu(&self.name, mtu)
    }

    /// The interface's MTU as it is now: an operator may have changed it (or renamed the
    /// interface) since it was set.
    pub fn mtu(&self) -> io::Result<u32> {
        sys::tap_mtu(self.fd.as_fd())
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

    /// Reads one frame into `buf` (`WouldBlock` when none is queued); with a virtio-net
    /// header, the header comes first.
    pub fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        nix::unistd::read(&self.fd, buf).map_err(io::Error::from)
    }

    /// Writes one frame (with a virtio-net header, the header first).
    pub fn write(&self, frame: &[u8]) -> io::Result<usize> {
        nix::unistd::write(&self.fd, frame).map_err(io::Error::from)
    }

    /// Writes one frame gathered from `parts` (`writev`).
    pub fn write_parts(&self, parts: &[IoSlice<'_>]) -> io::Result<usize> {
        nix::sys::uio::writev(&self.fd, parts).map_err(io::Error::from)
    }

    /// Whether frames carry a virtio-net header.
    pub fn vnet(&self) -> bool {
        self.vnet
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
