//! The line a reload logs for each instance it makes again: the settings that changed, with
//! their old and new values where they are no secret, and a secret's name only.

use std::time::Duration;

use super::harness::{Net, addr};
use super::logs::recorded;
use super::reload::{SERVER, sessions, tunnels};

/// Tunnel "t" to node `peer` with `extra`, and session "s" in it with `session_extra`.
fn file(peer: usize, extra: &str, session_extra: &str) -> String {
    format!(
        "tunnel \"t\" {{\n    peer {}\n    version 3\n{extra}}}\n\
         session \"s\" {{\n    tunnel \"t\"\n    pseudowire_type eth\n{session_extra}}}\n",
        addr(peer).ip()
    )
}

/// Node 0 with `first`, up, then reloaded with `second`: the lines the reload logged.
fn reload_lines(first: &str, second: &str) -> Vec<String> {
    let mut net = Net::new(&[first, SERVER, SERVER], 17);
    net.run_until(Duration::from_secs(10), "the session up", |n| {
        sessions(n, 0).len() == 1
    });
    let ((), lines) = recorded(|| {
        net.reload(0, second);
        net.run_for(Duration::from_secs(2));
    });
    lines.into_iter().map(|(_, l)| l).collect()
}

#[test]
fn a_changed_tunnel_names_what_changed_and_no_secret() {
    let first = file(
        1,
        "    secret \"first-secret\"\n    auth_mode none\n    hello_timeout 60\n",
        "",
    );
    let second = file(
        2,
        "    secret \"second-secret\"\n    auth_mode none\n    hello_timeout 30\n",
        "",
    );
    let lines = reload_lines(&first, &second);
    let line = lines
        .iter()
        .find(|l| l.starts_with("tunnel \"t\": ") && l.ends_with("; closing it to open it again"))
        .unwrap_or_else(|| panic!("{lines:#?}"));
    assert_eq!(
        line,
        &format!(
            "tunnel \"t\": peer changed ({}:1701 -> {}:1701), secret changed, hello_timeout \
             changed; closing it to open it again",
            addr(1).ip(),
            addr(2).ip()
        )
    );
    assert!(
        !lines.iter().any(|l| l.contains("-secret")),
        "a secret's value logged: {lines:#?}"
    );
}

#[test]
fn a_changed_session_names_what_changed() {
    let first = file(1, "", "    cookie_length 4\n");
    let second = file(1, "", "    cookie_length 8\n    profile \"other\"\n");
    let profile = "session profile \"other\" {\n    data_sequencing all\n}\n";
    let lines = reload_lines(&first, &format!("{second}{profile}"));
    assert!(
        lines.iter().any(|l| l
            == "session \"s\": profile changed (\"default\" -> \"other\"), cookie_length \
                changed, data_sequencing changed; disconnecting it to place it again"),
        "{lines:#?}"
    );
}

#[test]
fn a_tunnel_whose_profile_changed_names_the_settings() {
    let profile = |t: u32| format!("tunnel profile \"default\" {{\n    retry_timeout {t}\n}}\n");
    let first = format!("{}{}", profile(1), file(1, "", ""));
    let second = format!("{}{}", profile(2), file(1, "", ""));
    let mut net = Net::new(&[&first, SERVER], 3);
    net.run_until(Duration::from_secs(10), "the tunnel up", |n| {
        tunnels(n, 0).len() == 1
    });
    let ((), lines) = recorded(|| {
        net.reload(0, &second);
    });
    assert!(
        lines
            .iter()
            .any(|(_, l)| l == "tunnel \"t\": retry_timeout changed; closing it to open it again"),
        "{lines:#?}"
    );
}

/// A tunnel that keeps its connection through a change of its peer list names both lists.
#[test]
fn a_tunnel_that_stays_open_names_its_old_and_new_peers() {
    let first = file(1, "", "");
    let second = first.replace(
        &format!("peer {}\n", addr(1).ip()),
        &format!("peer {} {}\n", addr(2).ip(), addr(1).ip()),
    );
    let lines = reload_lines(&first, &second);
    let (one, two) = (addr(1).ip(), addr(2).ip());
    let expected = format!(
        "tunnel \"t\": peer changed ({one}:1701 -> {two}:1701 {one}:1701); it stays open to \
         {one}:1701"
    );
    assert!(lines.contains(&expected), "{expected}\n{lines:#?}");
}

/// A PPP profile's settings are named as such: its idle_timeout is not the tunnel's.
#[test]
fn a_ppp_profiles_settings_are_named_as_its() {
    let lns = "ppp profile \"default\" {\n    auth_pap true\n    local_ip_addr 198.51.100.1\n    \
               ip_pool_name \"customers\"\n}\n\
               ip pool \"customers\" {\n    ranges 198.51.100.10-198.51.100.19\n}\n\
               user \"carol\" {\n    password \"s3cret\"\n}\n";
    let lac = |idle: u32| {
        format!(
            "tunnel \"t\" {{\n    peer {}\n    version 2\n}}\n\
             ppp profile \"p\" {{\n    user_name \"carol\"\n    user_password \"s3cret\"\n    \
             idle_timeout {idle}\n}}\n\
             pseudowire profile \"pw\" {{\n    ppp_profile_name \"p\"\n}}\n\
             session \"s\" {{\n    tunnel \"t\"\n    pseudowire_type ppp\n    \
             pseudowire_profile_name \"pw\"\n}}\n",
            addr(1).ip()
        )
    };
    let mut net = Net::new(&[&lac(0), lns], 30);
    net.run_until(Duration::from_secs(10), "the session up", |n| {
        sessions(n, 0).len() == 1 && n.nodes[0].up() == (1, 1)
    });
    let ((), lines) = recorded(|| {
        net.reload(0, &lac(600));
        net.run_for(Duration::from_secs(2));
    });
    assert!(
        lines.iter().any(|(_, l)| l
            == "session \"s\": ppp profile's idle_timeout changed; disconnecting it to place it \
                again"),
        "{lines:#?}"
    );
}
