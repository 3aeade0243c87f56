//! The immediate full save after a level-up, opened by the `persistence` system. The player hears
//! of the new level only once it is committed; otherwise the save is sent again.

use super::{AnswerCtx, Outcome};
use crate::io::RequestId;
use crate::lifecycle::announce_level;
use realmkeep_domain::records::{CharacterSnapshot, Refusal};
use realmkeep_domain::CharacterId;

#[derive(Debug, Clone, PartialEq)]
pub struct Request(pub CharacterSnapshot);

#[derive(Debug, Clone, PartialEq)]
pub struct Receipt;

#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub character: CharacterId,
}

impl Waiting {
    pub(crate) fn critical_for(&self) -> Vec<CharacterId> {
        Vec::new()
    }

    pub(crate) fn apply(self, ctx: &mut AnswerCtx, id: RequestId, outcome: Outcome<Receipt>) {
        let character = self.character;
        if outcome == Outcome::Refused(Refusal::StaleClaim) {
            return ctx.lost(character);
        }
        let AnswerCtx {
            players,
            index,
            outbox,
            ..
        } = ctx;
        let Some(mut p) = index.player(character).and_then(|e| players.get_mut(e).ok()) else {
            return;
        };
        if p.save.in_flight != Some(id) {
            return;
        }
        p.save.in_flight = None;
        if outcome.is_ok() {
            // Committed: now the player may hear of it.
            announce_level(outbox, character, &p.level);
        } else {
            // Not committed: keep it dirty and send the level-up save again.
            p.save.dirty = true;
            p.save.urgent = true;
        }
    }
}
