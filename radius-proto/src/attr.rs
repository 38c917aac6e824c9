//! Attributes: a list kept in wire form (type, length, value; RFC 2865 §5), with builders,
//! typed accessors and a redacting `Display`.
//!
//! [`Attributes`] holds the attributes of one packet in a single buffer, in the order they were
//! added or received, so that a packet costs one allocation and re-encodes byte for byte.
//! Attributes unknown to the [dictionary](crate::dict) are kept and skipped by the typed
//! accessors. Vendor-Specific attributes (RFC 2865 §5.26) in the recommended format (type,
//! length, value per vendor attribute) are reached with [`Attributes::vendor`] and
//! [`Attributes::vendor_attributes`].
//!
//! The values of User-Password, Tunnel-Password and the MPPE keys, and the CHAP and MS-CHAP
//! responses (which would let an eavesdropper of the logs guess the password offline), are
//! never shown by `Display` or `Debug`: they print as `<hidden>`.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::dict::{self, AttrType, DataType, VendorType};

mod typed;

/// The longest attribute value: the Length octet counts the two header octets (RFC 2865 §5).
pub const MAX_VALUE_LEN: usize = 253;

/// What can go wrong adding an attribute or encoding a packet.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The value does not fit in one attribute.
    #[error("{attr}: value of {len} octets is longer than 253")]
    ValueTooLong {
        /// The attribute.
        attr: AttrType,
        /// The value's length.
        len: usize,
    },
    /// The packet would be longer than 4096 octets (RFC 2865 §3).
    #[error("packet of {0} octets is longer than 4096")]
    PacketTooLong(usize),
    /// A tag outside 0x01-0x1F (RFC 2868 §3.1), or 0 where a tag is required.
    #[error("{attr}: invalid tag {tag}")]
    BadTag {
        /// The attribute.
        attr: AttrType,
        /// The tag given.
        tag: u8,
    },
    /// A value could not be hidden.
    #[error("hiding a value: {0}")]
    Crypt(#[from] crate::crypt::CryptError),
}

/// What is wrong with a received list of attributes.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AttrError {
    /// An attribute's Length octet is below 2 or runs past the end of the packet.
    #[error("attribute at offset {offset} overruns the packet")]
    Overrun {
        /// Offset of the attribute within the attributes.
        offset: usize,
    },
    /// A known attribute has a value of a length its type does not allow (RFC 2865 §5: a
    /// response with such an attribute is treated as a Reject or discarded).
    #[error("{attr} has an invalid length of {len} octets")]
    Length {
        /// The attribute.
        attr: AttrType,
        /// The value's length.
        len: usize,
    },
    /// A known vendor attribute has an invalid length, or the vendor data is malformed.
    #[error("{attr} has an invalid length of {len} octets")]
    VendorLength {
        /// The vendor attribute.
        attr: VendorType,
        /// The value's length.
        len: usize,
    },
    /// An IPv6 prefix whose Prefix-Length is over 128 or longer than its Prefix field.
    #[error("{attr} has an invalid prefix length")]
    Prefix {
        /// The attribute.
        attr: AttrType,
    },
}

/// An IPv6 prefix (RFC 3162 §2.3): bits beyond `len` are zero.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Ipv6Prefix {
    /// The prefix, bits beyond `len` zero.
    pub addr: Ipv6Addr,
    /// The prefix length, 0 to 128.
    pub len: u8,
}

impl Ipv6Prefix {
    /// A prefix of `len` bits of `addr` (masked; `len` capped at 128).
    pub fn new(addr: Ipv6Addr, len: u8) -> Self {
        let len = len.min(128);
        let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
        Self {
            addr: Ipv6Addr::from(u128::from(addr) & mask),
            len,
        }
    }
}

impl fmt::Display for Ipv6Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// One attribute, borrowed from an [`Attributes`] list.
#[derive(Clone, Copy, Eq, PartialEq)]
pub struct Attribute<'a> {
    /// Its type.
    pub attr_type: AttrType,
    /// Its value (for User-Password in a received packet: the hidden value).
    pub value: &'a [u8],
}

