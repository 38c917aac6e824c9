//! Text a peer chose, against a live l2tpd: a Host Name and a StopCCN's Result Code message
//! that try to forge a log line ("l2tpd: tunnel up") and colour the operator's terminal reach
//! the log file, `l2tpctl show tunnel` and `l2tpctl --json` escaped, each on its one line.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod raw;

use std::time::Duration;

use common::{Env, l2tpd};
use l2tp_ctl::{Request, Response};
use raw::{RawPeer, avp, msg_type, mt};

const EVIL: &[u8] = b"evil\nl2tpd: tunnel up\x1b[31m";
const SHOWN: &str = r"evil\x0al2tpd: tunnel up\x1b[31m";

fn tunnel_ids(env: &Env) -> Vec<u32> {
    match env.request(&Request::show_tunnels()) {
        Ok(Response::Tunnels(t)) => t.iter().map(|t| t.tid).collect(),
        other => panic!("show tunnels: {other:?}"),
    }
}

/// Starts `env`'s daemon with `system` in its system block, and a raw peer of it.
fn start(env: &mut Env, system: &str) -> RawPeer {
    env.write_config(system, "");
    env.start(&[]);
    RawPeer::new(std::net::SocketAddr::from(([127, 0, 0, 1], env.port)))
}

#[test]
fn a_peers_hostile_text_is_logged_and_shown_escaped() {
    let mut env = Env::new(l2tpd(), "hostile-text");
    let peer = start(&mut env, "    dataplane none\n    log_level debug\n");
    let sccrq = [
        msg_type(mt::SCCRQ),
        avp(true, 2, &[1, 0]),
        avp(true, 7, EVIL),
        avp(true, 3, &3u32.to_be_bytes()),
        avp(true, 9, &77u16.to_be_bytes()),
    ]
    .concat();
    let tid = peer.establish_with(&sccrq);
    common::wait_for(Duration::from_secs(5), "the tunnel", &env, || {
        tunnel_ids(&env).contains(&u32::from(tid)).then_some(())
    });

    // show tunnel, as text and as JSON: one line for the host name, no control character.
    let own = env!("CARGO_BIN_EXE_l2tpd");
    let shown =
        l2tp_testkit::daemon::l2tpctl_text(own, &env.sock(), &["show", "tunnel", &tid.to_string()]);
    let json = l2tp_testkit::daemon::l2tpctl_text(
        own,
        &env.sock(),
        &["--json", "show", "tunnel", &tid.to_string()],
    );
    for out in [&shown, &json] {
        assert!(
            !out.contains(|c: char| c.is_control() && c != '\n'),
            "{out:?}"
        );
        assert!(
            !out.lines().any(|l| l.starts_with("l2tpd: tunnel up")),
            "{out}"
        );
    }
    let hex: String = EVIL.iter().map(|b| format!("{b:02x}")).collect();
    assert!(
        shown.contains(&format!("peer host name:   hex:{hex}\n")),
        "{shown}"
    );

    // The peer closes the tunnel with a StopCCN whose message is as hostile.
    let mut result = vec![0, 1, 0, 0];
    result.extend_from_slice(EVIL);
    peer.send(
        tid,
        0,
        &[
            msg_type(mt::STOPCCN),
            avp(true, 9, &77u16.to_be_bytes()),
            avp(true, 1, &result),
        ]
        .concat(),
    );
    let log = env.wait_log(": down (peer, result 1 error 0: ");
    let down: Vec<&str> = log.lines().filter(|l| l.contains(": down (")).collect();
    assert_eq!(down.len(), 1, "{log}");
    assert!(
        down[0].ends_with(&format!("down (peer, result 1 error 0: {SHOWN})")),
        "{log}"
    );
    assert!(
        log.contains(&format!("(host name \"{SHOWN}\", peer profile")),
        "{log}"
    );
    assert!(
        !log.contains(|c: char| c.is_control() && c != '\n'),
        "{log:?}"
    );
    assert!(
        !log.lines().any(|l| l.starts_with("l2tpd: tunnel up")),
        "{log}"
    );
}

