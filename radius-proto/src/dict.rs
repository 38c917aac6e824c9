//! The dictionary: every attribute this crate knows, with its number, its RFC name and its data
//! type, and the Microsoft vendor-specific attributes of RFC 2548.
//!
//! Attributes come from RFC 2865 §5 (authentication), RFC 2866 §5 (accounting), RFC 2867 and
//! RFC 2868 (tunnels), RFC 2869 §5 (extensions), RFC 3162 §2 (IPv6), RFC 4818 §3
//! (Delegated-IPv6-Prefix), RFC 5176 §3.5 (Error-Cause) and RFC 6911 §3 (more IPv6). One table
//! holds them, so that names, data types and the length checks of the decoder cannot drift
//! apart. Attributes missing from the table are still carried, skipped and re-encoded byte for
//! byte; they only have no name (they print as `Attr-N`) and no length check.

use std::fmt;

/// How an attribute's value is encoded (RFC 8044 names the types; RFC 2865 §5 used fewer).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum DataType {
    /// UTF-8 text, 1 to 253 octets (not checked to be UTF-8: old servers send other encodings).
    Text,
    /// Octets, 1 to 253.
    Octets,
    /// Octets of exactly this length.
    Fixed(u8),
    /// An IPv4 address, 4 octets.
    Address,
    /// A 32-bit unsigned integer, 4 octets, network order.
    Integer,
    /// Seconds since 1970-01-01 00:00 UTC, 4 octets.
    Time,
    /// An IPv6 address, 16 octets (RFC 3162 §2.1).
    Ipv6Address,
    /// Reserved octet, prefix length, prefix: 2 to 18 octets (RFC 3162 §2.3).
    Ipv6Prefix,
    /// An IPv6 interface identifier, 8 octets (RFC 3162 §2.2).
    InterfaceId,
    /// A tag octet and a 24-bit integer (RFC 2868 §3.1).
    TaggedInteger,
    /// An optional tag octet (0x01-0x1F) and text (RFC 2868 §3.3).
    TaggedText,
    /// The hidden User-Password: 16 to 128 octets, a multiple of 16 (RFC 2865 §5.2).
    UserPassword,
    /// A tag, a two-octet salt and a hidden value (RFC 2868 §3.5).
    TunnelPassword,
    /// A two-octet salt and a hidden value, untagged (RFC 2548 §2.4.2).
    Salted,
    /// Vendor-Specific: a vendor id and the vendor's own data (RFC 2865 §5.26).
    VendorSpecific,
}

impl DataType {
    /// The shortest and longest value this type allows.
    pub const fn value_len(self) -> (usize, usize) {
        match self {
            Self::Text | Self::Octets => (1, 253),
            Self::Fixed(n) => (n as usize, n as usize),
            Self::Address | Self::Integer | Self::Time | Self::TaggedInteger => (4, 4),
            Self::Ipv6Address => (16, 16),
            Self::Ipv6Prefix => (2, 18),
            Self::InterfaceId => (8, 8),
            Self::TaggedText => (1, 253),
            Self::UserPassword => (16, 128),
            Self::TunnelPassword => (19, 253),
            Self::Salted => (18, 253),
            Self::VendorSpecific => (5, 253),
        }
    }

    /// Whether the value carries a secret that must never be logged.
    pub const fn is_secret(self) -> bool {
        matches!(
            self,
            Self::UserPassword | Self::TunnelPassword | Self::Salted
        )
    }
}

/// What the dictionary knows about one attribute.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Entry {
    /// The attribute's name as its RFC spells it, e.g. `"Framed-IP-Address"`.
    pub name: &'static str,
    /// How its value is encoded.
    pub data_type: DataType,
}

/// An attribute type (the Type octet of RFC 2865 §5).
#[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub struct AttrType(pub u8);

