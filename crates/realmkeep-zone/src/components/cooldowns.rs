//! Skill cooldowns of a player. Checked locally; also sent to the cache so they survive a zone
//! change (the host hands them back in `ZoneInput::Spawn`).

use bevy_ecs::prelude::*;
use realmkeep_domain::SkillId;

#[derive(Component, Debug, Clone, PartialEq, Eq, Default)]
pub struct Cooldowns(pub Vec<(SkillId, u64)>);

impl Cooldowns {
    /// Milliseconds until `skill` is ready (0 if it is).
    pub fn remaining_ms(&self, skill: SkillId, now_ms: u64) -> u64 {
        self.0
            .iter()
            .find(|(s, _)| *s == skill)
            .map(|(_, at)| at.saturating_sub(now_ms))
            .unwrap_or(0)
    }

    pub fn start(&mut self, skill: SkillId, ready_at_ms: u64) {
        match self.0.iter_mut().find(|(s, _)| *s == skill) {
            Some(entry) => entry.1 = ready_at_ms,
            None => self.0.push((skill, ready_at_ms)),
        }
    }
}
