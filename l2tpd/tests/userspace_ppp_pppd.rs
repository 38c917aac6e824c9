//! Native PPP on the userspace data plane against real pppd on the kernel's L2TP: the host's
//! l2tpd (`dataplane userspace`) is the LNS, terminating PPP itself (CHAP, an address pool);
//! in the qemu test guest (`tests/vm/`), l2tpd on the kernel data plane places two calls with
//! pppd on each (`use_pppd true`): an L2TPv2 session over UDP and an L2TPv3 PPP pseudowire
//! over IP, both asking for data sequencing (which the guest's kernel then requires of the
//! host's packets). pppd authenticates, takes its address, and pings the host's
//! end of each link through its own interface; the host's sessions show the user, the address
//! and the packets.
//!
//! And IPv6: pppd with `+ipv6` against the host's IPv6CP, ping6 both ways between the two
//! link-local addresses through the shared TUN
//! ([`pppd_pings_over_ipv6_link_local_both_ways`]).
//!
//! Needs root, qemu and the guest built by `tests/vm/build-guest.sh` (in `$L2TP_VM_DIR`,
//! default `/var/tmp/l2tp-vm`); fails, rather than skips, without them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod netns;

use std::time::Duration;

use netns::{DEADLINE, Lab, Side, num, poll};
use serde_json::Value;

/// Guest time limit; its own waits give up well before it.
const GUEST_TIMEOUT_S: u64 = 240;

/// The host: the LNS of the guest's calls. Each version has its own PPP address, so that the
/// guest's two links do not route to the same one.
const HOST_CONF: &str = "\
peer profile \"guest\" {
    peer_ipaddr 192.0.2.2
    lac_lns lac
    session_profile_name \"s\"
    pseudowire_profile_name \"native\"
}

session profile \"s\" {
    pseudowire_type ppp
}

pseudowire profile \"native\" {
    ppp_profile_name \"customers\"
}

ppp profile \"customers\" {
    auth_mschapv2 false
    local_ip_addr 203.0.113.1
    ip_pool_name \"pool\"
    mru 1400
    ipv6cp false
}

ip pool \"pool\" {
    ranges 203.0.113.10-203.0.113.11
}

user \"alice\" {
    password \"alice-chap-7731\"
}
";

/// The guest's l2tpd configuration: pppd (with `more_options` after the common ones) on an
/// L2TPv2 call over UDP, the call's session with `call_more` lines, then `more`.
fn guest_conf(more_options: &str, call_more: &str, more: &str) -> String {
    format!(
        r#"pseudowire profile "pppd" {{
    use_pppd true
    pppd_options "user alice" "password alice-chap-7731" "noauth" "nodefaultroute" "noipdefault" "noccp" "novj" "mru 1400"{more_options}
}}
tunnel "v2" {{
    version 2
    peer 192.0.2.1
    persist false
    pseudowire_profile_name "pppd"
}}
session "call2" {{
    tunnel "v2"
    pseudowire_type ppp
    session_type laic
{call_more}}}
{more}"#
    )
}

/// The L2TPv3 call over IP of the first test's guest.
const V3_CALL: &str = r#"tunnel "v3" {
    version 3
    encap ip
    peer 192.0.2.1
    persist false
    pseudowire_profile_name "pppd"
}
session "call3" {
    tunnel "v3"
    pseudowire_type ppp
    data_sequencing all
}
"#;

/// The guest: l2tpd on the kernel's L2TP placing an L2TPv2 call over UDP and an L2TPv3 one
/// over IP, pppd on each; then pings through each PPP interface.
fn guest_script() -> String {
    let conf = guest_conf("", "    data_sequencing all\n", V3_CALL);
    netns::guest_l2tpd_script("kernel", &conf, GUEST_CHECKS)
}

/// What the first test's guest does once its l2tpd runs.
const GUEST_CHECKS: &str = r#"links() { ip -4 -o addr show | awk '$2 ~ /^ppp/ {print $2}'; }
ok=0
for _ in $(seq 1 300); do
    [ "$(links | wc -l)" = 2 ] && { ok=1; break; }
    sleep 0.2
done
/tmp/bin/l2tpctl -S /tmp/w/l2tpd.sock show sessions
ip -4 addr show
pass=0
if [ "$ok" = 1 ]; then
    pass=1
    for dev in $(links); do
        ping -I "$dev" -c 5 -i 0.2 -W 2 203.0.113.1 || pass=0
    done
