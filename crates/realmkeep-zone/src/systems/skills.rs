//! Skill uses accepted by the command system: learned (or a basic skill of the class), off
//! cooldown (checked locally), enough mana, a valid target in range. A use starts the cooldown
//! here and in the cache (`CacheRequest::Cooldown`), so a zone change does not reset it.

use crate::components::*;
use crate::io::{Action, CacheRequest, Denial, PlayerEvent};
use crate::resources::{Clock, Outbox, SkillCasts, Wars, ZoneContent};
use bevy_ecs::prelude::*;
use realmkeep_domain::content::SkillEffect;
use realmkeep_domain::rules::{mitigated_damage, skill_power};

/// Slack on a skill's range, for positions that moved a little since the command.
const RANGE_SLACK: f32 = 0.5;

pub fn cast_skills(
    mut casts: ResMut<SkillCasts>,
    clock: Res<Clock>,
    content: Res<ZoneContent>,
    wars: Res<Wars>,
    mut outbox: ResMut<Outbox>,
    mut casters: Query<
        (
            &Player,
            &Level,
            &Skillbook,
            &Target,
            &CombatStats,
            &mut Cooldowns,
            &mut Mana,
        ),
        (Without<Dead>, Without<Leaving>),
    >,
    mut victims: Query<
        (
            &Transform,
            &mut Health,
            &mut LastHit,
            &CombatStats,
            &mut StatusEffects,
            Option<&Player>,
        ),
        (Without<Dead>, Without<Leaving>),
    >,
) {
    let now = clock.now_ms;
    for cast in std::mem::take(&mut casts.0) {
        // A tagged cast is answered by its denial, or else `Accepted` (at the next cast or the
        // end: every `continue` comes back here).
        outbox.finish_reply(false);
        outbox.begin_reply(cast.reply);
        let Ok((player, level, book, current, stats, mut cooldowns, mut mana)) =
            casters.get_mut(cast.caster)
        else {
            continue;
        };
        let me = player.character;
        let mut deny = |reason| {
            outbox.tell(
                me,
                PlayerEvent::Denied {
                    action: Action::Skill,
                    reason,
                },
            )
        };
        let Some(def) = content.skill(cast.skill) else {
            deny(Denial::Invalid);
            continue;
        };
        let basic = def.class.is_none_or(|c| c == player.class) && level.level >= def.level_req;
        let Some(skill_level) = book.level_of(cast.skill).or(basic.then_some(1)) else {
            deny(Denial::NotLearned);
            continue;
        };
        let remaining = cooldowns.remaining_ms(cast.skill, now);
        if remaining > 0 {
            deny(Denial::OnCooldown {
                remaining_ms: remaining.min(u32::MAX as u64) as u32,
            });
            continue;
        }
        if mana.current < def.mana_cost {
            deny(Denial::NotEnoughMana);
            continue;
        }
        let offensive = def.damage > 0;
        let target = match (offensive, cast.target) {
            (_, Some(t)) => t,
            (true, None) => match current.0 {
                Some(t) => t,
                None => {
                    deny(Denial::NoSuchTarget);
                    continue;
                }
            },
            (false, None) => cast.caster,
        };
        let pair = if target == cast.caster {
            victims.get_mut(target).ok().map(|t| (None, t))
        } else {
            victims
                .get_many_mut([cast.caster, target])
                .ok()
                .map(|[c, t]| (Some(c), t))
        };
        let Some((caster_parts, target_parts)) = pair else {
            deny(Denial::NoSuchTarget);
            continue;
        };
        let (tt, mut th, mut tl, tstats, mut effects, tplayer) = target_parts;
        let enemy = tplayer.is_none_or(|p| wars.hostile(player, p));
        if offensive != enemy || (offensive && target == cast.caster) {
            deny(Denial::NotAllowed);
            continue;
        }
        if let Some(ct) = caster_parts.as_ref().map(|c| c.0) {
            if target != cast.caster && ct.distance_to(tt) > def.range + RANGE_SLACK {
                deny(Denial::OutOfRange);
                continue;
            }
        }
        if offensive {
            let raw = skill_power(def.damage, skill_level) + stats.attack_power / 4;
            let armor = tstats.armor + effects.armor_bonus();
            *th = th.damaged(mitigated_damage(raw, armor));
            tl.0 = Some(cast.caster);
        }
        if def.heal > 0 && !offensive {
            th.set_if_neq(th.healed(skill_power(def.heal, skill_level)));
        }
        if let Some(SkillEffect {
            kind,
            duration_ms,
            on_caster,
        }) = def.effect
        {
            let effect = StatusEffect {
                kind,
                source: Some(cast.caster),
                expires_at_ms: now + duration_ms,
                next_pulse_ms: now + 1_000,
            };
            match (on_caster, caster_parts) {
                (true, Some(mut c)) => c.4.apply(effect),
                // On the target, or on the caster who is its own target.
                _ => effects.apply(effect),
            }
        }
        mana.current -= def.mana_cost;
        cooldowns.start(cast.skill, now + def.cooldown_ms as u64);
        if def.cooldown_ms > 0 {
            outbox.cache(CacheRequest::Cooldown {
                character: me,
                skill: cast.skill,
                ms: def.cooldown_ms,
            });
        }
    }
    outbox.finish_reply(false);
}
