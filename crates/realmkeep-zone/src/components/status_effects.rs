//! Active buffs and debuffs. Never persisted: lost on zone transfer and logout.

use crate::limits::STATUS_EFFECTS_MAX;
use bevy_ecs::prelude::*;

/// What an effect does is content: the skill that leaves it names it.
pub use realmkeep_domain::content::EffectKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusEffect {
    pub kind: EffectKind,
    /// Who applied it (credited with a kill by poison).
    pub source: Option<Entity>,
    pub expires_at_ms: u64,
    /// When a per-second effect next applies.
    pub next_pulse_ms: u64,
}

#[derive(Component, Debug, Clone, PartialEq, Eq, Default)]
pub struct StatusEffects(pub Vec<StatusEffect>);

impl StatusEffects {
    /// Adds an effect, replacing one of the same kind (no stacking); the oldest goes beyond the
    /// bound.
    pub fn apply(&mut self, effect: StatusEffect) {
        self.0
            .retain(|e| std::mem::discriminant(&e.kind) != std::mem::discriminant(&effect.kind));
        if self.0.len() >= STATUS_EFFECTS_MAX {
            self.0.remove(0);
        }
        self.0.push(effect);
    }

    /// Speed factor of all slows (the strongest counts).
    pub fn speed_factor(&self) -> f32 {
        let slow = self
            .0
            .iter()
            .filter_map(|e| match e.kind {
                EffectKind::Slow { percent } => Some(percent.clamp(0, 90)),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        (100 - slow) as f32 / 100.0
    }

    pub fn armor_bonus(&self) -> i32 {
        self.0
            .iter()
            .map(|e| match e.kind {
                EffectKind::ArmorUp { amount } => amount,
                _ => 0,
            })
            .sum()
    }
}
