//! Game rules as pure functions: experience curve, derived combat values, fees, starting kits.

use crate::ids::ItemDefId;
use crate::limits::{LEVEL_MAX, MARKET_FEE_BPS};
use crate::types::{Attributes, Class};
use serde::{Deserialize, Serialize};

/// Total experience needed to reach `level` from level 1.
pub fn xp_to_reach(level: i32) -> i64 {
    let l = level.clamp(1, LEVEL_MAX) as i64 - 1;
    // A gentle cubic: 100 XP for level 2, about 9 million for the cap.
    100 * l + 40 * l * l * l
}

/// The level that `xp` total experience gives.
pub fn level_for_xp(xp: i64) -> i32 {
    let mut level = 1;
    while level < LEVEL_MAX && xp >= xp_to_reach(level + 1) {
        level += 1;
    }
    level
}

/// Attributes a class has at a level, before equipment.
pub fn base_attributes(class: Class, level: i32) -> Attributes {
    let l = level.clamp(1, LEVEL_MAX);
    let (s, a, i, st) = match class {
        Class::Warrior => (12, 8, 4, 12),
        Class::Mage => (4, 6, 14, 8),
        Class::Ranger => (7, 14, 5, 9),
        Class::Cleric => (6, 6, 12, 10),
    };
    Attributes {
        strength: s + (l - 1) * s / 4,
        agility: a + (l - 1) * a / 4,
        intellect: i + (l - 1) * i / 4,
        stamina: st + (l - 1) * st / 4,
    }
}

/// Bonuses one equipped item gives, from its definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ItemBonus {
    #[serde(default)]
    pub attack: i32,
    #[serde(default)]
    pub armor: i32,
    #[serde(default)]
    pub strength: i32,
    #[serde(default)]
    pub agility: i32,
    #[serde(default)]
    pub intellect: i32,
    #[serde(default)]
    pub stamina: i32,
}

/// The values combat uses. Never stored: recalculated on load from level, class and equipment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CombatValues {
    pub max_health: i32,
    pub max_mana: i32,
    pub attack_power: i32,
    pub armor: i32,
    /// Milliseconds between auto-attacks.
    pub attack_interval_ms: u32,
}

pub fn combat_values(class: Class, level: i32, equipped: &[ItemBonus]) -> CombatValues {
    let base = base_attributes(class, level);
    let sum = equipped
        .iter()
        .fold(ItemBonus::default(), |acc, b| ItemBonus {
            attack: acc.attack + b.attack,
            armor: acc.armor + b.armor,
            strength: acc.strength + b.strength,
            agility: acc.agility + b.agility,
            intellect: acc.intellect + b.intellect,
            stamina: acc.stamina + b.stamina,
        });
    let strength = base.strength + sum.strength;
    let agility = base.agility + sum.agility;
    let intellect = base.intellect + sum.intellect;
    let stamina = base.stamina + sum.stamina;
    let primary = match class {
        Class::Warrior => strength,
        Class::Ranger => agility,
        Class::Mage | Class::Cleric => intellect,
    };
    CombatValues {
        max_health: 50 + stamina * 10 + level * 5,
        max_mana: 20 + intellect * 8,
        attack_power: 5 + primary * 2 + sum.attack,
        armor: sum.armor + agility / 2,
        attack_interval_ms: (2_000 - (agility * 5).min(1_000)) as u32,
    }
}

/// Damage after armor: armor removes a share, never all of it.
pub fn mitigated_damage(raw: i32, armor: i32) -> i32 {
    let raw = raw.max(0) as i64;
    let armor = armor.max(0) as i64;
    let dealt = raw * 100 / (100 + armor);
    dealt.max(1) as i32
}

/// Experience a kill of a monster of `monster_level` gives a character of `level`.
pub fn kill_xp(level: i32, monster_level: i32) -> i64 {
    let base = 20 + 10 * monster_level as i64;
    let diff = monster_level - level;
    match diff {
        d if d <= -8 => 1,
        d if d < 0 => base * (8 + d as i64) / 8,
        d => base + base * d.min(5) as i64 / 5,
    }
}

/// The auction house's fee on a sale at `price`, rounded down, never more than the price.
pub fn market_fee(price: i64) -> i64 {
    let fee = (price as i128 * MARKET_FEE_BPS as i128 / 10_000) as i64;
    fee.clamp(0, price)
}

