//! What in-process simulated players see of their zone (a socket client sees view deltas
//! instead; see `realmkeep-bots`): the view comes from `ZoneHost::inspect`: one read per zone and step, run on the tick thread
//! between two ticks, that keeps only what each player would see (itself, and the few nearest
//! monsters and pieces of loot).

use crate::limits::OBSERVED_THINGS_MAX;
use crate::mind::{Body, Thing};
use realmkeep_domain::CharacterId;
use realmkeep_server::{HostError, ZoneHost};
use realmkeep_store::characters::InventoryItem;
use realmkeep_zone::{MonsterMode, Zone};

/// One player's part of a zone read.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    pub body: Body,
    pub gold: i64,
    pub bag: Vec<InventoryItem>,
    pub monsters: Vec<Thing>,
    pub loot: Vec<Thing>,
}

/// The `k` things nearest to (x, y), nearest first.
pub fn nearest(things: &[Thing], x: f32, y: f32, k: usize) -> Vec<Thing> {
    let d = |t: &Thing| (t.x - x).powi(2) + (t.y - y).powi(2);
    let mut best: Vec<(f32, Thing)> = Vec::with_capacity(k + 1);
    for t in things {
        let dt = d(t);
        if best.len() == k && best.last().is_some_and(|b| b.0 <= dt) {
            continue;
        }
        let at = best.partition_point(|b| b.0 <= dt);
        best.insert(at, (dt, *t));
        best.truncate(k);
    }
    best.into_iter().map(|b| b.1).collect()
}

/// Living monsters and free loot of a zone.
pub fn things(zone: &Zone) -> (Vec<Thing>, Vec<Thing>) {
    let monsters = zone
        .monsters()
        .into_iter()
        .filter(|m| m.mode != MonsterMode::Dead && m.health > 0)
        .map(|m| Thing {
            net: m.net_id,
            x: m.x,
            y: m.y,
        })
        .collect();
    let loot = zone
        .loot()
        .into_iter()
        .filter(|l| !l.reserved)
        .map(|l| Thing {
            net: l.net_id,
            x: l.x,
            y: l.y,
        })
        .collect();
    (monsters, loot)
}

/// What each of `who` sees of `zone` (players not in it are left out).
pub fn see(zone: &Zone, who: &[CharacterId]) -> Vec<(CharacterId, Seen)> {
    let (monsters, loot) = things(zone);
    who.iter()
        .filter_map(|c| {
            let p = zone.player(*c)?;
            Some((
                *c,
                Seen {
                    body: Body {
                        x: p.x,
                        y: p.y,
                        health: p.health,
                        level: p.level,
                        dead: p.dead || p.leaving,
                    },
                    gold: p.gold,
                    bag: p.items,
                    monsters: nearest(&monsters, p.x, p.y, OBSERVED_THINGS_MAX),
                    loot: nearest(&loot, p.x, p.y, OBSERVED_THINGS_MAX),
                },
            ))
        })
        .collect()
}

/// Reads the zone on its tick thread.
pub async fn look(
    host: &ZoneHost,
    who: Vec<CharacterId>,
) -> Result<Vec<(CharacterId, Seen)>, HostError> {
    host.inspect(move |zone| see(zone, &who)).await
}
