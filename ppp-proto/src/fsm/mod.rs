//! The option-negotiation automaton of RFC 1661 §4, shared by LCP, IPCP and IPv6CP.
//!
//! [`transition`] is the state transition table of RFC 1661 §4.1 as a pure function: given a
//! [`State`] and an [`Event`] it returns the [`Actions`] to take and the next state, or `None`
//! for the transitions the RFC marks illegal ("-"), which this crate ignores. The restart and
//! passive options ("r", "p") are not used: Open in Stopped, Closing, Stopping or Opened
//! changes nothing, and TO- leaves a layer in Stopped.
//!
//! `machine` runs the table for one protocol: it keeps the Restart counter and the
//! Max-Configure, Max-Terminate and Max-Failure counts (RFC 1661 §4.6), sends what the actions
//! say through the link's queue, starts and stops the Restart timer, and asks a per-protocol
//! option handler (LCP, IPCP, IPv6CP) what to request and how to answer.

use std::fmt;

pub(crate) mod machine;

#[cfg(test)]
mod tests;

/// The states of RFC 1661 §4.2, with their numbers in the RFC's table.
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub enum State {
    /// 0: the lower layer is unavailable and no Open has occurred.
    #[default]
    Initial,
    /// 1: an Open has occurred; waiting for the lower layer.
    Starting,
    /// 2: the lower layer is up, no Open.
    Closed,
    /// 3: after This-Layer-Finished or a Configure-Request in Closed, waiting.
    Stopped,
    /// 4: a Terminate-Request has been sent (after Close).
    Closing,
    /// 5: a Terminate-Request has been sent or answered, not after Close.
    Stopping,
    /// 6: a Configure-Request has been sent.
    ReqSent,
    /// 7: our Configure-Request has been acknowledged; the peer's not yet.
    AckRcvd,
    /// 8: the peer's Configure-Request has been acknowledged; ours not yet.
    AckSent,
    /// 9: both Configure-Requests acknowledged: the layer is up.
    Opened,
}

impl State {
    /// Every state, in the RFC's order.
    pub const ALL: [State; 10] = [
        State::Initial,
        State::Starting,
        State::Closed,
        State::Stopped,
        State::Closing,
        State::Stopping,
        State::ReqSent,
        State::AckRcvd,
        State::AckSent,
        State::Opened,
    ];

    /// Whether the Restart timer runs in this state (those with TO events, RFC 1661 §4.1).
    pub fn timer_runs(self) -> bool {
        matches!(
            self,
            State::Closing | State::Stopping | State::ReqSent | State::AckRcvd | State::AckSent
        )
    }

    /// Whether options are being negotiated (Req-Sent, Ack-Rcvd, Ack-Sent).
    pub fn negotiating(self) -> bool {
        matches!(self, State::ReqSent | State::AckRcvd | State::AckSent)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Initial => "Initial",
            State::Starting => "Starting",
            State::Closed => "Closed",
            State::Stopped => "Stopped",
            State::Closing => "Closing",
            State::Stopping => "Stopping",
            State::ReqSent => "Req-Sent",
            State::AckRcvd => "Ack-Rcvd",
            State::AckSent => "Ack-Sent",
            State::Opened => "Opened",
        })
    }
}

/// The events of RFC 1661 §4.3.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum Event {
    /// Up: the lower layer is ready.
    Up,
    /// Down: the lower layer is gone.
    Down,
    /// Open: administrative open.
    Open,
    /// Close: administrative close.
    Close,
    /// TO+: the Restart timer expired with the Restart counter above zero.
    TimeoutRetry,
    /// TO-: the Restart timer expired with the counter exhausted.
    TimeoutGiveUp,
    /// RCR+: a Configure-Request we acknowledge.
    GoodConfigureRequest,
    /// RCR-: a Configure-Request we Nak or Reject.
    BadConfigureRequest,
    /// RCA: a Configure-Ack.
    ConfigureAck,
    /// RCN: a Configure-Nak or Configure-Reject.
    ConfigureNak,
    /// RTR: a Terminate-Request.
    TerminateRequest,
    /// RTA: a Terminate-Ack.
    TerminateAck,
    /// RUC: an unknown Code.
    UnknownCode,
    /// RXJ+: a Code-Reject or Protocol-Reject of something the layer can do without.
    PermittedReject,
    /// RXJ-: a Code-Reject or Protocol-Reject that makes the layer unusable.
    CatastrophicReject,
    /// RXR: an Echo-Request, Echo-Reply or Discard-Request.
    EchoOrDiscard,
}

