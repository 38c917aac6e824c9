//! PPP on a kernel PPPoL2TP session without pppd: the session's PPP *channel* and a PPP *unit*
//! (the network interface) of the kernel's `ppp_generic`, reached through `/dev/ppp`, so that
//! the daemon runs PPP's control protocols itself and the kernel carries the IP packets.
//!
//! How the kernel moves the frames (drivers/net/ppp/ppp_generic.c, net/l2tp/l2tp_ppp.c):
//!
//! - A connected PPPoL2TP socket has a channel. `PPPIOCGCHAN` on the socket gives its number
//!   and from then on the session's frames go to the channel, not to the socket; a `/dev/ppp`
//!   file attached to that number (`PPPIOCATTCHAN`) reads and writes frames on it
//!   ([`Channel`]).
//! - The kernel takes the address and control fields `FF 03` off a received frame when they
//!   are there (and widens a one-octet Protocol field, RFC 1661 §6.5), and puts `FF 03` in
//!   front of every frame it sends (RFC 2661 §5.3 carries them): frames read start at the
//!   Protocol field, and frames written must too. [`channel_frame`] turns what a PPP
//!   implementation emits (`FF 03`, Protocol, ...) into that.
//! - Once the channel is connected to a unit (`PPPIOCCONNECT`), LCP and the authentication
//!   protocols (Protocol 0xc000 and above) still come to the channel's file, while the
//!   network-layer protocols go to the unit: IPv4 and IPv6 to its interface, when that is up
//!   and the unit's NP mode for them is pass (else they are dropped), and every other one
//!   (IPCP, IPv6CP, CCP, unknown protocols) to the unit's file ([`Unit`]). A control plane
//!   reads both files; it may write every frame to the channel.
//! - A unit is made over rtnetlink (link kind `ppp` with `IFLA_PPP_DEV_FD`, see
//!   [`Rtnl::add_ppp`]), named at once as asked, down, its NP modes set to drop here. Closing
//!   the unit's file deletes the interface; closing the PPPoL2TP socket deletes the kernel
//!   session.
//! - A read of 0 octets means the channel or the unit is gone (the channel unregistered, the
//!   interface deleted, e.g. by `ip link del`), or that the unit has no channel.
//!
//! The unit's MRU (`PPPIOCSMRU`) only sizes the buffers of CCP decompression, which the daemon
//! never negotiates; the interface's MTU is set over rtnetlink ([`Rtnl::set_state`]).

use std::fs::OpenOptions;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::time::Duration;

use nix::libc;

use super::rtnl::Rtnl;
use super::sys::{
    NpIoctl, PppoL2tpOption, ppp_disconnect, ppp_ioctl_int, ppp_set_npmode, pppol2tp_set, request,
};

/// A read buffer this large takes every frame of a link whose MRU is at most 4 000 octets; the
/// kernel drops a larger frame when it does not fit the buffer (`EOVERFLOW`).
pub const MAX_FRAME: usize = 4096;

/// How often [`Unit::create`] asks again while another process holds the kernel's PPP lock.
const BUSY_RETRIES: u32 = 100;

/// The PPP channel of a connected PPPoL2TP session socket, attached to a `/dev/ppp` file: the
/// session's PPP frames are read and written here. Dropping it closes the socket, which
/// deletes the kernel session.
#[derive(Debug)]
pub struct Channel {
    /// The PPPoL2TP socket: its channel lives as long as it is open.
    socket: OwnedFd,
    /// The `/dev/ppp` file attached to the channel, non-blocking.
    file: OwnedFd,
    number: i32,
}

/// The options of a PPPoL2TP session that its socket sets (`PPPOL2TP_SO_*`). An L2TPv2
/// session made by connecting the socket starts with all off; those of an L2TPv3 session come
/// from its creation over generic netlink already.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct SessionOptions {
    /// The LNS's end (RFC 2661 §5.4: the LNS decides whether data is sequenced).
    pub lns_mode: bool,
    /// Send sequence numbers on data.
    pub send_seq: bool,
    /// Require sequence numbers on received data.
    pub recv_seq: bool,
    /// How long to hold out-of-order data, milliseconds; 0 drops it at once.
    pub reorder_timeout_ms: u32,
}

/// A PPP unit and its network interface, made from a `/dev/ppp` file of its own. Dropping it
/// closes the file, which deletes the interface.
#[derive(Debug)]
pub struct Unit {
    file: OwnedFd,
    number: i32,
    name: String,
    index: u32,
}

/// A network-layer protocol that a unit carries to and from its interface.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum NetworkProtocol {
    /// IPv4, PPP protocol 0x0021.
    Ipv4,
    /// IPv6, PPP protocol 0x0057.
    Ipv6,
}

/// What a unit does with a network-layer protocol's packets (`enum NPmode`).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum NpMode {
    /// Carries them.
    Pass,
    /// Drops them silently.
    Drop,
    /// Drops them; sending fails.
    Error,
}

