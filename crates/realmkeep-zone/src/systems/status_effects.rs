//! Buffs and debuffs tick (poison and regeneration once a second) and expire.

use crate::components::{Dead, EffectKind, Health, LastHit, Leaving, StatusEffects};
use crate::resources::Clock;
use bevy_ecs::prelude::*;

/// Between two pulses of a per-second effect.
const PULSE_MS: u64 = 1_000;

pub fn tick_effects(
    clock: Res<Clock>,
    mut carriers: Query<
        (&mut StatusEffects, &mut Health, &mut LastHit),
        (Without<Dead>, Without<Leaving>),
    >,
) {
    let now = clock.now_ms;
    for (mut effects, mut health, mut last_hit) in &mut carriers {
        let due = effects
            .0
            .iter()
            .any(|e| e.expires_at_ms <= now || e.next_pulse_ms <= now);
        if !due {
            continue;
        }
        let mut h = *health;
        for e in effects.0.iter_mut() {
            while e.next_pulse_ms <= now && e.next_pulse_ms <= e.expires_at_ms {
                match e.kind {
                    EffectKind::Poison { per_second } => {
                        h = h.damaged(per_second);
                        if e.source.is_some() {
                            last_hit.0 = e.source;
                        }
                    }
                    EffectKind::Regeneration { per_second } => h = h.healed(per_second),
                    EffectKind::Slow { .. } | EffectKind::ArmorUp { .. } => {}
                }
                e.next_pulse_ms += PULSE_MS;
            }
        }
        effects.0.retain(|e| e.expires_at_ms > now);
        health.set_if_neq(h);
    }
}
