//! Conversion of a parameter's raw values (words and strings) to typed values, with error
//! messages that name the expected type.

mod addr;
mod base;
mod lists;

pub(crate) use addr::{
    dynauth_addrs, endpoints, ip, ip_endpoint, ip_prefix, ipv4_host, ipv4_ranges, ipv4_unusable,
    mac, mask_len, metrics_addrs, netmask, router_id, socket_addrs,
};
pub(crate) use base::{
    Res, Values, access_line_id, boolean, cookie, cookie_length, fixed_interface_name,
    interface_name, keyword, name, number, path, secret, strings, text, text_or_bytes,
};
pub(crate) use lists::{bearer_caps, framing_caps, pseudowire_type, pseudowire_types, version};