/// A vendor-specific attribute type: the vendor's SMI number and the vendor's type octet.
#[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub struct VendorType {
    /// The vendor's IANA enterprise number (RFC 2865 §5.26), e.g. 311 for Microsoft.
    pub vendor: u32,
    /// The vendor's attribute type.
    pub vendor_type: u8,
}

/// The enterprise number of Microsoft (RFC 2548 §2).
pub const VENDOR_MICROSOFT: u32 = 311;

/// The enterprise number of the Broadband (ADSL) Forum (RFC 4679).
pub const VENDOR_BROADBAND_FORUM: u32 = 3561;

/// The DSL Forum's vendor-specific attributes (vendor 3561, RFC 4679): the access line
/// of a subscriber as a BRAS learnt it, and passed on in L2TP (RFC 5515).
pub mod dsl {
    use super::{VENDOR_BROADBAND_FORUM, VendorType};

    const fn dsl(vendor_type: u8) -> VendorType {
        VendorType {
            vendor: VENDOR_BROADBAND_FORUM,
            vendor_type,
        }
    }

    /// `Agent-Circuit-Id` (3561/1), text, RFC 4679.
    pub const AGENT_CIRCUIT_ID: VendorType = dsl(1);
    /// `Agent-Remote-Id` (3561/2), text, RFC 4679.
    pub const AGENT_REMOTE_ID: VendorType = dsl(2);
    /// `Actual-Data-Rate-Upstream` (3561/129), the first of ten data rates in bit/s
    /// (129–138, in the order of RFC 5515 §5.3–§5.12), RFC 4679.
    pub const ACTUAL_DATA_RATE_UPSTREAM: VendorType = dsl(129);
    /// `Maximum-Interleaving-Delay-Upstream` (3561/139), the first of four delays in ms
    /// (139–142), RFC 4679.
    pub const MAXIMUM_INTERLEAVING_DELAY_UPSTREAM: VendorType = dsl(139);
    /// `Access-Loop-Encapsulation` (3561/144), 3 octets, RFC 4679.
    pub const ACCESS_LOOP_ENCAPSULATION: VendorType = dsl(144);
    /// `IWF-Session` (3561/254), no value: present when an interworking function was
    /// performed, RFC 4679.
    pub const IWF_SESSION: VendorType = dsl(254);
}

macro_rules! dictionary {
    ($( $num:literal $konst:ident $name:literal $ty:expr, $rfc:literal; )*) => {
        impl AttrType {
            $(
                #[doc = concat!("`", $name, "` (", $num, "), ", $rfc, ".")]
                pub const $konst: AttrType = AttrType($num);
            )*
        }

        /// The dictionary entry of a standard attribute.
        pub fn lookup(attr: AttrType) -> Option<&'static Entry> {
            match attr.0 {
                $( $num => Some(&Entry { name: $name, data_type: $ty }), )*
                _ => None,
            }
        }
    };
}

macro_rules! microsoft {
    ($( $num:literal $konst:ident $name:literal $ty:expr, $rfc:literal; )*) => {
        /// The Microsoft vendor-specific attributes (vendor 311, RFC 2548).
        pub mod ms {
            use super::{VendorType, VENDOR_MICROSOFT};
            $(
                #[doc = concat!("`", $name, "` (311/", $num, "), ", $rfc, ".")]
                pub const $konst: VendorType =
                    VendorType { vendor: VENDOR_MICROSOFT, vendor_type: $num };
            )*
        }

        /// The dictionary entry of a vendor-specific attribute.
        pub fn lookup_vendor(attr: VendorType) -> Option<&'static Entry> {
            if attr.vendor != VENDOR_MICROSOFT {
                return None;
            }
            match attr.vendor_type {
                $( $num => Some(&Entry { name: $name, data_type: $ty }), )*
                _ => None,
            }
        }
    };
}

use DataType::*;

