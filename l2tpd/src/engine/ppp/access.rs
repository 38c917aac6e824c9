//! Authentication by RADIUS (RFC 2865): a server link's request becomes an Access-Request,
//! and the answer its verdict. An Access-Accept gives the peer its address (Framed-IP-Address,
//! Framed-Pool, else the profile's), DNS and NBNS servers (RFC 2548 §2.2), interface
//! identifier (Framed-Interface-Id), timeouts, interim interval, MTU and Class; an MS-CHAPv2
//! acceptance carries the server's MS-CHAP2-Success, whose authenticator response the peer
//! checks (RFC 2759 §5); its Reply-Message goes to the peer in the PAP Authenticate-Ack or
//! CHAP Success. Values that would hurt the host or other sessions (an address no peer may
//! have, a route that takes others' traffic) are refused first (`values`); out-of-range ones
//! are left out, each with a warning. What l2tpd does not use is logged at debug level by
//! name. An
//! Access-Reject's Reply-Message (or MS-CHAP-Error) goes to the peer. No answer refuses the
//! peer, or, with `radius_then_local`, has the local users decide.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use l2tp_config::AuthSource;
use l2tp_ctl::text;
use l2tp_proto::Refusal;
use ppp_proto::{AuthMethod, AuthRequest, AuthenticatorResponse, NetworkParams, Verdict};
use radius_proto::client::{Failure, Service};
use radius_proto::dict::{AttrType, VendorType, ms, values};
use radius_proto::{Attributes, Code, EncodeError};

use super::super::api::RadiusOutcome;
use super::super::ctx::Ctx;
use super::super::pools::PoolError;
use super::aaa::{MIN_INTERIM, Pending, Purpose, push_credentials};
use super::local::{authenticate, refuse_address, tunnel_local_ipv4};
use super::relogin::reserve_fixed;
use super::request::{SessionFacts, session_attributes, submit};
use super::state::{Ppp, PppLink, method_label};
use super::values::{Prefix, label, unusable_address, unusable_peer, unusable_route};

/// Framed-IP-Address 255.255.255.255: the peer picks its address (RFC 2865 §5.8).
const PEER_PICKS: Ipv4Addr = Ipv4Addr::BROADCAST;
/// Framed-IP-Address 255.255.255.254: the NAS picks one (RFC 2865 §5.8).
const NAS_PICKS: Ipv4Addr = Ipv4Addr::new(255, 255, 255, 254);

/// The attributes of an Access-Accept that l2tpd honours, or that say nothing it must act on.
const USED: &[AttrType] = &[
    AttrType::USER_NAME,
    AttrType::SERVICE_TYPE,
    AttrType::FRAMED_PROTOCOL,
    AttrType::FRAMED_IP_ADDRESS,
    AttrType::FRAMED_IP_NETMASK,
    AttrType::FRAMED_POOL,
    AttrType::FRAMED_MTU,
    AttrType::FRAMED_INTERFACE_ID,
    AttrType::FRAMED_IPV6_PREFIX,
    AttrType::DELEGATED_IPV6_PREFIX,
    AttrType::SESSION_TIMEOUT,
    AttrType::IDLE_TIMEOUT,
    AttrType::ACCT_INTERIM_INTERVAL,
    AttrType::CLASS,
    AttrType::REPLY_MESSAGE,
    AttrType::MESSAGE_AUTHENTICATOR,
    AttrType::PROXY_STATE,
    AttrType::STATE,
];

/// The Microsoft attributes l2tpd honours.
const USED_MS: &[VendorType] = &[
    ms::CHAP2_SUCCESS,
    ms::CHAP_ERROR,
    ms::PRIMARY_DNS_SERVER,
    ms::SECONDARY_DNS_SERVER,
    ms::PRIMARY_NBNS_SERVER,
    ms::SECONDARY_NBNS_SERVER,
];

/// Session `handle`'s link waits for a verdict on `req`, and its profile asks RADIUS: the
/// Access-Request goes out. A request that cannot be built (a user name longer than an
/// attribute) counts as one no server answered: the link gets its verdict at once, and the
/// answer is true (drive the link again).
pub(super) fn ask(ctx: &mut Ctx<'_>, handle: u64, req: AuthRequest) -> bool {
    let purpose = Purpose::Auth(req.id);
    let Some(req) = ask_or_give_back(ctx, handle, req, purpose) else {
        return false;
    };
    no_answer(ctx, handle, &req, None);
    true
}

