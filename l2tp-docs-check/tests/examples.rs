//! The example configs in `examples/`: each is accepted by the config parser without a single
//! diagnostic, each pair is a working pair (the LAC reaches the LNS's profile for it, side B of
//! the pseudowire matches side A with the same settings), and documentation uses only the
//! address ranges reserved for documentation.
//!
//! When the `l2tpd` binary exists, its own tests also run `l2tpd -n` on these files. A check
//! that passes is not a working file: every example is also brought up as shipped, by the
//! guest case `tests/vm/cases/examples.sh` (the configs) and by `l2tpd/tests/ipsec.rs` (the
//! strongSwan files), and the last test here keeps both lists complete.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;

use l2tp_config::{
    AuthMode, Config, DEFAULT_PROFILE, Host, L2specType, L2tpVersion, PseudowireType, SessionType,
};
use l2tp_docs_check::{files_with_suffix, ip_literals, is_documentation_ip, read, repo_root};

const EXAMPLES: &[&str] = &[
    "l2tpv3-eth-a.conf",
    "l2tpv3-eth-b.conf",
    "lac-l2tpv2.conf",
    "lns-l2tpv2.conf",
];

fn load(name: &str) -> Config {
    let path = repo_root().join("examples").join(name);
    l2tp_config::load(&path).unwrap_or_else(|e| panic!("{}:\n{e}", path.display()))
}

fn ip(host: &Host) -> IpAddr {
    match host {
        Host::Ip(ip) => *ip,
        Host::Name(n) => panic!("expected an address, found the name {n}"),
    }
}

