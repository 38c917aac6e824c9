//! The attributes of RADIUS requests that come from the session's record and the config: the
//! session's identity (NAS, port, stations, tunnel, Acct-Session-Id), and the daemon's own
//! Accounting-On and -Off; and the submission of a request to the shell.

use std::net::{IpAddr, SocketAddr};

use l2tp_proto::ConnectSpeed;
use l2tp_proto::wire::access_line::AccessLine;
use radius_proto::client::Service;
use radius_proto::dict::{AttrType, VendorType, dsl, values};
use radius_proto::{Attributes, EncodeError};

use super::super::ctx::Ctx;
use super::aaa::{Pending, Purpose, status_label};

/// The tag of the tunnel attributes of our requests (RFC 2868 §3: one tunnel).
const TUNNEL_TAG: u8 = 1;

/// Asks the shell to send `attributes`; returns the request's key.
pub(super) fn submit(
    ctx: &mut Ctx<'_>,
    pending: Pending,
    service: Service,
    attributes: Attributes,
    counters: Option<(u32, u32)>,
) -> u64 {
    let (key, request) = ctx.ppp.aaa.submit(pending, service, attributes, counters);
    ctx.out.radius(request);
    key
}

/// What identifies a session in a request: its ids, its tunnel's addresses, the peer's call.
#[derive(Clone, Debug)]
pub(super) struct SessionFacts {
    pub(super) tid: u32,
    pub(super) sid: u32,
    /// The tunnel's (local, remote) addresses.
    pub(super) addrs: Option<(SocketAddr, SocketAddr)>,
    pub(super) calling: Option<Vec<u8>>,
    pub(super) called: Option<Vec<u8>>,
    /// The Access Line Information of the LAC's call (RFC 5515).
    pub(super) access_line: Option<Box<AccessLine>>,
    /// The connect speeds of the LAC's ICCN.
    pub(super) connect_speed: Option<ConnectSpeed>,
    /// Whether the tunnel is L2TPv2, whose session ids are unique in the tunnel only.
    pub(super) v2: bool,
}

impl SessionFacts {
    /// The facts of session `handle`.
    pub(super) fn of(ctx: &Ctx<'_>, handle: u64) -> Option<SessionFacts> {
        let rec = ctx.registry.session(handle)?;
        let addrs = ctx.registry.tunnel(rec.tunnel).and_then(|t| t.socket);
        Some(SessionFacts {
            tid: rec.tid(),
            sid: rec.sid(),
            addrs,
            calling: rec.calling_number().map(<[u8]>::to_vec),
            called: rec.called_number().map(<[u8]>::to_vec),
            access_line: rec.access_line().cloned().map(Box::new),
            connect_speed: rec.connect_speed,
            v2: ctx
                .protocol
                .ep()
                .tunnel(rec.tid())
                .is_some_and(|t| t.version == l2tp_proto::wire::Version::V2),
        })
    }

    /// NAS-Port (RFC 2865 §5.5), one the NAS's live sessions do not share: for L2TPv2 the
    /// tunnel id in the high 16 bits and the session id in the low (each 16 bits, the session
    /// id unique in its tunnel only), for L2TPv3 the session id (unique in the endpoint).
    pub(super) fn nas_port(&self) -> u32 {
        if self.v2 {
            (self.tid & 0xffff) << 16 | (self.sid & 0xffff)
        } else {
            self.sid
        }
    }

    /// The tunnel's (local, remote) addresses.
    fn ips(&self) -> (Option<IpAddr>, Option<IpAddr>) {
        match self.addrs {
            Some((l, r)) => (Some(l.ip().to_canonical()), Some(r.ip().to_canonical())),
            None => (None, None),
        }
    }

    /// NAS-Port-Id: `tid/sid`.
    pub(super) fn nas_port_id(&self) -> String {
        format!("{}/{}", self.tid, self.sid)
    }

    /// Calling-Station-Id (RFC 2865 §5.31): the L2TP Calling Number, else the LAC's address.
    pub(super) fn calling_station(&self) -> Option<Vec<u8>> {
        station(self.calling.as_deref(), self.ips().1)
    }

    /// Called-Station-Id (RFC 2865 §5.30): the L2TP Called Number, else the LNS's address.
    pub(super) fn called_station(&self) -> Option<Vec<u8>> {
        station(self.called.as_deref(), self.ips().0)
    }
}

/// A station's number, else its address, in at most the octets of an attribute.
fn station(number: Option<&[u8]>, ip: Option<IpAddr>) -> Option<Vec<u8>> {
    let v = number.map_or_else(
        || ip.map(|ip| ip.to_string().into_bytes()),
        |n| Some(n.to_vec()),
    )?;
    Some(clip(&v).to_vec())
}

/// The NAS-Identifier: `radius_nas_identifier`, else the host name.
pub(super) fn nas_identifier<'a>(ctx: &'a Ctx<'_>) -> &'a str {
    let sys = ctx.config.system();
    sys.radius_nas_identifier
        .as_deref()
        .or(sys.host_name.as_deref())
        .unwrap_or(&ctx.facts.host_name)
}

/// Adds NAS-Identifier and, when known, NAS-IP-Address or NAS-IPv6-Address (`local`: the
/// tunnel's local address, when the config sets none).
fn push_nas(ctx: &Ctx<'_>, a: &mut Attributes, local: Option<IpAddr>) -> Result<(), EncodeError> {
    a.push_nas_identifier(nas_identifier(ctx))?;
    let ip = ctx
        .config
        .system()
        .radius_nas_ip_address
        .or(local.filter(|ip| !ip.is_unspecified()));
    match ip.map(|ip| ip.to_canonical()) {
        Some(IpAddr::V4(v4)) => a.push_nas_ip_address(v4).map(|_| ()),
        Some(IpAddr::V6(v6)) => a.push_nas_ipv6_address(v6).map(|_| ()),
        None => Ok(()),
    }
}