fi
if [ "$pass" = 1 ]; then
    ip -s l2tp show session
    echo "PASS pppd on the kernel <-> native PPP on the userspace data plane"
    # The guest powers off with its sessions up, for the host to read its counters.
    exit 0
fi
echo "FAIL pppd on the kernel <-> native PPP on the userspace data plane"
cat /tmp/w/l2tpd.out; tail -n 80 /tmp/w/l2tpd.log
exit 1
"#;

#[test]
fn pppd_on_the_kernel_reaches_native_ppp_on_the_userspace_data_plane() {
    let mut lab = Lab::new("userspace-ppp-pppd", &["qemu-system-x86_64"]);
    let share = lab.guest_share(&guest_script());
    let qemu = lab.boot_guest(&share, "/mnt/host/peer.sh", GUEST_TIMEOUT_S, 0x21);
    let dp = "    dataplane userspace\n    listen_encap_ip true\n";
    let d = lab.start_l2tpd(Side::A, "192.0.2.1:1701", dp, HOST_CONF);
    let out = qemu.wait_with_output().unwrap();
    let console = String::from_utf8_lossy(&out.stdout);
    println!("{console}");
    assert!(
        out.status.success()
            && console.contains("PASS pppd on the kernel <-> native PPP on the userspace"),
        "the guest's pings failed\n{}",
        lab.l2tpd_logs(&d)
    );
    // Both calls: pppd authenticated as alice, got an address from the pool, and its pings
    // crossed; the sessions name the shared TUN.
    let sessions = poll(
        DEADLINE,
        "the host's two PPP sessions",
        || {
            let s = lab.list(&d, "sessions");
            (s.len() == 2).then_some(s)
        },
        || lab.l2tpd_logs(&d),
    );
    let mut addresses = Vec::new();
    for s in &sessions {
        let (tid, sid) = (num(s, "tid").to_string(), num(s, "sid").to_string());
        let detail: Value = lab
            .ctl(&d, &["show", "session", &tid, &sid])
            .unwrap_or_else(|e| panic!("{e}\n{}", lab.l2tpd_logs(&d)));
        assert_eq!(detail["interface_name"], "l2tpppp0", "{detail}");
        assert_eq!(detail["ppp"]["user"], "alice", "{detail}");
        assert_eq!(detail["ppp"]["auth"], "chap", "{detail}");
        let st = &detail["stats"];
        assert!(
            num(st, "rx_packets") >= 5 && num(st, "tx_packets") >= 5,
            "{detail}"
        );
        assert_eq!(num(st, "rx_errors"), 0, "{detail}");
        addresses.push(detail["ppp"]["peer_ipv4"].as_str().unwrap_or("").to_owned());
    }
    addresses.sort();
    assert_eq!(addresses, ["203.0.113.10", "203.0.113.11"]);
}

