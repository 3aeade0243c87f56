//! Game content as data: items, skills, quests, monsters and zones. Parsed from the repository's
//! `content/*.json` files by the binary and loaded into the definition tables by the store.

use crate::error::DomainError;
use crate::ids::{ItemDefId, QuestId, SkillId, ZoneId};
use crate::limits::{
    SKILL_EFFECT_ARMOR_MAX, SKILL_EFFECT_DURATION_MS_MAX, SKILL_EFFECT_PER_SECOND_MAX,
    SKILL_EFFECT_SLOW_PERCENT_MAX,
};
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
    /// A buff or debuff the skill leaves behind, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<SkillEffect>,
}

/// A status effect: what it does while it lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum EffectKind {
    /// Loses `per_second` health every second.
    Poison { per_second: i32 },
    /// Gains `per_second` health every second.
    Regeneration { per_second: i32 },
    /// Moves at `percent`% less speed.
    Slow { percent: i32 },
    /// Has `amount` more armor.
    ArmorUp { amount: i32 },
}

impl EffectKind {
    /// The effect's strength is within what the rules allow.
    pub fn is_valid(&self) -> bool {
        match *self {
            EffectKind::Poison { per_second } | EffectKind::Regeneration { per_second } => {
                (1..=SKILL_EFFECT_PER_SECOND_MAX).contains(&per_second)
            }
            EffectKind::Slow { percent } => (1..=SKILL_EFFECT_SLOW_PERCENT_MAX).contains(&percent),
            EffectKind::ArmorUp { amount } => (1..=SKILL_EFFECT_ARMOR_MAX).contains(&amount),
        }
    }
}

/// The effect a skill leaves: on its target, or on the caster (a self-buff).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkillEffect {
    #[serde(flatten)]
    pub kind: EffectKind,
    pub duration_ms: u64,
    #[serde(default)]
    pub on_caster: bool,
}

impl SkillEffect {
    /// Strength and duration are within what the rules allow.
    pub fn is_valid(&self) -> bool {
        self.kind.is_valid() && (1..=SKILL_EFFECT_DURATION_MS_MAX).contains(&self.duration_ms)
    }
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
            if let Some(e) = s.effect {
                if !e.kind.is_valid()
                    || !(1..=SKILL_EFFECT_DURATION_MS_MAX).contains(&e.duration_ms)
                {
                    return Err(bad("effect of skill", s.id));
                }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn skill(effect: serde_json::Value) -> Result<SkillDef, serde_json::Error> {
        serde_json::from_value(serde_json::json!({
            "id": 9, "name": "Test", "max_level": 1, "cooldown_ms": 1000, "mana_cost": 1,
            "damage": 1, "range": 3.0, "effect": effect,
        }))
    }

    #[test]
    fn a_skill_effect_is_read_from_content_and_checked() {
        let s = skill(serde_json::json!({"kind": "poison", "per_second": 3, "duration_ms": 5000}))
            .unwrap();
        assert_eq!(
            s.effect,
            Some(SkillEffect {
                kind: EffectKind::Poison { per_second: 3 },
                duration_ms: 5000,
                on_caster: false,
            })
        );
        assert!(s.effect.unwrap().is_valid());
        let too_slow =
            skill(serde_json::json!({"kind": "slow", "percent": 95, "duration_ms": 1000})).unwrap();
        assert!(!too_slow.effect.unwrap().is_valid());
        let forever =
            skill(serde_json::json!({"kind": "armor_up", "amount": 5, "duration_ms": 3_600_000}))
                .unwrap();
        assert!(!forever.effect.unwrap().is_valid());
        assert!(skill(serde_json::json!({"kind": "teleport", "duration_ms": 1000})).is_err());
    }
}
