//! Applies the store's answers to this zone's requests, each through its action's module
//! (`crate::actions`). The player hears of a critical action's success only there; a refusal or
//! an unavailable store leaves the world as it was and tells the player ("try again" for the
//! latter). A stale claim despawns the character without a save.

use crate::actions::AnswerCtx;
use crate::resources::{Pending, ResultInbox};
use bevy_ecs::prelude::*;

pub fn apply_results(
    mut inbox: ResMut<ResultInbox>,
    mut pending: ResMut<Pending>,
    mut ctx: AnswerCtx,
) {
    let results = std::mem::take(&mut inbox.0);
    for (id, outcome) in results {
        let Some((waiting, reply)) = pending.close(id) else {
            tracing::debug!(request = id.0, "result of an unknown request ignored");
            continue;
        };
        for c in waiting.critical_for() {
            if let Some(mut p) = ctx.player(c) {
                p.critical.0 = p.critical.0.saturating_sub(1);
            }
        }
        // The answer to a tagged command: its first notice to the player carries the tag.
        ctx.outbox.begin_reply(reply);
        waiting.apply(&mut ctx, id, outcome);
        ctx.outbox.finish_reply(false);
    }
}
