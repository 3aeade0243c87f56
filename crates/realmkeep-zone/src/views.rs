//! Read-only views of a zone's world, for the host's diagnostics and for tests.

use crate::components::*;
use crate::io::NetId;
use crate::resources::{Index, Lifecycle, Pending};
use crate::zone::Zone;
use bevy_ecs::prelude::*;
use bevy_ecs::query::{QueryFilter, ReadOnlyQueryData};
use realmkeep_domain::records::{EquippedItem, InventoryItem, QuestState};
use realmkeep_domain::{CharacterId, ItemDefId};
use std::hash::{Hash, Hasher};

#[derive(Debug, Clone, PartialEq)]
pub struct PlayerView {
    pub character: CharacterId,
    pub net_id: NetId,
    pub x: f32,
    pub y: f32,
    pub health: i32,
    pub max_health: i32,
    pub mana: i32,
    pub max_mana: i32,
    pub level: i32,
    pub xp: i64,
    pub gold: i64,
    pub items: Vec<InventoryItem>,
    pub equipment: Vec<EquippedItem>,
    pub quests: Vec<QuestState>,
    pub pvp_kills: i32,
    pub effects: Vec<EffectKind>,
    pub dirty: bool,
    pub save_in_flight: bool,
    pub dead: bool,
    pub disconnected: bool,
    pub leaving: bool,
    pub target: Option<NetId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonsterMode {
    Idle,
    Chase { target: Option<NetId> },
    Leash,
    Dead,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MonsterView {
    pub net_id: NetId,
    pub def: i32,
    pub x: f32,
    pub y: f32,
    pub home: (f32, f32),
    pub health: i32,
    pub max_health: i32,
    pub mode: MonsterMode,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LootView {
    pub net_id: NetId,
    pub def: ItemDefId,
    pub quantity: i32,
    pub x: f32,
    pub y: f32,
    pub reserved: bool,
}

fn collect<D, F: QueryFilter, T>(world: &World, f: impl Fn(D::Item<'_, '_>) -> T) -> Vec<T>
where
    D: ReadOnlyQueryData,
{
    match world.try_query_filtered::<D, F>() {
        Some(mut q) => q.iter(world).map(f).collect(),
        None => Vec::new(),
    }
}

fn net_of(world: &World, e: Entity) -> Option<NetId> {
    world.get::<NetworkIdentity>(e).map(|n| n.0)
}

impl Zone {
    /// Living monsters.
    pub fn monster_count(&self) -> usize {
        collect::<(), (With<Monster>, Without<Dead>), _>(&self.world, |_| ()).len()
    }

    /// Loot entities on the ground.
    pub fn loot_count(&self) -> usize {
        collect::<(), With<Loot>, _>(&self.world, |_| ()).len()
    }

    pub fn net_id_of(&self, character: CharacterId) -> Option<NetId> {
        let e = self.world.resource::<Index>().player(character)?;
        net_of(&self.world, e)
    }

    pub fn player(&self, character: CharacterId) -> Option<PlayerView> {
        let e = self.world.resource::<Index>().player(character)?;
        let w = &self.world;
        let (t, h, m, l) = (
            w.get::<Transform>(e)?,
            w.get::<Health>(e)?,
            w.get::<Mana>(e)?,
            w.get::<Level>(e)?,
        );
        let inv = w.get::<InventoryView>(e)?;
        let save = w.get::<SaveState>(e)?;
        Some(PlayerView {
            character,
            net_id: net_of(w, e)?,
            x: t.x,
            y: t.y,
            health: h.current,
            max_health: h.max,
            mana: m.current,
            max_mana: m.max,
            level: l.level,
            xp: l.xp,
            gold: inv.gold,
            items: inv.items.clone(),
            equipment: inv.equipment.clone(),
            quests: w.get::<QuestLog>(e)?.0.clone(),
            pvp_kills: w.get::<Player>(e)?.pvp_kills,
            effects: w
                .get::<StatusEffects>(e)?
                .0
                .iter()
                .map(|s| s.kind)
                .collect(),
            dirty: save.dirty,
            save_in_flight: save.in_flight.is_some(),
            dead: w.get::<Dead>(e).is_some(),
            disconnected: w.get::<Disconnected>(e).is_some(),
            leaving: w.get::<Leaving>(e).is_some(),
            target: w.get::<Target>(e)?.0.and_then(|t| net_of(w, t)),
        })
    }

    /// Every monster, ordered by network id.
    pub fn monsters(&self) -> Vec<MonsterView> {
        type D = (
            &'static NetworkIdentity,
            &'static Monster,
            &'static Transform,
            &'static SpawnPoint,
            &'static Health,
            &'static AiState,
        );
        let w = &self.world;
        let mut all = collect::<D, (), _>(w, |(n, m, t, s, h, ai)| MonsterView {
            net_id: n.0,
            def: m.def_id,
            x: t.x,
            y: t.y,
            home: (s.x, s.y),
            health: h.current,
            max_health: h.max,
            mode: match ai.mode {
                AiMode::Idle { .. } => MonsterMode::Idle,
                AiMode::Chase { target } => MonsterMode::Chase {
                    target: net_of(w, target),
                },
                AiMode::Leash => MonsterMode::Leash,
                AiMode::Dead => MonsterMode::Dead,
            },
        });
        all.sort_by_key(|m| m.net_id);
        all
    }

    /// Loot on the ground, ordered by network id.
    pub fn loot(&self) -> Vec<LootView> {
        let mut all =
            collect::<(&NetworkIdentity, &Loot, &Transform), (), _>(&self.world, |(n, l, t)| {
                LootView {
                    net_id: n.0,
                    def: l.def,
                    quantity: l.quantity.get(),
                    x: t.x,
                    y: t.y,
                    reserved: l.reserved.is_some(),
                }
            });
        all.sort_by_key(|l| l.net_id);
        all
    }

    /// A hash of the whole simulation state (positions, health, levels, loot, pending requests,
    /// the clock): equal digests after the same inputs mean a deterministic zone.
    pub fn digest(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.tick_number().hash(&mut h);
        self.world.resource::<Pending>().len().hash(&mut h);
        self.world
            .resource::<Lifecycle>()
            .shutdown_reported
            .hash(&mut h);
        let mut rows = collect::<
            (
                &NetworkIdentity,
                &Transform,
                Option<&Health>,
                Option<&Level>,
            ),
            (),
            _,
        >(&self.world, |(n, t, hp, l)| {
            (
                n.0,
                t.x.to_bits(),
                t.y.to_bits(),
                hp.map(|h| h.current),
                l.map(|l| (l.level, l.xp)),
            )
        });
        rows.sort_by_key(|r| r.0);
        rows.hash(&mut h);
        h.finish()
    }
}
