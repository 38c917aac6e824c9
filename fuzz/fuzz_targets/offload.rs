//! The userspace data path's offloads on arbitrary input: a virtio-net header and a frame
//! segmented (whole and gathered, which must agree) and checksummed, as from a TAP; and frames
//! coalesced and finished, as decapsulated from the network (Ethernet and bare IP).
#![no_main]

use l2tp_dataplane::offload::{
    Coalescer, FrameRef, Segmenter, VNET_HDR_LEN, VnetHdr, complete_checksum, ethernet_l3,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    // A frame read from a TAP (or, with l3 = 0, a TUN).
    if rest.len() >= VNET_HDR_LEN
        && let Ok(hdr) = VnetHdr::parse(rest)
    {
        let frame = &rest[VNET_HDR_LEN..];
        let l3 = if mode & 1 == 0 {
            0
        } else {
            ethernet_l3(frame).map_or(14, |(l3, _)| l3)
        };
        if let (Ok(mut whole), Ok(mut gathered)) = (
            Segmenter::new(frame, l3, &hdr),
            Segmenter::new(frame, l3, &hdr),
        ) {
            let mut a = vec![0u8; whole.max_segment_len()];
            let mut b = vec![0u8; gathered.headers_len()];
            let mut n = 0;
            while let Some(len) = whole.next_into(&mut a) {
                let (h, p) = gathered.next_headers(&mut b).expect("as many segments");
                assert_eq!(b[..h], a[..h]);
                assert_eq!(frame[p], a[h..len]);
                n += 1;
                if n > 70_000 {
                    break;
                }
            }
        }
        let mut copy = frame.to_vec();
        let _ = complete_checksum(&mut copy, l3, hdr.csum_start, hdr.csum_offset);
    }
    // Frames received from the network: each prefixed by a length octet.
    let mut frames = Vec::new();
    let mut at = 0;
    while at < rest.len() {
        let len = usize::from(rest[at]) * 8;
        let end = (at + 1 + len).min(rest.len());
        frames.push((at + 1)..end);
        at = end;
    }
    let mut c = Coalescer::new();
    for (i, r) in frames.iter().enumerate() {
        let bytes = &rest[r.clone()];
        let f = FrameRef {
            buf: 0,
            start: r.start as u32,
            end: r.end as u32,
        };
        let l3 = if mode & 2 == 0 {
            0
        } else {
            ethernet_l3(bytes).map_or(14, |(l3, _)| l3)
        };
        c.push((i % 2) as u32, f, bytes, l3, mode & 4 != 0);
    }
    for w in c.writes() {
        let mut head = rest[w.head.range()].to_vec();
        let _ = Coalescer::finish(w, &mut head);
        let _ = (w.frames(), w.frame_bytes());
    }
});
