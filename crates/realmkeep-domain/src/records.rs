//! What the store and the zone exchange: a character as loaded, what a zone saves of it, the
//! events it logs and why the rules refused an action. These live below both crates so the zone
//! speaks to the store only through values (Cargo then enforces "the zone does no I/O"); the store
//! turns its rows into them and refuses a row that does not parse.

use crate::rules::ItemBonus;
use crate::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One stack in a character's bag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryItem {
    pub item: ItemId,
    pub def: ItemDefId,
    pub quantity: i32,
    pub slot: i16,
}

/// One item a character wears.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EquippedItem {
    pub item: ItemId,
    pub def: ItemDefId,
    pub slot: EquipSlot,
    pub bonus: ItemBonus,
}

/// One operation on a character's bag and equipment (`Store::item_op_keyed`): each is one
/// transaction, fenced by the actor's claim, answered with the character's [`Belongings`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ItemOp {
    /// To another bag slot, swapping with what is there.
    Move { item: ItemId, to: InventorySlot },
    /// `quantity` off a stack into an empty slot (a new item instance).
    Split {
        item: ItemId,
        quantity: Quantity,
        to: InventorySlot,
    },
    /// As much of `from` onto `onto` (same definition) as the stack holds.
    Merge { from: ItemId, onto: ItemId },
    /// From the bag into the slot its definition names; what was there goes to the bag.
    Equip { item: ItemId },
    /// Out of `slot` into `to` or the first free bag slot.
    Unequip {
        slot: EquipSlot,
        to: Option<InventorySlot>,
    },
    /// Gone for good (logged).
    Destroy { item: ItemId },
}

/// What a character holds after an item operation: its whole bag and equipment, as committed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Belongings {
    pub bag: Vec<InventoryItem>,
    pub equipment: Vec<EquippedItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LearnedSkill {
    pub skill: SkillId,
    pub level: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestState {
    pub quest: QuestId,
    pub status: QuestStatus,
    pub progress: i32,
}

/// Everything a zone needs to put a character into the world.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadedCharacter {
    pub id: CharacterId,
    pub account: AccountId,
    pub name: CharacterName,
    pub class: Class,
    pub kingdom: Kingdom,
    pub level: i32,
    pub xp: i64,
    pub gold: i64,
    pub attributes: Attributes,
    pub health: i32,
    pub mana: i32,
    pub position: Position,
    pub pvp_kills: i32,
    pub guild: Option<GuildId>,
    pub inventory: Vec<InventoryItem>,
    pub equipment: Vec<EquippedItem>,
    pub skills: Vec<LearnedSkill>,
    pub quests: Vec<QuestState>,
    /// The characters this one blocks (at most the store's `BLOCKED_MAX`).
    pub blocked: Vec<CharacterId>,
    pub claim_epoch: ClaimEpoch,
}

/// What a zone saves of one character.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CharacterSnapshot {
    pub fence: Fence,
    pub position: Position,
    pub health: i32,
    pub mana: i32,
    pub xp: i64,
    pub level: i32,
}

/// One event of `game_logs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct LogEvent {
    /// `None` means now (the database's clock).
    pub occurred_at: Option<DateTime<Utc>>,
    pub event_type: String,
    pub actor: Option<i64>,
    pub target: Option<i64>,
    pub item_id: Option<i64>,
    pub item_def_id: Option<i32>,
    pub quantity: Option<i32>,
    pub gold: Option<i64>,
    pub zone_id: Option<i32>,
    pub details: serde_json::Value,
}

impl LogEvent {
    pub fn new(event_type: impl Into<String>) -> Self {
        Self {
            event_type: event_type.into(),
            details: serde_json::json!({}),
            ..Self::default()
        }
    }
    pub fn actor(mut self, c: impl Into<i64>) -> Self {
        self.actor = Some(c.into());
        self
    }
    pub fn target(mut self, c: impl Into<i64>) -> Self {
        self.target = Some(c.into());
        self
    }
    pub fn item(mut self, item: i64, def: i32, quantity: i32) -> Self {
        self.item_id = Some(item);
        self.item_def_id = Some(def);
        self.quantity = Some(quantity);
        self
    }
    pub fn gold(mut self, g: i64) -> Self {
        self.gold = Some(g);
        self
    }
    pub fn zone(mut self, z: i32) -> Self {
        self.zone_id = Some(z);
        self
    }
    pub fn details(mut self, d: serde_json::Value) -> Self {
        self.details = d;
        self
    }
    pub fn at(mut self, t: DateTime<Utc>) -> Self {
        self.occurred_at = Some(t);
        self
    }
}

/// Why the rules refused an action. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("not enough gold")]
    NotEnoughGold,
    #[error("that would put more gold in one purse than allowed")]
    TooMuchGold,
    #[error("the item is not yours or not there")]
    ItemNotOwned,
    #[error("that slot is taken")]
    SlotTaken,
    #[error("the inventory is full")]
    InventoryFull,
    #[error("the listing is gone")]
    ListingGone,
    #[error("the mailbox is full")]
    MailboxFull,
    #[error("that name is taken")]
    NameTaken,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("the character is held by another zone")]
    ClaimHeld,
    #[error("this zone's claim on the character is stale")]
    StaleClaim,
    #[error("the account or address is banned")]
    Banned,
    #[error("wrong name or password")]
    BadCredentials,
    #[error("not allowed: {0}")]
    NotAllowed(&'static str),
    #[error("{0}")]
    Invalid(String),
    #[error("{0} limit reached")]
    LimitReached(&'static str),
    /// The recipient blocked the sender: the whisper, mail or trade offer is not delivered.
    #[error("the recipient does not accept this from you")]
    Blocked,
}
