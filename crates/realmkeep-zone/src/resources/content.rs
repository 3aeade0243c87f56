//! The content a zone plays with: its definition and the tables it looks things up in.

use bevy_ecs::prelude::*;
use realmkeep_domain::content::{Content, MonsterDef, QuestDef, SkillDef, ZoneDef};
use realmkeep_domain::{QuestId, SkillId};
use std::collections::HashMap;
use std::sync::Arc;

fn index<K: std::hash::Hash + Eq>(ids: impl Iterator<Item = K>) -> HashMap<K, usize> {
    ids.enumerate().map(|(i, id)| (id, i)).collect()
}

#[derive(Resource, Debug, Clone)]
pub struct ZoneContent {
    pub zone: ZoneDef,
    pub content: Arc<Content>,
    monsters: HashMap<i32, usize>,
    skills: HashMap<SkillId, usize>,
    quests: HashMap<QuestId, usize>,
}

impl ZoneContent {
    pub fn new(zone: ZoneDef, content: Arc<Content>) -> Self {
        Self {
            monsters: index(content.monsters.iter().map(|m| m.id)),
            skills: index(content.skills.iter().map(|m| m.id)),
            quests: index(content.quests.iter().map(|m| m.id)),
            zone,
            content,
        }
    }

    pub fn monster_index(&self, id: i32) -> Option<usize> {
        self.monsters.get(&id).copied()
    }

    pub fn monster(&self, index: usize) -> &MonsterDef {
        &self.content.monsters[index]
    }

    pub fn skill(&self, id: SkillId) -> Option<&SkillDef> {
        self.skills.get(&id).map(|i| &self.content.skills[*i])
    }

    pub fn quest(&self, id: QuestId) -> Option<&QuestDef> {
        self.quests.get(&id).map(|i| &self.content.quests[*i])
    }

    /// A point clamped into the zone.
    pub fn clamp(&self, x: f32, y: f32) -> (f32, f32) {
        (
            x.clamp(0.0, self.zone.width.max(0.0)),
            y.clamp(0.0, self.zone.height.max(0.0)),
        )
    }
}
