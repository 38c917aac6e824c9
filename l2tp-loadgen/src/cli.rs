//! The command line and the plan it describes.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use clap::{Parser, ValueEnum};
use l2tp_proto::auth::Secret;
use l2tp_proto::wire::avp::types::pw_type;
use l2tp_proto::wire::header::Version;
use ppp_proto::{AuthMethod, Password};

use crate::ppp::PppPlan;

/// The L2TP port (RFC 2661 §8.1, RFC 3931 §4.1.2.1).
const L2TP_PORT: u16 = 1701;

/// Opens T tunnels × S sessions (L2TPv2 or L2TPv3 over UDP) as a LAC against an LNS, reports
/// how fast they came up, optionally holds them, then tears them down (StopCCN per tunnel)
/// and reports how fast that went. With --ppp, every session also runs PPP as a client
/// (LCP, authentication, IPCP) and the report has the PPP figures.
///
/// Exit status: 0 if every tunnel and session came up, stayed up and was torn down; 1 if
/// anything failed or the run could not start; 2 for usage errors.
#[derive(Debug, Parser)]
#[command(name = "l2tp-loadgen", allow_negative_numbers = true)]
pub(crate) struct Args {
    /// The LNS: ADDR or ADDR:PORT (IPv6 as [ADDR]:PORT); the port defaults to 1701.
    #[arg(long, value_name = "ADDR[:PORT]")]
    pub(crate) peer: String,
    /// Tunnels to open, each from its own UDP socket (ephemeral port).
    #[arg(long, value_name = "T", value_parser = tunnel_count)]
    pub(crate) tunnels: u32,
    /// Sessions per tunnel (0: tunnels only).
    #[arg(long, value_name = "S", value_parser = session_count)]
    pub(crate) sessions: u32,
    /// L2TP version.
    #[arg(long, value_name = "2|3", default_value_t = 3, value_parser = version)]
    pub(crate) version: u8,
    /// Shared secret: challenge/response (L2TPv2) or message digest (L2TPv3) authentication,
    /// required in both directions.
    #[arg(long, value_name = "S", value_parser = secret)]
    pub(crate) secret: Option<Secret>,
    /// Seconds to hold everything open once set up, before tearing down.
    #[arg(long, value_name = "SECONDS", value_parser = seconds_arg, default_value_t = 0.0)]
    pub(crate) hold: f64,
    /// Print the report as one JSON object on standard output.
    #[arg(long)]
    pub(crate) json: bool,
    /// Tunnels and sessions being set up at once.
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = at_least_one)]
    pub(crate) concurrency: u32,
    /// At most this many UDP sockets; tunnels share them round robin (default: one per
    /// tunnel, fewer if file descriptors run short even after raising RLIMIT_NOFILE).
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub(crate) max_sockets: Option<u32>,
    /// Local address to send from (default: the unspecified address of the peer's family).
    #[arg(long, value_name = "ADDR")]
    pub(crate) local: Option<IpAddr>,
    /// Local UDP port of the first socket (default: an ephemeral port), as clients that always
    /// send from port 1701 do (Windows, xl2tpd); with --max-sockets 1 every tunnel shares it.
    #[arg(long, value_name = "PORT", value_parser = port)]
    pub(crate) local_port: Option<u16>,
    /// Seconds the set-up phase may last; whatever is not up by then counts as failed.
    #[arg(long, value_name = "SECONDS", value_parser = seconds_arg, default_value_t = 60.0)]
    pub(crate) timeout: f64,
    /// Seconds to wait for the peer to acknowledge the StopCCNs.
    #[arg(long, value_name = "SECONDS", value_parser = seconds_arg, default_value_t = 10.0)]
    pub(crate) teardown_timeout: f64,
    /// Pseudowire type of L2TPv3 sessions (L2TPv2 sessions are always PPP) [default: eth, ppp
    /// with --ppp].
    #[arg(long, value_enum, value_name = "eth|eth-vlan|ppp")]
    pub(crate) pw_type: Option<PwType>,
    /// Host Name AVP to send.
    #[arg(long, value_name = "NAME", default_value = "l2tp-loadgen")]
    pub(crate) host_name: String,
    /// Run PPP in every session as a client: LCP, authentication with --user and --password,
    /// IPCP (it takes the address it is given); answer LCP echoes until the teardown.
    #[arg(long)]
    pub(crate) ppp: bool,
    /// PPP user name (with --ppp); `%d` in it stands for the session's number (1 to T × S),
    /// so that every session logs in as a user of its own.
    #[arg(long, value_name = "NAME", requires = "ppp")]
    pub(crate) user: Option<String>,
    /// PPP password (with --ppp).
    #[arg(long, value_name = "PASSWORD", requires = "ppp", value_parser = password)]
    pub(crate) password: Option<Password>,
    /// The one PPP authentication method to accept (with --ppp).
    #[arg(long, value_enum, value_name = "pap|chap|mschapv2", default_value_t = Auth::Chap)]
    pub(crate) auth: Auth,
    /// Seconds between our own LCP Echo-Requests (with --ppp); 0: send none, only answer the
    /// peer's.
    #[arg(long, value_name = "SECONDS", value_parser = seconds_arg, default_value_t = 0.0)]
    pub(crate) lcp_echo_interval: f64,
    /// Ask IPCP for the primary and secondary DNS and NBNS (WINS) servers (RFC 1877), as the
    /// Windows client does (with --ppp); the report lists the servers given.
    #[arg(long, requires = "ppp")]
    pub(crate) ask_servers: bool,
    /// Act as a LAC that negotiated LCP with the caller and authenticated it itself (with
    /// --ppp, L2TPv2, --auth pap or chap): every ICCN carries the proxy LCP and proxy
    /// authentication AVPs of RFC 2661 §4.4.5, and each session's PPP starts from them (LCP
    /// Opened, the answer given) and waits for the LNS's verdict.
    #[arg(long, requires = "ppp")]
    pub(crate) proxy: bool,
    /// Start each session's PPP at once (with --ppp), as Windows' and Apple's clients do: its
    /// first LCP Configure-Request goes right behind the ICCN, instead of waiting up to a
    /// second for the LNS's. The report counts the Configure-Requests the restart timer had
    /// to send again (`lcp_configure_requests_resent`): an LNS that loses the first shows
    /// there, and in the set-up times.
    #[arg(long, requires = "ppp", conflicts_with = "proxy")]
    pub(crate) ppp_eager: bool,
    /// A hostile client (with --ppp): each session, once its PPP is up, sends RATE LCP
    /// Echo-Requests a second until the teardown (bound it with --hold), however many the LNS
    /// answers; the report counts those sent and the Echo-Replies received (`echo_flood`).
    #[arg(long, value_name = "RATE", requires = "ppp", value_parser = flood_rate)]
    pub(crate) ppp_echo_flood: Option<u32>,
}

