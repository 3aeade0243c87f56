//! What the zone asks of the store and of the cache.

use super::{ChatChannel, RequestId, TradeOffer};
use realmkeep_domain::records::CharacterSnapshot;
use realmkeep_domain::records::LogEvent;
use realmkeep_domain::{CharacterId, Fence, ItemDefId, Quantity, QuestId, SkillId, ZoneId};

/// One request for the store.
#[derive(Debug, Clone, PartialEq)]
pub struct PersistRequest {
    pub id: RequestId,
    pub kind: PersistKind,
}

/// What the store is asked to do. Every character named carries its fence.
#[derive(Debug, Clone, PartialEq)]
pub enum PersistKind {
    /// Periodic save of dirty characters (position, health, mana, xp, level): `Store::save_batch`.
    /// At most `BATCH_SAVE_ROWS_MAX` rows, each character at most once.
    SaveBatch(Vec<CharacterSnapshot>),
    /// Immediate full save after a level-up: `Store::save_full`.
    LevelUp(CharacterSnapshot),
    /// A loot pickup: the item comes into existence in the bag (`Store::pickup_loot_once`,
    /// origin `monster:{monster}`). The loot entity stays reserved until the result. `loot`
    /// names this loot for the zone's whole life, so a pickup tried again after an answer that
    /// was lost is not done twice.
    PickupLoot {
        fence: Fence,
        def: ItemDefId,
        quantity: Quantity,
        zone: ZoneId,
        monster: i32,
        loot: u64,
    },
    /// Gold of a monster kill, straight into the killer's purse (`Store::loot_gold`).
    LootGold {
        fence: Fence,
        amount: i64,
        zone: ZoneId,
    },
    AcceptQuest {
        fence: Fence,
        quest: QuestId,
    },
    /// Kills towards a quest the character has accepted.
    QuestProgress {
        fence: Fence,
        quest: QuestId,
        amount: i32,
    },
    /// Complete a quest whose progress is reached: the store grants gold and items.
    CompleteQuest {
        fence: Fence,
        quest: QuestId,
    },
    /// A player killed a player of another kingdom: counts towards the killer's `pvp_kills`.
    PvpKill {
        killer: Fence,
        victim: Fence,
    },
    /// Both sides agreed (mirror offers): swap all at once or nothing (`Store::trade`).
    Trade {
        a: Fence,
        a_gives: TradeOffer,
        b: Fence,
        b_gives: TradeOffer,
    },
    /// Final save and claim release on leave (`Store::release`). Until it succeeds the character
    /// stays in the world, frozen; an `Unavailable` result is retried with backoff.
    Release {
        snapshot: CharacterSnapshot,
        transfer_to: Option<ZoneId>,
    },
    /// Non-critical game events (kills, drops, pickups, PvP kills, level-ups), at most
    /// `LOG_BATCH_EVENTS_MAX`. Not answered.
    Logs(Vec<LogEvent>),
}

/// What the cache is asked to do (`realmkeep-cache`). Best effort, never answered.
#[derive(Debug, Clone, PartialEq)]
pub enum CacheRequest {
    /// `player:{id}:online`. Not sent on transfer (the character stays online).
    Presence {
        character: CharacterId,
        online: bool,
    },
    /// `zone:{id}:players` membership changes of this tick.
    ZoneMembers {
        zone: ZoneId,
        joined: Vec<CharacterId>,
        left: Vec<CharacterId>,
    },
    /// `zone:{id}:entity_count`, sent when it changed (at most once a second).
    EntityCount { zone: ZoneId, count: u32 },
    /// `leaderboard:{board}`.
    Leaderboard {
        board: Board,
        character: CharacterId,
        score: i64,
    },
    /// `cooldown:{player}:{skill}`, TTL the cooldown.
    Cooldown {
        character: CharacterId,
        skill: SkillId,
        ms: u32,
    },
    /// Publish a chat message on a cross-zone channel.
    Chat {
        channel: ChatChannel,
        from: CharacterId,
        name: String,
        text: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Board {
    Level,
    Pvp,
}
