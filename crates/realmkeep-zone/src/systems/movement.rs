//! Moves everything that walks: towards its goal, or along its direction, at its speed (slowed
//! by status effects), inside the zone. Writes `Transform` only when it changed, so a character
//! standing still is not dirty, and `Motion` (the step's velocity, what clients extrapolate)
//! only when it changed, so a start, a turn or a stop is seen by the views.

use crate::components::{Dead, Leaving, Motion, StatusEffects, Transform, Velocity};
use crate::resources::{Clock, ZoneContent};
use bevy_ecs::prelude::*;

pub fn move_entities(
    clock: Res<Clock>,
    content: Res<ZoneContent>,
    mut movers: Query<(
        &mut Transform,
        &mut Velocity,
        &mut Motion,
        Option<&StatusEffects>,
        Has<Dead>,
        Has<Leaving>,
    )>,
) {
    let step_s = clock.step_ms as f32 / 1_000.0;
    for (mut t, mut v, mut motion, effects, dead, leaving) in &mut movers {
        if dead || leaving || !v.is_moving() || step_s <= 0.0 {
            motion.set_if_neq(Motion::STILL);
            continue;
        }
        let reach = v.speed * effects.map_or(1.0, |e| e.speed_factor()) * step_s;
        let (x, y) = (t.x, t.y);
        let (nx, ny) = match v.goal {
            Some((gx, gy)) => {
                let d = ((gx - x).powi(2) + (gy - y).powi(2)).sqrt();
                if d <= reach {
                    v.goal = None;
                    (gx, gy)
                } else {
                    (x + (gx - x) / d * reach, y + (gy - y) / d * reach)
                }
            }
            None => (x + v.dx * reach, y + v.dy * reach),
        };
        let (nx, ny) = content.clamp(nx, ny);
        if (nx, ny) == (x, y) {
            // Walking into the zone's edge: stop instead of pushing every tick.
            v.dx = 0.0;
            v.dy = 0.0;
            motion.set_if_neq(Motion::STILL);
            continue;
        }
        // The velocity it goes on with: none once the goal is reached (it stands from now on).
        let next = if v.is_moving() {
            Motion {
                vx: (nx - x) / step_s,
                vy: (ny - y) / step_s,
            }
        } else {
            Motion::STILL
        };
        motion.set_if_neq(next);
        let rotation = (ny - y).atan2(nx - x);
        t.set_if_neq(Transform {
            x: nx,
            y: ny,
            rotation,
            ..*t
        });
    }
}
