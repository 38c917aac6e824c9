//! The L2TP wire format: headers, AVPs and control messages.

pub mod access_line;
pub mod avp;
pub mod digest;
pub mod header;
pub mod hidden;
pub mod message;
pub(crate) mod ranges;
pub mod result;

pub use avp::{Avp, AvpType};
pub use header::{ControlHeader, Cookie, Encapsulation, Packet, Version};
pub use message::{AvpEntry, DecodeContext, Message, MessageError, MessageType, Reaction};