impl Attribute<'_> {
    /// The dictionary's data type, if it knows the attribute.
    pub fn data_type(&self) -> Option<DataType> {
        dict::lookup(self.attr_type).map(|e| e.data_type)
    }
}

impl fmt::Display for Attribute<'_> {
    /// `Name = value`, formatted by the dictionary's data type; secrets as `<hidden>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.attr_type == AttrType::VENDOR_SPECIFIC {
            let mut first = true;
            for (vt, value) in vendor_iter(self.value) {
                if !first {
                    f.write_str(", ")?;
                }
                first = false;
                write!(f, "{vt} = ")?;
                if vt.is_secret() {
                    f.write_str("<hidden>")?;
                } else {
                    fmt_value(f, dict::lookup_vendor(vt).map(|e| e.data_type), value)?;
                }
            }
            if first {
                write!(f, "Vendor-Specific = ")?;
                fmt_value(f, None, self.value)?;
            }
            return Ok(());
        }
        write!(f, "{} = ", self.attr_type)?;
        if self.attr_type.is_secret() {
            return f.write_str("<hidden>");
        }
        fmt_value(f, self.data_type(), self.value)
    }
}

impl fmt::Debug for Attribute<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

fn fmt_value(f: &mut fmt::Formatter<'_>, ty: Option<DataType>, v: &[u8]) -> fmt::Result {
    let int = |b: &[u8]| b.try_into().ok().map(u32::from_be_bytes);
    match ty {
        Some(t) if t.is_secret() => f.write_str("<hidden>"),
        Some(DataType::Text) => write!(f, "{:?}", String::from_utf8_lossy(v)),
        Some(DataType::Address) if v.len() == 4 => {
            write!(f, "{}", Ipv4Addr::new(v[0], v[1], v[2], v[3]))
        }
        Some(DataType::Integer | DataType::Time) if let Some(n) = int(v) => write!(f, "{n}"),
        Some(DataType::Ipv6Address) if let Ok(a) = <[u8; 16]>::try_from(v) => {
            write!(f, "{}", Ipv6Addr::from(a))
        }
        Some(DataType::Ipv6Prefix) if let Some(p) = ipv6_prefix(v) => write!(f, "{p}"),
        Some(DataType::TaggedInteger) if v.len() == 4 => {
            write!(f, ":{} {}", v[0], u32::from_be_bytes([0, v[1], v[2], v[3]]))
        }
        Some(DataType::TaggedText) => {
            let (tag, text) = tagged_text(v);
            write!(f, ":{tag} {:?}", String::from_utf8_lossy(text))
        }
        _ => {
            f.write_str("0x")?;
            v.iter().try_for_each(|b| write!(f, "{b:02x}"))
        }
    }
}

/// The attributes of one packet, in wire form. See the [module documentation](self).
#[derive(Clone, Default, Eq, PartialEq)]
pub struct Attributes {
    buf: Vec<u8>,
}

impl fmt::Debug for Attributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Attributes {
    /// An empty list.
    pub const fn new() -> Self {
        Self { buf: Vec::new() }
    }

    /// An empty list with room for `bytes` octets of attributes.
    pub fn with_capacity(bytes: usize) -> Self {
        Self {
            buf: Vec::with_capacity(bytes),
        }
    }

    /// Parses the attributes of a received packet, checking every known attribute's length
    /// (RFC 2865 §5) and the format of Microsoft vendor attributes.
    ///
    /// # Errors
    ///
    /// [`AttrError`] names the first attribute that is malformed.
    pub fn from_wire(bytes: &[u8]) -> Result<Self, AttrError> {
        let mut offset = 0;
        while offset < bytes.len() {
            let len = bytes.get(offset + 1).map_or(0, |&l| usize::from(l));
            if len < 2 || offset + len > bytes.len() {
                return Err(AttrError::Overrun { offset });
            }
            validate(AttrType(bytes[offset]), &bytes[offset + 2..offset + len])?;
            offset += len;
        }
        Ok(Self {
            buf: bytes.to_vec(),
        })
    }