/// A StopCCN's message that is not UTF-8 reaches the log with each invalid octet as `\xNN`,
/// not replaced by U+FFFD: the operator sees the octets the peer sent.
#[test]
fn a_result_message_that_is_not_utf8_is_logged_octet_for_octet() {
    let mut env = Env::new(l2tpd(), "result-octets");
    let peer = start(&mut env, "    dataplane none\n");
    let tid = peer.establish(78);
    common::wait_for(Duration::from_secs(5), "the tunnel", &env, || {
        tunnel_ids(&env).contains(&u32::from(tid)).then_some(())
    });
    let mut result = vec![0, 1, 0, 0];
    result.extend_from_slice(b"caf\xe9 \xff\xfe");
    peer.send(
        tid,
        0,
        &[
            msg_type(mt::STOPCCN),
            avp(true, 9, &78u16.to_be_bytes()),
            avp(true, 1, &result),
        ]
        .concat(),
    );
    let log = env.wait_log(": down (peer, result 1 error 0: ");
    assert!(
        log.contains(r"down (peer, result 1 error 0: caf\xe9 \xff\xfe)"),
        "{log}"
    );
    assert!(!log.contains('\u{fffd}'), "{log}");
}

/// The peer's Result Code reaches the session-down and tunnel-down scripts, and the
/// session-deleted and tunnel-deleted scripts that follow: the codes, and the message byte for
/// byte as `RESULT_MESSAGE` (not UTF-8, a newline, shell quotes and `$`; the script is run by
/// no shell of ours), one with a NUL byte in hexadecimal as `RESULT_MESSAGE_BIN`.
#[test]
fn a_peers_result_message_reaches_the_scripts_byte_for_byte() {
    use std::os::unix::fs::PermissionsExt;
    let mut env = Env::new(l2tpd(), "result-scripts");
    let scripts = env.dir.join("scripts");
    std::fs::create_dir_all(&scripts).unwrap();
    for name in [
        "session-down",
        "session-deleted",
        "tunnel-down",
        "tunnel-deleted",
    ] {
        let out = env.dir.join(name);
        let body = format!(
            "#!/bin/sh\nprintf '%s|%s|%s|' \"$RESULT_CODE\" \"${{ERROR_CODE-none}}\" \
             \"${{RESULT_MESSAGE_BIN-none}}\" > {o}.tmp\n\
             printf '%s' \"${{RESULT_MESSAGE-none}}\" >> {o}.tmp\nmv {o}.tmp {o}\n",
            o = out.display()
        );
        let path = scripts.join(name);
        std::fs::write(&path, body).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    // The tunnel is deleted once the StopCCN's retransmissions would be over: 3 s.
    env.write_config(
        &format!("    dataplane none\n    script_dir {}\n", scripts.display()),
        "tunnel profile \"default\" {\n    max_retries 1\n}\n",
    );
    env.start(&[]);
    let peer = RawPeer::new(std::net::SocketAddr::from(([127, 0, 0, 1], env.port)));
    let tid = peer.establish(79);
    let sid = peer.open_session(tid, 5);
    let read = |name: &str| {
        common::wait_for(Duration::from_secs(10), name, &env, || {
            std::fs::read(env.dir.join(name)).ok()
        })
    };
    let hostile: &[u8] = b"caf\xe9 \"$HOME\"\n'`x`";
    // CDN: result 2 (general error), error 6, the message.
    let mut result = vec![0, 2, 0, 6];
    result.extend_from_slice(hostile);
    peer.send(
        tid,
        sid,
        &[
            msg_type(mt::CDN),
            avp(true, 1, &result),
            avp(true, 14, &5u16.to_be_bytes()),
        ]
        .concat(),
    );
    let mut want = b"2|6|none|".to_vec();
    want.extend_from_slice(hostile);
    assert_eq!(read("session-down"), want);
    assert_eq!(read("session-deleted"), want);
    // StopCCN: result 1, error 0, a message with a NUL byte.
    peer.send(
        tid,
        0,
        &[
            msg_type(mt::STOPCCN),
            avp(true, 9, &79u16.to_be_bytes()),
            avp(true, 1, &[0, 1, 0, 0, b'a', 0, b'b']),
        ]
        .concat(),
    );
    assert_eq!(read("tunnel-down"), b"1|0|610062|none");
    assert_eq!(read("tunnel-deleted"), b"1|0|610062|none");
}
