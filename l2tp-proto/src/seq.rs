//! Control-channel sequence numbers (Ns and Nr) and their wrapping comparison.
//!
//! RFC 2661 §5.8 and RFC 3931 §4.2 define Ns as a free-running counter modulo 65536 that starts
//! at 0, and Nr as the Ns the receiver expects next. A received number is "less than or equal
//! to" the last received one if it lies in the range of the last received number and the
//! preceding 32767 values, inclusive. [`Seq`] implements exactly that comparison.
//!
//! The wrapping order is not a total order (it is not transitive across more than half the
//! space), so [`Seq`] deliberately implements neither `Ord` nor `PartialOrd`: callers compare
//! with [`Seq::is_before`], [`Seq::is_after`] or measure with [`Seq::distance_from`].

use std::fmt;

/// An L2TP control-message sequence number (Ns or Nr), modulo 65536.
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub struct Seq(u16);

impl Seq {
    /// The first sequence number of a control connection (RFC 2661 §5.8: "Ns, begins at 0").
    pub const ZERO: Self = Self(0);

    /// The sequence number carried in a header as `value`.
    pub const fn new(value: u16) -> Self {
        Self(value)
    }

    /// The value to put in a header.
    pub const fn value(self) -> u16 {
        self.0
    }

    /// The following sequence number; 65535 is followed by 0.
    #[must_use]
    pub const fn next(self) -> Self {
        Self(self.0.wrapping_add(1))
    }

    /// The sequence number `n` steps after this one, modulo 65536.
    #[must_use]
    pub const fn wrapping_add(self, n: u16) -> Self {
        Self(self.0.wrapping_add(n))
    }

    /// The sequence number `n` steps before this one, modulo 65536.
    #[must_use]
    pub const fn wrapping_sub(self, n: u16) -> Self {
        Self(self.0.wrapping_sub(n))
    }

    /// How many steps forward it takes to get from `earlier` to `self`, modulo 65536.
    ///
    /// `earlier.wrapping_add(self.distance_from(earlier)) == self` always holds. A distance of
    /// 32768 or more means `self` is at or before `earlier` in the RFC's sense.
    pub const fn distance_from(self, earlier: Self) -> u16 {
        self.0.wrapping_sub(earlier.0)
    }

    /// Whether `self` is "less than or equal to" `other` as RFC 2661 §5.8 defines it: `self`
    /// equals `other` or is one of the 32767 values preceding it.
    ///
    /// This is the duplicate test: a received Ns that is at or before the last received Ns has
    /// been seen already.
    pub const fn is_at_or_before(self, other: Self) -> bool {
        other.distance_from(self) < HALF
    }

    /// Whether `self` is one of the 32767 values preceding `other` (strictly before it).
    pub const fn is_before(self, other: Self) -> bool {
        self.0 != other.0 && self.is_at_or_before(other)
    }

    /// Whether `self` is after `other`: the negation of [`Seq::is_at_or_before`], so that for
    /// any pair exactly one of `is_before`, equality and `is_after` holds.
    ///
    /// At the antipode (a distance of exactly 32768) both numbers are "after" each other; the
    /// RFC's definition is asymmetric there and peers never have that many messages in flight.
    pub const fn is_after(self, other: Self) -> bool {
        !self.is_at_or_before(other)
    }
}

impl From<u16> for Seq {
    fn from(value: u16) -> Self {
        Self(value)
    }
}

impl From<Seq> for u16 {
    fn from(seq: Seq) -> Self {
        seq.0
    }
}

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Half the sequence space: the RFC's "preceding 32767 values" plus the value itself.
const HALF: u16 = 0x8000;

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn next_wraps_at_65535() {
        assert_eq!(Seq::new(0xFFFF).next(), Seq::ZERO);
        assert_eq!(Seq::new(7).next(), Seq::new(8));
        assert_eq!(Seq::new(0xFFFE).wrapping_add(3), Seq::new(1));
        assert_eq!(Seq::new(1).wrapping_sub(3), Seq::new(0xFFFE));
    }

    /// The worked example of RFC 2661 §5.8: with 15 last received, 0..=15 and 32784..=65535 are
    /// "less than or equal", everything else is new.
    #[test]
    fn rfc_2661_example() {
        let last = Seq::new(15);
        for v in 0..=u16::MAX {
            let expected = v <= 15 || v >= 32784;
            assert_eq!(Seq::new(v).is_at_or_before(last), expected, "value {v}");
            assert_eq!(Seq::new(v).is_after(last), !expected, "value {v}");
        }
    }

    #[test]
    fn antipode_is_after_both_ways() {
        let a = Seq::new(100);
        let b = a.wrapping_add(HALF);
        assert!(a.is_after(b) && b.is_after(a));
        assert!(!a.is_before(b) && !b.is_before(a));
    }

    #[test]
    fn display_and_conversions() {
        assert_eq!(Seq::new(65535).to_string(), "65535");
        assert_eq!(u16::from(Seq::from(42)), 42);
        assert_eq!(Seq::default(), Seq::ZERO);
    }

    proptest! {
        #[test]
        fn distance_round_trips(a: u16, d: u16) {
            let a = Seq::new(a);
            prop_assert_eq!(a.wrapping_add(d).distance_from(a), d);
            prop_assert_eq!(a.wrapping_add(d).wrapping_sub(d), a);
        }

        #[test]
        fn trichotomy(a: u16, b: u16) {
            let (a, b) = (Seq::new(a), Seq::new(b));
            let holding = [a.is_before(b), a == b, a.is_after(b)];
            prop_assert_eq!(holding.iter().filter(|h| **h).count(), 1);
        }

        /// Away from the antipode the order is antisymmetric: `a` before `b` iff `b` after `a`.
        #[test]
        fn antisymmetric_off_the_antipode(a: u16, d in (0u16..=u16::MAX).prop_filter("antipode", |d| *d != HALF)) {
            let a = Seq::new(a);
            let b = a.wrapping_add(d);
            prop_assert_eq!(a.is_before(b), b.is_after(a));
            prop_assert_eq!(a.is_after(b), b.is_before(a));
        }

        /// Up to 32767 steps forward is "after", across the wrap as anywhere else.
        #[test]
        fn forward_steps_are_after(a in 0xFF00u16..=0xFFFF, d in 1u16..HALF) {
            let a = Seq::new(a);
            let b = a.wrapping_add(d);
            prop_assert!(b.is_after(a));
            prop_assert!(a.is_before(b));
            prop_assert!(a.is_at_or_before(b));
            prop_assert!(a.is_before(a.next()));
            prop_assert!(!b.is_at_or_before(a));
        }

        #[test]
        fn is_before_matches_distance(a: u16, b: u16) {
            let (a, b) = (Seq::new(a), Seq::new(b));
            let d = b.distance_from(a);
            prop_assert_eq!(a.is_before(b), (1..HALF).contains(&d));
        }
    }
}