/// PPP authentication methods.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum Auth {
    /// PAP (RFC 1334).
    Pap,
    /// CHAP with MD5 (RFC 1994).
    Chap,
    /// MS-CHAPv2 (RFC 2759).
    Mschapv2,
}

impl Auth {
    fn method(self) -> AuthMethod {
        match self {
            Auth::Pap => AuthMethod::Pap,
            Auth::Chap => AuthMethod::ChapMd5,
            Auth::Mschapv2 => AuthMethod::MsChapV2,
        }
    }
}

/// A password, kept out of `Debug` output.
/// A secret never shows in `Debug` output (of the arguments or the plan).
fn secret(s: &str) -> Result<Secret, String> {
    Ok(Secret::from(s))
}

fn password(s: &str) -> Result<Password, String> {
    Ok(Password::from(s))
}

/// A whole number from `lo` to `hi`; the message says so (not Rust's parse error).
fn whole(s: &str, lo: u64, hi: u64) -> Result<u64, String> {
    s.parse()
        .ok()
        .filter(|n| (lo..=hi).contains(n))
        .ok_or_else(|| format!("expected a whole number from {lo} to {hi}"))
}

fn tunnel_count(s: &str) -> Result<u32, String> {
    whole(s, 1, 65_535).map(|n| u32::try_from(n).unwrap_or(u32::MAX))
}

fn session_count(s: &str) -> Result<u32, String> {
    whole(s, 0, 60_000).map(|n| u32::try_from(n).unwrap_or(u32::MAX))
}

fn at_least_one(s: &str) -> Result<u32, String> {
    whole(s, 1, u32::MAX.into()).map(|n| u32::try_from(n).unwrap_or(u32::MAX))
}

fn flood_rate(s: &str) -> Result<u32, String> {
    whole(s, 1, 1_000_000).map(|n| u32::try_from(n).unwrap_or(u32::MAX))
}

fn port(s: &str) -> Result<u16, String> {
    whole(s, 0, u16::MAX.into()).map(|n| u16::try_from(n).unwrap_or(u16::MAX))
}

