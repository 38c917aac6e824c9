use super::super::testpkt::{self, Proto};
use super::super::{Segmenter, VnetHdr};
use super::*;

/// A batch of frames in one buffer each, as the receive path holds them.
struct Batch {
    bufs: Vec<Vec<u8>>,
}

impl Batch {
    fn new() -> Self {
        Self { bufs: Vec::new() }
    }

    /// The segments of a super-frame of `payload`, in order.
    fn add_segments(&mut self, proto: Proto, l2: bool, mss: u16, payload: &[u8]) -> Vec<usize> {
        let (frame, hdr) = testpkt::super_frame(proto, l2, mss, 0x10, payload);
        let l3 = if l2 { 14 } else { 0 };
        let mut s = Segmenter::new(&frame, l3, &hdr).unwrap_or_else(|e| panic!("{e}"));
        let mut ids = Vec::new();
        let mut out = vec![0u8; s.max_segment_len()];
        while let Some(len) = s.next_into(&mut out) {
            ids.push(self.add(out[..len].to_vec()));
        }
        ids
    }

    fn add(&mut self, frame: Vec<u8>) -> usize {
        self.bufs.push(frame);
        self.bufs.len() - 1
    }

    fn push(&self, c: &mut Coalescer, tag: u32, id: usize, l3: usize) {
        self.push_udp(c, tag, id, l3, false);
    }

    fn push_udp(&self, c: &mut Coalescer, tag: u32, id: usize, l3: usize, udp: bool) {
        let f = FrameRef {
            buf: id as u32,
            start: 0,
            end: self.bufs[id].len() as u32,
        };
        c.push(tag, f, &self.bufs[id], l3, udp);
    }

    /// Finishes every write and returns (virtio-net header, the gathered octets).
    fn gather(&mut self, c: &Coalescer) -> Vec<(VnetHdr, Vec<u8>)> {
        let mut out = Vec::new();
        for w in c.writes() {
            let mut head = self.bufs[w.head.buf as usize][w.head.range()].to_vec();
            let hdr = Coalescer::finish(w, &mut head);
            for t in &w.tails {
                head.extend_from_slice(&self.bufs[t.buf as usize][t.range()]);
            }
            out.push((hdr, head));
        }
        out
    }
}

/// Splits a written super-frame again, as the kernel would, and returns the segments.
fn resegment(hdr: &VnetHdr, frame: &[u8], l3: usize) -> Vec<Vec<u8>> {
    if hdr.gso_type == GsoType::None {
        return vec![frame.to_vec()];
    }
    let mut s = Segmenter::new(frame, l3, hdr).unwrap_or_else(|e| panic!("{e}"));
    let mut out = vec![0u8; s.max_segment_len()];
    let mut segs = Vec::new();
    while let Some(len) = s.next_into(&mut out) {
        segs.push(out[..len].to_vec());
    }
    segs
}

#[test]
fn segments_of_a_tcp_flow_become_one_super_frame_and_split_back_the_same() {
    for (proto, l2) in [
        (Proto::TcpV4, true),
        (Proto::TcpV6, true),
        (Proto::TcpV4, false),
        (Proto::TcpV6, false),
    ] {
        let payload: Vec<u8> = (0..5000u32).map(|i| (i * 31) as u8).collect();
        let l3 = if l2 { 14 } else { 0 };
        let mut b = Batch::new();
        let ids = b.add_segments(proto, l2, 1400, &payload);
        let mut c = Coalescer::new();
        for &id in &ids {
            b.push(&mut c, 1, id, l3);
        }
        assert_eq!(c.writes().len(), 1, "{proto:?}");
        let written = b.gather(&c);
        let (hdr, frame) = &written[0];
        assert_eq!(hdr.gso_size, 1400);
        assert!(hdr.needs_csum);
        let again = resegment(hdr, frame, l3);
        let original: Vec<&Vec<u8>> = ids.iter().map(|&i| &b.bufs[i]).collect();
        assert_eq!(again.len(), original.len());
        for (a, o) in again.iter().zip(original) {
            assert_eq!(a, o, "{proto:?}: a segment changed on the way");
            testpkt::check(a, l3);
        }
    }
}

