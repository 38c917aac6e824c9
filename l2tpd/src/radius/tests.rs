//! The counters of Accounting-Requests.

use radius_proto::Attributes;
use radius_proto::dict::AttrType as T;

use super::add_counters;
use crate::dataplane::DataStats;

/// Octets past 2^32 go to the Gigawords (RFC 2869 §5.1); what came from the peer is input.
#[test]
fn octets_past_four_gigabytes_go_to_the_gigawords() {
    let stats = DataStats {
        rx_bytes: (5 << 32) + 1234,
        tx_bytes: 0xffff_ffff,
        rx_packets: 7,
        tx_packets: 9,
        ..DataStats::default()
    };
    let mut a = Attributes::new();
    add_counters(&mut a, &stats);
    let got = |t| a.u32(t);
    assert_eq!(got(T::ACCT_INPUT_OCTETS), Some(1234));
    assert_eq!(got(T::ACCT_INPUT_GIGAWORDS), Some(5));
    assert_eq!(got(T::ACCT_OUTPUT_OCTETS), Some(0xffff_ffff));
    assert_eq!(got(T::ACCT_OUTPUT_GIGAWORDS), Some(0));
    assert_eq!(got(T::ACCT_INPUT_PACKETS), Some(7));
    assert_eq!(got(T::ACCT_OUTPUT_PACKETS), Some(9));
}
