//! Completing a quest whose objective is met: the store grants its gold, items and experience in
//! one transaction and answers with what changed (purse after, items as placed, experience
//! after). The zone shows exactly that: it reads nothing back and adds no reward of its own.
//!
//! The store owns the quest's experience (it is committed with the completion); the request
//! carries the zone's own count, which may be ahead of the last save, so the reward lands on top
//! of it. What the zone gained meanwhile (kills while waiting) is kept.

use super::{AnswerCtx, Outcome};
use crate::io::{Action, Denial, PlayerEvent, RequestId};
use crate::lifecycle::{level_up, LevelUpParts};
use crate::systems::commands::{has_room, ActorItem, Ctx};
use realmkeep_domain::records::InventoryItem;
use realmkeep_domain::{CharacterId, Fence, QuestId, QuestStatus};

/// `xp`: the zone's experience count when asked.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub fence: Fence,
    pub quest: QuestId,
    pub xp: i64,
}

/// The purse after the reward, the reward items as placed, the experience after the reward.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub gold: i64,
    pub items: Vec<InventoryItem>,
    pub xp: i64,
}

/// `xp`: the count the request carried, so the receipt's experience can be taken as a gain.
#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub character: CharacterId,
    pub quest: QuestId,
    pub xp: i64,
}

/// `PlayerCommand::CompleteQuest`: an active quest whose objective is met.
pub(crate) fn command(ctx: &mut Ctx, mut a: ActorItem, quest: QuestId) {
    let me = a.player.character;
    let target = ctx.content.quest(quest).map(|q| q.target_count);
    let ready = match (a.quests.get(quest), target) {
        (Some(q), Some(t)) => q.status == QuestStatus::Active && q.progress >= t,
        _ => false,
    };
    if !ready {
        return ctx.deny(me, Action::Quest, Denial::NotAllowed);
    }
    if !has_room(ctx, &a, Action::Quest) {
        return;
    }
    let xp = a.level.xp;
    let waiting = Waiting {
        character: me,
        quest,
        xp,
    };
    let Some(id) = ctx.pending.open(waiting.into()) else {
        return;
    };
    a.critical.0 += 1;
    let fence = a.player.fence;
    ctx.outbox.persist(id, Request { fence, quest, xp }.into());
}

impl Waiting {
    pub(crate) fn critical_for(&self) -> Vec<CharacterId> {
        vec![self.character]
    }

    pub(crate) fn apply(self, ctx: &mut AnswerCtx, _id: RequestId, outcome: Outcome<Receipt>) {
        let (character, quest) = (self.character, self.quest);
        let Outcome::Ok(receipt) = outcome else {
            return ctx.failed(character, Action::Quest, &outcome);
        };
        // The reward as the store committed it, on top of the count the request carried.
        let xp = receipt.xp.saturating_sub(self.xp).max(0);
        let zone = ctx.content.zone.id;
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
            q.status = QuestStatus::Completed;
        }
        p.inventory.gold = receipt.gold;
        for item in receipt.items {
            p.inventory.upsert(item);
        }
        outbox.tell(
            character,
            PlayerEvent::GoldChanged { gold: receipt.gold },
        );
        outbox.tell(character, PlayerEvent::QuestCompleted { quest });
        if crate::game::grant_xp(&mut p.level, xp).is_some() {
            level_up(
                LevelUpParts {
                    player: &p.player,
                    level: &p.level,
                    inventory: &p.inventory,
                    stats: &mut p.stats,
                    health: &mut p.health,
                    mana: &mut p.mana,
                    save: &mut p.save,
                },
                outbox,
                zone,
            );
        }
        let total = p.level.xp;
        outbox.tell(
            character,
            PlayerEvent::XpGained {
                amount: xp,
                xp: total,
            },
        );
        ctx.tell_items(character);
    }
}
