//! What the running kernel's L2TP can do, by its release.
//!
//! Tunnels whose peers share an address and UDP port (clients behind one NAT) each have their
//! own socket, connected to that same address and port. The kernel gives a datagram to one
//! such socket, the same for all of them, and older kernels then look for the data packet's
//! session among that socket's tunnel's sessions only: the data of the others never reaches
//! them. Linux 6.10 finds an L2TPv2 data packet's tunnel by the tunnel id in its header
//! (commit 628bc3e5a1be, "l2tp: Support several sockets with same IP/port quadruple"); Linux
//! 6.11 finds every data packet's session by its ids alone, in the whole namespace (commit
//! ff6a2ac23cb0, "l2tp: refactor udp recv to lookup to not use sk_user_data"), which L2TPv3
//! needs, its data packets having no tunnel id.

use l2tp_proto::wire::header::Version;

/// The running kernel's release as (major, minor), from `/proc/sys/kernel/osrelease`.
pub(super) fn running() -> Option<(u32, u32)> {
    parse(&std::fs::read_to_string("/proc/sys/kernel/osrelease").ok()?)
}

/// (major, minor) of a release string such as `6.1.0-57-amd64`.
fn parse(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.trim().split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// Whether a kernel of `release` gives each of several tunnels of `version` whose peers share
/// an address and port its own data packets. An unknown release is taken to be an old one.
pub(super) fn separates_shared_peers(release: Option<(u32, u32)>, version: Version) -> bool {
    let first = match version {
        Version::V2 => (6, 10),
        Version::V3 => (6, 11),
    };
    release.is_some_and(|r| r >= first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_are_read_and_compared() {
        assert_eq!(parse("6.1.0-57-amd64\n"), Some((6, 1)));
        assert_eq!(parse("6.12.9+bpo-amd64"), Some((6, 12)));
        assert_eq!(parse("5.19"), Some((5, 19)));
        assert_eq!(parse("linux"), None);
        let v2 = |r| separates_shared_peers(Some(r), Version::V2);
        let v3 = |r| separates_shared_peers(Some(r), Version::V3);
        // Debian 12's kernel cannot; the first that can, by version.
        assert!(!v2((6, 1)) && !v3((6, 1)));
        assert!(!v2((6, 9)) && v2((6, 10)) && v2((7, 0)));
        assert!(!v3((6, 10)) && v3((6, 11)));
        assert!(!separates_shared_peers(None, Version::V2));
    }
}