fn version(s: &str) -> Result<u8, String> {
    match s {
        "2" => Ok(2),
        "3" => Ok(3),
        _ => Err("expected 2 or 3".into()),
    }
}

/// Seconds as written (checked further by [`seconds`]).
fn seconds_arg(s: &str) -> Result<f64, String> {
    s.parse()
        .map_err(|_| "expected a number of seconds, such as 5 or 0.5".to_owned())
}

/// L2TPv3 pseudowire types.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum PwType {
    /// Ethernet port (RFC 4719).
    Eth,
    /// Ethernet VLAN (RFC 4719).
    EthVlan,
    /// PPP (RFC 4591).
    Ppp,
}

/// What to do, checked and resolved.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub(crate) peer: SocketAddr,
    pub(crate) local: Option<IpAddr>,
    pub(crate) local_port: Option<u16>,
    pub(crate) tunnels: usize,
    pub(crate) sessions: usize,
    pub(crate) version: Version,
    pub(crate) secret: Option<Secret>,
    pub(crate) hold: Duration,
    pub(crate) concurrency: usize,
    pub(crate) max_sockets: Option<usize>,
    pub(crate) timeout: Duration,
    pub(crate) teardown_timeout: Duration,
    pub(crate) pw_type: u16,
    pub(crate) host_name: String,
    pub(crate) json: bool,
    pub(crate) ppp: Option<PppPlan>,
}

fn seconds(name: &str, s: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(s).map_err(|_| format!("--{name}: not a number of seconds: {s}"))
}

impl Args {
    /// Resolves the peer and checks the values.
    pub(crate) fn plan(&self) -> Result<Plan, String> {
        let peer = parse_peer(&self.peer)?;
        if let Some(local) = self.local
            && local.is_ipv4() != peer.is_ipv4()
        {
            return Err(format!(
                "--local {local} and --peer {peer} are of different address families"
            ));
        }
        if self.host_name.is_empty() {
            return Err("--host-name must not be empty".into());
        }
        let timeout = seconds("timeout", self.timeout)?;
        if timeout.is_zero() {
            return Err("--timeout must be positive".into());
        }
        let ppp = self.ppp_plan()?;
        let pw = match (self.version, self.pw_type, &ppp) {
            (2, _, _) | (_, None | Some(PwType::Ppp), Some(_)) | (_, Some(PwType::Ppp), None) => {
                pw_type::PPP
            }
            (_, Some(other), Some(_)) => {
                let given = other
                    .to_possible_value()
                    .map_or_else(String::new, |v| v.get_name().to_owned());
                return Err(format!("--ppp needs --pw-type ppp, not {given}"));
            }
            (_, None | Some(PwType::Eth), None) => pw_type::ETH,
            (_, Some(PwType::EthVlan), None) => pw_type::ETH_VLAN,
        };
        Ok(Plan {
            peer,
            local: self.local,
            local_port: self.local_port,
            tunnels: self.tunnels as usize,
            sessions: self.sessions as usize,
            version: if self.version == 2 {
                Version::V2
            } else {
                Version::V3
            },
            secret: self.secret.clone().filter(|s| !s.is_empty()),
            hold: seconds("hold", self.hold)?,
            concurrency: self.concurrency as usize,
            max_sockets: self.max_sockets.map(|n| n as usize),
            timeout,
            teardown_timeout: seconds("teardown-timeout", self.teardown_timeout)?,
            pw_type: pw,
            host_name: self.host_name.clone(),
            json: self.json,
            ppp,
        })
    }

    fn ppp_plan(&self) -> Result<Option<PppPlan>, String> {
        if !self.ppp {
            return Ok(None);
        }
        let (Some(user), Some(password)) = (&self.user, &self.password) else {
            return Err("--ppp needs --user and --password".into());
        };
        let echo = seconds("lcp-echo-interval", self.lcp_echo_interval)?;
        if self.proxy {
            if self.version != 2 {
                return Err("--proxy needs --version 2 (the proxy AVPs are L2TPv2's)".into());
            }
            if matches!(self.auth, Auth::Mschapv2) {
                return Err("--proxy needs --auth pap or chap".into());
            }
            if user.contains("%d") {
                return Err("--proxy takes one user name for every session, without %d".into());
            }
        }
        Ok(Some(PppPlan {
            proxy: self.proxy,
            user: user.clone(),
            password: password.clone(),
            auth: self.auth.method(),
            echo_interval: (!echo.is_zero()).then_some(echo),
            ask_servers: self.ask_servers,
            eager: self.ppp_eager,
            echo_flood: self.ppp_echo_flood.unwrap_or(0),
        }))
    }
}

