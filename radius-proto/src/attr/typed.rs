//! Typed accessors and builders for the attributes the daemon sends and honours, one pair per
//! attribute, generated from one table so that the getter and the builder of an attribute
//! cannot disagree on its type.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::{Attributes, EncodeError, Ipv6Prefix};
use crate::dict::{AttrType, ms};

macro_rules! typed {
    ($( $get:ident $push:ident $konst:ident : $kind:ident $ty:ty; )*) => {
        impl Attributes {
            $(
                #[doc = concat!("The first `", stringify!($konst), "` attribute (see [`AttrType::", stringify!($konst), "`]).")]
                pub fn $get(&self) -> Option<$ty> {
                    typed!(@get self, $kind, AttrType::$konst)
                }

                #[doc = concat!("Appends a `", stringify!($konst), "` attribute (see [`AttrType::", stringify!($konst), "`]).")]
                pub fn $push(&mut self, value: $ty) -> Result<&mut Self, EncodeError> {
                    typed!(@push self, $kind, AttrType::$konst, value)
                }
            )*
        }
    };
    (@get $s:ident, text, $t:expr) => { $s.text($t) };
    (@get $s:ident, octets, $t:expr) => { $s.get($t) };
    (@get $s:ident, u32, $t:expr) => { $s.u32($t) };
    (@get $s:ident, ipv4, $t:expr) => { $s.ipv4($t) };
    (@get $s:ident, ipv6, $t:expr) => { $s.ipv6($t) };
    (@get $s:ident, prefix, $t:expr) => { $s.ipv6_prefix($t) };
    (@get $s:ident, ifid, $t:expr) => { $s.interface_id($t) };
    (@push $s:ident, text, $t:expr, $v:ident) => { $s.push_text($t, $v) };
    (@push $s:ident, octets, $t:expr, $v:ident) => { $s.push($t, $v) };
    (@push $s:ident, u32, $t:expr, $v:ident) => { Ok($s.push_u32($t, $v)) };
    (@push $s:ident, ipv4, $t:expr, $v:ident) => { Ok($s.push_ipv4($t, $v)) };
    (@push $s:ident, ipv6, $t:expr, $v:ident) => { Ok($s.push_ipv6($t, $v)) };
    (@push $s:ident, prefix, $t:expr, $v:ident) => { Ok($s.push_ipv6_prefix($t, $v)) };
    (@push $s:ident, ifid, $t:expr, $v:ident) => { Ok($s.push_interface_id($t, $v)) };
}

