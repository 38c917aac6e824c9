//! Secrets: a password and an NT password hash, whose `Debug` output is redacted and whose
//! comparisons run in constant time (`subtle`).

use std::fmt;

use subtle::ConstantTimeEq;

/// A password: what a PAP peer sends, what CHAP and MS-CHAPv2 responses are computed from.
///
/// `Debug` never shows it; `==` takes a time independent of where two passwords first differ
/// (it does reveal whether their lengths differ). It is not wiped on drop (that needs `unsafe`
/// or another dependency).
#[derive(Clone, Default)]
pub struct Password(Box<[u8]>);

impl Password {
    /// A password from its octets (UTF-8 for MS-CHAPv2, which hashes it as UTF-16).
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into().into_boxed_slice())
    }

    /// The octets, to feed a hash. Never log them.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Heap octets held.
    pub fn heap_bytes(&self) -> usize {
        self.0.len()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl PartialEq for Password {
    fn eq(&self, other: &Self) -> bool {
        ct_eq(&self.0, &other.0)
    }
}

impl Eq for Password {}

impl From<&str> for Password {
    fn from(s: &str) -> Self {
        Self::new(s.as_bytes())
    }
}

impl From<&[u8]> for Password {
    fn from(s: &[u8]) -> Self {
        Self::new(s)
    }
}

/// The NT password hash of MS-CHAPv2 (RFC 2759 §8.3: MD4 of the UTF-16LE password): what a
/// local user database may store instead of the password. Redacted in `Debug`.
#[derive(Clone, Copy, Default)]
pub struct NtHash(pub(crate) [u8; 16]);

impl NtHash {
    /// A hash from its 16 octets (e.g. from a user database).
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The octets. Never log them.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Debug for NtHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NtHash(<redacted>)")
    }
}

impl PartialEq for NtHash {
    fn eq(&self, other: &Self) -> bool {
        ct_eq(&self.0, &other.0)
    }
}

impl Eq for NtHash {}

/// Compares two octet strings in time independent of their contents (their lengths may leak).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let p = Password::from("hunter2");
        assert!(!format!("{p:?}").contains("hunter2"));
        let h = NtHash::from_bytes([0xab; 16]);
        assert!(!format!("{h:?}").to_lowercase().contains("ab"));
        assert_eq!(p, Password::from("hunter2"));
        assert_ne!(p, Password::from("hunter3"));
        assert_ne!(p, Password::from("hunter22"));
    }
}