/// Sends session `handle`'s Access-Request for `req`, for `purpose` (a login's or a
/// re-challenge's): `req` back, the failure logged, when the request cannot be built, for
/// the caller to count as unanswered; `None` when it went out or the session has no RADIUS
/// link.
pub(super) fn ask_or_give_back(
    ctx: &mut Ctx<'_>,
    handle: u64,
    req: AuthRequest,
    purpose: Purpose,
) -> Option<AuthRequest> {
    let f = SessionFacts::of(ctx, handle)?;
    let (req, e) = request_access(ctx, handle, &f, req, purpose)?.err()?;
    let (tid, sid, user) = (f.tid, f.sid, text::quoted(&req.user));
    if matches!(purpose, Purpose::Reauth(_)) {
        tracing::debug!("session {tid}/{sid}: cannot ask RADIUS about user {user} again: {e}");
    } else {
        tracing::warn!("session {tid}/{sid}: cannot ask RADIUS about user {user}: {e}");
    }
    Some(req)
}

/// Sends session `handle`'s Access-Request for `req`, for `purpose`: the session's
/// attributes, the credentials, and for a re-challenge the State of the last Access-Accept
/// (RFC 2865 §5.24); `req` is kept to match the answer ([`take_request`]). `None` when the
/// session has no RADIUS link; an error, with `req`, when the request cannot be built (a user
/// name longer than an attribute).
pub(super) fn request_access(
    ctx: &mut Ctx<'_>,
    handle: u64,
    f: &SessionFacts,
    req: AuthRequest,
    purpose: Purpose,
) -> Option<Result<(), (AuthRequest, EncodeError)>> {
    let rl = ctx
        .registry
        .session(handle)
        .and_then(|r| r.ppp.as_deref())
        .and_then(|st| st.radius.as_deref())?;
    let state = match purpose {
        Purpose::Reauth(_) => rl.state.clone(),
        _ => None,
    };
    let built = session_attributes(ctx, f, &req.user, &rl.acct_session_id).and_then(|mut a| {
        push_credentials(&mut a, &req)?;
        if let Some(s) = state.as_deref() {
            a.push(AttrType::STATE, s)?;
        }
        Ok(a)
    });
    Some(match built {
        Ok(a) => {
            // A request of the link's last round still waiting (the peer renegotiated, RFC
            // 1661 §4.3, and its login starts over): its answer is for no one now, so the
            // client stops retransmitting it and frees its place.
            if let Some((old, _)) = radius_mut(ctx, handle).and_then(|rl| rl.auth.take())
                && let Some(r) = ctx.ppp.aaa.cancel(old)
            {
                ctx.out.radius(r);
            }
            let key = submit(ctx, Pending { handle, purpose }, Service::Access, a, None);
            if let Some(rl) = radius_mut(ctx, handle) {
                rl.auth = Some((key, Box::new(req)));
            }
            Ok(())
        }
        Err(e) => Err((req, e)),
    })
}

/// The request of session `handle` that Access-Request `key` was for, no longer waited for;
/// `None` when the link no longer waits for it.
pub(super) fn take_request(ctx: &mut Ctx<'_>, handle: u64, key: u64) -> Option<Box<AuthRequest>> {
    radius_mut(ctx, handle)
        .and_then(|rl| rl.auth.take_if(|(k, _)| *k == key))
        .map(|(_, req)| req)
}

pub(super) fn radius_mut<'a>(
    ctx: &'a mut Ctx<'_>,
    handle: u64,
) -> Option<&'a mut super::aaa::RadiusLink> {
    ctx.registry
        .session_mut(handle)
        .and_then(|r| r.ppp.as_deref_mut())
        .and_then(|st| st.radius.as_deref_mut())
}