    /// The attributes in wire form.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Every attribute, in order.
    pub fn iter(&self) -> AttrIter<'_> {
        AttrIter { rest: &self.buf }
    }

    /// Removes every attribute of type `attr`.
    pub fn remove(&mut self, attr: AttrType) {
        let mut out = Vec::with_capacity(self.buf.len());
        for a in self.iter().filter(|a| a.attr_type != attr) {
            out.push(a.attr_type.0);
            out.push((a.value.len() + 2) as u8);
            out.extend_from_slice(a.value);
        }
        self.buf = out;
    }

    /// Appends an attribute with a raw value.
    ///
    /// # Errors
    ///
    /// [`EncodeError::ValueTooLong`] if `value` has more than [`MAX_VALUE_LEN`] octets.
    pub fn push(&mut self, attr: AttrType, value: &[u8]) -> Result<&mut Self, EncodeError> {
        if value.len() > MAX_VALUE_LEN {
            return Err(EncodeError::ValueTooLong {
                attr,
                len: value.len(),
            });
        }
        self.buf.push(attr.0);
        self.buf.push((value.len() + 2) as u8);
        self.buf.extend_from_slice(value);
        Ok(self)
    }

    /// Appends a text attribute.
    ///
    /// # Errors
    ///
    /// [`EncodeError::ValueTooLong`].
    pub fn push_text(&mut self, attr: AttrType, text: &str) -> Result<&mut Self, EncodeError> {
        self.push(attr, text.as_bytes())
    }

    /// Appends an integer (or time, or enumerated) attribute.
    pub fn push_u32(&mut self, attr: AttrType, value: u32) -> &mut Self {
        self.push_fixed(attr, &value.to_be_bytes())
    }

    /// Appends an IPv4 address attribute.
    pub fn push_ipv4(&mut self, attr: AttrType, addr: Ipv4Addr) -> &mut Self {
        self.push_fixed(attr, &addr.octets())
    }

    /// Appends an IPv6 address attribute.
    pub fn push_ipv6(&mut self, attr: AttrType, addr: Ipv6Addr) -> &mut Self {
        self.push_fixed(attr, &addr.octets())
    }

    /// Appends an IPv6 prefix attribute (RFC 3162 §2.3), with only the octets the prefix
    /// length needs.
    pub fn push_ipv6_prefix(&mut self, attr: AttrType, prefix: Ipv6Prefix) -> &mut Self {
        let prefix = Ipv6Prefix::new(prefix.addr, prefix.len);
        let octets = usize::from(prefix.len).div_ceil(8);
        let mut value = [0u8; 18];
        value[1] = prefix.len;
        value[2..2 + octets].copy_from_slice(&prefix.addr.octets()[..octets]);
        self.push_fixed(attr, &value[..2 + octets])
    }

    /// Appends an IPv6 interface identifier attribute (RFC 3162 §2.2).
    pub fn push_interface_id(&mut self, attr: AttrType, id: [u8; 8]) -> &mut Self {
        self.push_fixed(attr, &id)
    }

    /// Appends a tagged integer (RFC 2868 §3.1): a tag 0x00-0x1F and a 24-bit value (the top
    /// octet of `value` is dropped).
    ///
    /// # Errors
    ///
    /// [`EncodeError::BadTag`] for a tag over 0x1F.
    pub fn push_tagged_u32(
        &mut self,
        attr: AttrType,
        tag: u8,
        value: u32,
    ) -> Result<&mut Self, EncodeError> {
        if tag > 0x1f {
            return Err(EncodeError::BadTag { attr, tag });
        }
        let v = value.to_be_bytes();
        Ok(self.push_fixed(attr, &[tag, v[1], v[2], v[3]]))
    }

    /// Appends a tagged text (RFC 2868 §3.3): with tag 0 no tag octet is sent (the text must
    /// then not start with an octet 0x01-0x1F, or it would be read as a tag).
    ///
    /// # Errors
    ///
    /// [`EncodeError::BadTag`] for a tag over 0x1F, or tag 0 with text that starts like a tag;
    /// [`EncodeError::ValueTooLong`].
    pub fn push_tagged_text(
        &mut self,
        attr: AttrType,
        tag: u8,
        text: &str,
    ) -> Result<&mut Self, EncodeError> {
        let ambiguous = text.as_bytes().first().is_some_and(|&b| b <= 0x1f);
        if tag > 0x1f || (tag == 0 && ambiguous) {
            return Err(EncodeError::BadTag { attr, tag });
        }
        if tag == 0 {
            return self.push(attr, text.as_bytes());
        }
        let mut value = Vec::with_capacity(text.len() + 1);
        value.push(tag);
        value.extend_from_slice(text.as_bytes());
        self.push(attr, &value)
    }

    /// Appends a Vendor-Specific attribute holding one vendor attribute in the recommended
    /// format (RFC 2865 §5.26).
    ///
    /// # Errors
    ///
    /// [`EncodeError::ValueTooLong`] if `value` has more than 247 octets.
    pub fn push_vendor(
        &mut self,
        attr: VendorType,
        value: &[u8],
    ) -> Result<&mut Self, EncodeError> {
        if value.len() > MAX_VALUE_LEN - 6 {
            return Err(EncodeError::ValueTooLong {
                attr: AttrType::VENDOR_SPECIFIC,
                len: value.len() + 6,
            });
        }
        self.buf.push(AttrType::VENDOR_SPECIFIC.0);
        self.buf.push((value.len() + 8) as u8);
        self.buf.extend_from_slice(&attr.vendor.to_be_bytes());
        self.buf.push(attr.vendor_type);
        self.buf.push((value.len() + 2) as u8);
        self.buf.extend_from_slice(value);
        Ok(self)
    }

    /// Appends the attributes of `other`.
    pub fn extend_from(&mut self, other: &Attributes) -> &mut Self {
        self.buf.extend_from_slice(&other.buf);
        self
    }

    /// Overwrites the value of the last attribute if it is an `attr` of four octets; returns
    /// whether it did.
    pub(crate) fn set_last_u32(&mut self, attr: AttrType, value: u32) -> bool {
        let n = self.buf.len();
        if n < 6 || self.buf[n - 6] != attr.0 || self.buf[n - 5] != 6 {
            return false;
        }
        // The last attribute starts 6 octets from the end only if the walk lands there.
        let mut offset = 0;
        while offset + 6 < n {
            offset += usize::from(self.buf[offset + 1]).max(2);
        }
        if offset != n - 6 {
            return false;
        }
        self.buf[n - 4..].copy_from_slice(&value.to_be_bytes());
        true
    }

    fn push_fixed(&mut self, attr: AttrType, value: &[u8]) -> &mut Self {
        // Every caller passes at most 18 octets.
        self.buf.push(attr.0);
        self.buf.push((value.len() + 2) as u8);
        self.buf.extend_from_slice(value);
        self
    }

    /// The value of the first attribute of type `attr`.
    pub fn get(&self, attr: AttrType) -> Option<&[u8]> {
        self.iter().find(|a| a.attr_type == attr).map(|a| a.value)
    }

    /// The values of every attribute of type `attr`, in order (e.g. every Class).
    pub fn get_all(&self, attr: AttrType) -> impl Iterator<Item = &[u8]> + '_ {
        self.iter()
            .filter(move |a| a.attr_type == attr)
            .map(|a| a.value)
    }

    /// Whether an attribute of type `attr` is present.
    pub fn contains(&self, attr: AttrType) -> bool {
        self.get(attr).is_some()
    }

    /// The first `attr` as an integer.
    pub fn u32(&self, attr: AttrType) -> Option<u32> {
        self.get(attr)?.try_into().ok().map(u32::from_be_bytes)
    }

    /// The first `attr` as an IPv4 address.
    pub fn ipv4(&self, attr: AttrType) -> Option<Ipv4Addr> {
        <[u8; 4]>::try_from(self.get(attr)?)
            .ok()
            .map(Ipv4Addr::from)
    }

    /// The first `attr` as an IPv6 address.
    pub fn ipv6(&self, attr: AttrType) -> Option<Ipv6Addr> {
        <[u8; 16]>::try_from(self.get(attr)?)
            .ok()
            .map(Ipv6Addr::from)
    }

    /// The first `attr` as an IPv6 prefix.
    pub fn ipv6_prefix(&self, attr: AttrType) -> Option<Ipv6Prefix> {
        ipv6_prefix(self.get(attr)?)
    }

    /// The first `attr` as an IPv6 interface identifier.
    pub fn interface_id(&self, attr: AttrType) -> Option<[u8; 8]> {
        self.get(attr)?.try_into().ok()
    }

    /// The first `attr` as UTF-8 text (`None` if absent or not UTF-8; [`Attributes::get`]
    /// gives the octets).
    pub fn text(&self, attr: AttrType) -> Option<&str> {
        std::str::from_utf8(self.get(attr)?).ok()
    }

    /// Every `attr` as a tagged integer: `(tag, value)` (RFC 2868 §3.1).
    pub fn tagged_u32(&self, attr: AttrType) -> impl Iterator<Item = (u8, u32)> + '_ {
        self.get_all(attr)
            .filter(|v| v.len() == 4)
            .map(|v| (v[0], u32::from_be_bytes([0, v[1], v[2], v[3]])))
    }

    /// Every `attr` as tagged text: `(tag, text)`, tag 0 where none was sent (RFC 2868 §3.3).
    pub fn tagged_text(&self, attr: AttrType) -> impl Iterator<Item = (u8, &[u8])> + '_ {
        self.get_all(attr).map(tagged_text)
    }

    /// The value of the first vendor attribute `attr`.
    pub fn vendor(&self, attr: VendorType) -> Option<&[u8]> {
        self.vendor_attributes()
            .find(|(t, _)| *t == attr)
            .map(|(_, v)| v)
    }

    /// Every vendor attribute in the recommended format, in order.
    pub fn vendor_attributes(&self) -> impl Iterator<Item = (VendorType, &[u8])> + '_ {
        self.get_all(AttrType::VENDOR_SPECIFIC)
            .flat_map(vendor_iter)
    }

    /// The first vendor attribute `attr` as an IPv4 address.
    pub fn vendor_ipv4(&self, attr: VendorType) -> Option<Ipv4Addr> {
        <[u8; 4]>::try_from(self.vendor(attr)?)
            .ok()
            .map(Ipv4Addr::from)
    }
}

