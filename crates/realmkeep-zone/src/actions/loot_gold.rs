//! Gold of a monster kill, straight into the killer's purse (`Store::loot_gold`), opened by the
//! `death` system. Not a player's request: a failure is logged, not told.

use super::{AnswerCtx, Outcome};
use crate::io::{PlayerEvent, RequestId};
use realmkeep_domain::records::Refusal;
use realmkeep_domain::{CharacterId, Fence, ZoneId};

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub fence: Fence,
    pub amount: i64,
    pub zone: ZoneId,
}

/// The purse after the credit.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub gold: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub character: CharacterId,
}

impl Waiting {
    pub(crate) fn critical_for(&self) -> Vec<CharacterId> {
        Vec::new()
    }

    pub(crate) fn apply(self, ctx: &mut AnswerCtx, _id: RequestId, outcome: Outcome<Receipt>) {
        let character = self.character;
        match outcome {
            Outcome::Ok(Receipt { gold }) => {
                let AnswerCtx {
                    players,
                    index,
                    outbox,
                    ..
                } = ctx;
                if let Some(mut p) = index.player(character).and_then(|e| players.get_mut(e).ok())
                {
                    p.inventory.gold = gold;
                    outbox.tell(character, PlayerEvent::GoldChanged { gold });
                }
            }
            Outcome::Refused(Refusal::StaleClaim) => ctx.lost(character),
            other => tracing::debug!(%character, ?other, "loot gold not credited"),
        }
    }
}