/// The outcome of Access-Request `key` of session `handle`: the link gets its verdict (drive it
/// afterwards). An outcome for a request the link no longer waits for is dropped.
pub(super) fn answered(ctx: &mut Ctx<'_>, handle: u64, key: u64, outcome: RadiusOutcome) {
    let Some(req) = take_request(ctx, handle, key) else {
        return;
    };
    match outcome {
        RadiusOutcome::Reply {
            code: Code::AccessAccept,
            attributes,
            server,
        } => accept(ctx, handle, &req, &attributes, server),
        RadiusOutcome::Reply {
            code, attributes, ..
        } if code == Code::AccessReject || code == Code::AccessChallenge => {
            reject(ctx, handle, &req, code, &attributes, false);
        }
        RadiusOutcome::Failed(f) => no_answer(ctx, handle, &req, Some(f)),
        RadiusOutcome::Reply { .. } | RadiusOutcome::Dropped => no_answer(ctx, handle, &req, None),
    }
}

/// Why an Access-Accept cannot be taken.
pub(super) fn unusable(
    attrs: &Attributes,
    req: &AuthRequest,
) -> Result<Option<AuthenticatorResponse>, String> {
    if let Some(t) = attrs.service_type()
        && t != values::service_type::FRAMED
    {
        return Err(format!("Service-Type {t} is not Framed-User"));
    }
    if let Some(p) = attrs.framed_protocol()
        && p != values::framed_protocol::PPP
    {
        return Err(format!("Framed-Protocol {p} is not PPP"));
    }
    if req.method() != AuthMethod::MsChapV2 {
        return Ok(None);
    }
    match attrs
        .ms_chap2_success()
        .and_then(AuthenticatorResponse::from_ms_chap2_success)
    {
        Some(r) => Ok(Some(r)),
        None => Err("no valid MS-CHAP2-Success for the MS-CHAPv2 peer".to_owned()),
    }
}