dictionary! {
    1 USER_NAME "User-Name" Text, "RFC 2865 §5.1";
    2 USER_PASSWORD "User-Password" UserPassword, "RFC 2865 §5.2";
    3 CHAP_PASSWORD "CHAP-Password" Fixed(17), "RFC 2865 §5.3";
    4 NAS_IP_ADDRESS "NAS-IP-Address" Address, "RFC 2865 §5.4";
    5 NAS_PORT "NAS-Port" Integer, "RFC 2865 §5.5";
    6 SERVICE_TYPE "Service-Type" Integer, "RFC 2865 §5.6";
    7 FRAMED_PROTOCOL "Framed-Protocol" Integer, "RFC 2865 §5.7";
    8 FRAMED_IP_ADDRESS "Framed-IP-Address" Address, "RFC 2865 §5.8";
    9 FRAMED_IP_NETMASK "Framed-IP-Netmask" Address, "RFC 2865 §5.9";
    10 FRAMED_ROUTING "Framed-Routing" Integer, "RFC 2865 §5.10";
    11 FILTER_ID "Filter-Id" Text, "RFC 2865 §5.11";
    12 FRAMED_MTU "Framed-MTU" Integer, "RFC 2865 §5.12";
    13 FRAMED_COMPRESSION "Framed-Compression" Integer, "RFC 2865 §5.13";
    14 LOGIN_IP_HOST "Login-IP-Host" Address, "RFC 2865 §5.14";
    15 LOGIN_SERVICE "Login-Service" Integer, "RFC 2865 §5.15";
    16 LOGIN_TCP_PORT "Login-TCP-Port" Integer, "RFC 2865 §5.16";
    18 REPLY_MESSAGE "Reply-Message" Text, "RFC 2865 §5.18";
    19 CALLBACK_NUMBER "Callback-Number" Text, "RFC 2865 §5.19";
    20 CALLBACK_ID "Callback-Id" Text, "RFC 2865 §5.20";
    22 FRAMED_ROUTE "Framed-Route" Text, "RFC 2865 §5.22";
    24 STATE "State" Octets, "RFC 2865 §5.24";
    25 CLASS "Class" Octets, "RFC 2865 §5.25";
    26 VENDOR_SPECIFIC "Vendor-Specific" VendorSpecific, "RFC 2865 §5.26";
    27 SESSION_TIMEOUT "Session-Timeout" Integer, "RFC 2865 §5.27";
    28 IDLE_TIMEOUT "Idle-Timeout" Integer, "RFC 2865 §5.28";
    29 TERMINATION_ACTION "Termination-Action" Integer, "RFC 2865 §5.29";
    30 CALLED_STATION_ID "Called-Station-Id" Text, "RFC 2865 §5.30";
    31 CALLING_STATION_ID "Calling-Station-Id" Text, "RFC 2865 §5.31";
    32 NAS_IDENTIFIER "NAS-Identifier" Text, "RFC 2865 §5.32";
    33 PROXY_STATE "Proxy-State" Octets, "RFC 2865 §5.33";
    40 ACCT_STATUS_TYPE "Acct-Status-Type" Integer, "RFC 2866 §5.1";
    41 ACCT_DELAY_TIME "Acct-Delay-Time" Integer, "RFC 2866 §5.2";
    42 ACCT_INPUT_OCTETS "Acct-Input-Octets" Integer, "RFC 2866 §5.3";
    43 ACCT_OUTPUT_OCTETS "Acct-Output-Octets" Integer, "RFC 2866 §5.4";
    44 ACCT_SESSION_ID "Acct-Session-Id" Text, "RFC 2866 §5.5";
    45 ACCT_AUTHENTIC "Acct-Authentic" Integer, "RFC 2866 §5.6";
    46 ACCT_SESSION_TIME "Acct-Session-Time" Integer, "RFC 2866 §5.7";
    47 ACCT_INPUT_PACKETS "Acct-Input-Packets" Integer, "RFC 2866 §5.8";
    48 ACCT_OUTPUT_PACKETS "Acct-Output-Packets" Integer, "RFC 2866 §5.9";
    49 ACCT_TERMINATE_CAUSE "Acct-Terminate-Cause" Integer, "RFC 2866 §5.10";
    50 ACCT_MULTI_SESSION_ID "Acct-Multi-Session-Id" Text, "RFC 2866 §5.11";
    51 ACCT_LINK_COUNT "Acct-Link-Count" Integer, "RFC 2866 §5.12";
    52 ACCT_INPUT_GIGAWORDS "Acct-Input-Gigawords" Integer, "RFC 2869 §5.1";
    53 ACCT_OUTPUT_GIGAWORDS "Acct-Output-Gigawords" Integer, "RFC 2869 §5.2";
    55 EVENT_TIMESTAMP "Event-Timestamp" Time, "RFC 2869 §5.3";
    60 CHAP_CHALLENGE "CHAP-Challenge" Octets, "RFC 2865 §5.40";
    61 NAS_PORT_TYPE "NAS-Port-Type" Integer, "RFC 2865 §5.41";
    62 PORT_LIMIT "Port-Limit" Integer, "RFC 2865 §5.42";
    64 TUNNEL_TYPE "Tunnel-Type" TaggedInteger, "RFC 2868 §3.1";
    65 TUNNEL_MEDIUM_TYPE "Tunnel-Medium-Type" TaggedInteger, "RFC 2868 §3.2";
    66 TUNNEL_CLIENT_ENDPOINT "Tunnel-Client-Endpoint" TaggedText, "RFC 2868 §3.3";
    67 TUNNEL_SERVER_ENDPOINT "Tunnel-Server-Endpoint" TaggedText, "RFC 2868 §3.4";
    68 ACCT_TUNNEL_CONNECTION "Acct-Tunnel-Connection" Text, "RFC 2867 §4.1";
    69 TUNNEL_PASSWORD "Tunnel-Password" TunnelPassword, "RFC 2868 §3.5";
    77 CONNECT_INFO "Connect-Info" Text, "RFC 2869 §5.11";
    79 EAP_MESSAGE "EAP-Message" Octets, "RFC 2869 §5.13";
    80 MESSAGE_AUTHENTICATOR "Message-Authenticator" Fixed(16), "RFC 2869 §5.14";
    81 TUNNEL_PRIVATE_GROUP_ID "Tunnel-Private-Group-ID" TaggedText, "RFC 2868 §3.6";
    82 TUNNEL_ASSIGNMENT_ID "Tunnel-Assignment-ID" TaggedText, "RFC 2868 §3.7";
    83 TUNNEL_PREFERENCE "Tunnel-Preference" TaggedInteger, "RFC 2868 §3.8";
    85 ACCT_INTERIM_INTERVAL "Acct-Interim-Interval" Integer, "RFC 2869 §5.16";
    86 ACCT_TUNNEL_PACKETS_LOST "Acct-Tunnel-Packets-Lost" Integer, "RFC 2867 §4.2";
    87 NAS_PORT_ID "NAS-Port-Id" Text, "RFC 2869 §5.17";
    88 FRAMED_POOL "Framed-Pool" Text, "RFC 2869 §5.18";
    90 TUNNEL_CLIENT_AUTH_ID "Tunnel-Client-Auth-ID" TaggedText, "RFC 2868 §3.9";
    91 TUNNEL_SERVER_AUTH_ID "Tunnel-Server-Auth-ID" TaggedText, "RFC 2868 §3.10";
    95 NAS_IPV6_ADDRESS "NAS-IPv6-Address" Ipv6Address, "RFC 3162 §2.1";
    96 FRAMED_INTERFACE_ID "Framed-Interface-Id" InterfaceId, "RFC 3162 §2.2";
    97 FRAMED_IPV6_PREFIX "Framed-IPv6-Prefix" Ipv6Prefix, "RFC 3162 §2.3";
    98 LOGIN_IPV6_HOST "Login-IPv6-Host" Ipv6Address, "RFC 3162 §2.4";
    99 FRAMED_IPV6_ROUTE "Framed-IPv6-Route" Text, "RFC 3162 §2.5";
    100 FRAMED_IPV6_POOL "Framed-IPv6-Pool" Text, "RFC 3162 §2.6";
    101 ERROR_CAUSE "Error-Cause" Integer, "RFC 5176 §3.5";
    123 DELEGATED_IPV6_PREFIX "Delegated-IPv6-Prefix" Ipv6Prefix, "RFC 4818 §3";
    168 FRAMED_IPV6_ADDRESS "Framed-IPv6-Address" Ipv6Address, "RFC 6911 §3.1";
    169 DNS_SERVER_IPV6_ADDRESS "DNS-Server-IPv6-Address" Ipv6Address, "RFC 6911 §3.2";
    170 ROUTE_IPV6_INFORMATION "Route-IPv6-Information" Ipv6Prefix, "RFC 6911 §3.3";
    171 DELEGATED_IPV6_PREFIX_POOL "Delegated-IPv6-Prefix-Pool" Text, "RFC 6911 §3.4";
    172 STATEFUL_IPV6_ADDRESS_POOL "Stateful-IPv6-Address-Pool" Text, "RFC 6911 §3.5";
}

