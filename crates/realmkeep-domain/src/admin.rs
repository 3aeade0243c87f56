//! Operators' roles and what each may do. An operator's account lives apart from players'
//! (`admin_accounts`); the role decides which admin actions it may take, the same for the admin
//! API and the command line.

use crate::error::DomainError;
use crate::ids::{AdminId, ItemDefId, ItemId};
use crate::records::Belongings;
use crate::types::Quantity;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An operator's role, from least to most power: each has every power of the roles below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminRole {
    /// Reads everything; kicks, bans and broadcasts.
    Moderator,
    /// A moderator who also changes characters: gold, items, position.
    GameMaster,
    /// A game master who also manages operators' accounts.
    Administrator,
}

impl AdminRole {
    pub const ALL: &'static [AdminRole] = &[
        AdminRole::Moderator,
        AdminRole::GameMaster,
        AdminRole::Administrator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AdminRole::Moderator => "moderator",
            AdminRole::GameMaster => "game_master",
            AdminRole::Administrator => "administrator",
        }
    }

    /// Whether this role may use `power`.
    pub fn allows(self, power: AdminPower) -> bool {
        self >= power.role()
    }
}

impl fmt::Display for AdminRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AdminRole {
    type Err = DomainError;

    /// `moderator`, `game_master` (or `game-master`), `administrator`.
    fn from_str(s: &str) -> Result<Self, DomainError> {
        let s = s.trim().to_ascii_lowercase().replace('-', "_");
        AdminRole::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s)
            .ok_or(DomainError::Unknown {
                what: "admin role",
                value: s,
            })
    }
}

/// What an operator may do, each needing a role (`AdminPower::role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminPower {
    /// Players, characters, logs, market and mail.
    Read,
    Kick,
    Ban,
    Broadcast,
    Gold,
    Items,
    Teleport,
    /// Create, list and disable operators' accounts.
    AdminAccounts,
}

impl AdminPower {
    /// The least role with this power.
    pub const fn role(self) -> AdminRole {
        match self {
            AdminPower::Read | AdminPower::Kick | AdminPower::Ban | AdminPower::Broadcast => {
                AdminRole::Moderator
            }
            AdminPower::Gold | AdminPower::Items | AdminPower::Teleport => AdminRole::GameMaster,
            AdminPower::AdminAccounts => AdminRole::Administrator,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AdminPower::Read => "read",
            AdminPower::Kick => "kick",
            AdminPower::Ban => "ban",
            AdminPower::Broadcast => "broadcast",
            AdminPower::Gold => "gold",
            AdminPower::Items => "items",
            AdminPower::Teleport => "teleport",
            AdminPower::AdminAccounts => "admin_accounts",
        }
    }
}

/// What an operator changes of a character's belongings (the admin API's gold and item
/// changes). For a character in the world, the zone that holds it runs the change under its claim
/// (`AdminOrder`); otherwise the store runs it directly, refused while a claim holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum AdminChange {
    /// Add (or, negative, take) gold.
    Gold { delta: i64 },
    /// Create an item in the bag.
    Grant { def: ItemDefId, quantity: Quantity },
    /// Destroy an item of the bag.
    Remove { item: ItemId },
    /// Move a character in the world to a point of the zone it is in (the zone clamps the point
    /// to its bounds). Out of the world, a teleport (to any zone) is the store's `admin_teleport`.
    Teleport { x: f32, y: f32 },
}

impl AdminChange {
    /// The power of the operator's role the change needs.
    pub fn power(&self) -> AdminPower {
        match self {
            AdminChange::Gold { .. } => AdminPower::Gold,
            AdminChange::Grant { .. } | AdminChange::Remove { .. } => AdminPower::Items,
            AdminChange::Teleport { .. } => AdminPower::Teleport,
        }
    }
}

/// An operator's change sent to the zone holding the character, under an idempotency `key` the
/// sender made: the sender learns the outcome from the database under that key (and gives the key
/// up after a wait, so a late order can no longer commit). The operator's role is read again by
/// the node that runs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminOrder {
    pub key: String,
    pub change: AdminChange,
    pub operator: AdminId,
    pub reason: String,
}

/// What a committed admin change left: the purse, the whole bag and equipment, and the item a
/// grant created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminReceipt {
    pub gold: i64,
    pub held: Belongings,
    pub item: Option<ItemId>,
}

/// What is kept under an admin order's key: the receipt, or the words of the refusal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum AdminOutcome {
    Applied(AdminReceipt),
    Refused { message: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_has_the_powers_of_the_roles_below_it() {
        use AdminPower::*;
        let m = AdminRole::Moderator;
        let g = AdminRole::GameMaster;
        let a = AdminRole::Administrator;
        for p in [Read, Kick, Ban, Broadcast] {
            assert!(m.allows(p) && g.allows(p) && a.allows(p), "{p:?}");
        }
        for p in [Gold, Items, Teleport] {
            assert!(!m.allows(p) && g.allows(p) && a.allows(p), "{p:?}");
        }
        assert!(!m.allows(AdminAccounts) && !g.allows(AdminAccounts) && a.allows(AdminAccounts));
    }

    #[test]
    fn roles_parse_from_their_names_only() {
        for r in AdminRole::ALL {
            assert_eq!(r.as_str().parse::<AdminRole>().unwrap(), *r);
        }
        assert_eq!(
            "Game-Master".parse::<AdminRole>().unwrap(),
            AdminRole::GameMaster
        );
        assert!("root".parse::<AdminRole>().is_err());
        assert!("".parse::<AdminRole>().is_err());
    }
}