/// An Access-Accept: the link gets its addresses and timeouts, then the acceptance.
fn accept(
    ctx: &mut Ctx<'_>,
    handle: u64,
    req: &AuthRequest,
    attrs: &Attributes,
    server: std::net::SocketAddr,
) {
    let (std_now, now) = (ctx.now, ctx.ppp.clock.to_proto(ctx.now));
    let local_v4 = tunnel_local_ipv4(ctx, handle);
    let Ctx {
        registry,
        ppp,
        lines,
        ..
    } = &mut *ctx;
    let Some(rec) = registry.session_mut(handle) else {
        return;
    };
    let (tid, sid) = (rec.tid(), rec.sid());
    let Some(st) = rec.ppp.as_deref_mut() else {
        return;
    };
    let name = text::quoted(&req.user);
    // A value left out: what the server said, and what l2tpd does instead; counted by
    // `label` once the borrows of `ppp` are done.
    let mut ignored_values = Vec::new();
    let mut left_out = |kind: &'static str, attr: &str, what: std::fmt::Arguments<'_>| {
        ignored_values.push(kind);
        if lines.admit(std_now, tid) {
            tracing::warn!("session {tid}/{sid}: user {name}: the {attr} of {server} {what}");
        }
    };
    ppp.aaa.counters.accepts += 1;
    let authenticator_response = match unusable(attrs, req) {
        Ok(r) => r,
        Err(why) => {
            *ppp.counters
                .auth_failures
                .entry("radius_unusable")
                .or_default() += 1;
            tracing::warn!(
                "session {tid}/{sid}: user {name}: the Access-Accept of {server} cannot be \
                 used: {why}; refusing the peer"
            );
            st.refusal = Some(Refusal::with(2, "PPP authentication failed"));
            verdict(
                st,
                now,
                req,
                Verdict::reject("Authentication failed"),
                (tid, sid),
            );
            return;
        }
    };
    let ignored = ignored(attrs);
    if !ignored.is_empty() {
        tracing::debug!(
            "session {tid}/{sid}: Access-Accept attributes not used: {}",
            ignored.join(", ")
        );
    }
    let ours = our_addresses(st, attrs, local_v4);
    let framed = attrs.framed_ip_address();
    let peer = match framed {
        Some(PEER_PICKS) => Ok(None),
        Some(a) if a != NAS_PICKS => match unusable_address(&ppp.routed, handle, a, &ours) {
            Some(why) => Err(PoolError::Unusable(a, why)),
            None => reserve_fixed(ppp, handle, st, a).map(Some),
        },
        _ => match attrs.framed_pool() {
            Some(pool) => ppp.pools.allocate(pool, handle).map(Some),
            None => match (st.policy.peer_ip, st.policy.pool.as_deref()) {
                (Some(a), _) => reserve_fixed(ppp, handle, st, a).map(Some),
                (None, Some(pool)) => ppp.pools.allocate(pool, handle).map(Some),
                (None, None) => Ok(None),
            },
        },
    };
    let peer = match peer {
        Ok(p) => p,
        Err(e) => {
            let v = refuse_address(ppp, (tid, sid), st, &req.user, &e);
            verdict(st, now, req, v, (tid, sid));
            return;
        }
    };
    // Every session's peer needs an interface identifier of its own (one shared TUN): an
    // assigned one that is not is left out, and IPv6CP gives the peer one that is.
    let ifid = attrs.framed_interface_id().filter(|id| {
        let n = u64::from_be_bytes(*id);
        let clash = if n == 0 {
            "zero"
        } else if n == ppp.local_ifid {
            "the daemon's own"
        } else if ppp.peer_ifids.get(&n).is_some_and(|owner| *owner != handle) {
            "another session's peer's"
        } else {
            return true;
        };
        left_out(
            label::INTERFACE_ID,
            "Framed-Interface-Id",
            format_args!(
                "({}) is {clash}; IPv6CP gives the peer another",
                ppp_proto::InterfaceId(*id).link_local()
            ),
        );
        false
    });
    let servers = [
        (attrs.ms_primary_dns_server(), "MS-Primary-DNS-Server"),
        (attrs.ms_secondary_dns_server(), "MS-Secondary-DNS-Server"),
        (attrs.ms_primary_nbns_server(), "MS-Primary-NBNS-Server"),
        (attrs.ms_secondary_nbns_server(), "MS-Secondary-NBNS-Server"),
    ]
    .map(|(a, attr)| {
        let a = a?;
        let Some(why) = unusable_peer(a, &[]) else {
            return Some(a);
        };
        let kind = if attr.contains("DNS") {
            label::DNS_SERVER
        } else {
            label::NBNS_SERVER
        };
        left_out(
            kind,
            attr,
            format_args!("({a}) is {why}; not given to the peer"),
        );
        None
    });
    set_network(st, servers, local_v4, peer, ifid);
    let Some(rl) = st.radius.as_deref_mut() else {
        return;
    };
    rl.authentic = Some(values::acct_authentic::RADIUS);
    rl.authenticated_at = Some(now);
    rl.class = attrs.classes().map(Box::from).collect();
    rl.acct_user = attrs.get(AttrType::USER_NAME).map(Box::from);
    rl.state = attrs.get(AttrType::STATE).map(Box::from);
    match attrs.framed_mtu() {
        // RFC 2865 §5.12 allows 64 to 65535, but IPv4 needs 68 (RFC 791): on the kernel data
        // plane an interface of a smaller MTU has IPv4 turned off.
        Some(m) if m < MIN_FRAMED_MTU => left_out(
            label::MTU,
            "Framed-MTU",
            format_args!(
                "({m}) is below {MIN_FRAMED_MTU}, the least IPv4 needs (RFC 791); not taken"
            ),
        ),
        Some(m) => rl.framed_mtu = Some(u16::try_from(m).unwrap_or(u16::MAX)),
        None => {}
    }
    rl.routes = routes(ppp, handle, attrs, peer, &ours)
        .into_iter()
        .filter_map(|(p, attr)| match p {
            Ok(p) => Some(p),
            Err((kind, why)) => {
                left_out(
                    kind,
                    attr,
                    format_args!("is not routed to the session: {why}"),
                );
                None
            }
        })
        .collect();
    ppp.routed.hold(handle, &rl.routes);
    let dns = [servers[0], servers[1]];
    rl.dns = dns.iter().any(Option::is_some).then_some(dns);
    if let Some(i) = attrs.acct_interim_interval() {
        let asked = Duration::from_secs(u64::from(i));
        if i > 0 && asked < MIN_INTERIM {
            left_out(
                label::INTERIM_RAISED,
                "Acct-Interim-Interval",
                format_args!(
                    "({i} s) is below l2tpd's least, {} s, which is taken",
                    MIN_INTERIM.as_secs()
                ),
            );
        }
        rl.interim = (i > 0).then(|| asked.max(MIN_INTERIM));
    }
    for kind in ignored_values {
        *ppp.counters.values_ignored.entry(kind).or_default() += 1;
    }
    if let Some(t) = attrs.session_timeout() {
        rl.session_timeout = Some(t);
        let d = (t > 0).then(|| Duration::from_secs(u64::from(t)));
        st.link.set_session_timeout(now, d);
    }
    if let Some(t) = attrs.idle_timeout() {
        rl.idle_timeout = Some(t);
        let d = (t > 0).then(|| Duration::from_secs(u64::from(t)));
        st.link.set_idle_timeout(now, d);
    }
    tracing::info!(
        "session {tid}/{sid}: user {name} ({}) accepted by RADIUS server {server}",
        method_label(req.method())
    );
    let message = Some(printable(&reply_messages(attrs))).filter(|m| !m.is_empty());
    verdict(
        st,
        now,
        req,
        Verdict::Accept {
            authenticator_response,
            message,
        },
        (tid, sid),
    );
}