microsoft! {
    1 CHAP_RESPONSE "MS-CHAP-Response" Fixed(50), "RFC 2548 §2.1.3";
    2 CHAP_ERROR "MS-CHAP-Error" Octets, "RFC 2548 §2.1.5";
    7 MPPE_ENCRYPTION_POLICY "MS-MPPE-Encryption-Policy" Integer, "RFC 2548 §2.4.4";
    8 MPPE_ENCRYPTION_TYPES "MS-MPPE-Encryption-Types" Integer, "RFC 2548 §2.4.5";
    10 CHAP_DOMAIN "MS-CHAP-Domain" Octets, "RFC 2548 §2.1.6";
    11 CHAP_CHALLENGE "MS-CHAP-Challenge" Octets, "RFC 2548 §2.1.7";
    12 CHAP_MPPE_KEYS "MS-CHAP-MPPE-Keys" Fixed(32), "RFC 2548 §2.4.1";
    16 MPPE_SEND_KEY "MS-MPPE-Send-Key" Salted, "RFC 2548 §2.4.2";
    17 MPPE_RECV_KEY "MS-MPPE-Recv-Key" Salted, "RFC 2548 §2.4.3";
    25 CHAP2_RESPONSE "MS-CHAP2-Response" Fixed(50), "RFC 2548 §2.3.2";
    26 CHAP2_SUCCESS "MS-CHAP2-Success" Octets, "RFC 2548 §2.3.3";
    28 PRIMARY_DNS_SERVER "MS-Primary-DNS-Server" Address, "RFC 2548 §2.2.1";
    29 SECONDARY_DNS_SERVER "MS-Secondary-DNS-Server" Address, "RFC 2548 §2.2.2";
    30 PRIMARY_NBNS_SERVER "MS-Primary-NBNS-Server" Address, "RFC 2548 §2.2.3";
    31 SECONDARY_NBNS_SERVER "MS-Secondary-NBNS-Server" Address, "RFC 2548 §2.2.4";
}

