//! tshark as an independent judge of what we put on the wire.
//!
//! [`decode`] runs `tshark -r FILE -n -T json --no-duplicate-keys -x` plus
//! any extra arguments, and turns its output into one [`Packet`] per frame:
//! whether tshark flagged it malformed or attached an expert error, and the
//! L2TP header fields and AVPs it decoded. [`decode_datagrams`] does the same
//! for datagrams we built ourselves (written with [`crate::pcap`] to a
//! temporary file), and [`fields_with`] gives chosen fields of every frame
//! (`-T fields`). Tests should skip, not fail, when [`tshark_available`]
//! is false. The binary is `$TSHARK` if set, else `tshark` from `PATH`.
//!
//! # Field names (Wireshark/TShark 4.0)
//!
//! * Header: `l2tp.type` (1 = control), `l2tp.version`, `l2tp.length_bit`,
//!   `l2tp.seq_bit`, `l2tp.offset_bit`, `l2tp.priority`, `l2tp.length`,
//!   `l2tp.tunnel`, `l2tp.session`, `l2tp.Ns`, `l2tp.Nr`, `l2tp.offset`.
//!   L2TPv3: `l2tp.ccid` (control connection id), `l2tp.sid` (session id),
//!   `l2tp.res`, `l2tp.cookie`, `l2tp.l2_spec_*` (L2-specific sublayer).
//! * Every AVP is a subtree (named after the AVP, e.g. `"Host Name AVP"`)
//!   with `l2tp.avp.mandatory`, `l2tp.avp.hidden`, `l2tp.avp.length`,
//!   `l2tp.avp.vendor_id`, `l2tp.avp.type` (vendor 9 uses
//!   `l2tp.avp.ciscotype`, 193 `l2tp.avp.ericssontype`, 3561
//!   `l2tp.avp.broadbandtype`, 4491 `l2tp.avp.cablelabstype`) and then
//!   type-specific value fields such as `l2tp.avp.message_type`,
//!   `l2tp.avp.assigned_tunnel_id`, `l2tp.avp.host_name`,
//!   `l2tp.avp.chap_challenge`, `l2tp.avp.chap_challenge_response`,
//!   `l2tp.avp.random_vector`, `l2tp.avp.error_code`,
//!   `l2tp.avp.assigned_control_conn_id`, `l2tp.avp.local_session_id`,
//!   `l2tp.avp.remote_session_id`, `l2tp.avp.message_digest`,
//!   `l2tp.avp.nonce`, `l2tp.avp.pw_type` (`tshark -G fields | grep l2tp.avp`
//!   lists them all). For a hidden AVP (H bit set) tshark 4.0 shows only
//!   `l2tp.avp.mandatory`, `l2tp.avp.hidden` and `l2tp.avp.length`, under a
//!   subtree named after the AVP type; no vendor, type or value field.
//!   [`Avp`] therefore takes vendor and type from the AVP's bytes on the
//!   wire (thanks to `-x`), and [`Avp::value`] gives the (still hidden) value.
//! * Problems: a `_ws.malformed` item, and `_ws.expert` subtrees with
//!   `_ws.expert.message`, `_ws.expert.severity` (see [`Severity`]) and
//!   `_ws.expert.group`.
//!
//! # L2TPv3 preferences and decode-as
//!
//! `tshark -G currentprefs` lists three L2TP preferences; pass them with
//! `-o` in `extra_args`:
//!
//! * `l2tp.cookie_size`: `Detect` (default), `None`, `4 Byte Cookie`,
//!   `8 Byte Cookie`. Data messages carry no cookie length, so set it to
//!   what the control channel negotiated.
//! * `l2tp.l2_specific`: `Detect` (default), `None`, `Default L2-Specific`,
//!   `ATM-Specific`, `LAPD-Specific`, `DOCSIS DMPT-Specific`.
//! * `l2tp.shared_secret`: a string; with it tshark checks the Message
//!   Digest AVP of L2TPv3 control messages.
//!
//! The pseudowire payload is dissected through the `l2tp.pw_type` table
//! (decode-as values: `ppp` 7, `fr` 1, `ip` 11, `chdlc` 6, `l2tp` 2, `eth` 5,
//! `mp2t` 12). tshark learns the PW type from the ICRQ/ICRP of the same
//! capture; for static sessions or data-only captures use e.g.
//! `-d l2tp.pw_type==0,eth`. The `ip.proto == 115` and `udp.port == 1701`
//! bindings are built in; for another UDP port use `-d udp.port==PORT,l2tp`.
//! Example for a static L2TPv3 Ethernet pseudowire (Linux `l2tp_eth`):
//!
//! ```no_run
//! # use l2tp_testkit::tshark::decode_with;
//! let pkts = decode_with(
//!     "pw.pcap",
//!     &["-o", "l2tp.cookie_size:None", "-o", "l2tp.l2_specific:Default L2-Specific",
//!       "-d", "l2tp.pw_type==0,eth"],
//! ).unwrap();
//! assert!(pkts.iter().all(|p| p.is_clean()));
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value};

