//! Quests of a player as the store knows them: updated only from store results.

use bevy_ecs::prelude::*;
use realmkeep_domain::records::QuestState;
use realmkeep_domain::QuestId;

#[derive(Component, Debug, Clone, PartialEq, Default)]
pub struct QuestLog(pub Vec<QuestState>);

impl QuestLog {
    pub fn get(&self, quest: QuestId) -> Option<&QuestState> {
        self.0.iter().find(|q| q.quest == quest)
    }

    pub fn get_mut(&mut self, quest: QuestId) -> Option<&mut QuestState> {
        self.0.iter_mut().find(|q| q.quest == quest)
    }
}