impl AttrType {
    /// The RFC name, if the dictionary knows the attribute.
    pub fn name(self) -> Option<&'static str> {
        lookup(self).map(|e| e.name)
    }

    /// Whether the value must never be logged: a hidden password, or a CHAP response (from
    /// which, with the challenge, the password can be guessed offline).
    pub fn is_secret(self) -> bool {
        self == Self::CHAP_PASSWORD || lookup(self).is_some_and(|e| e.data_type.is_secret())
    }
}

impl fmt::Display for AttrType {
    /// The RFC name, or `Attr-N` for an attribute the dictionary does not know.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "Attr-{}", self.0),
        }
    }
}

impl VendorType {
    /// The RFC name, if the dictionary knows the attribute.
    pub fn name(self) -> Option<&'static str> {
        lookup_vendor(self).map(|e| e.name)
    }

    /// Whether the value must never be logged: the MPPE keys, and the MS-CHAP responses.
    pub fn is_secret(self) -> bool {
        [ms::CHAP_RESPONSE, ms::CHAP2_RESPONSE, ms::CHAP_MPPE_KEYS].contains(&self)
            || lookup_vendor(self).is_some_and(|e| e.data_type.is_secret())
    }
}

impl fmt::Display for VendorType {
    /// The RFC name, or `Vendor-V-Attr-N` for an attribute the dictionary does not know.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "Vendor-{}-Attr-{}", self.vendor, self.vendor_type),
        }
    }
}