use crate::pcap::{self, Datagram, Encap};

/// Errors of this module.
#[derive(Debug)]
pub enum Error {
    /// tshark could not be started.
    Spawn(std::io::Error),
    /// tshark exited with a failure status.
    Failed {
        /// Exit status as printed by the OS.
        status: String,
        /// What tshark printed on stderr.
        stderr: String,
    },
    /// tshark's output is not the JSON we expect.
    Json(String),
    /// Writing the temporary pcap failed.
    Pcap(pcap::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Spawn(e) => write!(f, "cannot run tshark: {e}"),
            Error::Failed { status, stderr } => write!(f, "tshark failed ({status}): {stderr}"),
            Error::Json(e) => write!(f, "unexpected tshark output: {e}"),
            Error::Pcap(e) => write!(f, "writing pcap: {e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<pcap::Error> for Error {
    fn from(e: pcap::Error) -> Self {
        Error::Pcap(e)
    }
}

/// Expert info severity (`_ws.expert.severity`, Wireshark's `PI_*` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// `PI_COMMENT` (0x0010_0000)
    Comment,
    /// `PI_CHAT` (0x0020_0000)
    Chat,
    /// `PI_NOTE` (0x0040_0000)
    Note,
    /// `PI_WARN` (0x0060_0000)
    Warning,
    /// `PI_ERROR` (0x0080_0000)
    Error,
    /// Any other value.
    Other(u32),
}

impl Severity {
    /// Maps the numeric `_ws.expert.severity`.
    pub fn from_raw(v: u32) -> Self {
        match v {
            0x0010_0000 => Severity::Comment,
            0x0020_0000 => Severity::Chat,
            0x0040_0000 => Severity::Note,
            0x0060_0000 => Severity::Warning,
            0x0080_0000 => Severity::Error,
            other => Severity::Other(other),
        }
    }
}

/// One expert info item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expert {
    /// Severity.
    pub severity: Severity,
    /// `_ws.expert.group` (e.g. 0x0700_0000 = malformed, 0x0100_0000 = checksum).
    pub group: u32,
    /// Human-readable message.
    pub message: String,
}

/// What tshark made of one frame.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Packet {
    /// `frame.number` (1-based).
    pub number: u64,
    /// `frame.protocols`, e.g. `eth:ethertype:ip:udp:l2tp`.
    pub protocols: String,
    /// tshark added a `_ws.malformed` item.
    pub malformed: bool,
    /// All expert infos of the frame, any layer.
    pub expert: Vec<Expert>,
    /// The L2TP layers, usually one.
    pub l2tp: Vec<L2tp>,
}