impl NetworkProtocol {
    /// The PPP protocol number.
    pub fn ppp_protocol(self) -> u16 {
        match self {
            Self::Ipv4 => 0x0021,
            Self::Ipv6 => 0x0057,
        }
    }
}

impl NpMode {
    fn raw(self) -> libc::c_int {
        match self {
            Self::Pass => 0,
            Self::Drop => 1,
            Self::Error => 2,
        }
    }
}

impl Channel {
    /// Takes connected PPPoL2TP socket `socket` (see [`super::pppol2tp_connect`]) and attaches
    /// a new `/dev/ppp` file to its channel: from now on the session's frames are read and
    /// written here.
    pub fn attach(socket: OwnedFd) -> io::Result<Self> {
        let mut number = 0;
        ppp_ioctl_int(socket.as_fd(), request::PPPIOCGCHAN, &mut number)?;
        let file = open_ppp()?;
        let mut n = number;
        ppp_ioctl_int(file.as_fd(), request::PPPIOCATTCHAN, &mut n)?;
        Ok(Self {
            socket,
            file,
            number,
        })
    }

    /// The channel's number.
    pub fn number(&self) -> i32 {
        self.number
    }

    /// Sets the session's options on its socket.
    pub fn set_options(&self, o: &SessionOptions) -> io::Result<()> {
        let fd = self.socket.as_fd();
        pppol2tp_set(fd, PppoL2tpOption::LnsMode, o.lns_mode.into())?;
        pppol2tp_set(fd, PppoL2tpOption::SendSeq, o.send_seq.into())?;
        pppol2tp_set(fd, PppoL2tpOption::RecvSeq, o.recv_seq.into())?;
        let reorder = libc::c_int::try_from(o.reorder_timeout_ms).unwrap_or(libc::c_int::MAX);
        pppol2tp_set(fd, PppoL2tpOption::ReorderTimeout, reorder)
    }

    /// Connects the channel to `unit`: its network-layer frames go to the unit from now on.
    pub fn connect(&self, unit: &Unit) -> io::Result<()> {
        let mut n = unit.number;
        ppp_ioctl_int(self.file.as_fd(), request::PPPIOCCONNECT, &mut n)
    }

    /// Disconnects the channel from its unit.
    pub fn disconnect(&self) -> io::Result<()> {
        ppp_disconnect(self.file.as_fd())
    }

    /// Sends a PPP frame, with or without its `FF 03` ([`channel_frame`]). Never blocks: the
    /// kernel queues the frame.
    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        let f = channel_frame(frame).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "a PPP frame needs its Protocol field",
            )
        })?;
        write_frame(self.file.as_fd(), f)
    }

    /// Reads the next frame on the channel into `buf` (from its Protocol field on). Fails with
    /// `WouldBlock` when none is waiting; `Ok(0)` means the channel is gone.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        read_frame(self.file.as_fd(), buf)
    }
}

impl AsFd for Channel {
    /// The `/dev/ppp` file, to wait for frames on.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

impl Unit {
    /// Makes a PPP unit with interface `name` (no `%d` template: the name itself), down, with
    /// IPv4 and IPv6 blocked ([`NpMode::Drop`]) until [`Unit::set_npmode`] lets them pass.
    pub fn create(rtnl: &Rtnl, name: &str) -> io::Result<Self> {
        if name.is_empty() || name.len() >= libc::IFNAMSIZ || name.contains(['%', '/', ' ']) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{name:?} is not an interface name"),
            ));
        }
        let file = open_ppp()?;
        let mut tries = 0;
        loop {
            match rtnl.add_ppp(name, file.as_raw_fd()) {
                Ok(()) => break,
                // Another process holds the PPP lock (ppp_nl_newlink only tries it).
                Err(e) if e.raw_os_error() == Some(libc::EBUSY) && tries < BUSY_RETRIES => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(e) => return Err(e),
            }
        }
        // From here on, dropping `file` deletes the interface.
        let mut number = 0;
        ppp_ioctl_int(file.as_fd(), request::PPPIOCGUNIT, &mut number)?;
        let index = rtnl.index(name)?;
        let unit = Self {
            file,
            number,
            name: name.to_owned(),
            index,
        };
        unit.set_npmode(NetworkProtocol::Ipv4, NpMode::Drop)?;
        unit.set_npmode(NetworkProtocol::Ipv6, NpMode::Drop)?;
        Ok(unit)
    }

    /// The unit's number.
    pub fn number(&self) -> i32 {
        self.number
    }

    /// The interface's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The interface's index.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// Sets what the unit does with `protocol`'s packets, both ways.
    pub fn set_npmode(&self, protocol: NetworkProtocol, mode: NpMode) -> io::Result<()> {
        ppp_set_npmode(
            self.file.as_fd(),
            NpIoctl {
                protocol: protocol.ppp_protocol().into(),
                mode: mode.raw(),
            },
        )
    }

    /// Sets the unit's MRU (`PPPIOCSMRU`; see the module's docs).
    pub fn set_mru(&self, mru: u16) -> io::Result<()> {
        let mut v = libc::c_int::from(mru);
        ppp_ioctl_int(self.file.as_fd(), request::PPPIOCSMRU, &mut v)
    }

    /// Reads the next frame for the unit's control plane (IPCP, IPv6CP, other network-layer
    /// control protocols) into `buf`, from its Protocol field on. Fails with `WouldBlock` when
    /// none is waiting; `Ok(0)` means the interface is gone or the unit has no channel.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        read_frame(self.file.as_fd(), buf)
    }
}

