//! Synchronous netlink round trips over a `netlink-sys` socket: one request, then its replies
//! up to the acknowledgement (or the end of a dump). Every read is bounded by a receive
//! timeout, so a call never blocks the daemon for long.

use std::cell::{Cell, RefCell};
use std::fmt::Debug;
use std::io;
use std::time::Duration;

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NetlinkDeserializable, NetlinkHeader, NetlinkMessage,
    NetlinkPayload, NetlinkSerializable,
};
use netlink_sys::{Socket, SocketAddr};

/// How long one reply may take.
const REPLY_TIMEOUT: Duration = Duration::from_secs(3);

/// The largest datagram read. The kernel makes none larger than 32 KiB (a dump's batches
/// grow to the reader's buffer up to that), so one read takes any whole, without first
/// peeking at its length.
const RECV_LEN: usize = 64 * 1024;

/// A netlink socket of one protocol (`NETLINK_GENERIC`, `NETLINK_ROUTE`).
#[derive(Debug)]
pub(crate) struct Netlink {
    socket: Socket,
    seq: Cell<u32>,
    /// Where replies are read into, kept from one request to the next.
    buf: RefCell<Vec<u8>>,
}

impl Netlink {
    /// Opens and binds a socket of `protocol`.
    pub(crate) fn open(protocol: isize) -> io::Result<Self> {
        let mut socket = Socket::new(protocol)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        socket2::SockRef::from(&socket).set_read_timeout(Some(REPLY_TIMEOUT))?;
        // Extended acks are best effort: older kernels lack them.
        let _ = socket.set_ext_ack(true);
        Ok(Self {
            socket,
            seq: Cell::new(1),
            buf: RefCell::new(Vec::with_capacity(RECV_LEN)),
        })
    }

    /// Sends `message` with `NLM_F_ACK` and `flags`, and returns the messages that came back
    /// before the acknowledgement. A kernel error becomes the `io::Error` of its errno.
    pub(crate) fn request<I>(&self, message: I, flags: u16) -> io::Result<Vec<I>>
    where
        I: NetlinkSerializable + NetlinkDeserializable + Debug,
    {
        let mut out = Vec::new();
        self.round_trip(message, NLM_F_REQUEST | NLM_F_ACK | flags, |m| out.push(m))?;
        Ok(out)
    }

    /// Sends a dump request and returns every message of the dump.
    pub(crate) fn dump<I>(&self, message: I) -> io::Result<Vec<I>>
    where
        I: NetlinkSerializable + NetlinkDeserializable + Debug,
    {
        let mut out = Vec::new();
        self.dump_each(message, |m| out.push(m))?;
        Ok(out)
    }

    /// Sends a dump request and gives each message of the dump to `each` as it is read, so
    /// that a large dump is never held whole.
    pub(crate) fn dump_each<I>(&self, message: I, each: impl FnMut(I)) -> io::Result<()>
    where
        I: NetlinkSerializable + NetlinkDeserializable + Debug,
    {
        self.round_trip(message, NLM_F_REQUEST | NLM_F_DUMP, each)
    }

    fn round_trip<I>(&self, message: I, flags: u16, mut each: impl FnMut(I)) -> io::Result<()>
    where
        I: NetlinkSerializable + NetlinkDeserializable + Debug,
    {
        let seq = self.seq.get().wrapping_add(1);
        self.seq.set(seq);
        let request = encode(message, flags, seq);
        self.socket.send(&request, 0)?;
        let mut buf = self.buf.borrow_mut();
        loop {
            buf.clear();
            let len = self.socket.recv(&mut *buf, nix::libc::MSG_TRUNC)?;
            if len > buf.len() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("netlink: a reply of {len} bytes is larger than {RECV_LEN}"),
                ));
            }
            if buf.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "netlink: empty read",
                ));
            }
            let mut offset = 0;
            while offset < buf.len() {
                let msg = NetlinkMessage::<I>::deserialize(&buf[offset..])
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
                let len = msg.header.length as usize;
                if len == 0 {
                    break;
                }
                offset += (len + 3) & !3;
                if msg.header.sequence_number != seq {
                    continue;
                }
                match msg.payload {
                    NetlinkPayload::Done(_) => return Ok(()),
                    NetlinkPayload::Error(e) => {
                        return match e.code {
                            None => Ok(()),
                            Some(_) => Err(e.to_io()),
                        };
                    }
                    NetlinkPayload::InnerMessage(m) => each(m),
                    _ => {}
                }
            }
        }
    }
}

/// The bytes of `message` in a netlink message with `flags` and sequence number `seq`.
pub(crate) fn encode<I: NetlinkSerializable + Debug>(message: I, flags: u16, seq: u32) -> Vec<u8> {
    let mut header = NetlinkHeader::default();
    header.flags = flags;
    header.sequence_number = seq;
    let mut msg = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(message));
    msg.finalize();
    let mut buf = vec![0u8; msg.buffer_len()];
    msg.serialize(&mut buf);
    buf
}