typed! {
    user_name push_user_name USER_NAME: text &str;
    chap_password push_chap_password CHAP_PASSWORD: octets &[u8];
    chap_challenge push_chap_challenge CHAP_CHALLENGE: octets &[u8];
    nas_identifier push_nas_identifier NAS_IDENTIFIER: text &str;
    nas_ip_address push_nas_ip_address NAS_IP_ADDRESS: ipv4 Ipv4Addr;
    nas_ipv6_address push_nas_ipv6_address NAS_IPV6_ADDRESS: ipv6 Ipv6Addr;
    nas_port push_nas_port NAS_PORT: u32 u32;
    nas_port_id push_nas_port_id NAS_PORT_ID: text &str;
    nas_port_type push_nas_port_type NAS_PORT_TYPE: u32 u32;
    service_type push_service_type SERVICE_TYPE: u32 u32;
    framed_protocol push_framed_protocol FRAMED_PROTOCOL: u32 u32;
    calling_station_id push_calling_station_id CALLING_STATION_ID: text &str;
    called_station_id push_called_station_id CALLED_STATION_ID: text &str;
    acct_session_id push_acct_session_id ACCT_SESSION_ID: text &str;
    acct_multi_session_id push_acct_multi_session_id ACCT_MULTI_SESSION_ID: text &str;
    framed_ip_address push_framed_ip_address FRAMED_IP_ADDRESS: ipv4 Ipv4Addr;
    framed_ip_netmask push_framed_ip_netmask FRAMED_IP_NETMASK: ipv4 Ipv4Addr;
    framed_pool push_framed_pool FRAMED_POOL: text &str;
    framed_ipv6_prefix push_framed_ipv6_prefix FRAMED_IPV6_PREFIX: prefix Ipv6Prefix;
    framed_ipv6_pool push_framed_ipv6_pool FRAMED_IPV6_POOL: text &str;
    delegated_ipv6_prefix push_delegated_ipv6_prefix DELEGATED_IPV6_PREFIX: prefix Ipv6Prefix;
    framed_interface_id push_framed_interface_id FRAMED_INTERFACE_ID: ifid [u8; 8];
    session_timeout push_session_timeout SESSION_TIMEOUT: u32 u32;
    idle_timeout push_idle_timeout IDLE_TIMEOUT: u32 u32;
    acct_interim_interval push_acct_interim_interval ACCT_INTERIM_INTERVAL: u32 u32;
    framed_mtu push_framed_mtu FRAMED_MTU: u32 u32;
    state push_state STATE: octets &[u8];
    reply_message push_reply_message REPLY_MESSAGE: text &str;
    acct_status_type push_acct_status_type ACCT_STATUS_TYPE: u32 u32;
    acct_terminate_cause push_acct_terminate_cause ACCT_TERMINATE_CAUSE: u32 u32;
    acct_session_time push_acct_session_time ACCT_SESSION_TIME: u32 u32;
    acct_input_octets push_acct_input_octets ACCT_INPUT_OCTETS: u32 u32;
    acct_output_octets push_acct_output_octets ACCT_OUTPUT_OCTETS: u32 u32;
    acct_input_packets push_acct_input_packets ACCT_INPUT_PACKETS: u32 u32;
    acct_output_packets push_acct_output_packets ACCT_OUTPUT_PACKETS: u32 u32;
    acct_input_gigawords push_acct_input_gigawords ACCT_INPUT_GIGAWORDS: u32 u32;
    acct_output_gigawords push_acct_output_gigawords ACCT_OUTPUT_GIGAWORDS: u32 u32;
    acct_delay_time push_acct_delay_time ACCT_DELAY_TIME: u32 u32;
    acct_authentic push_acct_authentic ACCT_AUTHENTIC: u32 u32;
    event_timestamp push_event_timestamp EVENT_TIMESTAMP: u32 u32;
    error_cause push_error_cause ERROR_CAUSE: u32 u32;
}

impl Attributes {
    /// Every Class attribute (RFC 2865 §5.25), to be echoed in accounting.
    pub fn classes(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.get_all(AttrType::CLASS)
    }

    /// Appends a Class attribute.
    ///
    /// # Errors
    ///
    /// [`EncodeError::ValueTooLong`].
    pub fn push_class(&mut self, value: &[u8]) -> Result<&mut Self, EncodeError> {
        self.push(AttrType::CLASS, value)
    }

    /// Appends User-Password in clear. The packet encoder hides it (RFC 2865 §5.2) with the
    /// secret and Request Authenticator of each transmission; `Debug` shows `<hidden>`.
    ///
    /// # Errors
    ///
    /// [`EncodeError::Crypt`] for a password of more than 128 octets.
    pub fn push_user_password(&mut self, password: &[u8]) -> Result<&mut Self, EncodeError> {
        if password.len() > crate::crypt::MAX_PASSWORD_LEN {
            return Err(crate::crypt::CryptError::TooLong(password.len()).into());
        }
        self.push(AttrType::USER_PASSWORD, password)
    }

    /// Appends Tunnel-Type (RFC 2868 §3.1) with `tag`.
    ///
    /// # Errors
    ///
    /// [`EncodeError::BadTag`].
    pub fn push_tunnel_type(&mut self, tag: u8, value: u32) -> Result<&mut Self, EncodeError> {
        self.push_tagged_u32(AttrType::TUNNEL_TYPE, tag, value)
    }

    /// Appends Tunnel-Medium-Type (RFC 2868 §3.2) with `tag`.
    ///
    /// # Errors
    ///
    /// [`EncodeError::BadTag`].
    pub fn push_tunnel_medium_type(
        &mut self,
        tag: u8,
        value: u32,
    ) -> Result<&mut Self, EncodeError> {
        self.push_tagged_u32(AttrType::TUNNEL_MEDIUM_TYPE, tag, value)
    }

