//! Domain value types, each built only through a `parse` that checks the rules.

use crate::error::DomainError;
use crate::limits::*;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! str_enum {
    ($(#[$m:meta])* $name:ident, $what:literal, { $($variant:ident => $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
        }

        impl FromStr for $name {
            type Err = DomainError;
            fn from_str(s: &str) -> Result<Self, DomainError> {
                match s {
                    $($s => Ok($name::$variant),)+
                    _ => Err(DomainError::Unknown { what: $what, value: s.chars().take(32).collect() }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

str_enum!(/// A character's class.
    Class, "class", {
    Warrior => "warrior",
    Mage => "mage",
    Ranger => "ranger",
    Cleric => "cleric",
});

str_enum!(/// The kingdom a character serves; `kingdom_chat:{kingdom}` is keyed by it.
    Kingdom, "kingdom", {
    Aldor => "aldor",
    Veyra => "veyra",
    Korrim => "korrim",
});

str_enum!(/// Where an equipped item sits.
    EquipSlot, "equipment slot", {
    Head => "head",
    Chest => "chest",
    Legs => "legs",
    Feet => "feet",
    Hands => "hands",
    MainHand => "main_hand",
    OffHand => "off_hand",
    Neck => "neck",
    Ring => "ring",
});

str_enum!(/// What kind of thing an item definition describes.
    ItemKind, "item kind", {
    Weapon => "weapon",
    Armor => "armor",
    Consumable => "consumable",
    Material => "material",
    Quest => "quest",
});

str_enum!(/// Where a character stands with a quest (`quests.status`).
    QuestStatus, "quest status", {
    Active => "active",
    Completed => "completed",
});

/// A trimmed name of letters and digits (and, where allowed, single inner spaces).
fn parse_name(
    raw: &str,
    what: &'static str,
    min: usize,
    max: usize,
    spaces: bool,
) -> Result<String, DomainError> {
    let s = raw.trim();
    let n = s.chars().count();
    if n < min || n > max {
        return Err(DomainError::Length { what, min, max });
    }
    let ok = s
        .chars()
        .all(|c| c.is_alphanumeric() || (spaces && c == ' ' || c == '_'))
        && !s.contains("  ");
    if !ok {
        return Err(DomainError::Charset {
            what,
            extra: if spaces {
                ", underscores and single spaces"
            } else {
                " and underscores"
            },
        });
    }
    Ok(s.to_string())
}

macro_rules! name_type {
    ($(#[$m:meta])* $name:ident, $what:literal, $min:expr, $max:expr, $spaces:expr) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(raw: &str) -> Result<Self, DomainError> {
                parse_name(raw, $what, $min, $max, $spaces).map(Self)
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = DomainError;
            fn try_from(s: String) -> Result<Self, DomainError> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(n: $name) -> String {
                n.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

name_type!(/// A character name: unique without regard to case.
    CharacterName, "character name", CHARACTER_NAME_CHARS_MIN, CHARACTER_NAME_CHARS_MAX, false);
name_type!(/// A guild name: unique without regard to case.
    GuildName, "guild name", GUILD_NAME_CHARS_MIN, GUILD_NAME_CHARS_MAX, true);
name_type!(/// A login name.
    AccountName, "account name", ACCOUNT_NAME_CHARS_MIN, ACCOUNT_NAME_CHARS_MAX, false);

/// A password as typed. Never printed.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let n = raw.chars().count();
        if !(PASSWORD_CHARS_MIN..=PASSWORD_CHARS_MAX).contains(&n) {
            return Err(DomainError::Length {
                what: "password",
                min: PASSWORD_CHARS_MIN,
                max: PASSWORD_CHARS_MAX,
            });
        }
        Ok(Self(raw.to_string()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// An amount of gold: never negative, never above `GOLD_MAX`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(try_from = "i64", into = "i64")]
pub struct Gold(i64);

impl Gold {
    pub const ZERO: Gold = Gold(0);
    pub fn new(v: i64) -> Result<Self, DomainError> {
        if (0..=GOLD_MAX).contains(&v) {
            Ok(Self(v))
        } else {
            Err(DomainError::OutOfRange {
                what: "gold",
                value: v,
            })
        }
    }
    pub fn get(self) -> i64 {
        self.0
    }
}

impl TryFrom<i64> for Gold {
    type Error = DomainError;
    fn try_from(v: i64) -> Result<Self, DomainError> {
        Self::new(v)
    }
}

impl From<Gold> for i64 {
    fn from(g: Gold) -> i64 {
        g.0
    }
}

/// A stack size: at least one, at most `STACK_SIZE_MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i32", into = "i32")]
pub struct Quantity(i32);

impl Quantity {
    pub const ONE: Quantity = Quantity(1);
    pub fn new(v: i32) -> Result<Self, DomainError> {
        if (1..=STACK_SIZE_MAX).contains(&v) {
            Ok(Self(v))
        } else {
            Err(DomainError::OutOfRange {
                what: "quantity",
                value: v as i64,
            })
        }
    }
    pub fn get(self) -> i32 {
        self.0
    }
}

impl TryFrom<i32> for Quantity {
    type Error = DomainError;
    fn try_from(v: i32) -> Result<Self, DomainError> {
        Self::new(v)
    }
}

impl From<Quantity> for i32 {
    fn from(q: Quantity) -> i32 {
        q.0
    }
}

/// An inventory slot: `0..INVENTORY_SLOTS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i16", into = "i16")]
pub struct InventorySlot(i16);

impl InventorySlot {
    pub fn new(v: i16) -> Result<Self, DomainError> {
        if (0..INVENTORY_SLOTS).contains(&v) {
            Ok(Self(v))
        } else {
            Err(DomainError::OutOfRange {
                what: "inventory slot",
                value: v as i64,
            })
        }
    }
    pub fn get(self) -> i16 {
        self.0
    }
}

impl TryFrom<i16> for InventorySlot {
    type Error = DomainError;
    fn try_from(v: i16) -> Result<Self, DomainError> {
        Self::new(v)
    }
}

impl From<InventorySlot> for i16 {
    fn from(s: InventorySlot) -> i16 {
        s.0
    }
}

/// Where a character stands: a zone and a point in it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Position {
    pub zone: crate::ids::ZoneId,
    pub x: f32,
    pub y: f32,
    pub z: f32,
    pub rotation: f32,
}

/// Primary attributes, stored on the character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Attributes {
    pub strength: i32,
    pub agility: i32,
    pub intellect: i32,
    pub stamina: i32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_checked() {
        assert_eq!(CharacterName::parse("  Arwen ").unwrap().as_str(), "Arwen");
        assert!(CharacterName::parse("ab").is_err());
        assert!(CharacterName::parse("a b c").is_err());
        assert!(CharacterName::parse("Robert'); DROP").is_err());
        assert!(GuildName::parse("Knights of Ni").is_ok());
        assert!(GuildName::parse("Knights  of").is_err());
    }

    #[test]
    fn gold_and_quantity_bounds() {
        assert!(Gold::new(-1).is_err());
        assert!(Gold::new(GOLD_MAX + 1).is_err());
        assert_eq!(Gold::new(5).unwrap().get(), 5);
        assert!(Quantity::new(0).is_err());
        assert!(InventorySlot::new(INVENTORY_SLOTS).is_err());
    }

    #[test]
    fn enums_round_trip() {
        for c in Class::ALL {
            assert_eq!(c.as_str().parse::<Class>().unwrap(), *c);
        }
        for s in EquipSlot::ALL {
            assert_eq!(s.as_str().parse::<EquipSlot>().unwrap(), *s);
        }
        assert!("dragon".parse::<Class>().is_err());
    }
}