#[test]
fn every_example_parses_without_diagnostics() {
    let files = files_with_suffix("examples", ".conf");
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for expected in EXAMPLES {
        assert!(
            names.iter().any(|n| n == expected),
            "examples/{expected} is missing"
        );
    }
    let mut failures = Vec::new();
    for path in &files {
        if let Err(e) = l2tp_config::load(path) {
            failures.push(format!("{}:\n{e}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_readme_explains_every_example() {
    let readme = read("examples/README.md");
    for path in files_with_suffix("examples", ".conf") {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            readme.contains(&format!("[`{name}`]({name})")),
            "examples/README.md does not link {name}"
        );
    }
}

#[test]
fn the_lac_reaches_the_lns() {
    let lns = load("lns-l2tpv2.conf");
    let lac = load("lac-l2tpv2.conf");

    // The LNS only answers, and listens where the LAC connects.
    assert!(lns.tunnels().is_empty() && lns.sessions().is_empty());
    let tunnels = lac.resolved_tunnels();
    let [tunnel] = tunnels.as_slice() else {
        panic!("the LAC has one tunnel instance")
    };
    let peer = tunnel
        .peer()
        .socket_addr()
        .expect("the LAC dials an address");
    assert!(
        lns.system().listen.contains(&peer),
        "the LAC dials {peer}, the LNS listens on {:?}",
        lns.system().listen
    );
    assert_eq!(tunnel.settings.version, Some(L2tpVersion::V2));
    assert!(tunnel.persist);

    // The LNS picks its LAC profile for the LAC's address, not the default.
    let local = ip(&tunnel
        .settings
        .local
        .as_ref()
        .expect("the LAC sets `local`")
        .host);
    let host_name = lac.system().host_name.clone();
    let profile = lns.match_peer(local, host_name.as_deref());
    assert_ne!(
        profile.name, DEFAULT_PROFILE,
        "the LAC must match a LAC profile"
    );
    let peer_settings = lns.peer_profile_settings(&profile.name).unwrap();
    assert!(peer_settings.peer_ipaddr.is_some_and(|p| p.len.is_some()));

    // Both ends authenticate with the same secret, by challenge.
    let lns_tunnel = lns
        .tunnel_profile_settings(&peer_settings.tunnel_profile_name)
        .unwrap();
    assert_eq!(lns_tunnel.version, Some(L2tpVersion::V2));
    assert_eq!(lns_tunnel.auth_mode, AuthMode::Challenge);
    assert_eq!(tunnel.settings.auth_mode, AuthMode::Challenge);
    let (a, b) = (
        lns_tunnel.secret.as_ref().expect("the LNS has a secret"),
        tunnel
            .settings
            .secret
            .as_ref()
            .expect("the LAC has a secret"),
    );
    assert_eq!(a.as_bytes(), b.as_bytes(), "LAC and LNS secrets differ");

    // The LAC places a PPP call; the LNS takes PPP calls.
    let sessions = lac.resolved_sessions();
    let [session] = sessions.as_slice() else {
        panic!("the LAC has one session instance")
    };
    assert_eq!(session.tunnel, tunnel.name);
    assert_eq!(session.settings.pseudowire_type, PseudowireType::Ppp);
    assert_eq!(session.settings.session_type, Some(SessionType::Laic));
    let lns_session = lns
        .session_profile_settings(&peer_settings.session_profile_name)
        .unwrap();
    assert_eq!(lns_session.pseudowire_type, PseudowireType::Ppp);
}

#[test]
fn the_pseudowire_sides_match() {
    let a = load("l2tpv3-eth-a.conf");
    let b = load("l2tpv3-eth-b.conf");

    let tunnels = a.resolved_tunnels();
    let [tunnel] = tunnels.as_slice() else {
        panic!("side A has one tunnel instance")
    };
    let sessions = a.resolved_sessions();
    let [session] = sessions.as_slice() else {
        panic!("side A has one session instance")
    };
    assert!(b.tunnels().is_empty() && b.sessions().is_empty());
    assert_eq!(tunnel.settings.version, Some(L2tpVersion::V3));
    let peer = tunnel
        .peer()
        .socket_addr()
        .expect("side A dials an address");
    assert!(
        b.system().listen.contains(&peer),
        "side B listens on {peer}"
    );

    // Side B recognises side A, by host name and by address.
    let local = ip(&tunnel
        .settings
        .local
        .as_ref()
        .expect("side A sets `local`")
        .host);
    let by_name = b.match_peer(local, a.system().host_name.as_deref());
    let by_address = b.match_peer(local, None);
    assert_ne!(by_name.name, DEFAULT_PROFILE);
    assert_eq!(by_name.name, by_address.name);
    let peer_settings = b.peer_profile_settings(&by_name.name).unwrap();

    // Same tunnel secret, same Ethernet session settings with cookies and the default L2SS.
    let b_tunnel = b
        .tunnel_profile_settings(&peer_settings.tunnel_profile_name)
        .unwrap();
    assert_eq!(b_tunnel.version, Some(L2tpVersion::V3));
    assert_eq!(
        b_tunnel.secret.as_ref().map(|s| s.as_bytes().to_vec()),
        tunnel
            .settings
            .secret
            .as_ref()
            .map(|s| s.as_bytes().to_vec()),
        "the two sides' secrets differ"
    );
    let b_session = b
        .session_profile_settings(&peer_settings.session_profile_name)
        .unwrap();
    for s in [&session.settings, &b_session] {
        assert_eq!(s.pseudowire_type, PseudowireType::Eth);
        assert_eq!(s.l2spec_type, L2specType::Default);
        assert_eq!(s.cookie_length, 8);
    }
    assert_eq!(session.settings.data_sequencing, b_session.data_sequencing);
    let b_pw = b
        .pseudowire_profile_settings(&peer_settings.pseudowire_profile_name)
        .unwrap();
    assert!(session.pseudowire.bridge.is_some() && b_pw.bridge.is_some());
}

#[test]
fn documentation_uses_documentation_addresses() {
    let mut files = files_with_suffix("examples", ".conf");
    files.extend(files_with_suffix("examples", ".md"));
    files.extend(files_with_suffix("examples/vpn-server", ""));
    for suffix in [".1", ".5", ".8"] {
        files.extend(files_with_suffix("man", suffix));
    }
    files.push(repo_root().join("dist/l2tpd.service"));
    let mut bad = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        for (i, line) in text.lines().enumerate() {
            for ip in ip_literals(line) {
                if !is_documentation_ip(ip) {
                    bad.push(format!("{}:{}: {ip}", path.display(), i + 1));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "addresses outside 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32:\n{}",
        bad.join("\n")
    );
}

/// Every example is run as shipped, not only checked: each `examples/*.conf` is started by the
/// guest case `tests/vm/cases/examples.sh` (outside a comment), and `examples/ipsec/` holds
/// exactly the two files `l2tpd/tests/ipsec.rs` loads.
#[test]
fn every_example_is_brought_up_by_a_test() {
    let case = read("tests/vm/cases/examples.sh");
    let code: Vec<&str> = case
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect();
    // The RADIUS LNS needs its RADIUS servers: the RADIUS guest test brings it up with them.
    let radius = read("l2tpd/tests/radius_guest.rs");
    let mut missing = Vec::new();
    for path in files_with_suffix("examples", ".conf") {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !code.iter().any(|l| l.contains(&format!("conf={name}")))
            && !radius.contains(&format!("../examples/{name}"))
        {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "neither tests/vm/cases/examples.sh nor l2tpd/tests/radius_guest.rs brings up \
         {missing:?}"
    );

    let ipsec = read("l2tpd/tests/ipsec.rs");
    assert!(
        ipsec.contains("examples/ipsec/swanctl-{side}.conf") && ipsec.contains("[\"a\", \"b\"]")
    );
    let names: Vec<String> = files_with_suffix("examples/ipsec", "")
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        ["swanctl-a.conf", "swanctl-b.conf"],
        "examples/ipsec/ holds files that l2tpd/tests/ipsec.rs does not run"
    );
}

/// The remote-access recipe, `examples/vpn-server/`: its l2tpd.conf parses without a
/// diagnostic, the README links each file, and the directory holds exactly the three files
/// `l2tpd/tests/ipsec_nat.rs` runs as they are.
#[test]
fn the_vpn_server_recipe_is_what_a_test_runs() {
    let names: Vec<String> = files_with_suffix("examples/vpn-server", "")
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["l2tpd-ipsec.nft", "l2tpd.conf", "swanctl.conf"]);
    let test = read("l2tpd/tests/ipsec_nat.rs");
    assert!(
        test.contains("[\"swanctl.conf\", \"l2tpd.conf\", \"l2tpd-ipsec.nft\"]")
            && test.contains("examples/vpn-server"),
        "l2tpd/tests/ipsec_nat.rs does not run the recipe's files"
    );
    let readme = read("examples/README.md");
    for name in &names {
        assert!(
            readme.contains(&format!("[`vpn-server/{name}`](vpn-server/{name})")),
            "examples/README.md does not link vpn-server/{name}"
        );
    }
    let path = repo_root().join("examples/vpn-server/l2tpd.conf");
    l2tp_config::load(&path).unwrap_or_else(|e| panic!("{}:\n{e}", path.display()));
}

/// The recipe's commented RADIUS lines, uncommented as its comment tells, make a config that
/// uses RADIUS: they stay true to the parser.
#[test]
fn the_vpn_server_recipe_with_radius_uncommented_parses() {
    let text = read("examples/vpn-server/l2tpd.conf");
    let mut uncommented = 0;
    let mut in_block = false;
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            let t = l.trim_start();
            let opens = t.starts_with("# radius server ");
            let wanted = opens
                || in_block
                || t.starts_with("# auth_source ")
                || t.starts_with("# radius_accounting ");
            in_block = (in_block || opens) && t != "# }";
            if wanted {
                uncommented += 1;
                l.replacen("# ", "", 1)
            } else {
                l.to_owned()
            }
        })
        .collect();
    assert_eq!(uncommented, 6, "the recipe's RADIUS lines changed");
    let config = l2tp_config::parse("l2tpd.conf", &lines.join("\n"))
        .unwrap_or_else(|d| panic!("the recipe with RADIUS: {d:?}"));
    let ppp = config.ppp_profile_settings("vpn").unwrap();
    assert_eq!(format!("{:?}", ppp.auth_source), "RadiusThenLocal");
}