/// Enumerated values of integer attributes.
pub mod values {
    /// Service-Type (RFC 2865 §5.6).
    pub mod service_type {
        /// Login.
        pub const LOGIN: u32 = 1;
        /// Framed: a framed protocol such as PPP.
        pub const FRAMED: u32 = 2;
        /// Authorize Only (RFC 5176 §3.2): a CoA-Request asking the NAS to re-authorize.
        pub const AUTHORIZE_ONLY: u32 = 17;
    }

    /// Framed-Protocol (RFC 2865 §5.7).
    pub mod framed_protocol {
        /// PPP.
        pub const PPP: u32 = 1;
    }

    /// NAS-Port-Type (RFC 2865 §5.41).
    pub mod nas_port_type {
        /// Async.
        pub const ASYNC: u32 = 0;
        /// Virtual: a port with no physical line, such as an L2TP session.
        pub const VIRTUAL: u32 = 5;
        /// Ethernet.
        pub const ETHERNET: u32 = 15;
    }

    /// Acct-Status-Type (RFC 2866 §5.1).
    pub mod acct_status_type {
        /// Start of a session.
        pub const START: u32 = 1;
        /// End of a session.
        pub const STOP: u32 = 2;
        /// Interim update of a running session (RFC 2869 §2.1).
        pub const INTERIM_UPDATE: u32 = 3;
        /// The NAS starts accounting (e.g. after a reboot).
        pub const ACCOUNTING_ON: u32 = 7;
        /// The NAS stops accounting.
        pub const ACCOUNTING_OFF: u32 = 8;
    }

    /// Acct-Authentic (RFC 2866 §5.6).
    pub mod acct_authentic {
        /// Authenticated by RADIUS.
        pub const RADIUS: u32 = 1;
        /// Authenticated locally.
        pub const LOCAL: u32 = 2;
    }

    /// Acct-Terminate-Cause (RFC 2866 §5.10).
    pub mod acct_terminate_cause {
        /// The user asked to end the session.
        pub const USER_REQUEST: u32 = 1;
        /// The link went down.
        pub const LOST_CARRIER: u32 = 2;
        /// The service can no longer be provided.
        pub const LOST_SERVICE: u32 = 3;
        /// Idle-Timeout expired.
        pub const IDLE_TIMEOUT: u32 = 4;
        /// Session-Timeout expired.
        pub const SESSION_TIMEOUT: u32 = 5;
        /// An administrator ended the session.
        pub const ADMIN_RESET: u32 = 6;
        /// The NAS is being rebooted by an administrator.
        pub const ADMIN_REBOOT: u32 = 7;
        /// A port error.
        pub const PORT_ERROR: u32 = 8;
        /// A NAS error.
        pub const NAS_ERROR: u32 = 9;
        /// The NAS ended the session for a non-error reason.
        pub const NAS_REQUEST: u32 = 10;
        /// The NAS rebooted unexpectedly.
        pub const NAS_REBOOT: u32 = 11;
        /// The port was preempted by a use of higher priority.
        pub const PORT_PREEMPTED: u32 = 13;
    }

