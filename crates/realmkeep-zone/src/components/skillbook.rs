//! Skills a player has learned, with their levels (from the store, as loaded).

use bevy_ecs::prelude::*;
use realmkeep_domain::SkillId;

#[derive(Component, Debug, Clone, PartialEq, Eq, Default)]
pub struct Skillbook(pub Vec<(SkillId, i32)>);

impl Skillbook {
    pub fn level_of(&self, skill: SkillId) -> Option<i32> {
        self.0.iter().find(|(s, _)| *s == skill).map(|(_, l)| *l)
    }
}
