//! `show radius`: the RADIUS servers, their state and counters.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `show radius`: the RADIUS servers with their state and counters, the requests waiting, and
/// what became of the requests of the PPP sessions and of dynamic authorization.
#[derive(Clone, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
pub struct RadiusInfo {
    /// Every server, authentication servers first, each in configuration order.
    pub servers: Vec<RadiusServerInfo>,
    /// Access-Requests waiting for a server (every one busy or dead).
    pub queued_access: u64,
    /// Accounting-Requests waiting for a server.
    pub queued_accounting: u64,
    /// Requests not answered yet (queued or in flight).
    pub pending: u64,
    /// The client's UDP sockets (256 identifiers per socket and server).
    pub sockets: u64,
    /// Access-Requests sent for PPP sessions (logins and re-authentications).
    pub access_requests: u64,
    /// Of those, accepted.
    pub accepts: u64,
    /// Rejected (or challenged, which l2tpd cannot answer).
    pub rejects: u64,
    /// Not answered by any server.
    pub no_answer: u64,
    /// Of those, peers checked against the local users instead (`radius_then_local`).
    pub local_fallbacks: u64,
    /// Of the Access-Requests, those of re-authentications (`chap_interval` re-challenges of
    /// sessions already up).
    #[serde(default)]
    pub reauth_requests: u64,
    /// Of the accepts, re-authentications.
    #[serde(default)]
    pub reauth_accepts: u64,
    /// Of the rejects, re-authentications.
    #[serde(default)]
    pub reauth_rejects: u64,
    /// Of the requests not answered, re-authentications.
    #[serde(default)]
    pub reauth_no_answer: u64,
    /// Access-Requests refused at once because too many waited.
    pub access_queue_full: u64,
    /// Accounting-Requests sent, by Acct-Status-Type: `start`, `interim`, `stop`, `on`, `off`.
    pub accounting_requests: BTreeMap<String, u64>,
    /// Accounting-Responses received.
    pub accounting_responses: u64,
    /// Accounting records lost: dropped from the full queue (logged) or too long to send.
    pub accounting_lost: u64,
    /// Answers from addresses that are no server.
    pub unknown_source: u64,
    /// Where Disconnect- and CoA-Requests are taken.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dynauth_listen: Vec<String>,
    /// Disconnect- and CoA-Requests by answer: `disconnect_ack`, `disconnect_nak`, `coa_ack`,
    /// `coa_nak`.
    pub dynauth: BTreeMap<String, u64>,
    /// Datagrams on the dynamic authorization sockets dropped, by why: `unknown_client`,
    /// `malformed`, `bad_authenticator`, and retransmissions answered again (`duplicate`).
    pub dynauth_dropped: BTreeMap<String, u64>,
}

/// One RADIUS server in `show radius`.
#[derive(Clone, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
pub struct RadiusServerInfo {
    /// The `radius server` block's name.
    pub name: String,
    /// `authentication` or `accounting`.
    pub service: String,
    /// Its address and port.
    pub address: String,
    /// Its priority (lower is preferred).
    pub priority: u8,
    /// `alive` or `dead`.
    pub state: String,
    /// Seconds until a dead server is tried again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_for_s: Option<u64>,
    /// Requests in flight to it.
    pub outstanding: u64,
    /// Requests sent to it (first transmissions).
    pub requests: u64,
    /// Retransmissions.
    pub retransmissions: u64,
    /// Requests it left unanswered through every retransmission.
    pub timeouts: u64,
    /// Access-Accepts.
    pub accepts: u64,
    /// Access-Rejects.
    pub rejects: u64,
    /// Access-Challenges.
    pub challenges: u64,
    /// Accounting-Responses.
    pub accounting_responses: u64,
    /// Answers that did not decode or matched no request.
    pub malformed: u64,
    /// Answers with a wrong or missing authenticator.
    pub bad_authenticators: u64,
    /// Authentic answers to a request answered already: late answers to an earlier
    /// transmission of a request that another answer completed, or repeated answers.
    #[serde(default)]
    pub duplicates: u64,
    /// The round-trip time of its last answer, microseconds.
    pub last_rtt_us: u64,
    /// Its smoothed round-trip time, microseconds.
    pub smoothed_rtt_us: u64,
    /// Status-Server probes sent to it while dead (RFC 5997).
    #[serde(default)]
    pub probes: u64,
    /// Probes it answered.
    #[serde(default)]
    pub probes_answered: u64,
    /// Probes it left unanswered.
    #[serde(default)]
    pub probes_timed_out: u64,
}
