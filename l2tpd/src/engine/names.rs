//! Peers given by name: the engine never resolves a name itself (a slow resolver would stall
//! every tunnel's HELLOs and retransmissions). It asks the shell ([`EngineEvent::Resolve`]),
//! which resolves off the event loop with a timeout and hands the answer back
//! ([`super::Engine::handle_resolved`]); meanwhile the instances that need the name wait.
//!
//! [`EngineEvent::Resolve`]: super::EngineEvent::Resolve

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// How long an answer is used before the name is resolved again.
pub(super) const FRESH: Duration = Duration::from_secs(30);

/// What is known of one name.
#[derive(Clone, Debug)]
enum Entry {
    /// Asked for; no answer yet.
    Pending,
    /// Its addresses, in the resolver's order, and when they came.
    Resolved { addrs: Vec<IpAddr>, at: Instant },
    /// Why it did not resolve; handed out once, then asked for again.
    Failed(String),
}

/// Where a name is.
#[derive(Clone, Debug, Eq, PartialEq)]
pub(super) enum Lookup {
    /// Its addresses, in the resolver's order (never none).
    Ready(Vec<IpAddr>),
    /// Asked for; the instance waits for the answer.
    Pending,
    /// It did not resolve.
    Failed(String),
}

/// The names of peers and what is known of them.
#[derive(Debug, Default)]
pub(super) struct Names {
    entries: HashMap<String, Entry>,
    /// Names to ask the shell to resolve.
    requests: Vec<String>,
}

impl Names {
    /// The addresses of `name` at `now`, or a request to resolve it.
    pub(super) fn lookup(&mut self, name: &str, now: Instant) -> Lookup {
        match self.entries.get(name) {
            Some(Entry::Pending) => return Lookup::Pending,
            Some(Entry::Resolved { addrs, at })
                if now.saturating_duration_since(*at) < FRESH && !addrs.is_empty() =>
            {
                return Lookup::Ready(addrs.clone());
            }
            Some(Entry::Failed(why)) => {
                let why = why.clone();
                self.entries.remove(name);
                return Lookup::Failed(why);
            }
            _ => {}
        }
        self.entries.insert(name.to_owned(), Entry::Pending);
        self.requests.push(name.to_owned());
        Lookup::Pending
    }

    /// The shell's answer for `name`.
    pub(super) fn answer(&mut self, name: &str, now: Instant, result: Result<Vec<IpAddr>, String>) {
        let entry = match result {
            Ok(addrs) if !addrs.is_empty() => Entry::Resolved { addrs, at: now },
            Ok(_) => Entry::Failed(format!("{name} has no address")),
            Err(e) => Entry::Failed(format!("cannot resolve {name}: {e}")),
        };
        self.entries.insert(name.to_owned(), entry);
    }

    /// The next name to ask the shell to resolve.
    pub(super) fn poll_request(&mut self) -> Option<String> {
        self.requests.pop()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_asked_for_once_used_while_fresh_and_a_failure_handed_out_once() {
        let mut n = Names::default();
        let t0 = Instant::now();
        assert_eq!(n.lookup("lns.example", t0), Lookup::Pending);
        assert_eq!(n.lookup("lns.example", t0), Lookup::Pending);
        assert_eq!(n.poll_request().as_deref(), Some("lns.example"));
        assert_eq!(n.poll_request(), None);
        let a: IpAddr = [192, 0, 2, 7].into();
        n.answer("lns.example", t0, Ok(vec![a]));
        assert_eq!(
            n.lookup("lns.example", t0 + FRESH / 2),
            Lookup::Ready(vec![a])
        );
        // Stale: asked for again.
        assert_eq!(n.lookup("lns.example", t0 + FRESH), Lookup::Pending);
        assert_eq!(n.poll_request().as_deref(), Some("lns.example"));
        n.answer("lns.example", t0, Err("timed out".into()));
        assert_eq!(
            n.lookup("lns.example", t0),
            Lookup::Failed("cannot resolve lns.example: timed out".into())
        );
        assert_eq!(n.lookup("lns.example", t0), Lookup::Pending);
    }
}