impl AsFd for Unit {
    /// The unit's `/dev/ppp` file, to wait for frames on.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

/// The frame as a channel takes it: `frame` without its address and control fields `FF 03`
/// (the kernel adds them), or `None` when no Protocol field is left.
pub fn channel_frame(frame: &[u8]) -> Option<&[u8]> {
    let f = match frame {
        [0xff, 0x03, rest @ ..] => rest,
        f => f,
    };
    (f.len() >= 2).then_some(f)
}

/// The Protocol field of a frame read from a channel or a unit (or of any PPP frame, with or
/// without `FF 03`, with a one- or two-octet Protocol field), or `None` when it has none.
pub fn protocol(frame: &[u8]) -> Option<u16> {
    let f = match frame {
        [0xff, 0x03, rest @ ..] => rest,
        f => f,
    };
    match f {
        // A compressed Protocol field (RFC 1661 §6.5): one octet, odd.
        [p, ..] if p & 1 == 1 => Some(u16::from(*p)),
        [hi, lo, ..] => Some(u16::from_be_bytes([*hi, *lo])),
        _ => None,
    }
}

/// Opens `/dev/ppp`, non-blocking and close-on-exec.
fn open_ppp() -> io::Result<OwnedFd> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open("/dev/ppp")
        .map_err(|e| io::Error::new(e.kind(), format!("/dev/ppp: {e}")))?;
    Ok(file.into())
}

fn write_frame(fd: BorrowedFd<'_>, frame: &[u8]) -> io::Result<()> {
    let n = nix::unistd::write(fd, frame).map_err(io::Error::from)?;
    if n != frame.len() {
        return Err(io::Error::new(
            io::ErrorKind::WriteZero,
            "/dev/ppp took part of a frame",
        ));
    }
    Ok(())
}

fn read_frame(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    nix::unistd::read(fd, buf).map_err(io::Error::from)
}

/// Whether a read failed because the frame was larger than the buffer (the kernel dropped
/// it); the next read goes on with the next frame.
pub fn is_oversized(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::EOVERFLOW)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_for_the_channel_lose_ff03() {
        // As ppp_proto::Link::poll_transmit gives them: FF 03, then the Protocol field.
        let lcp = [0xff, 0x03, 0xc0, 0x21, 0x01, 0x01, 0x00, 0x04];
        assert_eq!(channel_frame(&lcp), Some(&lcp[2..]));
        // Already without: unchanged.
        assert_eq!(channel_frame(&lcp[2..]), Some(&lcp[2..]));
        // A compressed Protocol field (PFC) with data stays as it is.
        assert_eq!(
            channel_frame(&[0xff, 0x03, 0x21, 0x45]),
            Some(&[0x21, 0x45][..])
        );
        assert_eq!(channel_frame(&[0xff, 0x03, 0xc0]), None);
        assert_eq!(channel_frame(&[0xff, 0x03]), None);
        assert_eq!(channel_frame(&[]), None);
    }

    #[test]
    fn protocols_of_frames() {
        assert_eq!(protocol(&[0xc0, 0x21, 1, 1, 0, 4]), Some(0xc021));
        assert_eq!(protocol(&[0xff, 0x03, 0x80, 0x21]), Some(0x8021));
        assert_eq!(protocol(&[0x00, 0x21, 0x45]), Some(0x0021));
        assert_eq!(protocol(&[0x21, 0x45]), Some(0x0021));
        assert_eq!(protocol(&[0xff, 0x03, 0x57]), Some(0x0057));
        assert_eq!(protocol(&[0x80]), None);
        assert_eq!(protocol(&[0xff, 0x03]), None);
        assert_eq!(protocol(&[]), None);
        assert_eq!(NetworkProtocol::Ipv6.ppp_protocol(), 0x57);
        assert_eq!(NpMode::Drop.raw(), 1);
    }

    #[test]
    fn templates_are_not_unit_names() {
        // No rtnetlink needed: the name is refused first.
        if let Ok(rtnl) = Rtnl::open() {
            for bad in ["", "ppp%d", "a-name-longer-than-15", "a b"] {
                let e = Unit::create(&rtnl, bad).err();
                assert_eq!(
                    e.map(|e| e.kind()),
                    Some(io::ErrorKind::InvalidInput),
                    "{bad:?}"
                );
            }
        }
    }
}