impl Packet {
    /// Not malformed and no expert info of severity [`Severity::Error`].
    pub fn is_clean(&self) -> bool {
        !self.malformed && self.errors().next().is_none()
    }

    /// Expert infos of severity error.
    pub fn errors(&self) -> impl Iterator<Item = &Expert> {
        self.expert.iter().filter(|e| e.severity == Severity::Error)
    }

    /// The first L2TP layer.
    pub fn first_l2tp(&self) -> Option<&L2tp> {
        self.l2tp.first()
    }
}

/// One line for each packet of `packets` that is not [`Packet::is_clean`]: its frame number,
/// protocols, whether it is malformed and its expert errors. Empty when all are clean.
pub fn unclean(packets: &[Packet]) -> String {
    packets
        .iter()
        .filter(|p| !p.is_clean())
        .map(|p| {
            format!(
                "frame {} ({}): malformed={} errors={:?}\n",
                p.number,
                p.protocols,
                p.malformed,
                p.errors().map(|e| e.message.as_str()).collect::<Vec<_>>()
            )
        })
        .collect()
}

/// An L2TP header and its AVPs as tshark decoded them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct L2tp {
    /// Offset of the L2TP layer in the frame.
    pub offset: Option<usize>,
    /// The bytes tshark attributed to the L2TP layer.
    pub bytes: Vec<u8>,
    /// `l2tp.version` (2 or 3).
    pub version: Option<u8>,
    /// `l2tp.type`: true for a control message.
    pub control: Option<bool>,
    /// `l2tp.tunnel` (v2) or `l2tp.ccid` (v3).
    pub tunnel_id: Option<u32>,
    /// `l2tp.session` (v2) or `l2tp.sid` (v3).
    pub session_id: Option<u32>,
    /// `l2tp.Ns`.
    pub ns: Option<u16>,
    /// `l2tp.Nr`.
    pub nr: Option<u16>,
    /// `l2tp.avp.message_type` of the first AVP; `None` for a ZLB or data.
    pub message_type: Option<u16>,
    /// AVPs in wire order.
    pub avps: Vec<Avp>,
    /// Every other field of the layer (flattened, sorted by name), e.g.
    /// `l2tp.length`, `l2tp.cookie`, `l2tp.l2_spec_sequence`.
    pub fields: Vec<(String, String)>,
}

impl L2tp {
    /// The first value of a header field (including the typed ones above,
    /// under their tshark names).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first AVP with this vendor and type.
    pub fn avp(&self, vendor_id: u16, attr_type: u16) -> Option<&Avp> {
        self.avps
            .iter()
            .find(|a| a.vendor_id == vendor_id && a.attr_type == attr_type)
    }

    /// True for a control message without AVPs (ZLB ACK).
    pub fn is_zlb(&self) -> bool {
        self.control == Some(true) && self.avps.is_empty()
    }
}

/// One AVP as tshark decoded it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Avp {
    /// Offset of the AVP header in the frame.
    pub offset: Option<usize>,
    /// Vendor id: from the wire bytes, else `l2tp.avp.vendor_id`.
    pub vendor_id: u16,
    /// Attribute type: from the wire bytes, else `l2tp.avp.type` (or the
    /// vendor-specific `...type` field).
    pub attr_type: u16,
    /// `l2tp.avp.mandatory`.
    pub mandatory: bool,
    /// `l2tp.avp.hidden`.
    pub hidden: bool,
    /// `l2tp.avp.length` (header included).
    pub length: u16,
    /// The subtree's name, e.g. `"Host Name AVP"`.
    pub name: String,
    /// The value fields tshark shows (everything but the five header fields),
    /// e.g. `("l2tp.avp.host_name", "lac")`; bytes are `aa:bb:..` hex.
    pub fields: Vec<(String, String)>,
    /// The whole AVP on the wire (header + value), when tshark gave offsets.
    pub raw: Option<Vec<u8>>,
}

