//! Game content as data: items, skills, quests, monsters and zones. Parsed from the repository's
//! `content/*.json` files by the binary and loaded into the definition tables by the store.

use crate::error::DomainError;
use crate::ids::{ItemDefId, QuestId, SkillId, ZoneId};
use crate::rules::ItemBonus;
use crate::types::{Class, EquipSlot, ItemKind};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemDef {
    pub id: ItemDefId,
    pub name: String,
    pub kind: ItemKind,
    #[serde(default)]
    pub equip_slot: Option<EquipSlot>,
    pub max_stack: i32,
    pub price: i64,
    #[serde(default = "one")]
    pub level_req: i32,
    #[serde(default)]
    pub bonus: ItemBonus,
}

fn one() -> i32 {
    1
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkillDef {
    pub id: SkillId,
    pub name: String,
    #[serde(default)]
    pub class: Option<Class>,
    pub max_level: i32,
    pub cooldown_ms: u32,
    pub mana_cost: i32,
    pub damage: i32,
    #[serde(default)]
    pub heal: i32,
    pub range: f32,
    #[serde(default = "one")]
    pub level_req: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestReward {
    pub xp: i64,
    pub gold: i64,
    #[serde(default)]
    pub items: Vec<(ItemDefId, i32)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestDef {
    pub id: QuestId,
    pub name: String,
    pub level_req: i32,
    /// Monster definition to kill (by id in `monsters`), and how many.
    pub target_monster: i32,
    pub target_count: i32,
    pub reward: QuestReward,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LootEntry {
    pub item: ItemDefId,
    /// Chance out of 1,000.
    pub chance_permille: u32,
    pub quantity: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonsterDef {
    pub id: i32,
    pub name: String,
    pub level: i32,
    pub health: i32,
    pub attack: i32,
    pub armor: i32,
    pub speed: f32,
    pub aggro_radius: f32,
    pub leash_radius: f32,
    pub attack_interval_ms: u32,
    pub respawn_ms: u32,
    pub gold_min: i64,
    pub gold_max: i64,
    pub loot: Vec<LootEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpawnPoint {
    pub monster: i32,
    pub x: f32,
    pub y: f32,
    pub count: u32,
    pub radius: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZoneDef {
    pub id: ZoneId,
    pub name: String,
    pub width: f32,
    pub height: f32,
    pub entry: (f32, f32),
    pub spawns: Vec<SpawnPoint>,
}

/// All content, as loaded from the repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Content {
    pub items: Vec<ItemDef>,
    pub skills: Vec<SkillDef>,
    pub quests: Vec<QuestDef>,
    pub monsters: Vec<MonsterDef>,
    pub zones: Vec<ZoneDef>,
}

fn bad(what: &'static str, value: impl ToString) -> DomainError {
    DomainError::Unknown {
        what,
        value: value.to_string(),
    }
}

impl Content {
    /// Checks that ids are unique, references resolve and numbers are in range.
    pub fn validate(&self) -> Result<(), DomainError> {
        let mut items = HashSet::new();
        for i in &self.items {
            if !items.insert(i.id) {
                return Err(bad("duplicate item id", i.id));
            }
            if i.max_stack < 1 || i.max_stack > crate::limits::STACK_SIZE_MAX {
                return Err(DomainError::OutOfRange {
                    what: "max_stack",
                    value: i.max_stack as i64,
                });
            }
            if i.equip_slot.is_some() != matches!(i.kind, ItemKind::Weapon | ItemKind::Armor) {
                return Err(bad("equip slot does not fit the item kind of item", i.id));
            }
            if i.equip_slot.is_some() && i.max_stack != 1 {
                return Err(bad("equippable item must not stack", i.id));
            }
        }
        let mut skills = HashSet::new();
        for s in &self.skills {
            if !skills.insert(s.id) || s.max_level < 1 {
                return Err(bad("skill", s.id));
            }
        }
        let monsters: HashSet<i32> = self.monsters.iter().map(|m| m.id).collect();
        if monsters.len() != self.monsters.len() {
            return Err(bad("duplicate monster id", ""));
        }
        for m in &self.monsters {
            for l in &m.loot {
                if !items.contains(&l.item) || l.quantity < 1 {
                    return Err(bad("loot item of monster", m.id));
                }
            }
            if m.gold_min < 0 || m.gold_max < m.gold_min {
                return Err(bad("gold range of monster", m.id));
            }
        }
        let mut quests = HashSet::new();
        for q in &self.quests {
            if !quests.insert(q.id) || !monsters.contains(&q.target_monster) || q.target_count < 1 {
                return Err(bad("quest", q.id));
            }
            for (item, qty) in &q.reward.items {
                if !items.contains(item) || *qty < 1 {
                    return Err(bad("reward item of quest", q.id));
                }
            }
        }
        let mut zones = HashSet::new();
        for z in &self.zones {
            if !zones.insert(z.id) {
                return Err(bad("duplicate zone id", z.id));
            }
            for s in &z.spawns {
                if !monsters.contains(&s.monster) {
                    return Err(bad("spawn monster of zone", z.id));
                }
            }
        }
        for class in Class::ALL {
            for (item, _) in crate::rules::starting_kit(*class) {
                if !items.contains(item) {
                    return Err(bad("starting item", item));
                }
            }
        }
        Ok(())
    }
}