#[test]
fn a_gap_another_flow_and_a_bad_checksum_are_kept_apart() {
    let mut b = Batch::new();
    let flow = b.add_segments(Proto::TcpV4, true, 1000, &[7; 4000]);
    let other = b.add_segments(Proto::TcpV6, true, 1000, &[8; 2000]);
    let mut c = Coalescer::new();
    // Flow 1 segment 0, flow 2 segment 0, flow 1 segment 1, flow 2 segment 1: two writes.
    b.push(&mut c, 1, flow[0], 14);
    b.push(&mut c, 1, other[0], 14);
    b.push(&mut c, 1, flow[1], 14);
    b.push(&mut c, 1, other[1], 14);
    // Segment 3 before 2: a gap; a new super-frame starts at 3.
    b.push(&mut c, 1, flow[3], 14);
    b.push(&mut c, 1, flow[2], 14);
    let tails: Vec<usize> = c.writes().iter().map(|w| w.tails.len()).collect();
    assert_eq!(tails, [1, 1, 0, 0]);
    c.clear();
    // A segment with a wrong checksum is written on its own, as it came (the stack drops it).
    let mut bad = b.bufs[flow[1]].clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    let bad = b.add(bad);
    b.push(&mut c, 1, flow[0], 14);
    b.push(&mut c, 1, bad, 14);
    b.push(&mut c, 1, flow[1], 14);
    let tails: Vec<usize> = c.writes().iter().map(|w| w.tails.len()).collect();
    assert_eq!(tails, [1, 0], "the good segment 1 still follows segment 0");
    // Other tags (sessions) are never joined.
    c.clear();
    b.push(&mut c, 1, flow[0], 14);
    b.push(&mut c, 2, flow[1], 14);
    assert_eq!(c.writes().len(), 2);
}

#[test]
fn push_and_a_short_segment_close_the_super_frame() {
    let mut b = Batch::new();
    let payload = [3u8; 2500];
    let (frame, hdr) = testpkt::super_frame(Proto::TcpV4, true, 1000, 0x18, &payload);
    let mut s = Segmenter::new(&frame, 14, &hdr).unwrap_or_else(|e| panic!("{e}"));
    let mut out = vec![0; s.max_segment_len()];
    let mut ids = Vec::new();
    while let Some(len) = s.next_into(&mut out) {
        ids.push(b.add(out[..len].to_vec()));
    }
    // The last segment (500 octets, PSH) joins and closes; a next one starts anew.
    let next = testpkt::packet(
        Proto::TcpV4,
        true,
        0x10,
        testpkt::SEQ.wrapping_add(2500),
        &[4; 1000],
    );
    let next = b.add(next);
    let mut c = Coalescer::new();
    for &id in ids.iter().chain([&next]) {
        b.push(&mut c, 1, id, 14);
    }
    let tails: Vec<usize> = c.writes().iter().map(|w| w.tails.len()).collect();
    assert_eq!(tails, [2, 0]);
    let written = b.gather(&c);
    // The super-frame carries PSH, which splitting puts on its last segment only.
    let again = resegment(&written[0].0, &written[0].1, 14);
    let flags: Vec<u8> = again.iter().map(|s| testpkt::check(s, 14).flags).collect();
    assert_eq!(flags, [0x10, 0x10, 0x18]);
}

#[test]
fn udp_is_joined_only_when_the_device_takes_udp_super_frames() {
    for proto in [Proto::UdpV4, Proto::UdpV6] {
        let mut b = Batch::new();
        let ids = b.add_segments(proto, false, 200, &[9; 700]);
        let mut c = Coalescer::new();
        for &id in &ids {
            b.push(&mut c, 1, id, 0);
        }
        assert_eq!(c.writes().len(), 4);
        let mut c = Coalescer::new();
        for &id in &ids {
            b.push_udp(&mut c, 1, id, 0, true);
        }
        assert_eq!(c.writes().len(), 1);
        assert_eq!(c.frames(), 4);
        assert_eq!(
            c.writes()[0].frame_bytes(),
            ids.iter().map(|&i| b.bufs[i].len()).sum()
        );
        let written = b.gather(&c);
        assert_eq!(written[0].0.gso_type, GsoType::UdpL4);
        let again = resegment(&written[0].0, &written[0].1, 0);
        for (a, &id) in again.iter().zip(&ids) {
            assert_eq!(a, &b.bufs[id]);
        }
    }
}

#[test]
fn anything_else_goes_through_alone_and_garbage_does_not_panic() {
    let mut b = Batch::new();
    let syn = b.add(testpkt::packet(Proto::TcpV4, true, 0x02, 1, &[]));
    let ack = b.add(testpkt::packet(Proto::TcpV4, true, 0x10, 1, &[]));
    let mut c = Coalescer::new();
    b.push_udp(&mut c, 1, syn, 14, true);
    b.push(&mut c, 1, ack, 14);
    assert_eq!(c.writes().len(), 2);
    assert!(c.writes().iter().all(|w| w.tails.is_empty()));
    let data = testpkt::packet(Proto::TcpV6, true, 0x10, 5, &[1; 100]);
    for cut in 0..data.len() {
        let id = b.add(data[..cut].to_vec());
        b.push(&mut c, 1, id, 14);
        let id = b.add(data[..cut].to_vec());
        b.push(&mut c, 1, id, 0);
    }
    let written = b.gather(&c);
    assert!(written.iter().all(|(h, _)| *h == VnetHdr::default()));
}