impl Avp {
    /// The first value field with this name.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value bytes (after the 6-byte header), from [`Avp::raw`].
    pub fn value(&self) -> Option<&[u8]> {
        self.raw.as_deref().and_then(|r| r.get(6..))
    }
}

fn tshark_bin() -> PathBuf {
    std::env::var_os("TSHARK")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("tshark"))
}

/// Whether `tshark -v` runs (checked once per process).
pub fn tshark_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        Command::new(tshark_bin())
            .arg("-v")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    })
}

/// `--disable-protocol` for each protocol tshark recognises in TCP and UDP payloads by
/// heuristics (`tshark -G heuristic-decodes`; `--disable-heuristic` wants names that tshark 4.0
/// does not list). The captures carry test traffic through the tunnels (iperf3's data, pings),
/// whose arbitrary payload such a heuristic may take for its protocol and then report as broken
/// (Thrift's "Type value not expected"); the judge is about the tunnels and the headers inside
/// them, none of which is among these protocols. `scripts/judge-captures.sh` does the same.
pub fn payload_heuristics_off() -> &'static [String] {
    static ARGS: OnceLock<Vec<String>> = OnceLock::new();
    ARGS.get_or_init(|| {
        let Ok(out) = Command::new(tshark_bin())
            .args(["-G", "heuristic-decodes"])
            .output()
        else {
            return Vec::new();
        };
        let names: std::collections::BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|line| {
                let mut fields = line.split('\t');
                let parent = fields.next()?;
                let name = fields.next()?;
                matches!(parent, "tcp" | "udp").then(|| name.to_owned())
            })
            .collect();
        names
            .into_iter()
            .flat_map(|name| ["--disable-protocol".to_owned(), name])
            .collect()
    })
}

/// Decodes a capture file with default settings.
pub fn decode(path: impl AsRef<Path>) -> Result<Vec<Packet>, Error> {
    decode_with(path, &[])
}

/// Decodes a capture file; `extra_args` go to tshark before `-r`, e.g.
/// `["-o", "l2tp.cookie_size:4 Byte Cookie", "-d", "udp.port==1702,l2tp"]`
/// or a display filter `["-Y", "l2tp"]`.
pub fn decode_with(path: impl AsRef<Path>, extra_args: &[&str]) -> Result<Vec<Packet>, Error> {
    let json = run(
        path.as_ref(),
        extra_args,
        &["json", "--no-duplicate-keys", "-x"],
    )?;
    parse_json(&json)
}

/// `fields` (e.g. `radius.code`) of every packet of a capture file, as `-T fields` prints
/// them: one row per packet, one string per field, empty where the packet has none.
/// `extra_args` go to tshark as with [`decode_with`].
pub fn fields_with(
    path: impl AsRef<Path>,
    extra_args: &[&str],
    fields: &[&str],
) -> Result<Vec<Vec<String>>, Error> {
    let mut output = vec!["fields", "-E", "separator=;"];
    output.extend(fields.iter().flat_map(|f| ["-e", f]));
    let text = run(path.as_ref(), extra_args, &output)?;
    Ok(text
        .lines()
        .map(|line| line.split(';').map(str::to_owned).collect())
        .collect())
}

