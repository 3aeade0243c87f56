//! Typed identifiers. A `CharacterId` can never be passed where an `AccountId` is expected.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$m:meta])* $name:ident($inner:ty)) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<$inner> for $name {
            fn from(v: $inner) -> Self {
                Self(v)
            }
        }
    };
}

id_type!(/// An account (a login).
    AccountId(i64));
id_type!(/// A character, owned by one account.
    CharacterId(i64));
id_type!(/// One item instance: exists in exactly one place.
    ItemId(i64));
id_type!(/// A row of `item_definitions`.
    ItemDefId(i32));
id_type!(/// A row of `skill_definitions`.
    SkillId(i32));
id_type!(/// A row of `quest_definitions`.
    QuestId(i32));
id_type!(/// A zone (a map) of `zone_definitions`.
    ZoneId(i32));
id_type!(/// A guild.
    GuildId(i64));
id_type!(/// A mail.
    MailId(i64));
id_type!(/// A marketplace listing.
    ListingId(i64));
id_type!(/// A row of `bans`.
    BanId(i64));
id_type!(/// An operator's account (`admin_accounts`), apart from players' accounts.
    AdminId(i64));

/// The fencing token of a claim: it grows by one every time a character is claimed, so a save
/// carrying an older epoch comes from a zone that lost the character and is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClaimEpoch(pub i64);

impl fmt::Display for ClaimEpoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Proof that a zone holds a character: the character and the epoch of the claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Fence {
    pub character: CharacterId,
    pub epoch: ClaimEpoch,
}

/// Who asks for an economy action on a character's behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Actor {
    /// A zone that holds the character's claim: refused if the epoch is stale.
    Zone(Fence),
    /// Out of the world (a web page, an admin tool, a test): refused while a live claim holds the
    /// character, so nothing acts on a character behind its zone's back.
    Offline(CharacterId),
}

impl Actor {
    pub fn character(&self) -> CharacterId {
        match self {
            Actor::Zone(f) => f.character,
            Actor::Offline(c) => *c,
        }
    }
}
