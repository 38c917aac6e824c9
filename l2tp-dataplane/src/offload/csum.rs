//! The Internet checksum (RFC 1071): a ones'-complement sum of 16-bit big-endian words, and the
//! pseudo-headers of TCP and UDP over IPv4 (RFC 9293 §3.1, RFC 768) and IPv6 (RFC 8200 §8.1).
//!
//! Sums are carried as `u64` and folded to 16 bits only at the end, so that partial sums over
//! headers and payload chunks can be added together.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Adds the 16-bit big-endian words of `data` to `acc` (an odd last octet is padded with zero).
/// The result is below 2^33.
pub(crate) fn sum(data: &[u8], acc: u64) -> u64 {
    // RFC 1071 §2: the sum is independent of byte order (summed as little-endian words, it
    // comes out byte-swapped) and can be taken in any word size (2^32 and 2^16 are both 1
    // modulo 2^16 - 1). So 32-bit little-endian words go into sixteen 64-bit lanes with no
    // carries to handle (a lane would need 2^32 words to overflow), which the compiler turns
    // into vector additions; the result is folded to 16 bits and swapped back.
    let mut lanes = [0u64; 16];
    let mut chunks = data.chunks_exact(64);
    for c in &mut chunks {
        for (lane, w) in lanes.iter_mut().zip(c.chunks_exact(4)) {
            *lane += u64::from(u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
        }
    }
    let mut s: u64 = lanes.iter().sum();
    let mut words = chunks.remainder().chunks_exact(4);
    for w in &mut words {
        s += u64::from(u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
    }
    match *words.remainder() {
        [a, b, c] => s += u64::from(u16::from_le_bytes([a, b])) + u64::from(c),
        [a, b] => s += u64::from(u16::from_le_bytes([a, b])),
        [a] => s += u64::from(a),
        _ => {}
    }
    let swapped = u64::from(fold(s).swap_bytes());
    // Folded to 33 bits at most, so that callers can add lengths and protocol numbers (and
    // further sums) without overflow.
    let acc = acc + swapped;
    let acc = (acc & 0xffff_ffff) + (acc >> 32);
    (acc & 0xffff_ffff) + (acc >> 32)
}

/// Folds a sum to 16 bits (without complementing it).
pub(crate) fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// The checksum to write into a header: the complement of the folded sum.
pub(crate) fn finish(acc: u64) -> u16 {
    !fold(acc)
}

/// The checksum of a UDP datagram: as [`finish`], but a computed zero is sent as `0xffff`
/// (RFC 768: zero means "no checksum"). The kernel does the same for every protocol when it
/// completes a partial checksum, so TCP gets it too.
pub(crate) fn finish_nonzero(acc: u64) -> u16 {
    match finish(acc) {
        0 => 0xffff,
        c => c,
    }
}

/// The sum of the IPv4 pseudo-header (RFC 9293 §3.1) for an upper-layer length `len`.
pub(crate) fn pseudo_v4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, len: usize) -> u64 {
    let mut acc = sum(&src.octets(), 0);
    acc = sum(&dst.octets(), acc);
    acc + u64::from(proto) + len as u64
}

/// The sum of the IPv6 pseudo-header (RFC 8200 §8.1) for an upper-layer length `len`.
pub(crate) fn pseudo_v6(src: Ipv6Addr, dst: Ipv6Addr, proto: u8, len: usize) -> u64 {
    let mut acc = sum(&src.octets(), 0);
    acc = sum(&dst.octets(), acc);
    acc + u64::from(proto) + len as u64
}

/// The IPv4 header checksum of `header` (its checksum field, octets 10 and 11, is skipped).
pub(crate) fn ipv4_header(header: &[u8]) -> u16 {
    let acc = sum(&header[..10], 0);
    finish(sum(&header[12..], acc))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The straightforward definition, for comparison.
    fn reference(data: &[u8]) -> u16 {
        let mut acc: u32 = 0;
        for pair in data.chunks(2) {
            let w = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
            acc += u32::from(w);
            acc = (acc & 0xffff) + (acc >> 16);
        }
        !(acc as u16)
    }

    #[test]
    fn rfc_1071_example() {
        // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (before complementing).
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(sum(&data, 0)), 0xddf2);
        assert_eq!(finish(sum(&data, 0)), !0xddf2);
    }

    #[test]
    fn every_length_and_split_agrees_with_the_definition() {
        let data: Vec<u8> = (0..301u32).map(|i| (i * 97 + 13) as u8).collect();
        for len in 0..data.len() {
            assert_eq!(
                finish(sum(&data[..len], 0)),
                reference(&data[..len]),
                "{len}"
            );
        }
        // Partial sums over even-length pieces add up to the whole.
        let (a, b) = data.split_at(150);
        assert_eq!(finish(sum(b, sum(a, 0))), reference(&data));
        // The largest super-frame: every lane near its fullest.
        let big: Vec<u8> = (0..65_535u32).map(|i| 0xff - (i % 3) as u8).collect();
        assert_eq!(finish(sum(&big, 0)), reference(&big));
        // A sum of all-ones words stays small enough to add lengths to (found by fuzzing).
        let ones = [0xffu8; 4000];
        let acc = sum(&ones, sum(&ones, 0));
        assert!(acc < 1 << 33);
        assert_eq!(
            finish(acc + 65_535 + 17),
            finish(sum(&[0xff, 0xff, 0, 17], acc))
        );
    }

    #[test]
    fn an_ipv4_header_checksum() {
        // A header from RFC 1071's era of examples (checksum b861), as captured on a wire.
        let h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(ipv4_header(&h), 0xb861);
        // A correct header sums to all ones.
        assert_eq!(fold(sum(&h, 0)), 0xffff);
    }
}
