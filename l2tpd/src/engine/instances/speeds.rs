//! A reload that changes only the connect speeds of session blocks (`tx_connect_speed`,
//! `rx_connect_speed`) leaves their calls up. A call placed as LAC with Connect Speed Update
//! Enable tells the LNS at once: one CSUN per tunnel names every such session of it (RFC 5515
//! §4). Any other call keeps its speeds until it is placed again (§4.1 forbids a CSUN for it).
//! A static session, which has no call, keeps going and tells no one.

use std::collections::BTreeMap;
use std::num::NonZeroU64;

use l2tp_config::{self as cfg, Config};
use l2tp_proto::{Command, CommandOutcome, ConnectSpeed, SpeedChange};

use super::super::ctx::Ctx;
use super::super::registry::Phase;
use super::super::translate;
use super::Instances;
use crate::notice;

impl Instances {
    /// The sessions of `changed` whose only change is their connect speeds and whose call is
    /// placed: they take the new settings in place, nothing is disconnected, and the LNS hears
    /// of those that enabled updates. Returns their names.
    pub(super) fn take_new_speeds(
        &mut self,
        ctx: &mut Ctx<'_>,
        config: &Config,
        changed: &[String],
    ) -> Vec<String> {
        let mut kept = Vec::new();
        // Per tunnel id: the changes, with each session's handle and name.
        let mut csuns: BTreeMap<u32, Vec<(SpeedChange, u64, String)>> = BTreeMap::new();
        for name in changed {
            let (Some(new), Some(inst)) =
                (config.resolve_session(name), self.sessions.get_mut(name))
            else {
                continue;
            };
            let old_but_speeds = cfg::ResolvedSession {
                settings: cfg::SessionSettings {
                    tx_connect_speed: new.settings.tx_connect_speed,
                    rx_connect_speed: new.settings.rx_connect_speed,
                    ..inst.resolved.settings.clone()
                },
                ..inst.resolved.clone()
            };
            if old_but_speeds != new {
                continue;
            }
            let Some(handle) = inst.state.handle() else {
                continue;
            };
            let Some(rec) = ctx.registry.session_mut(handle) else {
                continue;
            };
            if matches!(rec.phase(), Phase::Closing { .. }) {
                continue;
            }
            let speeds = translate::session_config(&new.settings, &new.pseudowire, config.system());
            rec.settings = std::sync::Arc::new(new.settings.clone());
            inst.resolved = new;
            kept.push(name.clone());
            if rec.is_static {
                // No control connection: nobody to tell, and nothing on the data path changes.
                notice!(
                    "session \"{name}\": connect speeds changed; a static session tells no peer"
                );
            } else if rec.lac_speed_updates {
                let change = SpeedChange {
                    session_id: rec.sid(),
                    tx: speeds.tx_speed(),
                    rx: speeds.rx_connect_speed,
                };
                csuns
                    .entry(rec.tid())
                    .or_default()
                    .push((change, handle, name.clone()));
            } else {
                notice!(
                    "session \"{name}\": connect speeds changed; they apply to its next call \
                     (this one did not enable connect speed updates)"
                );
            }
        }
        for (tid, changes) in csuns {
            let update = Command::UpdateConnectSpeeds {
                tunnel_id: tid,
                changes: changes.iter().map(|(c, _, _)| *c).collect(),
            };
            let sent = match ctx.protocol.command(ctx.now, update) {
                Ok(CommandOutcome::SpeedsUpdated(n)) => n,
                other => {
                    tracing::warn!("tunnel {tid}: connect speeds not updated: {other:?}");
                    continue;
                }
            };
            for (change, handle, name) in &changes {
                let Some(rec) = ctx.registry.session_mut(*handle) else {
                    continue;
                };
                // The protocol sends for the established calls only; the others tell theirs
                // in their ICCN.
                if !matches!(rec.phase(), Phase::Up { .. }) {
                    notice!("session \"{name}\": connect speeds changed; its call is not up yet");
                    continue;
                }
                let speed = NonZeroU64::new(change.tx.into()).map(|tx| ConnectSpeed {
                    tx,
                    rx: NonZeroU64::new(change.rx.into()),
                });
                rec.connect_speed = speed;
                notice!(
                    "session \"{name}\" (tunnel {tid} session {}): connect speeds changed to {}; \
                     telling the LNS (CSUN)",
                    change.session_id,
                    speed.map_or_else(|| "unknown".to_owned(), |s| format!("{s} bit/s"))
                );
            }
            if sent > 0 {
                notice!("tunnel {tid}: CSUN sent with the connect speeds of {sent} session(s)");
            }
        }
        kept
    }
}
