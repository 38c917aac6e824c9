//! Injected randomness.
//!
//! The engine never draws randomness from the operating system: tunnel and session ids,
//! challenges (RFC 2661 §5.1.1), random vectors for hidden AVPs (RFC 2661 §4.3), Control Message
//! Authentication nonces (RFC 3931 §5.4.1), cookies (RFC 3931 §4.1) and tie breakers
//! (RFC 2661 §4.4.3, RFC 3931 §5.4.3) all come from the [`Rng`] the caller supplies. The daemon
//! passes a cryptographically strong generator; tests pass [`DeterministicRng`] so that every
//! run is reproducible.

/// A source of random octets, supplied by the caller of the engine.
///
/// Challenges, random vectors and nonces should be unpredictable (RFC 3931 §5.4.1 asks for a
/// cryptographically random nonce), so production callers back this with a CSPRNG.
pub trait Rng {
    /// Fills `buf` with random octets.
    fn fill(&mut self, buf: &mut [u8]);

    /// A random `u32`.
    fn next_u32(&mut self) -> u32 {
        let mut bytes = [0; 4];
        self.fill(&mut bytes);
        u32::from_be_bytes(bytes)
    }

    /// A random `u64`.
    fn next_u64(&mut self) -> u64 {
        let mut bytes = [0; 8];
        self.fill(&mut bytes);
        u64::from_be_bytes(bytes)
    }
}

/// A fast, seedable, **not** cryptographically secure generator (SplitMix64), for tests and
/// simulations. Never use it for a deployment: its output is predictable from its seed.
#[derive(Clone, Debug)]
pub struct DeterministicRng {
    state: u64,
}

impl DeterministicRng {
    /// A generator whose whole output is determined by `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    fn step(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

impl Rng for DeterministicRng {
    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let word = self.step().to_be_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.step()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_fills_odd_lengths() {
        let mut a = DeterministicRng::new(7);
        let mut b = DeterministicRng::new(7);
        let (mut x, mut y) = ([0u8; 13], [0u8; 13]);
        a.fill(&mut x);
        b.fill(&mut y);
        assert_eq!(x, y);
        assert_ne!(x, [0; 13]);
        assert_eq!(a.next_u32(), b.next_u32());
        assert_ne!(
            DeterministicRng::new(8).next_u64(),
            DeterministicRng::new(7).next_u64()
        );
    }
}
