//! Ordered string-keyed maps (request parameters, settings) that serialize as JSON objects.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A list of `key: value` pairs kept in insertion order, serialized as a JSON object.
///
/// `Debug` prints `<redacted>` for the value of every key containing `secret`.
#[derive(Clone, Eq, PartialEq)]
pub struct OrderedMap<V>(pub Vec<(String, V)>);

/// `key=value` parameters of a create request, values spelled as in the config file.
pub type Params = OrderedMap<String>;

/// Effective settings of a profile or instance, in config-file order; `None` when unset.
pub type Settings = OrderedMap<Option<SettingValue>>;

impl<V> OrderedMap<V> {
    /// An empty map.
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// Appends `key: value` (a later duplicate shadows nothing; [`OrderedMap::get`] returns the
    /// first).
    pub fn push(&mut self, key: impl Into<String>, value: V) {
        self.0.push((key.into(), value));
    }

    /// The value of the first entry named `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is no entry.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<V> Default for OrderedMap<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V: fmt::Debug> fmt::Debug for OrderedMap<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (k, v) in &self.0 {
            if k.contains("secret") {
                m.entry(k, &format_args!("<redacted>"));
            } else {
                m.entry(k, v);
            }
        }
        m.finish()
    }
}

impl<K: Into<String>, V> FromIterator<(K, V)> for OrderedMap<V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self(iter.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }
}

impl<V: Serialize> Serialize for OrderedMap<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor<V>(PhantomData<V>);

        impl<'de, V: Deserialize<'de>> Visitor<'de> for MapVisitor<V> {
            type Value = OrderedMap<V>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(access.size_hint().unwrap_or(0).min(256));
                while let Some((k, v)) = access.next_entry::<String, V>()? {
                    out.push((k, v));
                }
                Ok(OrderedMap(out))
            }
        }

        deserializer.deserialize_map(MapVisitor(PhantomData))
    }
}

/// The value of one setting: a boolean, a number, a string (addresses, keywords and names are
/// strings, spelled as in the config file) or a list of strings.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
#[serde(untagged)]
pub enum SettingValue {
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(u64),
    /// A string.
    Text(String),
    /// A list of strings.
    List(Vec<String>),
}

impl fmt::Display for SettingValue {
    /// The value as it would be written in the config file.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn word(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
            if s.is_empty() || s.contains([' ', '\t', '#', '"']) {
                write!(f, "\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
            } else {
                f.write_str(s)
            }
        }
        match self {
            Self::Bool(b) => write!(f, "{b}"),
            Self::Number(n) => write!(f, "{n}"),
            Self::Text(s) => word(f, s),
            Self::List(items) => {
                for (i, s) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    word(f, s)?;
                }
                Ok(())
            }
        }
    }
}

impl From<bool> for SettingValue {
    fn from(b: bool) -> Self {
        Self::Bool(b)
    }
}

impl From<u64> for SettingValue {
    fn from(n: u64) -> Self {
        Self::Number(n)
    }
}

impl From<u32> for SettingValue {
    fn from(n: u32) -> Self {
        Self::Number(n.into())
    }
}

impl From<u16> for SettingValue {
    fn from(n: u16) -> Self {
        Self::Number(n.into())
    }
}

impl From<u8> for SettingValue {
    fn from(n: u8) -> Self {
        Self::Number(n.into())
    }
}

impl From<String> for SettingValue {
    fn from(s: String) -> Self {
        Self::Text(s)
    }
}

impl From<&str> for SettingValue {
    fn from(s: &str) -> Self {
        Self::Text(s.to_owned())
    }
}

impl From<Vec<String>> for SettingValue {
    fn from(v: Vec<String>) -> Self {
        Self::List(v)
    }
}