/// The least Framed-MTU taken: IPv4's least (RFC 791), above RFC 2865 §5.12's 64.
const MIN_FRAMED_MTU: u32 = 68;

/// A route an Access-Accept asks for, or why it is not taken (with the label it is counted
/// by), with the attribute it came from.
type Asked = (Result<Prefix, (&'static str, String)>, &'static str);

/// The prefixes an Access-Accept routes to session `handle`: Framed-IPv6-Prefix (RFC 3162
/// §2.3), Delegated-IPv6-Prefix (RFC 4818), and the subnet of the peer's address when
/// Framed-IP-Netmask (RFC 2865 §5.9) is wider than one address; those that could take
/// another's traffic are refused ([`unusable_route`]; `ours`: this end's addresses).
fn routes(
    ppp: &Ppp,
    handle: u64,
    attrs: &Attributes,
    peer: Option<Ipv4Addr>,
    ours: &[Ipv4Addr],
) -> Vec<Asked> {
    let mut asked = Vec::new();
    if let (Some(a), Some(mask)) = (peer, attrs.framed_ip_netmask()) {
        let bits = u32::from(mask);
        let len = bits.leading_ones();
        if bits.count_ones() != len {
            let why = format!("{mask} is no netmask");
            asked.push((Err((label::ROUTE_INVALID, why)), "Framed-IP-Netmask"));
        } else if len < 32 {
            asked.push((Ok((IpAddr::V4(a), len as u8)), "Framed-IP-Netmask"));
        }
    }
    let v6 = [
        (AttrType::FRAMED_IPV6_PREFIX, "Framed-IPv6-Prefix"),
        (AttrType::DELEGATED_IPV6_PREFIX, "Delegated-IPv6-Prefix"),
    ];
    for (t, attr) in v6 {
        match attrs.ipv6_prefix(t) {
            Some(p) => asked.push((Ok((IpAddr::V6(p.addr), p.len)), attr)),
            // RFC 3162 §2.3: a length of at most 128, and no more than the octets given.
            None if attrs.contains(t) => {
                let why = "malformed (RFC 3162 2.3)".to_owned();
                asked.push((Err((label::PREFIX_MALFORMED, why)), attr));
            }
            None => {}
        }
    }
    asked
        .into_iter()
        .map(|(r, attr)| {
            let r =
                r.and_then(
                    |p| match unusable_route(&ppp.routed, &ppp.pools, handle, p, ours) {
                        Some((kind, why)) => Err((kind, format!("{}/{}: {why}", p.0, p.1))),
                        None => Ok(p),
                    },
                );
            (r, attr)
        })
        .collect()
}

/// This end's addresses on the link and the tunnel, and the DNS and NBNS servers the peer
/// is given: no peer's address, nor in a route to one.
fn our_addresses(st: &PppLink, attrs: &Attributes, local_v4: Option<Ipv4Addr>) -> Vec<Ipv4Addr> {
    let defaults = st.policy.server.ipv4.map(|v4| v4.defaults);
    let given = [
        attrs.ms_primary_dns_server(),
        attrs.ms_secondary_dns_server(),
        attrs.ms_primary_nbns_server(),
        attrs.ms_secondary_nbns_server(),
    ];
    [st.policy.local_ip, local_v4, defaults.and_then(|d| d.local)]
        .into_iter()
        .chain(given)
        .chain(
            defaults
                .into_iter()
                .flat_map(|d| d.dns.into_iter().chain(d.nbns)),
        )
        .flatten()
        .collect()
}

/// The names of the attributes of `attrs` that l2tpd does not use (vendor attributes by their
/// own names).
fn ignored(attrs: &Attributes) -> Vec<String> {
    let plain = attrs
        .iter()
        .filter(|a| a.attr_type != AttrType::VENDOR_SPECIFIC && !USED.contains(&a.attr_type))
        .map(|a| a.attr_type.to_string());
    let vendor = attrs
        .vendor_attributes()
        .filter(|(vt, _)| !USED_MS.contains(vt))
        .map(|(vt, _)| vt.to_string());
    plain.chain(vendor).collect()
}

/// Sets the link's network parameters from an Access-Accept: our address (the profile's, else
/// the tunnel's), the peer's (`peer`), DNS and NBNS servers (the Microsoft attributes over the
/// profile's; `servers`: primary and secondary DNS, then NBNS), the peer's IPv6 interface
/// identifier (`ifid`, from Framed-Interface-Id).
fn set_network(
    st: &mut PppLink,
    servers: [Option<Ipv4Addr>; 4],
    local_v4: Option<Ipv4Addr>,
    peer: Option<Ipv4Addr>,
    ifid: Option<[u8; 8]>,
) {
    let mut params = NetworkParams::default();
    if let Some(ipv4) = st.policy.server.ipv4 {
        let mut v4 = ipv4.defaults;
        v4.local = st.policy.local_ip.or(local_v4).or(v4.local);
        v4.peer = peer;
        let given = |a: Option<Ipv4Addr>, b: Option<Ipv4Addr>, d: [Option<Ipv4Addr>; 2]| {
            if a.is_some() || b.is_some() {
                [a, b]
            } else {
                d
            }
        };
        v4.dns = given(servers[0], servers[1], v4.dns);
        v4.nbns = given(servers[2], servers[3], v4.nbns);
        params.ipv4 = v4;
    }
    if let Some(v6) = st.policy.server.ipv6 {
        params.ipv6 = v6.defaults;
        if let Some(id) = ifid {
            params.ipv6.peer = Some(ppp_proto::InterfaceId(id));
        }
    }
    st.link.set_network(params);
}

/// An Access-Reject (or an Access-Challenge, which l2tpd cannot answer: no EAP): the peer is
/// refused with the server's message; `again` at a re-challenge.
pub(super) fn reject(
    ctx: &mut Ctx<'_>,
    handle: u64,
    req: &AuthRequest,
    code: Code,
    attrs: &Attributes,
    again: bool,
) {
    let (std_now, now) = (ctx.now, ctx.ppp.clock.to_proto(ctx.now));
    let Ctx {
        registry,
        ppp,
        lines,
        ..
    } = &mut *ctx;
    let Some(rec) = registry.session_mut(handle) else {
        return;
    };
    let (tid, sid) = (rec.tid(), rec.sid());
    let Some(st) = rec.ppp.as_deref_mut() else {
        return;
    };
    ppp.aaa.counters.rejects += 1;
    if again {
        ppp.aaa.counters.reauth.rejects += 1;
    }
    let label = if code == Code::AccessChallenge {
        "radius_challenge"
    } else {
        "radius_reject"
    };
    *ppp.counters.auth_failures.entry(label).or_default() += 1;
    let ms_error = (req.method() == AuthMethod::MsChapV2)
        .then(|| attrs.ms_chap_error().and_then(|v| v.get(1..)))
        .flatten()
        .map(<[u8]>::to_vec);
    let message = ms_error
        .or_else(|| Some(reply_messages(attrs)))
        .map(|m| printable(&m))
        .filter(|m| !m.is_empty());
    // The server's reason, as the peer gets it, is the operator's too.
    let said = message
        .as_deref()
        .map_or(String::new(), |m| format!(": {}", text::quoted(m)));
    let name = text::quoted(&req.user);
    if lines.admit(std_now, tid) {
        tracing::warn!(
            "session {tid}/{sid}: PPP {}authentication of user {name} ({}) failed: {}{said}",
            if again { "re-" } else { "" },
            method_label(req.method()),
            if code == Code::AccessChallenge {
                "the RADIUS server sent an Access-Challenge, which l2tpd does not answer"
            } else {
                "rejected by the RADIUS server"
            }
        );
    }
    let text = message.unwrap_or_else(|| "Authentication failed".to_owned());
    st.refusal = Some(Refusal::with(2, "PPP authentication failed"));
    verdict(st, now, req, Verdict::reject(text), (tid, sid));
}

/// Every Reply-Message of an answer, one after the other (RFC 2865 §5.18: several are
/// shown in order).
pub(super) fn reply_messages(attrs: &Attributes) -> Vec<u8> {
    attrs
        .iter()
        .filter(|a| a.attr_type == AttrType::REPLY_MESSAGE)
        .flat_map(|a| a.value.iter().copied())
        .collect()
}

/// At most 200 printable ASCII characters of a server's message, for the peer.
pub(super) fn printable(m: &[u8]) -> String {
    m.iter()
        .filter(|c| c.is_ascii_graphic() || **c == b' ')
        .take(200)
        .map(|&c| char::from(c))
        .collect()
}

/// No server answered Access-Request for `req`: the local users decide
/// (`radius_then_local`), else the peer is refused.
fn no_answer(ctx: &mut Ctx<'_>, handle: u64, req: &AuthRequest, failure: Option<Failure>) {
    let (std_now, now) = (ctx.now, ctx.ppp.clock.to_proto(ctx.now));
    let local_v4 = tunnel_local_ipv4(ctx, handle);
    let Ctx {
        registry,
        ppp,
        lines,
        ..
    } = &mut *ctx;
    let Some(rec) = registry.session_mut(handle) else {
        return;
    };
    let (tid, sid) = (rec.tid(), rec.sid());
    let Some(st) = rec.ppp.as_deref_mut() else {
        return;
    };
    ppp.aaa.counters.no_answer += 1;
    let why = match failure {
        Some(Failure::NoServer) => "no RADIUS server is alive",
        Some(Failure::QueueFull) => "too many requests wait for a RADIUS server",
        Some(Failure::TooLong) | None => "the request cannot be sent",
        Some(_) => "no RADIUS server answered",
    };
    let name = text::quoted(&req.user);
    if st.policy.radius.auth == AuthSource::RadiusThenLocal {
        ppp.aaa.counters.local_fallbacks += 1;
        tracing::info!("session {tid}/{sid}: user {name}: {why}; asking the local users");
        let v = authenticate(ppp, (tid, sid, handle), st, req, (local_v4, lines, std_now));
        if let Some(rl) = st.radius.as_deref_mut()
            && v.is_accept()
        {
            rl.authentic = Some(values::acct_authentic::LOCAL);
            rl.authenticated_at = Some(now);
        }
        verdict(st, now, req, v, (tid, sid));
        return;
    }
    *ppp.counters
        .auth_failures
        .entry("radius_no_answer")
        .or_default() += 1;
    if lines.admit(std_now, tid) {
        tracing::warn!(
            "session {tid}/{sid}: PPP authentication of user {name} ({}) failed: {why}",
            method_label(req.method())
        );
    }
    st.refusal = Some(Refusal::with(2, "PPP authentication failed"));
    verdict(
        st,
        now,
        req,
        Verdict::reject("Authentication failed"),
        (tid, sid),
    );
}

fn verdict(
    st: &mut PppLink,
    now: l2tp_proto::time::Instant,
    req: &AuthRequest,
    v: Verdict,
    (tid, sid): (u32, u32),
) {
    if let Err(e) = st.link.auth_verdict(now, req.id, v) {
        tracing::debug!("session {tid}/{sid}: PPP verdict not taken: {e}");
    }
}