/// Iterator over [`Attributes`]; stops at the first malformed attribute (there is none in a
/// list built by this crate or accepted by [`Attributes::from_wire`]).
#[derive(Clone, Debug)]
pub struct AttrIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for AttrIter<'a> {
    type Item = Attribute<'a>;

    fn next(&mut self) -> Option<Attribute<'a>> {
        let (&t, rest) = self.rest.split_first()?;
        let len = usize::from(*rest.first()?);
        let value = self.rest.get(2..len)?;
        self.rest = &self.rest[len..];
        Some(Attribute {
            attr_type: AttrType(t),
            value,
        })
    }
}

/// The vendor attributes in a Vendor-Specific value in the recommended format; nothing for
/// other formats.
fn vendor_iter(vsa: &[u8]) -> impl Iterator<Item = (VendorType, &[u8])> {
    let vendor = vsa
        .get(..4)
        .map_or(0, |v| u32::from_be_bytes([v[0], v[1], v[2], v[3]]));
    let mut rest = vsa.get(4..).unwrap_or_default();
    if !vendor_data_ok(rest) {
        rest = &[];
    }
    std::iter::from_fn(move || {
        let (&t, tail) = rest.split_first()?;
        let len = usize::from(*tail.first()?);
        let value = rest.get(2..len)?;
        rest = &rest[len..];
        Some((
            VendorType {
                vendor,
                vendor_type: t,
            },
            value,
        ))
    })
}

