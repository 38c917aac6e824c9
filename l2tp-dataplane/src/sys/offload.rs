//! The system calls of the offloads: a TAP's virtio-net header (`TUNSETVNETHDRSZ`,
//! `TUNSETVNETLE`) and offload flags (`TUNSETOFFLOAD`, Documentation/networking/tuntap.rst),
//! and UDP segmentation offload on send (`UDP_SEGMENT` as a control message of each
//! `sendmmsg` message) and generic receive offload on receipt (`UDP_GRO`, udp(7)).

use std::ffi::{c_int, c_uint};
use std::io::{self, IoSlice};
use std::mem;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr;

use nix::libc;

use super::{MAX_BATCH, set_int_option};

/// Room for the control messages of one datagram: `UDP_GRO` or `UDP_SEGMENT` (an int or a
/// u16, 16 to 24 octets with their `cmsghdr`), and others the socket may also report.
const CONTROL_WORDS: usize = 8;

/// Sets a TAP's virtio-net header to the 10-octet legacy layout, little-endian.
pub(crate) fn tap_set_vnet_header(fd: BorrowedFd<'_>) -> io::Result<()> {
    let size: c_int = crate::offload::VNET_HDR_LEN as c_int;
    // SAFETY: `TUNSETVNETHDRSZ` reads one int through the pointer, which points at `size`,
    // alive for the call.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETVNETHDRSZ, ptr::from_ref(&size)) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    let le: c_int = 1;
    // SAFETY: `TUNSETVNETLE` reads one int through the pointer, as above.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETVNETLE, ptr::from_ref(&le)) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Tells a TAP which offloads its reader handles (`TUN_F_*`): the kernel then hands it
/// super-frames and partial checksums of those kinds.
pub(crate) fn tap_set_offload(fd: BorrowedFd<'_>, flags: c_uint) -> io::Result<()> {
    // SAFETY: `TUNSETOFFLOAD` takes its argument by value (an unsigned long of flags) and
    // touches no memory of ours.
    let rc = unsafe {
        libc::ioctl(
            fd.as_raw_fd(),
            libc::TUNSETOFFLOAD,
            libc::c_ulong::from(flags),
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Asks a UDP socket to coalesce received datagrams of one flow (`UDP_GRO`, Linux 5.0).
pub(crate) fn set_udp_gro(fd: BorrowedFd<'_>) -> io::Result<()> {
    set_int_option(fd, libc::SOL_UDP, libc::UDP_GRO, 1)
}

/// Whether UDP sockets take `UDP_SEGMENT` (Linux 4.18), tried on `fd`.
pub(crate) fn probe_udp_segment(fd: BorrowedFd<'_>) -> bool {
    set_int_option(fd, libc::SOL_UDP, libc::UDP_SEGMENT, 1400).is_ok()
}

/// Sends on a connected socket (`dest` `None`) or to `dest`, without blocking, up to
/// [`MAX_BATCH`] messages in one
/// `sendmmsg`: each one gathered from its slices, with a segment size; a non-zero size sends it
/// as UDP datagrams of that size (the last one may be shorter) through `UDP_SEGMENT`. Returns
/// how many messages were sent; an error only when the first one could not be.
pub(crate) fn udp_gso_send(
    fd: BorrowedFd<'_>,
    dest: Option<&socket2::SockAddr>,
    msgs: &[(&[IoSlice<'_>], u16)],
) -> io::Result<usize> {
    let n = msgs.len().min(MAX_BATCH);
    if n == 0 {
        return Ok(0);
    }
    // SAFETY: `mmsghdr` is plain old data (integers and null pointers when zero).
    let mut hdrs: [libc::mmsghdr; MAX_BATCH] = unsafe { mem::zeroed() };
    let mut control = [[0u64; CONTROL_WORDS]; MAX_BATCH];
    for i in 0..n {
        let (parts, seg) = msgs[i];
        let h = &mut hdrs[i].msg_hdr;
        // `IoSlice` is ABI-compatible with `iovec` on Unix (std's documented guarantee); the
        // kernel only reads through it on send, whatever the C type's mutability says.
        h.msg_iov = parts.as_ptr().cast_mut().cast();
        h.msg_iovlen = parts.len() as _;
        if let Some(d) = dest {
            // The kernel only reads the name on send.
            h.msg_name = d.as_ptr().cast_mut().cast();
            h.msg_namelen = d.len();
        }
        if seg == 0 {
            continue;
        }
        h.msg_control = control[i].as_mut_ptr().cast();
        // SAFETY: CMSG_SPACE only computes a size.
        h.msg_controllen = unsafe { libc::CMSG_SPACE(mem::size_of::<u16>() as u32) } as _;
        // SAFETY: `h` describes a control buffer of `msg_controllen` octets (64 are there,
        // suitably aligned for `cmsghdr`), so CMSG_FIRSTHDR returns a pointer inside it; the
        // header and the u16 after it (CMSG_DATA) fit in CMSG_SPACE(2) octets.
        unsafe {
            let c = libc::CMSG_FIRSTHDR(h);
            (*c).cmsg_level = libc::SOL_UDP;
            (*c).cmsg_type = libc::UDP_SEGMENT;
            (*c).cmsg_len = libc::CMSG_LEN(mem::size_of::<u16>() as u32) as _;
            ptr::write_unaligned(libc::CMSG_DATA(c).cast::<u16>(), seg);
        }
    }
    // SAFETY: the first `n` headers each point at the live iovecs of one message, each of those
    // describing a live buffer of the given length, and at a live control buffer of the given
    // length or none, and at `dest` (a live socket address of the given length) or at no name
    // on a connected socket. The kernel reads those and
    // writes only `msg_len`.
    let rc = unsafe {
        libc::sendmmsg(
            fd.as_raw_fd(),
            hdrs.as_mut_ptr(),
            n as libc::c_uint,
            libc::MSG_DONTWAIT,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(rc as usize)
}

/// What one `recvmmsg` with GRO brought: per buffer, its length and the size of the datagrams
/// it holds back to back (0: one datagram).
#[derive(Debug)]
pub(crate) struct GroBatch {
    pub(crate) lens: Vec<usize>,
    pub(crate) segs: Vec<usize>,
}

impl GroBatch {
    pub(crate) fn new() -> Self {
        Self {
            lens: vec![0; MAX_BATCH],
            segs: vec![0; MAX_BATCH],
        }
    }
}

/// Receives up to `bufs.len()` (at most [`MAX_BATCH`]) buffers without blocking; with
/// `UDP_GRO` on the socket each may hold several datagrams of one size (the last may be
/// shorter), reported in `out.segs`. A truncated buffer is reported with the length
/// `usize::MAX`. Returns how many arrived; `WouldBlock` when none had.
// Several arrays are walked in step by index.
#[allow(clippy::needless_range_loop)]
pub(crate) fn udp_gro_recv(
    fd: BorrowedFd<'_>,
    bufs: &mut [Vec<u8>],
    out: &mut GroBatch,
) -> io::Result<usize> {
    let n = bufs.len().min(MAX_BATCH);
    // SAFETY: plain old data, see `udp_gso_send`.
    let mut iov: [libc::iovec; MAX_BATCH] = unsafe { mem::zeroed() };
    // SAFETY: as above.
    let mut hdrs: [libc::mmsghdr; MAX_BATCH] = unsafe { mem::zeroed() };
    let mut control = [[0u64; CONTROL_WORDS]; MAX_BATCH];
    for i in 0..n {
        iov[i].iov_base = bufs[i].as_mut_ptr().cast();
        iov[i].iov_len = bufs[i].len();
        let h = &mut hdrs[i].msg_hdr;
        h.msg_iov = ptr::from_mut(&mut iov[i]);
        h.msg_iovlen = 1;
        h.msg_control = control[i].as_mut_ptr().cast();
        h.msg_controllen = mem::size_of::<[u64; CONTROL_WORDS]>() as _;
    }
    // SAFETY: the first `n` headers each point at one iovec over a live, exclusively borrowed
    // buffer of the length given, and at a live control buffer of the length given; the
    // kernel writes within those bounds and into `msg_len`, `msg_controllen`, `msg_flags`.
    let rc = unsafe {
        libc::recvmmsg(
            fd.as_raw_fd(),
            hdrs.as_mut_ptr(),
            n as libc::c_uint,
            libc::MSG_DONTWAIT,
            ptr::null_mut(),
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    let got = rc as usize;
    for i in 0..got {
        let h = &hdrs[i].msg_hdr;
        out.lens[i] = if h.msg_flags & libc::MSG_TRUNC != 0 {
            usize::MAX
        } else {
            hdrs[i].msg_len as usize
        };
        out.segs[i] = 0;
        // SAFETY: the kernel filled `msg_control` with `msg_controllen` octets of well-formed
        // control messages; CMSG_FIRSTHDR/CMSG_NXTHDR stay within them, and a UDP_GRO message
        // carries an int after its header.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(h);
            while !c.is_null() {
                if (*c).cmsg_level == libc::SOL_UDP && (*c).cmsg_type == libc::UDP_GRO {
                    let seg = ptr::read_unaligned(libc::CMSG_DATA(c).cast::<c_int>());
                    out.segs[i] = usize::try_from(seg).unwrap_or(0);
                }
                c = libc::CMSG_NXTHDR(h, c);
            }
        }
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsFd;

    use super::*;

    fn pair() -> (std::net::UdpSocket, std::net::UdpSocket) {
        let a = std::net::UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let b = std::net::UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let aa = a.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let ba = b.local_addr().unwrap_or_else(|e| panic!("{e}"));
        a.connect(ba).unwrap_or_else(|e| panic!("{e}"));
        b.connect(aa).unwrap_or_else(|e| panic!("{e}"));
        (a, b)
    }

    #[test]
    fn gso_sends_arrive_as_gro_batches_or_datagrams() {
        let (a, b) = pair();
        // 10 datagrams of 100 octets (the last of 50) in one message, and one plain one.
        let data: Vec<u8> = (0..950u32).map(|i| i as u8).collect();
        let gather = [IoSlice::new(&data[..500]), IoSlice::new(&data[500..])];
        let plain = [IoSlice::new(&[7; 30])];
        let sent = udp_gso_send(a.as_fd(), None, &[(&gather, 100), (&plain, 0)])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sent, 2);
        let mut bufs = vec![vec![0u8; 65_536]; 4];
        let mut out = GroBatch::new();
        // Without UDP_GRO the receiver sees every datagram on its own.
        let n = udp_gro_recv(b.as_fd(), &mut bufs, &mut out).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(n, 4);
        assert_eq!(&out.lens[..4], &[100, 100, 100, 100]);
        assert_eq!(&out.segs[..4], &[0, 0, 0, 0]);
        assert_eq!(&bufs[1][..100], &data[100..200]);
        // With it, a GSO send over loopback arrives whole.
        set_udp_gro(b.as_fd()).unwrap_or_else(|e| panic!("{e}"));
        let _ = udp_gro_recv(b.as_fd(), &mut bufs, &mut out);
        let _ = udp_gro_recv(b.as_fd(), &mut bufs, &mut out);
        let whole = [IoSlice::new(&data)];
        udp_gso_send(a.as_fd(), None, &[(&whole, 100)]).unwrap_or_else(|e| panic!("{e}"));
        let n = udp_gro_recv(b.as_fd(), &mut bufs, &mut out).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(n, 1);
        assert_eq!((out.lens[0], out.segs[0]), (950, 100));
        assert_eq!(&bufs[0][..950], &data[..]);
    }

    /// A socket that is not connected to its peer sends to it by name, with GSO too.
    #[test]
    fn gso_sends_to_a_destination() {
        let a = std::net::UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let b = std::net::UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        b.set_nonblocking(true).unwrap_or_else(|e| panic!("{e}"));
        let dest = socket2::SockAddr::from(b.local_addr().unwrap_or_else(|e| panic!("{e}")));
        let data = [5u8; 250];
        let whole = [IoSlice::new(&data)];
        let sent = udp_gso_send(a.as_fd(), Some(&dest), &[(&whole, 100)])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sent, 1);
        let mut bufs = vec![vec![0u8; 65_536]; 4];
        let mut out = GroBatch::new();
        let n = udp_gro_recv(b.as_fd(), &mut bufs, &mut out).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((n, &out.lens[..3]), (3, &[100, 100, 50][..]));
    }
}
