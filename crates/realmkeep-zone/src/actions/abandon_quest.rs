//! Abandoning an active quest: the store deletes it (its progress with it); the quest log drops
//! it only after the commit, and it may be accepted again.

use super::{open_critical, AnswerCtx, Outcome};
use crate::io::{Action, Denial, PlayerEvent, RequestId};
use crate::systems::commands::{ActorItem, Ctx};
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

/// `PlayerCommand::AbandonQuest`: a quest of the log that is still active.
pub(crate) fn command(ctx: &mut Ctx, mut a: ActorItem, quest: QuestId) {
    let me = a.player.character;
    match a.quests.get(quest) {
        None => return ctx.deny(me, Action::Quest, Denial::NoSuchTarget),
        Some(q) if q.status != QuestStatus::Active => {
            return ctx.deny(me, Action::Quest, Denial::NotAllowed)
        }
        Some(_) => {}
    }
    let waiting = Waiting {
        character: me,
        quest,
    };
    let request = Request {
        fence: a.player.fence,
        quest,
    };
    open_critical(ctx, &mut a, Action::Quest, waiting.into(), request.into());
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
        p.quests.0.retain(|q| q.quest != quest);
        ctx.outbox
            .tell(character, PlayerEvent::QuestAbandoned { quest });
    }
}
