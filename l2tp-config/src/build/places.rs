//! The places of the file that checks made after it is read point at: `l2tpd -n` checks the
//! host (the data plane, the control socket's group, the sessions that data plane carries),
//! and each problem it finds names the file and line like any other
//! ([`Config::host_error`](crate::Config::host_error)).

use super::Builder;
use crate::config::Place;
use crate::diagnostic::Diagnostic;

impl Builder {
    /// An error without a message yet at each parameter of the `system` block, and at each
    /// `session` block (its `pseudowire_type` when the block sets one, else its name).
    pub(super) fn places(&self) -> Vec<(Place, Diagnostic)> {
        let system = self.system_info.values.iter().map(|(key, &at)| {
            let place = Place::System(key.clone());
            (place, Diagnostic::error(at, String::new()))
        });
        let sessions = self.sessions.iter().map(|(s, info)| {
            let place = Place::Session(s.name.clone());
            (
                place,
                Diagnostic::error(info.at("pseudowire_type"), String::new()),
            )
        });
        system.chain(sessions).collect()
    }
}
