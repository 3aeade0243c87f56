//! What a connection tells about the player's own character: the `welcome` (its full state,
//! from the zone's live values and its loaded record) and where it stands (followed through
//! the view deltas, for the one-step move check).

use super::join::Joined;
use realmkeep_protocol::ws::{Attributes, BagItem, EquippedItem, Quest, Skill, Welcome};
use std::time::Instant;

/// Where the player's own character is, as its views told it (for the one-step move check):
/// the last told place and velocity, extrapolated as the client does (dead reckoning: the zone
/// tells the view again when the belief drifts, and a stop is told as a velocity of zero).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Place {
    pub net: u64,
    x: f32,
    y: f32,
    vx: f32,
    vy: f32,
    told: Instant,
}

impl Place {
    pub fn standing(net: u64, x: f32, y: f32) -> Self {
        Self {
            net,
            x,
            y,
            vx: 0.0,
            vy: 0.0,
            told: Instant::now(),
        }
    }

    /// Where it is believed to be now.
    pub fn now(&self) -> (f32, f32) {
        let t = self.told.elapsed().as_secs_f32();
        (self.x + self.vx * t, self.y + self.vy * t)
    }
}

/// Follows the player's own entity in view deltas.
pub(crate) fn track_me(me: &mut Option<Place>, d: &realmkeep_zone::io::ViewDelta) {
    let Some(p) = me.as_mut() else {
        return;
    };
    let net = p.net;
    let moved = d.moved.iter().filter(|m| m.net_id.0 == net);
    let entered = d.entered.iter().filter(|e| e.net_id.0 == net);
    let told = moved
        .map(|m| (m.x, m.y, m.vx, m.vy))
        .chain(entered.map(|e| (e.x, e.y, e.vx, e.vy)))
        .last();
    if let Some((x, y, vx, vy)) = told {
        *p = Place {
            net,
            x,
            y,
            vx,
            vy,
            told: Instant::now(),
        };
    }
}

/// The character's full state, from the zone (live values) and its loaded record.
pub(crate) async fn welcome(j: &Joined) -> Option<Welcome> {
    let c = j.grant.character;
    let view = j.host.inspect(move |z| z.player(c)).await.ok()??;
    let l = &j.in_world.profile;
    Some(Welcome {
        character: c.0,
        name: l.name.to_string(),
        class: l.class.as_str().to_string(),
        kingdom: l.kingdom.as_str().to_string(),
        zone: j.zone.0,
        net_id: view.net_id.0,
        resumed: j.resumed,
        x: view.x,
        y: view.y,
        level: view.level,
        xp: view.xp,
        gold: view.gold,
        health: view.health,
        max_health: view.max_health,
        mana: view.mana,
        max_mana: view.max_mana,
        attributes: Attributes {
            strength: l.attributes.strength,
            agility: l.attributes.agility,
            intellect: l.attributes.intellect,
            stamina: l.attributes.stamina,
        },
        bag: view.items.iter().map(bag_item).collect(),
        equipment: view.equipment.iter().map(equipped_item).collect(),
        skills: l
            .skills
            .iter()
            .map(|s| Skill {
                skill: s.skill.0,
                level: s.level,
            })
            .collect(),
        quests: view
            .quests
            .iter()
            .map(|q| Quest {
                quest: q.quest.0,
                status: q.status.as_str().to_string(),
                progress: q.progress,
            })
            .collect(),
    })
}

/// A bag stack as the protocol shows it (the welcome and the `items` event).
pub(super) fn bag_item(i: &realmkeep_domain::records::InventoryItem) -> BagItem {
    BagItem {
        item: i.item.0,
        def: i.def.0,
        quantity: i.quantity,
        slot: i.slot,
    }
}

/// A worn item as the protocol shows it (the welcome and the `items` event).
pub(super) fn equipped_item(e: &realmkeep_domain::records::EquippedItem) -> EquippedItem {
    EquippedItem {
        item: e.item.0,
        def: e.def.0,
        slot: e.slot.as_str().to_string(),
    }
}