fn vendor_data_ok(mut data: &[u8]) -> bool {
    while !data.is_empty() {
        let len = data.get(1).map_or(0, |&l| usize::from(l));
        if len < 2 || len > data.len() {
            return false;
        }
        data = &data[len..];
    }
    true
}

fn tagged_text(v: &[u8]) -> (u8, &[u8]) {
    match v.split_first() {
        Some((&tag, rest)) if (0x01..=0x1f).contains(&tag) => (tag, rest),
        Some((0, rest)) => (0, rest),
        _ => (0, v),
    }
}

fn ipv6_prefix(v: &[u8]) -> Option<Ipv6Prefix> {
    let len = *v.get(1)?;
    let bytes = v.get(2..)?;
    if len > 128 || bytes.len() > 16 || bytes.len() * 8 < usize::from(len) {
        return None;
    }
    let mut addr = [0u8; 16];
    addr[..bytes.len()].copy_from_slice(bytes);
    Some(Ipv6Prefix::new(Ipv6Addr::from(addr), len))
}

/// Checks a received value against its type's lengths (RFC 2865 §5, RFC 3162 §2.3, RFC 2868).
fn validate(attr: AttrType, value: &[u8]) -> Result<(), AttrError> {
    let Some(entry) = dict::lookup(attr) else {
        return Ok(());
    };
    let len = value.len();
    let (min, max) = entry.data_type.value_len();
    let bad = AttrError::Length { attr, len };
    // Text and octets of zero length are tolerated (RFC 8044 §3.5 notes some servers send them).
    let lenient = matches!(entry.data_type, DataType::Text | DataType::Octets) && len == 0;
    if !lenient && (len < min || len > max) {
        return Err(bad);
    }
    match entry.data_type {
        DataType::UserPassword if !len.is_multiple_of(16) => Err(bad),
        DataType::TunnelPassword if !(len - 3).is_multiple_of(16) => Err(bad),
        DataType::Salted if !(len - 2).is_multiple_of(16) => Err(bad),
        DataType::Ipv6Prefix if ipv6_prefix(value).is_none() => Err(AttrError::Prefix { attr }),
        DataType::VendorSpecific => validate_vendor(value),
        _ => Ok(()),
    }
}