/// The attributes that say which session a request is about, in Access- and
/// Accounting-Requests alike (RFC 2865 §5, RFC 2868 §3): User-Name, the NAS, the port, the
/// service, the stations, the tunnel and the Acct-Session-Id.
pub(super) fn session_attributes(
    ctx: &Ctx<'_>,
    f: &SessionFacts,
    user: &[u8],
    acct_session_id: &str,
) -> Result<Attributes, EncodeError> {
    let mut a = Attributes::with_capacity(256);
    a.push(AttrType::USER_NAME, user)?;
    let (local, remote) = f.ips();
    push_nas(ctx, &mut a, local)?;
    a.push_nas_port(f.nas_port())?;
    a.push_nas_port_id(&f.nas_port_id())?;
    a.push_nas_port_type(values::nas_port_type::VIRTUAL)?;
    a.push_service_type(values::service_type::FRAMED)?;
    a.push_framed_protocol(values::framed_protocol::PPP)?;
    if let Some(v) = f.calling_station() {
        a.push(AttrType::CALLING_STATION_ID, &v)?;
    }
    if let Some(v) = f.called_station() {
        a.push(AttrType::CALLED_STATION_ID, &v)?;
    }
    if let (Some(l), Some(r)) = (local, remote) {
        let medium = if r.is_ipv4() {
            values::tunnel_medium_type::IPV4
        } else {
            values::tunnel_medium_type::IPV6
        };
        a.push_tunnel_type(TUNNEL_TAG, values::tunnel_type::L2TP)?;
        a.push_tunnel_medium_type(TUNNEL_TAG, medium)?;
        a.push_tunnel_client_endpoint(TUNNEL_TAG, &r.to_string())?;
        a.push_tunnel_server_endpoint(TUNNEL_TAG, &l.to_string())?;
    }
    // RFC 2869 §5.11: the nature of the user's connection; here the LAC's connect speeds,
    // `TX` or `TX/RX` in bits per second.
    if let Some(speed) = f.connect_speed {
        a.push(AttrType::CONNECT_INFO, speed.to_string().as_bytes())?;
    }
    if let Some(line) = &f.access_line {
        push_access_line(&mut a, line)?;
    }
    a.push_acct_session_id(acct_session_id)?;
    Ok(a)
}

/// The access line a LAC told of in its ICRQ (RFC 5515), as the DSL Forum's attributes
/// (RFC 4679), which a RADIUS server knows by the same names: the identifiers as they are,
/// the data rates (64 bits in L2TP) held to the attribute's 32 bits.
fn push_access_line(a: &mut Attributes, line: &AccessLine) -> Result<(), EncodeError> {
    if let Some(v) = &line.agent_circuit_id {
        a.push_vendor(dsl::AGENT_CIRCUIT_ID, v)?;
    }
    if let Some(v) = &line.agent_remote_id {
        a.push_vendor(dsl::AGENT_REMOTE_ID, v)?;
    }
    let first_rate = dsl::ACTUAL_DATA_RATE_UPSTREAM.vendor_type;
    for (vendor_type, rate) in (first_rate..).zip(line.rates) {
        if let Some(r) = rate {
            let r = u32::try_from(r).unwrap_or(u32::MAX);
            a.push_vendor(dsl_type(vendor_type), &r.to_be_bytes())?;
        }
    }
    let first_delay = dsl::MAXIMUM_INTERLEAVING_DELAY_UPSTREAM.vendor_type;
    for (vendor_type, delay) in (first_delay..).zip(line.delays) {
        if let Some(d) = delay {
            a.push_vendor(dsl_type(vendor_type), &d.to_be_bytes())?;
        }
    }
    if let Some(e) = line.encapsulation {
        a.push_vendor(dsl::ACCESS_LOOP_ENCAPSULATION, &e)?;
    }
    if line.iwf_session == Some(true) {
        a.push_vendor(dsl::IWF_SESSION, &[])?;
    }
    Ok(())
}

fn dsl_type(vendor_type: u8) -> VendorType {
    VendorType {
        vendor: dsl::ACTUAL_DATA_RATE_UPSTREAM.vendor,
        vendor_type,
    }
}

/// At most the 253 octets of an attribute.
fn clip(v: &[u8]) -> &[u8] {
    &v[..v.len().min(radius_proto::attr::MAX_VALUE_LEN)]
}

/// Accounting-On or Accounting-Off for the whole daemon (RFC 2866 §5.1), when the config has
/// an accounting server and `radius_accounting_on_off`.
pub(super) fn daemon_accounting(ctx: &mut Ctx<'_>, status: u32) {
    let sys = ctx.config.system();
    let any = ctx
        .config
        .radius_servers()
        .iter()
        .any(|r| r.acct_address().is_some());
    if !any || !sys.radius_accounting_on_off {
        return;
    }
    let mut a = Attributes::with_capacity(64);
    let built = (|| -> Result<(), EncodeError> {
        a.push_acct_status_type(status)?;
        push_nas(ctx, &mut a, None)?;
        // RFC 2866 §5.5: every Accounting-Request has an Acct-Session-Id.
        a.push_acct_session_id(&format!("{:08X}00000000", ctx.ppp.aaa.id_prefix()))?;
        Ok(())
    })();
    if let Err(e) = built {
        tracing::warn!("RADIUS accounting {}: {e}", status_label(status));
        return;
    }
    let pending = Pending {
        handle: 0,
        purpose: Purpose::Daemon(status),
    };
    submit(ctx, pending, Service::Accounting, a, None);
}
