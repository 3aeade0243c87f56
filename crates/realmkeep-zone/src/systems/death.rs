//! Deaths, experience and level-ups, and the return of dead players.
//!
//! A monster's death: experience to its killer (a level-up asks for an immediate save), loot
//! entities from its table, its gold straight to the killer's purse (`LootGold` request), quest
//! progress, a log event. A player's death: a PvP kill (killer of another kingdom) is a
//! `PvpKill` request; the player comes back at the zone's entry after `PLAYER_RESPAWN_MS`.

use crate::actions::{loot_gold, pvp_kill, quest_progress};
use crate::components::*;
use crate::game::grant_xp;
use crate::io::PlayerEvent;
use crate::lifecycle::{level_up, LevelUpParts};
use crate::limits::{LOOT_ENTITIES_MAX, LOOT_LIFETIME_MS, PLAYER_RESPAWN_MS};
use crate::resources::*;
use bevy_ecs::prelude::*;
use bevy_ecs::system::SystemParam;
use rand::Rng;
use realmkeep_domain::records::LogEvent;
use realmkeep_domain::rules::kill_xp;
use realmkeep_domain::Quantity;

#[derive(SystemParam)]
pub struct Ctx<'w, 's> {
    clock: Res<'w, Clock>,
    content: Res<'w, ZoneContent>,
    rng: ResMut<'w, ZoneRng>,
    outbox: ResMut<'w, Outbox>,
    pending: ResMut<'w, Pending>,
    index: ResMut<'w, Index>,
    wars: Res<'w, Wars>,
    commands: Commands<'w, 's>,
}

type Dying<'w, 's> = Query<
    'w,
    's,
    (
        Entity,
        &'static Health,
        &'static LastHit,
        &'static Transform,
        Option<&'static Monster>,
    ),
    Without<Dead>,
>;

type Players<'w, 's> = Query<
    'w,
    's,
    (
        &'static Player,
        &'static mut Level,
        &'static mut CombatStats,
        &'static mut Health,
        &'static mut Mana,
        &'static mut SaveState,
        &'static InventoryView,
        &'static QuestLog,
        &'static mut Velocity,
        &'static mut Target,
        &'static mut AutoAttack,
        &'static mut Transform,
        Option<&'static Dead>,
    ),
>;