impl Event {
    /// Every event, in the RFC's order.
    pub const ALL: [Event; 16] = [
        Event::Up,
        Event::Down,
        Event::Open,
        Event::Close,
        Event::TimeoutRetry,
        Event::TimeoutGiveUp,
        Event::GoodConfigureRequest,
        Event::BadConfigureRequest,
        Event::ConfigureAck,
        Event::ConfigureNak,
        Event::TerminateRequest,
        Event::TerminateAck,
        Event::UnknownCode,
        Event::PermittedReject,
        Event::CatastrophicReject,
        Event::EchoOrDiscard,
    ];
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Event::Up => "Up",
            Event::Down => "Down",
            Event::Open => "Open",
            Event::Close => "Close",
            Event::TimeoutRetry => "TO+",
            Event::TimeoutGiveUp => "TO-",
            Event::GoodConfigureRequest => "RCR+",
            Event::BadConfigureRequest => "RCR-",
            Event::ConfigureAck => "RCA",
            Event::ConfigureNak => "RCN",
            Event::TerminateRequest => "RTR",
            Event::TerminateAck => "RTA",
            Event::UnknownCode => "RUC",
            Event::PermittedReject => "RXJ+",
            Event::CatastrophicReject => "RXJ-",
            Event::EchoOrDiscard => "RXR",
        })
    }
}

/// A set of the actions of RFC 1661 §4.4.
#[derive(Clone, Copy, Default, Eq, Hash, PartialEq)]
pub struct Actions(u16);

impl Actions {
    /// No action.
    pub const NONE: Self = Self(0);
    /// tlu: This-Layer-Up.
    pub const TLU: Self = Self(1);
    /// tld: This-Layer-Down.
    pub const TLD: Self = Self(1 << 1);
    /// tls: This-Layer-Started.
    pub const TLS: Self = Self(1 << 2);
    /// tlf: This-Layer-Finished.
    pub const TLF: Self = Self(1 << 3);
    /// irc: Initialize-Restart-Count.
    pub const IRC: Self = Self(1 << 4);
    /// zrc: Zero-Restart-Count.
    pub const ZRC: Self = Self(1 << 5);
    /// scr: Send-Configure-Request.
    pub const SCR: Self = Self(1 << 6);
    /// sca: Send-Configure-Ack.
    pub const SCA: Self = Self(1 << 7);
    /// scn: Send-Configure-Nak/Rej.
    pub const SCN: Self = Self(1 << 8);
    /// str: Send-Terminate-Request.
    pub const STR: Self = Self(1 << 9);
    /// sta: Send-Terminate-Ack.
    pub const STA: Self = Self(1 << 10);
    /// scj: Send-Code-Reject.
    pub const SCJ: Self = Self(1 << 11);
    /// ser: Send-Echo-Reply.
    pub const SER: Self = Self(1 << 12);