fn validate_vendor(value: &[u8]) -> Result<(), AttrError> {
    let vendor = u32::from_be_bytes([value[0], value[1], value[2], value[3]]);
    if vendor != dict::VENDOR_MICROSOFT {
        return Ok(());
    }
    let data = &value[4..];
    if !vendor_data_ok(data) {
        return Err(AttrError::VendorLength {
            attr: VendorType {
                vendor,
                vendor_type: data[0],
            },
            len: data.len(),
        });
    }
    for (vt, v) in vendor_iter(value) {
        let Some(entry) = dict::lookup_vendor(vt) else {
            continue;
        };
        let (min, max) = entry.data_type.value_len();
        let salted_ok = entry.data_type != DataType::Salted
            || (v.len() >= 2 && (v.len() - 2).is_multiple_of(16));
        if v.len() < min || v.len() > max || !salted_ok {
            return Err(AttrError::VendorLength {
                attr: vt,
                len: v.len(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::dict::ms;

    #[test]
    fn builds_and_reads_typed_values() {
        let mut a = Attributes::new();
        a.push_user_name("alice").unwrap();
        a.push_framed_ip_address(Ipv4Addr::new(198, 51, 100, 7))
            .unwrap();
        a.push_framed_ipv6_prefix(Ipv6Prefix::new("2001:db8:1::".parse().unwrap(), 48))
            .unwrap();
        a.push_session_timeout(3600).unwrap();
        a.push_tunnel_type(1, dict::values::tunnel_type::L2TP)
            .unwrap();
        a.push_tunnel_server_endpoint(1, "192.0.2.1").unwrap();
        a.push_class(b"c1").unwrap().push_class(b"c2").unwrap();
        let b = Attributes::from_wire(a.as_bytes()).unwrap();
        assert_eq!(b, a);
        assert_eq!(b.user_name(), Some("alice"));
        assert_eq!(b.framed_ip_address(), Some(Ipv4Addr::new(198, 51, 100, 7)));
        assert_eq!(
            b.framed_ipv6_prefix().unwrap().to_string(),
            "2001:db8:1::/48"
        );
        assert_eq!(b.session_timeout(), Some(3600));
        assert_eq!(
            b.tagged_u32(AttrType::TUNNEL_TYPE).collect::<Vec<_>>(),
            [(1, 3)]
        );
        assert_eq!(
            b.tagged_text(AttrType::TUNNEL_SERVER_ENDPOINT)
                .collect::<Vec<_>>(),
            [(1, &b"192.0.2.1"[..])]
        );
        assert_eq!(b.classes().collect::<Vec<_>>(), [b"c1", b"c2"]);
        assert_eq!(b.idle_timeout(), None);
    }

    #[test]
    fn vendor_attributes() {
        let mut a = Attributes::new();
        a.push_vendor(ms::PRIMARY_DNS_SERVER, &[192, 0, 2, 53])
            .unwrap();
        a.push_vendor(ms::CHAP2_SUCCESS, b"\x01S=0123").unwrap();
        let b = Attributes::from_wire(a.as_bytes()).unwrap();
        assert_eq!(
            b.ms_primary_dns_server(),
            Some(Ipv4Addr::new(192, 0, 2, 53))
        );
        assert_eq!(b.ms_chap2_success(), Some(&b"\x01S=0123"[..]));
        assert_eq!(
            b.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
            [
                "MS-Primary-DNS-Server = 192.0.2.53",
                "MS-CHAP2-Success = 0x01533d30313233"
            ]
        );
        // A Microsoft attribute of the wrong length is refused.
        let mut bad = Attributes::new();
        bad.push_vendor(ms::PRIMARY_DNS_SERVER, &[1, 2, 3]).unwrap();
        assert!(matches!(
            Attributes::from_wire(bad.as_bytes()),
            Err(AttrError::VendorLength { .. })
        ));
    }

    #[test]
    fn refuses_bad_lengths_and_keeps_unknown() {
        assert_eq!(
            Attributes::from_wire(&[8, 5, 1, 2, 3]),
            Err(AttrError::Length {
                attr: AttrType::FRAMED_IP_ADDRESS,
                len: 3
            })
        );
        assert_eq!(
            Attributes::from_wire(&[1, 1]),
            Err(AttrError::Overrun { offset: 0 })
        );
        assert_eq!(
            Attributes::from_wire(&[1, 4, b'a']),
            Err(AttrError::Overrun { offset: 0 })
        );
        let unknown = Attributes::from_wire(&[200, 3, 7, 1, 3, b'x']).unwrap();
        assert_eq!(unknown.iter().count(), 2);
        assert_eq!(
            format!("{unknown:?}"),
            "[Attr-200 = 0x07, User-Name = \"x\"]"
        );
    }

    #[test]
    fn secrets_are_hidden_in_debug() {
        let mut a = Attributes::new();
        a.push_user_password(b"hunter2").unwrap();
        let shown = format!("{a:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("User-Password = <hidden>"));
        let mut chap = Attributes::new();
        chap.push_chap_password(&[1; 17]).unwrap();
        chap.push_ms_chap2_response(&[2; 50]).unwrap();
        assert_eq!(
            format!("{chap:?}"),
            "[CHAP-Password = <hidden>, MS-CHAP2-Response = <hidden>]"
        );
    }

    #[test]
    fn tags_and_lengths_are_checked_when_building() {
        let mut a = Attributes::new();
        assert!(a.push_tunnel_type(0x20, 3).is_err());
        assert!(
            a.push_tagged_text(AttrType::TUNNEL_CLIENT_ENDPOINT, 0, "\x01x")
                .is_err()
        );
        assert!(a.push(AttrType::CLASS, &[0; 254]).is_err());
        assert!(a.push_user_password(&[1; 129]).is_err());
        a.remove(AttrType::CLASS);
        assert!(a.is_empty());
    }
}
