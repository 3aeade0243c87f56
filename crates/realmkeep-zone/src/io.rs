//! The zone's boundary: everything that enters a zone (`ZoneInput`) and everything that leaves it
//! (`ZoneOutput`). API boundary: the host (crate `realmkeep-server`) speaks to a zone only through
//! these types, `Zone::push_input`, `Zone::tick` and `Zone::drain_outputs`.
//!
//! The protocol, in one paragraph: the host pushes inputs at any time (bounded); a tick applies
//! all of them first, then runs the systems; afterwards the host drains the outputs and carries
//! them out. Every `ZoneOutput::Persist` except `Logs` is answered by exactly one
//! `ZoneInput::StoreResult` with the same `RequestId` (the zone keeps an entry per request until
//! then). `ZoneOutput::Cache` and `ZoneOutput::ToPlayer` are fire-and-forget: best effort, never
//! answered. `Logs` batches are fire-and-forget too (non-critical, the host may retry or drop).

use realmkeep_domain::{
    CharacterId, Fence, Gold, ItemDefId, ItemId, Quantity, QuestId, SkillId, ZoneId,
};
use realmkeep_store::characters::{InventoryItem, LoadedCharacter};
use realmkeep_store::logs::LogEvent;
use realmkeep_store::saves::CharacterSnapshot;
use realmkeep_store::Refusal;

/// Names one persistence request of one zone, so its result can find its way back. Unique per
/// zone instance (a counter from 1); the host may use it as an idempotency key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// The id a zone gives each entity players can see (players, monsters, loot). Unique per zone
/// instance, never reused; not stable across zones or restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NetId(pub u64);

/// A skill's remaining cooldown, carried across zones through the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkillCooldown {
    pub skill: SkillId,
    pub remaining_ms: u32,
}

/// Host → zone. Applied at the start of the next tick, in the order pushed.
#[derive(Debug, Clone, PartialEq)]
pub enum ZoneInput {
    /// Put a character into the world. The host has already claimed and loaded it (`fence` is the
    /// claim). `transfer` is true when it arrives from another zone (status effects are not
    /// carried: they are lost on transfer). `cooldowns` are its cross-zone cooldowns read from the
    /// cache (empty if unknown). Answered by `PlayerEvent::Joined`, or by
    /// `ZoneOutput::SpawnRefused` (zone full, shutting down, already here) after which the host
    /// releases the claim itself.
    Spawn {
        fence: Fence,
        character: Box<LoadedCharacter>,
        transfer: bool,
        cooldowns: Vec<SkillCooldown>,
    },
    /// One command of a connected player. Commands of characters not in the zone are ignored.
    Command {
        character: CharacterId,
        command: PlayerCommand,
    },
    /// The player's connection dropped without a logout: the character stays in the world for
    /// `DISCONNECT_GRACE_MS`, then leaves as a normal `Leave` (final save, release).
    Disconnect { character: CharacterId },
    /// The player came back within the grace period: the character stays.
    Reconnect { character: CharacterId },
    /// Take the character out: logout (`transfer_to: None`) or zone change. The zone sends a
    /// `PersistKind::Release` (final save) and reports `ZoneOutput::Left` only after it succeeded.
    Leave {
        character: CharacterId,
        transfer_to: Option<ZoneId>,
    },
    /// Claim renewal found the claim lost: another zone owns the character now. Despawned at once,
    /// without any save (the save would be refused and must not be retried).
    ClaimLost { character: CharacterId },
    /// The answer to `ZoneOutput::Persist(PersistRequest { id: request, .. })`.
    StoreResult {
        request: RequestId,
        outcome: Outcome,
    },
    /// Stop accepting spawns and take every character out with a final save. The zone emits
    /// `ZoneOutput::ShutdownComplete` once the last one is released.
    Shutdown,
}

/// What a player asks for. Parsed and bounded by the gateway; the zone checks the game rules.
#[derive(Debug, Clone, PartialEq)]
pub enum PlayerCommand {
    /// Walk towards a point (clamped to the zone; one step at most `MOVE_STEP_MAX` away).
    MoveTo {
        x: f32,
        y: f32,
    },
    /// Walk in a direction until `Stop` (the vector is normalised).
    Move {
        dx: f32,
        dy: f32,
    },
    Stop,
    /// Select a target and start auto-attacking it (a monster, or a player of another kingdom).
    Attack {
        target: NetId,
    },
    /// Stop auto-attacking.
    StopAttack,
    /// Use a learned skill, on a target or (healing, self skills) on oneself.
    UseSkill {
        skill: SkillId,
        target: Option<NetId>,
    },
    /// Pick up a loot entity in reach: a critical action, answered when the store has placed it.
    PickUp {
        loot: NetId,
    },
    Chat {
        channel: ChatChannel,
        text: String,
    },
    AcceptQuest {
        quest: QuestId,
    },
    CompleteQuest {
        quest: QuestId,
    },
    /// Offer a trade to a character in this zone. It happens when the other side offers the
    /// mirror image (gives what this side wants, wants what it gives) within `TRADE_OFFER_MS`.
    Trade {
        with: CharacterId,
        give: TradeOffer,
        want: TradeOffer,
    },
    Logout,
    ChangeZone {
        to: ZoneId,
    },
}

/// One side of a trade: item instances and gold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TradeOffer {
    pub items: Vec<ItemId>,
    pub gold: Gold,
}

/// Where a chat message goes. `Say` stays in the zone (players nearby); the others are published
/// through the cache (`CacheRequest::Chat`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatChannel {
    Say,
    Global,
    Kingdom,
    Guild,
    Whisper { to: CharacterId },
}