    /// Appends Tunnel-Client-Endpoint (RFC 2868 §3.3) with `tag`.
    ///
    /// # Errors
    ///
    /// [`EncodeError::BadTag`], [`EncodeError::ValueTooLong`].
    pub fn push_tunnel_client_endpoint(
        &mut self,
        tag: u8,
        endpoint: &str,
    ) -> Result<&mut Self, EncodeError> {
        self.push_tagged_text(AttrType::TUNNEL_CLIENT_ENDPOINT, tag, endpoint)
    }

    /// Appends Tunnel-Server-Endpoint (RFC 2868 §3.4) with `tag`.
    ///
    /// # Errors
    ///
    /// [`EncodeError::BadTag`], [`EncodeError::ValueTooLong`].
    pub fn push_tunnel_server_endpoint(
        &mut self,
        tag: u8,
        endpoint: &str,
    ) -> Result<&mut Self, EncodeError> {
        self.push_tagged_text(AttrType::TUNNEL_SERVER_ENDPOINT, tag, endpoint)
    }

    /// MS-CHAP-Challenge (RFC 2548 §2.1.7).
    pub fn ms_chap_challenge(&self) -> Option<&[u8]> {
        self.vendor(ms::CHAP_CHALLENGE)
    }

    /// MS-CHAP2-Response (RFC 2548 §2.3.2): ident, flags, peer challenge, reserved, response.
    pub fn ms_chap2_response(&self) -> Option<&[u8]> {
        self.vendor(ms::CHAP2_RESPONSE)
    }

    /// MS-CHAP2-Success (RFC 2548 §2.3.3): the ident, then `S=` and the authenticator response
    /// (RFC 2759 §5) as 40 hexadecimal digits.
    pub fn ms_chap2_success(&self) -> Option<&[u8]> {
        self.vendor(ms::CHAP2_SUCCESS)
    }

    /// MS-CHAP-Error (RFC 2548 §2.1.5): the ident, then the error text (RFC 2759 §6).
    pub fn ms_chap_error(&self) -> Option<&[u8]> {
        self.vendor(ms::CHAP_ERROR)
    }

    /// MS-Primary-DNS-Server (RFC 2548 §2.2.1).
    pub fn ms_primary_dns_server(&self) -> Option<Ipv4Addr> {
        self.vendor_ipv4(ms::PRIMARY_DNS_SERVER)
    }

    /// MS-Secondary-DNS-Server (RFC 2548 §2.2.2).
    pub fn ms_secondary_dns_server(&self) -> Option<Ipv4Addr> {
        self.vendor_ipv4(ms::SECONDARY_DNS_SERVER)
    }

    /// MS-Primary-NBNS-Server (RFC 2548 §2.2.3).
    pub fn ms_primary_nbns_server(&self) -> Option<Ipv4Addr> {
        self.vendor_ipv4(ms::PRIMARY_NBNS_SERVER)
    }

    /// MS-Secondary-NBNS-Server (RFC 2548 §2.2.4).
    pub fn ms_secondary_nbns_server(&self) -> Option<Ipv4Addr> {
        self.vendor_ipv4(ms::SECONDARY_NBNS_SERVER)
    }

    /// Appends MS-CHAP-Challenge (RFC 2548 §2.1.7).
    ///
    /// # Errors
    ///
    /// [`EncodeError::ValueTooLong`].
    pub fn push_ms_chap_challenge(&mut self, challenge: &[u8]) -> Result<&mut Self, EncodeError> {
        self.push_vendor(ms::CHAP_CHALLENGE, challenge)
    }

    /// Appends MS-CHAP2-Response (RFC 2548 §2.3.2), 50 octets.
    ///
    /// # Errors
    ///
    /// [`EncodeError::ValueTooLong`].
    pub fn push_ms_chap2_response(&mut self, response: &[u8]) -> Result<&mut Self, EncodeError> {
        self.push_vendor(ms::CHAP2_RESPONSE, response)
    }
}
