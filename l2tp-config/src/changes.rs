//! Which settings of a tunnel or session instance a reload changed, for the line that says
//! why the instance is made again. Values are shown only where they are no secret (peers,
//! profiles, ids); every other setting is named alone.

use std::fmt;

use crate::model::{ResolvedSession, ResolvedTunnel};

/// One setting that differs between an instance's old and new effective settings.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Change {
    /// The block the parameter is of, when it is not the instance's own or its profiles':
    /// `ppp profile` for a PPP session's PPP profile, whose parameters may share a name with
    /// a session or pseudowire parameter.
    pub of: Option<&'static str>,
    /// The parameter's name, as in the config file.
    pub key: &'static str,
    /// The old and the new value, for the settings whose values may be shown.
    pub values: Option<(String, String)>,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(block) = self.of {
            write!(f, "{block}'s ")?;
        }
        match &self.values {
            Some((old, new)) => write!(f, "{} changed ({old} -> {new})", self.key),
            None => write!(f, "{} changed", self.key),
        }
    }
}

/// The changes as one phrase: `peer changed (192.0.2.2 -> 192.0.2.3), secret changed`;
/// `changed` when none is known.
pub fn describe_changes(changes: &[Change]) -> String {
    if changes.is_empty() {
        return "changed".to_owned();
    }
    changes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// What shows a value of a setting that is no secret.
fn shown<T: PartialEq>(
    out: &mut Vec<Change>,
    key: &'static str,
    (old, new): (&T, &T),
    show: impl Fn(&T) -> String,
) {
    if old != new {
        out.push(Change {
            of: None,
            key,
            values: Some((show(old), show(new))),
        });
    }
}

/// Names alone, of block `of` (`None`: the instance's own).
fn named(out: &mut Vec<Change>, of: Option<&'static str>, keys: Vec<&'static str>) {
    out.extend(keys.into_iter().map(|key| Change {
        of,
        key,
        values: None,
    }));
}

fn opt<T: fmt::Display>(v: &Option<T>) -> String {
    v.as_ref()
        .map_or_else(|| "none".to_owned(), ToString::to_string)
}

fn quoted(s: &String) -> String {
    format!("{s:?}")
}

/// What differs between tunnel instance `old` and `new` (the same name).
pub fn tunnel_changes(old: &ResolvedTunnel, new: &ResolvedTunnel) -> Vec<Change> {
    let mut out = Vec::new();
    shown(&mut out, "peer", (&old.peers, &new.peers), |p| {
        p.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    });
    shown(&mut out, "profile", (&old.profile, &new.profile), quoted);
    shown(
        &mut out,
        "persist",
        (&old.persist, &new.persist),
        bool::to_string,
    );
    shown(&mut out, "tunnel_id", (&old.tunnel_id, &new.tunnel_id), opt);
    shown(
        &mut out,
        "peer_tunnel_id",
        (&old.peer_tunnel_id, &new.peer_tunnel_id),
        opt,
    );
    shown(&mut out, "config_id", (&old.config_id, &new.config_id), opt);
    named(&mut out, None, old.settings.changed_keys(&new.settings));
    out
}

/// What differs between session instance `old` and `new` (the same name): its own settings,
/// its pseudowire profile's and its native PPP's. Its tunnel's are the tunnel's.
pub fn session_changes(old: &ResolvedSession, new: &ResolvedSession) -> Vec<Change> {
    let mut out = Vec::new();
    shown(&mut out, "tunnel", (&old.tunnel, &new.tunnel), quoted);
    shown(&mut out, "profile", (&old.profile, &new.profile), quoted);
    shown(
        &mut out,
        "session_id",
        (&old.session_id, &new.session_id),
        opt,
    );
    shown(
        &mut out,
        "peer_session_id",
        (&old.peer_session_id, &new.peer_session_id),
        opt,
    );
    shown(
        &mut out,
        "pseudowire_profile_name",
        (&old.pseudowire_profile, &new.pseudowire_profile),
        quoted,
    );
    named(&mut out, None, old.settings.changed_keys(&new.settings));
    named(&mut out, None, old.pseudowire.changed_keys(&new.pseudowire));
    match (&old.ppp, &new.ppp) {
        (Some(o), Some(n)) => named(&mut out, Some("ppp profile"), o.changed_keys(n)),
        (o, n) if o.is_some() != n.is_some() => named(&mut out, None, vec!["ppp_profile_name"]),
        _ => {}
    }
    // One key once (the first, which may show values): a session's settings name its
    // pseudowire profile too. A ppp profile's are named as such, apart.
    let mut seen = Vec::new();
    out.retain(|c| {
        let first = !seen.contains(&(c.of, c.key));
        seen.push((c.of, c.key));
        first
    });
    out
}