/// The guest of the IPv6 test: one L2TPv2 call, pppd with `+ipv6`; pings the host's
/// link-local address (the peer pppd set on ppp0), then stays up until the host has pinged
/// the guest's (it writes `host-pinged` into the share), for at most 60 s.
fn guest_v6_script() -> String {
    let conf = guest_conf(r#" "+ipv6""#, "", "");
    netns::guest_l2tpd_script("kernel", &conf, GUEST_V6_CHECKS)
}

/// What the IPv6 test's guest does once its l2tpd runs.
const GUEST_V6_CHECKS: &str = r#"peer6() { ip -6 -o addr show dev ppp0 scope link 2>/dev/null | sed -n 's/.* peer \(fe80::[0-9a-f:]*\).*/\1/p' | head -n 1; }
peer=
for _ in $(seq 1 300); do
    peer=$(peer6)
    [ -n "$peer" ] && break
    sleep 0.2
done
ip -6 addr show dev ppp0
pass=0
if [ -n "$peer" ] && ping -6 -c 5 -i 0.2 -W 2 -w 20 "$peer%ppp0"; then
    echo "GUEST-PINGED $peer"
    for _ in $(seq 1 300); do
        [ -e /mnt/host/host-pinged ] && { pass=1; break; }
        sleep 0.2
    done
fi
ip -s link show ppp0
if [ "$pass" = 1 ]; then
    echo "PASS pppd +ipv6 <-> native PPP IPv6 on the userspace data plane"
    exit 0
fi
echo "FAIL pppd +ipv6 <-> native PPP IPv6 on the userspace data plane"
cat /tmp/w/l2tpd.out; tail -n 80 /tmp/w/l2tpd.log
exit 1
"#;

/// pppd with `+ipv6` on the kernel's L2TP in the guest, the host's l2tpd (userspace data
/// plane, IPv6CP on) its LNS: IPv6CP opens, the guest pings the host's link-local address,
/// the host pings the guest's (`fe80::<peer id>%l2tpppp0`), and the host's session counts
/// the IPv6 it carried and no source it refused.
#[test]
fn pppd_pings_over_ipv6_link_local_both_ways() {
    let mut lab = Lab::new("userspace-ppp-pppd-v6", &["qemu-system-x86_64"]);
    let share = lab.guest_share(&guest_v6_script());
    let qemu = lab.boot_guest(&share, "/mnt/host/peer.sh", GUEST_TIMEOUT_S, 0x22);
    let dp = "    dataplane userspace\n";
    let conf = HOST_CONF.replace("ipv6cp false", "ipv6cp true");
    let d = lab.start_l2tpd(Side::A, "192.0.2.1:1701", dp, &conf);
    // The host's session with IPv6CP up: the guest's identifier.
    let (ids, detail) = poll(
        Duration::from_secs(120),
        "the host's session with IPv6CP up",
        || {
            let s = lab.list(&d, "sessions");
            let s = s.first()?;
            let (tid, sid) = (num(s, "tid").to_string(), num(s, "sid").to_string());
            let detail = lab.ctl(&d, &["show", "session", &tid, &sid]).ok()?;
            detail["ppp"]["peer_ipv6_ifid"]
                .is_string()
                .then_some(((tid, sid), detail))
        },
        || lab.l2tpd_logs(&d),
    );
    let peer = format!(
        "fe80::{}%l2tpppp0",
        detail["ppp"]["peer_ipv6_ifid"].as_str().unwrap_or("")
    );
    // The host pings the guest, until it answers (its pppd may still be setting up ppp0).
    poll(
        Duration::from_secs(60),
        "the guest answering the host's ping6",
        || {
            let out = lab.run(
                Side::A,
                &[
                    "ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", "-w", "5", &peer,
                ],
                Duration::from_secs(10),
            );
            println!("{}", String::from_utf8_lossy(&out.stdout));
            out.status.success().then_some(())
        },
        || lab.l2tpd_logs(&d),
    );
    std::fs::write(share.join("host-pinged"), "").unwrap();
    let out = qemu.wait_with_output().unwrap();
    let console = String::from_utf8_lossy(&out.stdout);
    println!("{console}");
    assert!(
        out.status.success()
            && console.contains("PASS pppd +ipv6 <-> native PPP IPv6 on the userspace"),
        "the guest's ping6 failed\n{}",
        lab.l2tpd_logs(&d)
    );
    // The guest pinged the host's address of this session.
    let ours = format!(
        "GUEST-PINGED fe80::{}",
        detail["ppp"]["local_ipv6_ifid"].as_str().unwrap_or("?")
    );
    assert!(console.contains(&ours), "{ours} not in the guest's console");
    let after = lab
        .ctl(&d, &["show", "session", &ids.0, &ids.1])
        .unwrap_or_else(|e| panic!("{e}\n{}", lab.l2tpd_logs(&d)));
    let st = &after["stats"];
    assert!(
        num(st, "rx_packets") >= 8 && num(st, "tx_packets") >= 8,
        "{after}"
    );
    // Nothing the guest sent once both ends had IPv6CP up was dropped. (An IPv6 packet the
    // guest sends the moment its own IPv6CP opens may still find ours a step behind: RFC 1661
    // §3.5 has it discarded and counted, which is no fault; so the count is compared from when
    // the host's side showed IPv6CP up.)
    assert_eq!(
        num(st, "rx_errors"),
        num(&detail["stats"], "rx_errors"),
        "{after}"
    );
    // And no packet came from a source other than the guest's link-local address.
    let logs = lab.l2tpd_logs(&d);
    assert!(!logs.contains("is not the peer's address"), "{logs}");
}