/// `ADDR`, `ADDR:PORT`, `[V6]:PORT`, `V6`, `HOST` or `HOST:PORT`.
pub(crate) fn parse_peer(text: &str) -> Result<SocketAddr, String> {
    if let Ok(a) = text.parse::<SocketAddr>() {
        return Ok(a);
    }
    if let Ok(ip) = text.trim_matches(['[', ']']).parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, L2TP_PORT));
    }
    let with_port = match text.rsplit_once(':') {
        Some((_, port)) if port.parse::<u16>().is_ok() => text.to_owned(),
        // Digits after the colon of a name or IPv4 address: a port, out of range.
        Some((host, port))
            if !host.contains(':')
                && !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            return Err(format!("--peer {text}: port {port} is not in 0..=65535"));
        }
        _ => format!("{text}:{L2TP_PORT}"),
    };
    with_port
        .to_socket_addrs()
        .map_err(|e| format!("--peer {text}: {e}"))?
        .next()
        .ok_or_else(|| format!("--peer {text}: no address"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Bad numbers are named with what is expected, never with Rust's parse errors.
    #[test]
    fn bad_numbers_say_what_is_expected() {
        for (flag, value, want) in [
            (
                "--tunnels",
                "abc",
                "expected a whole number from 1 to 65535",
            ),
            ("--tunnels", "0", "expected a whole number from 1 to 65535"),
            (
                "--sessions",
                "-1",
                "expected a whole number from 0 to 60000",
            ),
            ("--version", "4", "expected 2 or 3"),
            ("--concurrency", "x", "expected a whole number from 1 to"),
            (
                "--local-port",
                "http",
                "expected a whole number from 0 to 65535",
            ),
            ("--hold", "abc", "expected a number of seconds"),
        ] {
            let mut argv = vec!["l2tp-loadgen", "--peer", "127.0.0.1"];
            if flag != "--tunnels" {
                argv.extend(["--tunnels", "1"]);
            }
            if flag != "--sessions" {
                argv.extend(["--sessions", "1"]);
            }
            argv.extend([flag, value]);
            let e = Args::try_parse_from(&argv).unwrap_err().to_string();
            assert!(e.contains(want), "{flag} {value}: {e}");
            assert!(
                !e.contains("invalid digit") && !e.contains("float literal"),
                "{e}"
            );
        }
        // An option is named as it is written.
        let e = ppp_plan_with_pw("eth-vlan").unwrap_err();
        assert_eq!(e, "--ppp needs --pw-type ppp, not eth-vlan");
        // A negative number of seconds reaches the plan's check.
        let args = Args::try_parse_from(argv(&["--hold", "-1"])).unwrap();
        assert!(args.hold < 0.0);
    }

    #[test]
    fn peers_take_the_default_port() {
        assert_eq!(
            parse_peer("127.0.0.1").unwrap(),
            "127.0.0.1:1701".parse().unwrap()
        );
        assert_eq!(
            parse_peer("127.0.0.1:17").unwrap(),
            "127.0.0.1:17".parse().unwrap()
        );
        assert_eq!(parse_peer("::1").unwrap(), "[::1]:1701".parse().unwrap());
        assert_eq!(parse_peer("[::1]").unwrap(), "[::1]:1701".parse().unwrap());
        assert_eq!(parse_peer("[::1]:9").unwrap(), "[::1]:9".parse().unwrap());
        assert_eq!(parse_peer("localhost:9").unwrap().port(), 9);
        assert!(parse_peer("no such host.invalid").is_err());
        assert_eq!(
            parse_peer("192.0.2.1:99999"),
            Err("--peer 192.0.2.1:99999: port 99999 is not in 0..=65535".into())
        );
    }

    /// A command line of one tunnel with one session to 127.0.0.1, then `extra`.
    fn argv<'a>(extra: &[&'a str]) -> Vec<&'a str> {
        let mut argv = vec![
            "l2tp-loadgen",
            "--peer",
            "127.0.0.1",
            "--tunnels",
            "1",
            "--sessions",
            "1",
        ];
        argv.extend_from_slice(extra);
        argv
    }

    /// A PPP plan with user "u", password "p" and `--pw-type pw`.
    fn ppp_plan_with_pw(pw: &str) -> Result<Plan, String> {
        ppp_plan(&["--ppp", "--user", "u", "--password", "p", "--pw-type", pw])
    }

    fn ppp_plan(extra: &[&str]) -> Result<Plan, String> {
        Args::try_parse_from(argv(extra))
            .map_err(|e| e.to_string())
            .and_then(|a| a.plan())
    }

    #[test]
    fn the_tunnel_secret_stays_out_of_debug() {
        let argv = [
            "l2tp-loadgen",
            "--peer",
            "127.0.0.1",
            "--tunnels",
            "1",
            "--sessions",
            "1",
        ];
        let args = Args::try_parse_from(argv.iter().chain(&["--secret", "hunter2"])).unwrap();
        let plan = args.plan().unwrap();
        assert_eq!(plan.secret, Some(Secret::from("hunter2")));
        for shown in [format!("{args:?}"), format!("{plan:?}")] {
            assert!(!shown.contains("hunter2"), "{shown}");
        }
        // An empty secret is no secret.
        let args = Args::try_parse_from(argv.iter().chain(&["--secret", ""])).unwrap();
        assert_eq!(args.plan().unwrap().secret, None);
    }

    #[test]
    fn proxy_needs_l2tpv2_pap_or_chap_and_one_user_name() {
        let base = ["--ppp", "--user", "u", "--password", "p", "--proxy"];
        let with = |extra: &[&str]| ppp_plan(&[&base[..], extra].concat());
        assert!(with(&["--version", "2"]).unwrap().ppp.unwrap().proxy);
        assert!(with(&["--version", "2", "--auth", "pap"]).is_ok());
        assert!(with(&["--version", "3"]).is_err());
        assert!(with(&["--version", "2", "--auth", "mschapv2"]).is_err());
        let numbered = [
            "--ppp",
            "--user",
            "u%d",
            "--password",
            "p",
            "--proxy",
            "--version",
            "2",
        ];
        assert!(ppp_plan(&numbered).is_err());
    }

    #[test]
    fn ppp_takes_a_user_a_password_and_a_ppp_pseudowire() {
        let plan = ppp_plan(&["--ppp", "--user", "u", "--password", "p", "--auth", "pap"]).unwrap();
        let ppp = plan.ppp.unwrap();
        assert_eq!(ppp.auth, AuthMethod::Pap);
        assert_eq!(ppp.user, "u");
        assert_eq!(ppp.password, Password::from("p"));
        assert_eq!(ppp.echo_interval, None);
        assert!(
            !format!("{ppp:?}").contains("\"p\""),
            "the password stays out of Debug"
        );
        // L2TPv3 sessions become PPP pseudowires.
        assert_eq!(plan.pw_type, pw_type::PPP);
        let plan = ppp_plan(&[
            "--ppp",
            "--user",
            "u",
            "--password",
            "p",
            "--lcp-echo-interval",
            "30",
        ])
        .unwrap();
        assert_eq!(plan.ppp.unwrap().auth, AuthMethod::ChapMd5);
        assert!(ppp_plan(&["--ppp", "--user", "u"]).is_err());
        assert!(ppp_plan(&["--ppp", "--password", "p"]).is_err());
        assert!(
            ppp_plan(&["--user", "u", "--password", "p"]).is_err(),
            "needs --ppp"
        );
        let eth = ppp_plan_with_pw("eth");
        assert!(eth.is_err());
        assert_eq!(ppp_plan(&[]).unwrap().pw_type, pw_type::ETH);
    }

    #[test]
    fn the_command_line_becomes_a_plan() {
        let args = Args::try_parse_from([
            "l2tp-loadgen",
            "--peer",
            "127.0.0.1:1702",
            "--tunnels",
            "5",
            "--sessions",
            "20",
            "--version",
            "2",
            "--hold",
            "1.5",
            "--json",
        ])
        .unwrap();
        let plan = args.plan().unwrap();
        assert_eq!(plan.tunnels, 5);
        assert_eq!(plan.sessions, 20);
        assert_eq!(plan.version, Version::V2);
        assert_eq!(plan.pw_type, pw_type::PPP);
        assert_eq!(plan.hold, Duration::from_millis(1500));
        assert!(plan.json);
        assert!(Args::try_parse_from(["l2tp-loadgen", "--peer", "x", "--tunnels", "0"]).is_err());
        assert!(plan.ppp.is_none());
        assert!(
            Args::try_parse_from([
                "l2tp-loadgen",
                "--peer",
                "127.0.0.1",
                "--tunnels",
                "1",
                "--sessions",
                "1",
                "--version",
                "4"
            ])
            .is_err()
        );
    }
}
