//! Accepting a quest: the store records it active; the quest log shows it only after the commit.

use super::{AnswerCtx, Outcome};
use crate::io::{Action, Denial, PlayerEvent, RequestId};
use crate::systems::commands::{has_room, ActorItem, Ctx};
use realmkeep_domain::records::QuestState;
use realmkeep_domain::{CharacterId, Fence, QuestId, QuestStatus};

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub fence: Fence,
    pub quest: QuestId,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Receipt;

#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub character: CharacterId,
    pub quest: QuestId,
}

/// `PlayerCommand::AcceptQuest`: a known quest, level reached, not in the log yet.
pub(crate) fn command(ctx: &mut Ctx, mut a: ActorItem, quest: QuestId) {
    let me = a.player.character;
    let Some(def) = ctx.content.quest(quest) else {
        return ctx.deny(me, Action::Quest, Denial::Invalid);
    };
    if def.level_req > a.level.level || a.quests.get(quest).is_some() {
        return ctx.deny(me, Action::Quest, Denial::NotAllowed);
    }
    if !has_room(ctx, &a, Action::Quest) {
        return;
    }
    let waiting = Waiting {
        character: me,
        quest,
    };
    let Some(id) = ctx.pending.open(waiting.into()) else {
        return;
    };
    a.critical.0 += 1;
    let fence = a.player.fence;
    ctx.outbox.persist(id, Request { fence, quest }.into());
}

impl Waiting {
    pub(crate) fn critical_for(&self) -> Vec<CharacterId> {
        vec![self.character]
    }

    pub(crate) fn apply(self, ctx: &mut AnswerCtx, _id: RequestId, outcome: Outcome<Receipt>) {
        let (character, quest) = (self.character, self.quest);
        if !outcome.is_ok() {
            return ctx.failed(character, Action::Quest, &outcome);
        }
        let Some(mut p) = ctx.player(character) else {
            return;
        };
        if p.quests.get(quest).is_none() {
            p.quests.0.push(QuestState {
                quest,
                status: QuestStatus::Active,
                progress: 0,
            });
        }
        ctx.outbox
            .tell(character, PlayerEvent::QuestAccepted { quest });
    }
}