    /// Tunnel-Type (RFC 2868 §3.1).
    pub mod tunnel_type {
        /// L2TP.
        pub const L2TP: u32 = 3;
    }

    /// Tunnel-Medium-Type (RFC 2868 §3.2).
    pub mod tunnel_medium_type {
        /// IPv4.
        pub const IPV4: u32 = 1;
        /// IPv6.
        pub const IPV6: u32 = 2;
    }

    /// Error-Cause (RFC 5176 §3.5).
    pub mod error_cause {
        /// Residual Session Context Removed (an ACK).
        pub const RESIDUAL_SESSION_CONTEXT_REMOVED: u32 = 201;
        /// Invalid EAP Packet (Ignored).
        pub const INVALID_EAP_PACKET: u32 = 202;
        /// Unsupported Attribute.
        pub const UNSUPPORTED_ATTRIBUTE: u32 = 401;
        /// Missing Attribute.
        pub const MISSING_ATTRIBUTE: u32 = 402;
        /// NAS Identification Mismatch.
        pub const NAS_IDENTIFICATION_MISMATCH: u32 = 403;
        /// Invalid Request.
        pub const INVALID_REQUEST: u32 = 404;
        /// Unsupported Service.
        pub const UNSUPPORTED_SERVICE: u32 = 405;
        /// Unsupported Extension.
        pub const UNSUPPORTED_EXTENSION: u32 = 406;
        /// Invalid Attribute Value.
        pub const INVALID_ATTRIBUTE_VALUE: u32 = 407;
        /// Administratively Prohibited.
        pub const ADMINISTRATIVELY_PROHIBITED: u32 = 501;
        /// Request Not Routable (Proxy).
        pub const REQUEST_NOT_ROUTABLE: u32 = 502;
        /// Session Context Not Found.
        pub const SESSION_CONTEXT_NOT_FOUND: u32 = 503;
        /// Session Context Not Removable.
        pub const SESSION_CONTEXT_NOT_REMOVABLE: u32 = 504;
        /// Other Proxy Processing Error.
        pub const OTHER_PROXY_PROCESSING_ERROR: u32 = 505;
        /// Resources Unavailable.
        pub const RESOURCES_UNAVAILABLE: u32 = 506;
        /// Request Initiated.
        pub const REQUEST_INITIATED: u32 = 507;
        /// Multiple Session Selection Unsupported.
        pub const MULTIPLE_SESSION_SELECTION_UNSUPPORTED: u32 = 508;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_types() {
        assert_eq!(
            AttrType::FRAMED_IP_ADDRESS.name(),
            Some("Framed-IP-Address")
        );
        assert_eq!(AttrType(200).to_string(), "Attr-200");
        assert_eq!(
            lookup(AttrType::DELEGATED_IPV6_PREFIX).map(|e| e.data_type),
            Some(DataType::Ipv6Prefix)
        );
        assert_eq!(ms::CHAP2_SUCCESS.to_string(), "MS-CHAP2-Success");
        assert_eq!(
            VendorType {
                vendor: 9,
                vendor_type: 1
            }
            .to_string(),
            "Vendor-9-Attr-1"
        );
        assert!(DataType::UserPassword.is_secret());
        assert!(!DataType::Text.is_secret());
    }

    #[test]
    fn every_attribute_the_daemon_uses_has_a_name() {
        for t in [
            AttrType::USER_NAME,
            AttrType::CHAP_CHALLENGE,
            AttrType::NAS_IPV6_ADDRESS,
            AttrType::NAS_PORT_ID,
            AttrType::TUNNEL_SERVER_ENDPOINT,
            AttrType::FRAMED_INTERFACE_ID,
            AttrType::ACCT_OUTPUT_GIGAWORDS,
            AttrType::EVENT_TIMESTAMP,
            AttrType::ERROR_CAUSE,
        ] {
            assert!(t.name().is_some(), "{t:?}");
        }
    }
}
