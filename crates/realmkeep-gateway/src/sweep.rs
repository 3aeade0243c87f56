//! The gateway's sweep: every `sweep_every` (5 s), one task looks at all live connections at
//! once for what their live notices may have missed, since pub/sub keeps nothing it could not
//! deliver (a node's subscriber reconnecting, Redis restarted):
//!
//! - the session's account revoked since its token was issued (a ban, a password change), or
//!   the session logged out, on any node: the connection is told to check it and close;
//! - inbox events newer than the last one the connection delivered (a kick, a mail): the
//!   connection is told to read them.
//!
//! A pipeline per [`SWEEP_BATCH_MAX`] connections, not a timer and two Redis calls per
//! connection: at 15,000 players that was 6,000 calls a second and 6,000 wake-ups, now 60
//! pipelines per sweep. The connection itself decides (it reads its session and inbox again),
//! so a sweep's answer is only a hint.

use crate::limits::SWEEP_BATCH_MAX;
use crate::state::{lock, App, ConnControl};
use realmkeep_cache::{HeldSession, InboxId};
use realmkeep_domain::CharacterId;
use std::sync::Arc;

/// One live connection as the sweep sees it.
struct Watched {
    session: HeldSession,
    character: CharacterId,
    /// The last inbox event it delivered (none before its character is in the world).
    seen: Option<InboxId>,
    control: flume::Sender<ConnControl>,
}

pub(crate) async fn run(app: Arc<App>) {
    let mut every = tokio::time::interval(app.config.sweep_every);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    every.tick().await;
    loop {
        tokio::select! {
            _ = app.stop.cancelled() => return,
            _ = every.tick() => sweep(&app).await,
        }
    }
}

/// Looks at every live connection once.
async fn sweep(app: &App) {
    let mut watched: Vec<Watched> = lock(&app.live)
        .iter()
        .map(|(account, l)| Watched {
            session: HeldSession {
                account: *account,
                session: l.session,
                issued_unix_s: l.issued_unix_s,
            },
            character: l.character,
            seen: None,
            control: l.control.clone(),
        })
        .collect();
    {
        let in_world = lock(&app.in_world);
        for w in &mut watched {
            w.seen = in_world.get(&w.character).map(|i| i.inbox_seen.clone());
        }
    }
    for batch in watched.chunks(SWEEP_BATCH_MAX) {
        if app.stop.is_cancelled() {
            return;
        }
        let sessions: Vec<HeldSession> = batch.iter().map(|w| w.session).collect();
        match app.cache().sessions().sessions_revoked(&sessions).await {
            Ok(revoked) => {
                for (w, _) in batch.iter().zip(revoked).filter(|(_, r)| *r) {
                    found(w, ConnControl::Recheck, "revoked");
                }
            }
            Err(e) => tracing::warn!(error = %e, "the sweep's session check failed"),
        }
        let in_world: Vec<(&Watched, &InboxId)> = batch
            .iter()
            .filter_map(|w| w.seen.as_ref().map(|s| (w, s)))
            .collect();
        let seen: Vec<(CharacterId, &InboxId)> =
            in_world.iter().map(|(w, s)| (w.character, *s)).collect();
        match app.cache().inbox().pending(&seen).await {
            Ok(pending) => {
                for ((w, _), _) in in_world.iter().zip(pending).filter(|(_, p)| *p) {
                    found(w, ConnControl::ReadInbox, "inbox");
                }
            }
            // Redis down: the connections read their inboxes when it is back (the next sweep).
            Err(e) => tracing::debug!(error = %e, "the sweep's inbox look failed"),
        }
    }
}

fn found(w: &Watched, what: ConnControl, label: &'static str) {
    metrics::counter!(crate::meters::SWEEP_FOUND, "what" => label).increment(1);
    // A full control queue: the connection is busy with what it was sent; the next sweep
    // tells it again.
    let _ = w.control.try_send(what);
}
