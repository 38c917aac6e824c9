//! Sans-IO RADIUS.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod attr;
pub mod client;
pub mod code;
pub mod crypt;
pub mod dict;
pub mod dynauth;
pub mod packet;
mod slab;

pub use attr::{Attribute, Attributes, EncodeError, Ipv6Prefix};
pub use code::Code;
pub use dict::{AttrType, VendorType};
pub use l2tp_proto::auth::Secret;
pub use packet::{DecodeError, Packet, VerifyError};