    const NAMES: [(Actions, &'static str); 13] = [
        (Self::TLU, "tlu"),
        (Self::TLD, "tld"),
        (Self::TLS, "tls"),
        (Self::TLF, "tlf"),
        (Self::IRC, "irc"),
        (Self::ZRC, "zrc"),
        (Self::SCR, "scr"),
        (Self::SCA, "sca"),
        (Self::SCN, "scn"),
        (Self::STR, "str"),
        (Self::STA, "sta"),
        (Self::SCJ, "scj"),
        (Self::SER, "ser"),
    ];

    /// Whether every action of `other` is in `self`.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether no action is in the set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The actions of `self` that are also in `other`.
    pub fn intersection(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    /// Parses a comma-separated list of the RFC's action names, e.g. `"tld,scr,sca"`.
    pub fn parse(list: &str) -> Option<Self> {
        list.split(',')
            .filter(|s| !s.is_empty())
            .try_fold(Self::NONE, |acc, name| {
                let (a, _) = Self::NAMES.iter().find(|(_, n)| *n == name)?;
                Some(acc | *a)
            })
    }
}

impl std::ops::BitOr for Actions {
    type Output = Self;

    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl fmt::Debug for Actions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Actions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (a, name) in Self::NAMES {
            if self.contains(a) {
                if !first {
                    f.write_str(",")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("-")?;
        }
        Ok(())
    }
}

/// The state transition table of RFC 1661 §4.1: the actions for `event` in `state`, and the
/// next state; `None` where the RFC marks the transition illegal.
pub fn transition(state: State, event: Event) -> Option<(Actions, State)> {
    use Event as E;
    use State as S;
    let a = |list: &[Actions]| list.iter().fold(Actions::NONE, |acc, x| acc | *x);
    const TLU: Actions = Actions::TLU;
    const TLD: Actions = Actions::TLD;
    const TLS: Actions = Actions::TLS;
    const TLF: Actions = Actions::TLF;
    const IRC: Actions = Actions::IRC;
    const ZRC: Actions = Actions::ZRC;
    const SCR: Actions = Actions::SCR;
    const SCA: Actions = Actions::SCA;
    const SCN: Actions = Actions::SCN;
    const STR: Actions = Actions::STR;
    const STA: Actions = Actions::STA;
    const SCJ: Actions = Actions::SCJ;
    const SER: Actions = Actions::SER;
    let none = Actions::NONE;
    let (actions, next) = match (state, event) {
        (S::Initial, E::Up) => (none, S::Closed),
        (S::Starting, E::Up) => (a(&[IRC, SCR]), S::ReqSent),
        (S::Initial, E::Open) => (TLS, S::Starting),
        (S::Starting, E::Open) => (none, S::Starting),
        (S::Initial, E::Close) => (none, S::Initial),
        (S::Starting, E::Close) => (TLF, S::Initial),
        (S::Initial | S::Starting, _) => return None,

        (_, E::Up) => return None,
        (S::Closed, E::Down) => (none, S::Initial),
        (S::Stopped, E::Down) => (TLS, S::Starting),
        (S::Closing, E::Down) => (none, S::Initial),
        (S::Opened, E::Down) => (TLD, S::Starting),
        (_, E::Down) => (none, S::Starting),

        (S::Closed, E::Open) => (a(&[IRC, SCR]), S::ReqSent),
        (S::Closing, E::Open) => (none, S::Stopping),
        (_, E::Open) => (none, state),

        (S::Closed | S::Stopped, E::Close) => (none, S::Closed),
        (S::Closing | S::Stopping, E::Close) => (none, S::Closing),
        (S::Opened, E::Close) => (a(&[TLD, IRC, STR]), S::Closing),
        (_, E::Close) => (a(&[IRC, STR]), S::Closing),

        (S::Closing | S::Stopping, E::TimeoutRetry) => (STR, state),
        (S::ReqSent | S::AckRcvd, E::TimeoutRetry) => (SCR, S::ReqSent),
        (S::AckSent, E::TimeoutRetry) => (SCR, S::AckSent),
        (S::Closing, E::TimeoutGiveUp) => (TLF, S::Closed),
        (S::Stopping | S::ReqSent | S::AckRcvd | S::AckSent, E::TimeoutGiveUp) => (TLF, S::Stopped),
        (_, E::TimeoutRetry | E::TimeoutGiveUp) => return None,

        (
            S::Closed,
            E::GoodConfigureRequest | E::BadConfigureRequest | E::ConfigureAck | E::ConfigureNak,
        ) => (STA, S::Closed),
        (S::Stopped, E::GoodConfigureRequest) => (a(&[IRC, SCR, SCA]), S::AckSent),
        (S::Stopped, E::BadConfigureRequest) => (a(&[IRC, SCR, SCN]), S::ReqSent),
        (S::Stopped, E::ConfigureAck | E::ConfigureNak) => (STA, S::Stopped),
        (
            S::Closing | S::Stopping,
            E::GoodConfigureRequest | E::BadConfigureRequest | E::ConfigureAck | E::ConfigureNak,
        ) => (none, state),

        (S::ReqSent | S::AckSent, E::GoodConfigureRequest) => (SCA, S::AckSent),
        (S::AckRcvd, E::GoodConfigureRequest) => (a(&[SCA, TLU]), S::Opened),
        (S::Opened, E::GoodConfigureRequest) => (a(&[TLD, SCR, SCA]), S::AckSent),
        (S::ReqSent | S::AckSent, E::BadConfigureRequest) => (SCN, S::ReqSent),
        (S::AckRcvd, E::BadConfigureRequest) => (SCN, S::AckRcvd),
        (S::Opened, E::BadConfigureRequest) => (a(&[TLD, SCR, SCN]), S::ReqSent),

        (S::ReqSent, E::ConfigureAck) => (IRC, S::AckRcvd),
        (S::AckRcvd, E::ConfigureAck | E::ConfigureNak) => (SCR, S::ReqSent),
        (S::AckSent, E::ConfigureAck) => (a(&[IRC, TLU]), S::Opened),
        (S::Opened, E::ConfigureAck | E::ConfigureNak) => (a(&[TLD, SCR]), S::ReqSent),
        (S::ReqSent, E::ConfigureNak) => (a(&[IRC, SCR]), S::ReqSent),
        (S::AckSent, E::ConfigureNak) => (a(&[IRC, SCR]), S::AckSent),

        (S::ReqSent | S::AckRcvd | S::AckSent, E::TerminateRequest) => (STA, S::ReqSent),
        (S::Opened, E::TerminateRequest) => (a(&[TLD, ZRC, STA]), S::Stopping),
        (_, E::TerminateRequest) => (STA, state),

        (S::Closing, E::TerminateAck) => (TLF, S::Closed),
        (S::Stopping, E::TerminateAck) => (TLF, S::Stopped),
        (S::AckRcvd, E::TerminateAck) => (none, S::ReqSent),
        (S::Opened, E::TerminateAck) => (a(&[TLD, SCR]), S::ReqSent),
        (_, E::TerminateAck) => (none, state),

        (_, E::UnknownCode) => (SCJ, state),

        (S::AckRcvd, E::PermittedReject) => (none, S::ReqSent),
        (_, E::PermittedReject) => (none, state),

        (S::Closed | S::Closing, E::CatastrophicReject) => (TLF, S::Closed),
        (S::Opened, E::CatastrophicReject) => (a(&[TLD, IRC, STR]), S::Stopping),
        (_, E::CatastrophicReject) => (TLF, S::Stopped),

        (S::Opened, E::EchoOrDiscard) => (SER, S::Opened),
        (_, E::EchoOrDiscard) => (none, state),
    };
    Some((actions, next))
}