/// How the store answered a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Done and committed.
    Ok(Applied),
    /// The rules said no; nothing changed. `Refusal::StaleClaim` means this zone lost the
    /// character: it is despawned without saving.
    Refused(Refusal),
    /// The store could not be reached, or failed in a way that is not a refusal: nothing is known
    /// to have changed. Saves are retried by the zone; players are told to try again.
    Unavailable,
}

/// What a successful request did, by kind of request.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// Nothing to report beyond success: `LevelUp`, `Release`, `QuestProgress`, `AcceptQuest`,
    /// `PvpKill`.
    Done,
    /// `SaveBatch`: rows whose fence was stale (those characters are lost: despawned unsaved).
    Saved { refused: Vec<CharacterId> },
    /// `PickupLoot`: stacks that grew (with their new quantity) and the new stack, if any.
    PickedUp {
        merged: Vec<(ItemId, i32)>,
        created: Option<InventoryItem>,
    },
    /// `LootGold`: the purse after the credit.
    Purse { gold: i64 },
    /// `CompleteQuest`: the purse after the reward, and the reward items as placed. The quest's
    /// experience is granted by the zone when this arrives (the zone owns experience).
    QuestRewarded {
        gold: i64,
        items: Vec<InventoryItem>,
    },
    /// `Trade`: items each side received with their new bag slot, and both purses after.
    Traded {
        a_received: Vec<(ItemId, i16)>,
        b_received: Vec<(ItemId, i16)>,
        a_gold: i64,
        b_gold: i64,
    },
}

/// Zone → host. Drained after each tick, in the order emitted.
#[derive(Debug, Clone, PartialEq)]
pub enum ZoneOutput {
    /// Must reach PostgreSQL; answered by one `ZoneInput::StoreResult` (except `Logs`).
    Persist(PersistRequest),
    /// Best effort to Redis; never answered.
    Cache(CacheRequest),
    /// A notice for one connected player; dropped by the host if the player is gone.
    ToPlayer {
        character: CharacterId,
        event: PlayerEvent,
    },
    /// A `Spawn` the zone did not take; the host still holds the claim and must release it.
    SpawnRefused { fence: Fence, reason: SpawnRefusal },
    /// The character is out of this zone and out of its ECS world. For `Released`, its final
    /// save succeeded and its claim is released: the host removes it from the zone's Redis set
    /// and, with `transfer_to`, starts the join in the next zone.
    Left {
        character: CharacterId,
        reason: LeftReason,
    },
    /// After `Shutdown`: every character has been released (or lost). Emitted once.
    ShutdownComplete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpawnRefusal {
    ZoneFull,
    ShuttingDown,
    AlreadyInZone,
    /// The loaded data is unusable (a level out of range, a class without stats).
    Invalid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeftReason {
    /// Final save done and claim released.
    Released { transfer_to: Option<ZoneId> },
    /// The claim was lost (`ClaimLost`, or a save refused as stale): despawned without a save.
    ClaimLost,
}

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
    /// A loot pickup: the item comes into existence in the bag (`Store::pickup_loot`, origin
    /// `monster:{monster}`). The loot entity stays reserved until the result.
    PickupLoot {
        fence: Fence,
        def: ItemDefId,
        quantity: Quantity,
        zone: ZoneId,
        monster: i32,
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

/// The player action a notice is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Move,
    Attack,
    Skill,
    Pickup,
    Chat,
    Quest,
    Trade,
    Command,
}

/// Why the zone itself said no (before any store request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    NoSuchTarget,
    OutOfRange,
    NotLearned,
    OnCooldown {
        remaining_ms: u32,
    },
    NotEnoughMana,
    /// Already picked up by someone (result pending) or not yours.
    Reserved,
    /// Too many requests waiting for the store: try again shortly.
    Busy,
    NotAllowed,
    Dead,
    Invalid,
}

/// A notice to one player. No network exists yet: the host decides what to forward.
#[derive(Debug, Clone, PartialEq)]
pub enum PlayerEvent {
    Joined {
        zone: ZoneId,
        net_id: NetId,
        x: f32,
        y: f32,
    },
    /// The zone refused the action (rules, range, cooldown, busy).
    Denied {
        action: Action,
        reason: Denial,
    },
    /// The store refused the action; nothing changed.
    Refused {
        action: Action,
        reason: Refusal,
    },
    /// The store was unavailable; nothing changed; try again.
    TryAgain {
        action: Action,
    },
    /// More commands than `COMMANDS_PER_PLAYER_PER_TICK_MAX` this tick; the rest were dropped.
    Throttled {
        dropped: u32,
    },
    XpGained {
        amount: i64,
        xp: i64,
    },
    LevelUp {
        level: i32,
    },
    /// A pickup is done: the item is in the bag.
    Looted {
        def: ItemDefId,
        quantity: i32,
    },
    GoldChanged {
        gold: i64,
    },
    QuestAccepted {
        quest: QuestId,
    },
    QuestProgress {
        quest: QuestId,
        progress: i32,
    },
    QuestCompleted {
        quest: QuestId,
    },
    TradeOffered {
        from: CharacterId,
        give: TradeOffer,
        want: TradeOffer,
    },
    TradeDone {
        with: CharacterId,
    },
    Died,
    Respawned {
        x: f32,
        y: f32,
    },
    Chat {
        channel: ChatChannel,
        from: CharacterId,
        name: String,
        text: String,
    },
    /// A coarse view of the surroundings, every few ticks (no network exists yet).
    Surroundings {
        x: f32,
        y: f32,
        health: i32,
        mana: i32,
        players_nearby: u32,
        monsters_nearby: u32,
        loot_nearby: u32,
    },
}
