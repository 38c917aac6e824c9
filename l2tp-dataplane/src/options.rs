//! How the userspace data plane runs ([`DataplaneOptions`]: offloads on or off, how many
//! data-path threads) and what the kernel lets it use ([`OffloadSupport`], probed once when it
//! starts).

use std::fmt;
use std::os::fd::AsFd;

use crate::sys;
use crate::tap::{Tap, TapOptions};

/// How the userspace data plane runs.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct DataplaneOptions {
    /// Use the offloads the kernel has: TAPs with virtio-net headers (TCP and UDP super-frames
    /// segmented in the data path, received segments coalesced), UDP GSO and GRO on the tunnel
    /// sockets. Off: one frame per read, write and datagram.
    pub offloads: bool,
    /// Data-path threads; 0: one per core. Tunnels are spread over them, and each session's
    /// TAP gets one queue per thread.
    pub threads: usize,
}

impl Default for DataplaneOptions {
    fn default() -> Self {
        Self {
            offloads: true,
            threads: 0,
        }
    }
}

impl DataplaneOptions {
    /// The number of threads these options give on this machine.
    pub fn thread_count(&self) -> usize {
        match self.threads {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        }
        .clamp(1, 256)
    }
}

/// What the data plane uses, as probed when it started (a throw-away TAP and UDP socket).
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct OffloadSupport {
    /// Offloads were asked for.
    pub requested: bool,
    /// Data-path threads.
    pub threads: usize,
    /// TAPs take a virtio-net header and hand out TCP super-frames (`TUNSETOFFLOAD` with
    /// `TUN_F_TSO4`, `TUN_F_TSO6`).
    pub tap_tso: bool,
    /// TAPs hand out and take UDP super-frames (`TUN_F_USO4`, `TUN_F_USO6`: Linux 6.2).
    pub tap_uso: bool,
    /// TAPs can have more than one queue (`IFF_MULTI_QUEUE`).
    pub multi_queue: bool,
    /// UDP sockets send with segmentation offload (`UDP_SEGMENT`: Linux 4.18).
    pub udp_gso: bool,
    /// UDP sockets coalesce on receipt (`UDP_GRO`: Linux 5.0).
    pub udp_gro: bool,
}

impl OffloadSupport {
    /// Probes the kernel (offloads off: nothing is probed, and nothing is used).
    pub fn probe(options: &DataplaneOptions) -> Self {
        let threads = options.thread_count();
        let mut s = Self {
            requested: options.offloads,
            threads,
            ..Self::default()
        };
        // Multi-queue TAPs pay only with more than one thread to read the queues.
        if threads > 1 || options.offloads {
            let queues = if threads > 1 { 2 } else { 1 };
            let opts = TapOptions {
                vnet: options.offloads,
                queues,
                tun: false,
            };
            if let Ok((taps, offloads)) = Tap::create_queues("l2tpprobe%d", opts) {
                s.multi_queue = threads > 1 && taps.len() == queues;
                s.tap_tso = offloads.tso;
                s.tap_uso = offloads.uso;
            }
        }
        if options.offloads
            && let Ok(udp) = socket2::Socket::new(
                socket2::Domain::IPV4,
                socket2::Type::DGRAM,
                Some(socket2::Protocol::UDP),
            )
        {
            s.udp_gso = sys::probe_udp_segment(udp.as_fd());
            s.udp_gro = sys::set_udp_gro(udp.as_fd()).is_ok();
        }
        s
    }

    /// What the kernel lacks of what was asked, one phrase each.
    pub fn missing(&self) -> Vec<&'static str> {
        let mut m = Vec::new();
        if self.requested {
            if !self.tap_tso {
                m.push("TAP offloads (IFF_VNET_HDR, TUNSETOFFLOAD TSO)");
            } else if !self.tap_uso {
                m.push("UDP super-frames on TAPs (TUN_F_USO4/6, Linux 6.2)");
            }
            if !self.udp_gso {
                m.push("UDP segmentation offload (UDP_SEGMENT)");
            }
            if !self.udp_gro {
                m.push("UDP receive offload (UDP_GRO)");
            }
        }
        if self.threads > 1 && !self.multi_queue {
            m.push("multi-queue TAPs (IFF_MULTI_QUEUE)");
        }
        m
    }
}

impl fmt::Display for OffloadSupport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let on = |b: bool| if b { "on" } else { "off" };
        write!(
            f,
            "{} data-path thread{}, multi-queue TAPs {}; offloads {}",
            self.threads,
            if self.threads == 1 { "" } else { "s" },
            on(self.multi_queue),
            if self.requested {
                "on"
            } else {
                "off (dataplane_offloads no)"
            },
        )?;
        if self.requested {
            write!(
                f,
                ": TAP TCP super-frames {}, TAP UDP super-frames {}, UDP GSO {}, UDP GRO {}",
                on(self.tap_tso),
                on(self.tap_uso),
                on(self.udp_gso),
                on(self.udp_gro)
            )?;
        }
        Ok(())
    }
}