/// Runs `tshark ARGS -r PATH -n -T OUTPUT` (ARGS: the payload heuristics off, then
/// `extra_args`) and returns what it printed.
fn run(path: &Path, extra_args: &[&str], output: &[&str]) -> Result<String, Error> {
    let out = Command::new(tshark_bin())
        .args(payload_heuristics_off())
        .args(extra_args)
        .arg("-r")
        .arg(path)
        .args(["-n", "-T"])
        .args(output)
        .output()
        .map_err(Error::Spawn)?;
    if !out.status.success() {
        return Err(Error::Failed {
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Writes `datagrams` to a temporary pcap (see [`crate::pcap::write_file`]),
/// decodes it and removes it.
pub fn decode_datagrams(
    encap: Encap,
    datagrams: &[Datagram],
    extra_args: &[&str],
) -> Result<Vec<Packet>, Error> {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let path = std::env::temp_dir().join(format!(
        "l2tp-testkit-{}-{}.pcap",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    pcap::write_file(&path, encap, datagrams)?;
    let res = decode_with(&path, extra_args);
    let _ = std::fs::remove_file(&path);
    res
}

/// Decodes one L2TP payload sent over UDP 192.0.2.1:1701 -> 192.0.2.2:1701
/// and returns its packet.
pub fn decode_l2tp_udp(payload: &[u8], extra_args: &[&str]) -> Result<Packet, Error> {
    let d = Datagram::new(
        ([192, 0, 2, 1], 1701),
        ([192, 0, 2, 2], 1701),
        payload.to_vec(),
    );
    decode_datagrams(Encap::Udp, &[d], extra_args)?
        .pop()
        .ok_or_else(|| Error::Json("tshark printed no packet".into()))
}

/// Parses the output of `tshark -T json --no-duplicate-keys [-x]`.
/// Without `-x` there are no offsets, so [`L2tp::bytes`], [`Avp::raw`] and
/// [`Avp::offset`] stay empty and AVPs keep tshark's key order.
pub fn parse_json(json: &str) -> Result<Vec<Packet>, Error> {
    let v: Value = serde_json::from_str(json).map_err(|e| Error::Json(e.to_string()))?;
    let arr = v
        .as_array()
        .ok_or_else(|| Error::Json("top level is not an array".into()))?;
    arr.iter().map(parse_packet).collect()
}

fn parse_packet(p: &Value) -> Result<Packet, Error> {
    let layers = p
        .pointer("/_source/layers")
        .and_then(Value::as_object)
        .ok_or_else(|| Error::Json("packet without _source.layers".into()))?;
    let mut pkt = Packet::default();
    if let Some(frame) = layers.get("frame") {
        pkt.number = str_field(frame, "frame.number")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        pkt.protocols = str_field(frame, "frame.protocols")
            .unwrap_or_default()
            .to_string();
    }
    walk_problems(&Value::Object(layers.clone()), &mut pkt);
    let l2tps = as_list(layers.get("l2tp"));
    let raws = match layers.get("l2tp_raw") {
        // one layer: [hex, pos, len, mask, type]; several: [[...], [...]]
        Some(Value::Array(a)) if a.first().is_some_and(Value::is_array) => a.iter().collect(),
        Some(r) => vec![r],
        None => vec![],
    };
    for (i, l) in l2tps.into_iter().enumerate() {
        if let Some(obj) = l.as_object() {
            pkt.l2tp.push(parse_l2tp(obj, raws.get(i).copied()));
        }
    }
    Ok(pkt)
}

fn as_list(v: Option<&Value>) -> Vec<&Value> {
    match v {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v) => vec![v],
        None => vec![],
    }
}

fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    match v.get(key)? {
        Value::String(s) => Some(s),
        Value::Array(a) => a.first()?.as_str(),
        _ => None,
    }
}

/// `[hex, pos, len, bitmask, type]` of a `*_raw` key: the bytes (`None`
/// for bit fields, whose "hex" is the field value) and the frame offset.
fn raw_pos(v: Option<&Value>) -> Option<(Option<Vec<u8>>, usize)> {
    let a = v?.as_array()?;
    let a = if a.first()?.is_array() {
        a.first()?.as_array()?
    } else {
        a
    };
    let pos = usize::try_from(a.get(1)?.as_u64()?).ok()?;
    let len = a.get(2).and_then(Value::as_u64);
    let bytes = a
        .first()?
        .as_str()
        .and_then(hex)
        .filter(|b| Some(b.len() as u64) == len);
    Some((bytes, pos))
}

fn hex(s: &str) -> Option<Vec<u8>> {
    let s: String = s.chars().filter(|c| *c != ':').collect();
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

fn walk_problems(v: &Value, pkt: &mut Packet) {
    match v {
        Value::Object(m) => {
            if m.contains_key("_ws.malformed") {
                pkt.malformed = true;
            }
            if let Some(sev) = m.get("_ws.expert.severity") {
                let sevs = as_list(Some(sev));
                let msgs = as_list(m.get("_ws.expert.message"));
                let groups = as_list(m.get("_ws.expert.group"));
                for (i, s) in sevs.iter().enumerate() {
                    let num = |x: Option<&&Value>| {
                        x.and_then(|x| x.as_str())
                            .and_then(|s| s.parse::<u32>().ok())
                            .unwrap_or(0)
                    };
                    pkt.expert.push(Expert {
                        severity: Severity::from_raw(num(Some(s))),
                        group: num(groups.get(i)),
                        message: msgs
                            .get(i)
                            .and_then(|m| m.as_str())
                            .unwrap_or("")
                            .to_string(),
                    });
                }
            }
            for (k, child) in m {
                if !k.ends_with("_raw") {
                    walk_problems(child, pkt);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|c| walk_problems(c, pkt)),
        _ => {}
    }
}

/// An AVP subtree. tshark 4.0 shows only M, H and length for a hidden AVP
/// (its name tells the type), so vendor and type are optional.
fn is_avp(m: &Map<String, Value>) -> bool {
    m.contains_key("l2tp.avp.length") && m.contains_key("l2tp.avp.hidden")
}

fn parse_l2tp(obj: &Map<String, Value>, raw: Option<&Value>) -> L2tp {
    let mut l = L2tp::default();
    if let Some((bytes, pos)) = raw_pos(raw) {
        l.bytes = bytes.unwrap_or_default();
        l.offset = Some(pos);
    }
    let mut fields = Vec::new();
    let mut avps = Vec::new();
    collect(obj, "", &mut fields, &mut avps, &l);
    fields.sort();
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let num = |name: &str| get(name).and_then(parse_num);
    l.version = num("l2tp.version").and_then(|v| u8::try_from(v).ok());
    l.control = num("l2tp.type").map(|v| v == 1);
    l.tunnel_id = num("l2tp.tunnel")
        .or_else(|| num("l2tp.ccid"))
        .and_then(|v| u32::try_from(v).ok());
    l.session_id = num("l2tp.session")
        .or_else(|| num("l2tp.sid"))
        .and_then(|v| u32::try_from(v).ok());
    l.ns = num("l2tp.Ns").and_then(|v| u16::try_from(v).ok());
    l.nr = num("l2tp.Nr").and_then(|v| u16::try_from(v).ok());
    if avps.iter().all(|a: &Avp| a.offset.is_some()) {
        avps.sort_by_key(|a| a.offset);
    }
    l.message_type = avps
        .first()
        .filter(|a| a.vendor_id == 0 && a.attr_type == 0)
        .and_then(|a| a.field("l2tp.avp.message_type"))
        .and_then(parse_num)
        .and_then(|v| u16::try_from(v).ok());
    l.avps = avps;
    l.fields = fields;
    l
}

fn parse_num(s: &str) -> Option<u64> {
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Flattens `m` into `fields`, turning AVP subtrees into [`Avp`]s.
fn collect(
    m: &Map<String, Value>,
    name: &str,
    fields: &mut Vec<(String, String)>,
    avps: &mut Vec<Avp>,
    layer: &L2tp,
) {
    if is_avp(m) {
        avps.push(parse_avp(m, name, layer));
        return;
    }
    for (k, v) in m {
        if k.ends_with("_raw") {
            continue;
        }
        for item in as_list(Some(v)) {
            match item {
                Value::Object(child) => collect(child, k, fields, avps, layer),
                Value::String(s) => fields.push((k.clone(), s.clone())),
                other => fields.push((k.clone(), other.to_string())),
            }
        }
    }
}

fn parse_avp(m: &Map<String, Value>, name: &str, layer: &L2tp) -> Avp {
    let mut flat = Vec::new();
    let mut nested = Vec::new();
    for (k, v) in m {
        if k.ends_with("_raw") {
            continue;
        }
        for item in as_list(Some(v)) {
            match item {
                Value::Object(child) => collect(child, k, &mut flat, &mut nested, layer),
                Value::String(s) => flat.push((k.clone(), s.clone())),
                other => flat.push((k.clone(), other.to_string())),
            }
        }
    }
    let num = |key: &str| str_field(&Value::Object(m.clone()), key).and_then(parse_num);
    let attr_type = [
        "l2tp.avp.type",
        "l2tp.avp.ciscotype",
        "l2tp.avp.ericssontype",
        "l2tp.avp.broadbandtype",
        "l2tp.avp.cablelabstype",
    ]
    .iter()
    .find_map(|k| num(k));
    let header = [
        "l2tp.avp.mandatory",
        "l2tp.avp.hidden",
        "l2tp.avp.length",
        "l2tp.avp.vendor_id",
        "l2tp.avp.type",
        "l2tp.avp.ciscotype",
        "l2tp.avp.ericssontype",
        "l2tp.avp.broadbandtype",
        "l2tp.avp.cablelabstype",
    ];
    let length = num("l2tp.avp.length").unwrap_or(0);
    let pos = raw_pos(m.get("l2tp.avp.mandatory_raw")).map(|(_, p)| p);
    let raw = match (pos, layer.offset) {
        (Some(p), Some(base)) if p >= base => {
            let start = p - base;
            let end = start + usize::try_from(length).unwrap_or(0);
            layer.bytes.get(start..end).map(<[u8]>::to_vec)
        }
        _ => None,
    };
    // The wire is authoritative; the fields are a fallback without -x.
    let wire = |i: usize| {
        raw.as_ref()
            .and_then(|r| r.get(i..i + 2))
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
    };
    Avp {
        offset: pos,
        vendor_id: wire(2)
            .or_else(|| num("l2tp.avp.vendor_id").and_then(|v| u16::try_from(v).ok()))
            .unwrap_or(0),
        attr_type: wire(4)
            .or_else(|| attr_type.and_then(|v| u16::try_from(v).ok()))
            .unwrap_or(0),
        mandatory: num("l2tp.avp.mandatory") == Some(1),
        hidden: num("l2tp.avp.hidden") == Some(1),
        length: u16::try_from(length).unwrap_or(0),
        name: name.to_string(),
        fields: flat
            .into_iter()
            .filter(|(k, _)| !header.contains(&k.as_str()))
            .collect(),
        raw,
    }
}

/// Control message type names as tshark's Info column abbreviates them
/// (index = message type, RFC 2661 §3.2 / RFC 3931 §3.1; 5 and 13 are
/// reserved).
pub const MESSAGE_NAMES: [&str; 17] = [
    "", "SCCRQ", "SCCRP", "SCCCN", "StopCCN", "Reserved", "Hello", "OCRQ", "OCRP", "OCCN", "ICRQ",
    "ICRP", "ICCN", "Reserved", "CDN", "WEN", "SLI",
];

/// The abbreviation of a message type: `"ZLB"` for `None`, `"ACK"` for the
/// L2TPv3 explicit acknowledgement (20), `"CSUN"` and `"CSURQ"` for RFC 5515's
/// (28, 29), `"?"` for other unknown types.
pub fn message_name(t: Option<u16>) -> &'static str {
    match t {
        None => "ZLB",
        Some(20) => "ACK",
        Some(28) => "CSUN",
        Some(29) => "CSURQ",
        Some(t) => MESSAGE_NAMES.get(usize::from(t)).copied().unwrap_or("?"),
    }
}

#[cfg(test)]
mod tests;