pub fn resolve_deaths(
    mut ctx: Ctx,
    mut set: ParamSet<(
        Dying,
        Players,
        Query<(&mut AiState, &mut Velocity), With<Monster>>,
    )>,
    loot: Query<(), With<Loot>>,
) {
    let now = ctx.clock.now_ms;
    let zone = ctx.content.zone.id;
    let entry = ctx.content.zone.entry;
    // Players whose time came back to life.
    for (player, _, _, mut health, mut mana, _, _, _, _, _, _, mut t, dead) in &mut set.p1() {
        if dead.is_some_and(|d| now >= d.respawn_at_ms) {
            *t = Transform::at(entry.0, entry.1);
            *health = Health {
                current: (health.max / 2).max(1),
                ..*health
            };
            *mana = Mana {
                current: mana.max / 2,
                ..*mana
            };
            let c = player.character;
            ctx.outbox.tell(
                c,
                PlayerEvent::Respawned {
                    x: entry.0,
                    y: entry.1,
                },
            );
            ctx.commands
                .entity(ctx.index.player(c).expect("indexed"))
                .remove::<Dead>();
        }
    }
    let deaths: Vec<_> = set
        .p0()
        .iter()
        .filter(|(_, h, ..)| h.is_dead())
        .map(|(e, _, hit, t, m)| (e, hit.0, (t.x, t.y), m.copied()))
        .collect();
    let mut loot_count = loot.iter().count();
    for (entity, killer, (x, y), monster) in deaths {
        let Some(monster) = monster else {
            player_died(&mut ctx, &mut set.p1(), entity, killer);
            continue;
        };
        let def = ctx.content.monster(monster.def_index).clone();
        ctx.commands.entity(entity).insert(Dead {
            respawn_at_ms: now + def.respawn_ms as u64,
        });
        if let Ok((mut ai, mut v)) = set.p2().get_mut(entity) {
            ai.mode = AiMode::Dead;
            v.stop();
        }
        let killer_name = killer.and_then(|k| set.p1().get(k).ok().map(|p| p.0.character));
        for entry in &def.loot {
            if ctx.rng.0.random_range(0..1_000u32) >= entry.chance_permille {
                continue;
            }
            let Ok(quantity) = Quantity::new(entry.quantity) else {
                continue;
            };
            if loot_count >= LOOT_ENTITIES_MAX {
                tracing::warn!(%zone, "loot bound reached, drop skipped");
                break;
            }
            loot_count += 1;
            let l = Loot {
                def: entry.item,
                quantity,
                monster: def.id,
                expires_at_ms: now + LOOT_LIFETIME_MS,
                reserved: None,
            };
            let e = ctx.commands.spawn((l, Transform::at(x, y))).id();
            let net = ctx.index.assign(e);
            ctx.commands.entity(e).insert(NetworkIdentity(net));
            let mut log = LogEvent::new("loot_drop")
                .zone(zone.0)
                .details(serde_json::json!({ "monster": def.id, "def": entry.item.0, "quantity": entry.quantity }));
            if let Some(c) = killer_name {
                log = log.actor(c.0);
            }
            ctx.outbox.log(log);
        }
        let Some(killer) = killer else { continue };
        let mut players = set.p1();
        let Ok((player, mut level, mut stats, mut health, mut mana, mut save, inv, quests, ..)) =
            players.get_mut(killer)
        else {
            continue;
        };
        let c = player.character;
        let xp = kill_xp(level.level, def.level);
        let leveled = grant_xp(&mut level, xp).is_some();
        ctx.outbox.tell(
            c,
            PlayerEvent::XpGained {
                amount: xp,
                xp: level.xp,
            },
        );
        if leveled {
            let parts = LevelUpParts {
                player,
                level: &level,
                inventory: inv,
                stats: &mut stats,
                health: &mut health,
                mana: &mut mana,
                save: &mut save,
            };
            level_up(parts, &mut ctx.outbox, zone);
        }
        ctx.outbox.log(
            LogEvent::new("monster_kill")
                .actor(c.0)
                .zone(zone.0)
                .details(serde_json::json!({ "monster": def.id, "xp": xp })),
        );
        let gold = ctx.rng.0.random_range(def.gold_min..=def.gold_max);
        if gold > 0 {
            if let Some(id) = ctx.pending.open(loot_gold::Waiting { character: c }.into()) {
                let request = loot_gold::Request {
                    fence: player.fence,
                    amount: gold,
                    zone,
                };
                ctx.outbox.persist(id, request.into());
            }
        }
        for q in quests
            .0
            .iter()
            .filter(|q| q.status == realmkeep_domain::QuestStatus::Active)
        {
            let Some(qdef) = ctx.content.quest(q.quest) else {
                continue;
            };
            if qdef.target_monster != def.id || q.progress >= qdef.target_count {
                continue;
            }
            let waiting = quest_progress::Waiting {
                character: c,
                quest: q.quest,
                amount: 1,
            };
            if let Some(id) = ctx.pending.open(waiting.into()) {
                let request = quest_progress::Request {
                    fence: player.fence,
                    quest: q.quest,
                    amount: 1,
                };
                ctx.outbox.persist(id, request.into());
            }
        }
    }
}

fn player_died(ctx: &mut Ctx, players: &mut Players, victim: Entity, killer: Option<Entity>) {
    let now = ctx.clock.now_ms;
    let zone = ctx.content.zone.id;
    let killer = killer.and_then(|k| {
        players
            .get(k)
            .ok()
            .map(|p| (p.0.fence, (p.0.kingdom, p.0.guild)))
    });
    let Ok((player, .., mut v, mut target, mut attack, _, _)) = players.get_mut(victim) else {
        return;
    };
    ctx.commands.entity(victim).insert(Dead {
        respawn_at_ms: now + PLAYER_RESPAWN_MS,
    });
    v.stop();
    target.0 = None;
    attack.active = false;
    attack.chasing = false;
    ctx.outbox.tell(player.character, PlayerEvent::Died);
    let Some(killer) = killer
        .filter(|(k, side)| {
            k.character != player.character
                && ctx.wars.enemies(*side, (player.kingdom, player.guild))
        })
        .map(|(k, _)| k)
    else {
        return;
    };
    ctx.outbox.log(
        LogEvent::new("pvp_kill")
            .actor(killer.character.0)
            .target(player.character.0)
            .zone(zone.0),
    );
    let waiting = pvp_kill::Waiting {
        killer: killer.character,
    };
    if let Some(id) = ctx.pending.open(waiting.into()) {
        let request = pvp_kill::Request {
            killer,
            victim: player.fence,
        };
        ctx.outbox.persist(id, request.into());
    }
}
