//! The `params!` macro that declares a block type's parameters: the `*Params` struct as
//! written, the `*Settings` struct with defaults applied, and their key table, parsers,
//! `overlay` and `resolve`.

/// Defines a `*Params` struct (every field `Option`, as written in one block) and its resolved
/// `*Settings` struct, the key table, the value parsers, `overlay` and `resolve`.
///
/// Each field reads `name: WrittenType => ResolvedType = default, parser;`. The default may use
/// the params struct through the identifier given in parentheses.
macro_rules! params {
    (
        $(#[$pmeta:meta])* pub struct $params:ident;
        $(#[$smeta:meta])* pub struct $settings:ident;
        ($p:ident) {
            $( $(#[$fmeta:meta])* $field:ident : $pty:ty => $sty:ty = $default:expr, $parse:expr; )*
        }
    ) => {
        $(#[$pmeta])*
        #[derive(Clone, Debug, Default, Eq, PartialEq)]
        pub struct $params {
            $( $(#[$fmeta])* pub $field: Option<$pty>, )*
        }

        $(#[$smeta])*
        #[derive(Clone, Debug, Eq, PartialEq)]
        pub struct $settings {
            $( $(#[$fmeta])* pub $field: $sty, )*
        }

        impl $params {
            /// Every parameter name of this block type.
            pub const KEYS: &'static [&'static str] = &[$(stringify!($field)),*];

            /// `self` with every unset parameter taken from `base`.
            pub fn overlay(&self, base: &Self) -> Self {
                Self { $( $field: self.$field.clone().or_else(|| base.$field.clone()), )* }
            }

            /// The settings with every unset parameter at its built-in default.
            pub fn resolve(&self) -> $settings {
                let $p = self;
                $settings {
                    $( $field: $p.$field.clone().map(<$sty>::from).unwrap_or_else(|| $default), )*
                }
            }

            /// Whether parameter `key` is set.
            pub fn is_set(&self, key: &str) -> bool {
                match key {
                    $( stringify!($field) => self.$field.is_some(), )*
                    _ => false,
                }
            }

            /// Parses and stores one parameter; `None` when the key is not one of this type.
            pub(crate) fn set(
                &mut self,
                v: $crate::convert::Values<'_>,
            ) -> Option<$crate::convert::Res<()>> {
                match v.key.text.as_str() {
                    $( stringify!($field) => Some(($parse)(v).map(|x| self.$field = Some(x))), )*
                    _ => None,
                }
            }
        }

        impl $crate::params::Overlay for $params {
            fn overlay(&self, base: &Self) -> Self {
                $params::overlay(self, base)
            }
        }

        impl $settings {
            /// The names of the parameters whose values differ in `other`, in the block's
            /// order (for a reload's log line: names, never values, as some are secrets).
            pub fn changed_keys(&self, other: &Self) -> Vec<&'static str> {
                let mut keys = Vec::new();
                $( if self.$field != other.$field { keys.push(stringify!($field)); } )*
                keys
            }
        }

        impl Default for $settings {
            fn default() -> Self {
                $params::default().resolve()
            }
        }
    };
}
pub(crate) use params;

/// What inheritance needs of a block type's parameters as written.
pub(crate) trait Overlay: Clone + Default {
    /// `self` with every unset parameter taken from `base`.
    fn overlay(&self, base: &Self) -> Self;
}
