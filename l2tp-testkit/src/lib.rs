//! Test support for the L2TP suite (a dev-dependency only).
//!
//! * [`pcap`]: read UDP (or bare IP, e.g. L2TPv3 over IP) datagrams from
//!   pcap files of any common link type, and write our own datagrams as
//!   Ethernet/IP/UDP pcaps.
//! * [`tshark`]: run tshark on a capture and get, per packet, whether it is
//!   malformed or has expert errors, plus the decoded L2TP header and AVPs.
//! * [`vectors`]: the real xl2tpd captures in `testdata/xl2tpd/` and the
//!   secrets they were made with.
//! * [`daemon`]: run the real `l2tpd` in a temporary directory and talk to it over its
//!   control socket.
//! * [`netns`]: wait for a server in a namespace to listen; iperf3 between namespaces.
//! * [`lab`]: one network namespace with the processes of a test, their logs, bounded waits
//!   for a line, tcpdump; skip or fail when a program is missing.
//! * [`freeradius`]: FreeRADIUS with `examples/radius` for a test, and tshark judging its
//!   RADIUS.
//! * [`l2tpns`]: l2tpns, with FreeRADIUS, as a real LNS with its own PPP.
//! * [`guest`]: the project's qemu test guest (`tests/vm/`): whether it can run, a share
//!   directory, a script run in it.
//! * [`captures`]: the directory where integration tests leave their captures (with their
//!   tshark arguments) for the CI step that judges them all.
//!
//! This crate must not depend on `l2tp-proto` or `radius-proto`: their tests depend
//! on it.

pub mod captures;
pub mod daemon;
pub mod freeradius;
pub mod guest;
pub mod l2tpns;
pub mod lab;
pub mod netns;
pub mod pcap;
pub mod tshark;
pub mod vectors;
