//! Kills towards an accepted quest, opened by the `death` system. Not a player's request: only a
//! stale claim has a consequence when it fails.

use super::{AnswerCtx, Outcome};
use crate::io::{PlayerEvent, RequestId};
use realmkeep_domain::records::Refusal;
use realmkeep_domain::{CharacterId, Fence, QuestId};

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub fence: Fence,
    pub quest: QuestId,
    pub amount: i32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Receipt;

#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub character: CharacterId,
    pub quest: QuestId,
    pub amount: i32,
}

impl Waiting {
    pub(crate) fn critical_for(&self) -> Vec<CharacterId> {
        Vec::new()
    }

    pub(crate) fn apply(self, ctx: &mut AnswerCtx, _id: RequestId, outcome: Outcome<Receipt>) {
        let (character, quest) = (self.character, self.quest);
        if !outcome.is_ok() {
            if outcome == Outcome::Refused(Refusal::StaleClaim) {
                ctx.lost(character);
            }
            return;
        }
        let target = ctx
            .content
            .quest(quest)
            .map(|q| q.target_count)
            .unwrap_or(i32::MAX);
        let AnswerCtx {
            players,
            index,
            outbox,
            ..
        } = ctx;
        let Some(mut p) = index.player(character).and_then(|e| players.get_mut(e).ok()) else {
            return;
        };
        if let Some(q) = p.quests.get_mut(quest) {
            q.progress = (q.progress + self.amount).min(target);
            let progress = q.progress;
            outbox.tell(character, PlayerEvent::QuestProgress { quest, progress });
        }
    }
}