/// Items a new character of a class starts with, as (definition, quantity). The ids are those of
/// `content/items.json`.
pub fn starting_kit(class: Class) -> &'static [(ItemDefId, i32)] {
    match class {
        Class::Warrior => &[(ItemDefId(1), 1), (ItemDefId(10), 1), (ItemDefId(100), 5)],
        Class::Mage => &[(ItemDefId(2), 1), (ItemDefId(11), 1), (ItemDefId(101), 5)],
        Class::Ranger => &[(ItemDefId(3), 1), (ItemDefId(10), 1), (ItemDefId(100), 5)],
        Class::Cleric => &[(ItemDefId(4), 1), (ItemDefId(11), 1), (ItemDefId(101), 5)],
    }
}

/// Gold a new character starts with.
pub const STARTING_GOLD: i64 = 100;

/// Gold a skill costs to learn, per level the skill requires.
pub const SKILL_LEARN_GOLD_PER_LEVEL_REQ: i64 = 10;
/// Gold an upgrade costs, times the square of the level it reaches.
pub const SKILL_UPGRADE_GOLD_BASE: i64 = 25;

/// Gold it costs to learn a skill that requires `level_req`.
pub fn skill_learn_cost(level_req: i32) -> i64 {
    SKILL_LEARN_GOLD_PER_LEVEL_REQ * i64::from(level_req.max(1))
}

/// Gold it costs to upgrade a skill to `next_level`: grows with the square of the level.
pub fn skill_upgrade_cost(next_level: i32) -> i64 {
    let l = i64::from(next_level.max(1));
    SKILL_UPGRADE_GOLD_BASE * l * l
}

/// A skill's damage or healing at a skill level: a quarter more per level above the first.
pub fn skill_power(base: i32, skill_level: i32) -> i32 {
    base + base * (skill_level.max(1) - 1) / 4
}

/// The level score is `level * LEVEL_SCORE_SCALE + xp` (experience capped below the scale): the
/// experience only breaks ties within a level, and every score is exact in an f64.
pub const LEVEL_SCORE_SCALE: i64 = 1_000_000_000_000;
// Every level score must be exact in an f64 (Redis sorted-set scores are doubles): 2^53.
const _: () = assert!((LEVEL_MAX as i64 + 1) * LEVEL_SCORE_SCALE < (1i64 << 53));

/// The score of `leaderboard:level`: level first, then experience.
pub fn level_score(level: i32, xp: i64) -> i64 {
    i64::from(level.clamp(0, LEVEL_MAX)) * LEVEL_SCORE_SCALE + xp.clamp(0, LEVEL_SCORE_SCALE - 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn xp_curve_is_monotonic_and_inverse() {
        for l in 1..LEVEL_MAX {
            assert!(xp_to_reach(l + 1) > xp_to_reach(l));
            assert_eq!(level_for_xp(xp_to_reach(l)), l);
            assert_eq!(level_for_xp(xp_to_reach(l + 1) - 1), l);
        }
        assert_eq!(level_for_xp(i64::MAX), LEVEL_MAX);
    }

    #[test]
    fn level_scores_order_by_level_then_experience() {
        assert!(level_score(2, 0) > level_score(1, LEVEL_SCORE_SCALE * 5));
        assert!(level_score(3, 11) > level_score(3, 10));
        assert_eq!(level_score(1, -5), LEVEL_SCORE_SCALE);
    }

    #[test]
    fn skill_costs_and_power_grow_with_level() {
        assert_eq!(skill_learn_cost(0), skill_learn_cost(1));
        assert!(skill_upgrade_cost(3) > skill_upgrade_cost(2));
        assert_eq!(skill_power(20, 1), 20);
        assert_eq!(skill_power(20, 5), 40);
    }

    #[test]
    fn fee_is_five_percent() {
        assert_eq!(market_fee(1_000), 50);
        assert_eq!(market_fee(19), 0);
    }

    proptest! {
        #[test]
        fn fee_never_exceeds_price(p in 0i64..crate::limits::GOLD_MAX) {
            let f = market_fee(p);
            prop_assert!(f >= 0 && f <= p);
        }

        #[test]
        fn damage_is_positive(raw in -10i32..100_000, armor in -10i32..100_000) {
            prop_assert!(mitigated_damage(raw, armor) >= 1);
        }
    }
}
