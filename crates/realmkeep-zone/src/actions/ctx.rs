//! What an action's `apply` works with when the store's answer arrives (a `SystemParam` of the
//! `results` system), and the helpers the actions share: finding the player, despawning a
//! character whose claim is lost, telling a player how an action failed.

use super::Outcome;
use crate::components::*;
use crate::io::{Action, LeftReason, PlayerEvent};
use crate::lifecycle::Departing;
use crate::resources::{Clock, Index, Outbox, ZoneContent};
use bevy_ecs::prelude::*;
use bevy_ecs::query::QueryData;
use bevy_ecs::system::SystemParam;
use realmkeep_domain::records::Refusal;
use realmkeep_domain::CharacterId;

#[derive(QueryData)]
#[query_data(mutable)]
pub(crate) struct PlayerParts {
    pub entity: Entity,
    pub player: &'static mut Player,
    pub level: &'static mut Level,
    pub stats: &'static mut CombatStats,
    pub health: &'static mut Health,
    pub mana: &'static mut Mana,
    pub save: &'static mut SaveState,
    pub inventory: &'static mut InventoryView,
    pub quests: &'static mut QuestLog,
    pub leaving: Option<&'static mut Leaving>,
    pub critical: &'static mut CriticalPending,
    pub blocks: &'static mut Blocks,
    pub transform: &'static mut Transform,
}

#[derive(SystemParam)]
pub(crate) struct AnswerCtx<'w, 's> {
    pub players: Query<'w, 's, PlayerParts>,
    pub loot: Query<'w, 's, &'static mut Loot>,
    pub index: Res<'w, Index>,
    pub outbox: ResMut<'w, Outbox>,
    pub commands: Commands<'w, 's>,
    pub content: Res<'w, ZoneContent>,
    pub clock: Res<'w, Clock>,
}

impl<'s> AnswerCtx<'_, 's> {
    pub fn entity(&self, c: CharacterId) -> Option<Entity> {
        self.index.player(c)
    }

    /// The player's parts, if it is still in this zone.
    pub fn player(&mut self, c: CharacterId) -> Option<PlayerPartsItem<'_, 's>> {
        let e = self.index.player(c)?;
        self.players.get_mut(e).ok()
    }

    /// The claim is gone: despawn without saving.
    pub fn lost(&mut self, c: CharacterId) {
        if let Some(e) = self.entity(c) {
            self.commands
                .entity(e)
                .insert(Departing(LeftReason::ClaimLost));
        }
    }

    /// After a committed action changed the player's bag (a pickup, trade, market or mail
    /// action, a quest's reward): the whole bag and equipment as the zone now holds them, as
    /// after an item command, so that a client never has to guess its bag from receipts.
    pub fn tell_items(&mut self, c: CharacterId) {
        let Some(p) = self.player(c) else {
            return;
        };
        let event = PlayerEvent::ItemsChanged {
            bag: p.inventory.items.clone(),
            equipment: p.inventory.equipment.clone(),
        };
        self.outbox.tell(c, event);
    }

    /// Tells the player how a critical action failed; a stale claim also takes it out.
    pub fn failed<T>(&mut self, c: CharacterId, action: Action, outcome: &Outcome<T>) {
        match outcome {
            Outcome::Refused(Refusal::StaleClaim) => self.lost(c),
            Outcome::Refused(r) => self.outbox.tell(
                c,
                PlayerEvent::Refused {
                    action,
                    reason: r.clone(),
                },
            ),
            _ => self.outbox.tell(c, PlayerEvent::TryAgain { action }),
        }
    }
}
