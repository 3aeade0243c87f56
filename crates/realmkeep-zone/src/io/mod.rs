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

mod player;
mod requests;

pub use crate::actions::{Applied, Outcome, PersistKind};
pub use player::*;
pub use requests::*;

use realmkeep_domain::records::LoadedCharacter;
use realmkeep_domain::{AdminOrder, CharacterId, Fence, GuildId, SkillId, ZoneId};

/// Names one persistence request of one zone, so its result can find its way back. Unique per
/// zone instance (a counter from 1); the host may use it as an idempotency key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// A command's tag, chosen by the host (the gateway's request id): the zone's first notice about
/// that command carries it back (`ZoneOutput::ToPlayer::reply_to`), so the command can be
/// answered by what the zone did. Every tagged command gets exactly one tagged first reply: its
/// result (after the store's commit for a critical action), a denial, a refusal, "try again",
/// "throttled", or `PlayerEvent::Accepted` when it was simply applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReplyTo(pub u64);

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
        /// Tag the command's reply (see `ReplyTo`); `None`: nobody waits for it.
        reply_to: Option<ReplyTo>,
    },
    /// The player's connection dropped without a logout: the character stays in the world for
    /// `DISCONNECT_GRACE_MS`, then leaves as a normal `Leave` (final save, release).
    Disconnect { character: CharacterId },
    /// The player came back within the grace period: the character stays.
    Reconnect { character: CharacterId },
    /// The player's client wants to see the world: `PlayerEvent::View` deltas from now on,
    /// starting again from an empty view (after a reconnect, everything in view is new).
    Watch { character: CharacterId },
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
    /// The guild wars in force now (all of them, at most `GUILD_WARS_MAX`): players of one
    /// kingdom whose guilds are at war may fight. Sent by the host after reading Redis.
    Wars(Vec<(GuildId, GuildId)>),
    /// A global, kingdom or guild line the cache could not publish (Redis is down): the zone
    /// tells it to its own players on that channel, as `docs/REDIS.md` promises for degraded
    /// chat.
    ChatFallback {
        channel: ChatChannel,
        from: CharacterId,
        name: String,
        text: String,
        kingdom: realmkeep_domain::Kingdom,
        guild: Option<GuildId>,
    },
    /// An operator's gold or item change of a character in this zone: run by the store under the
    /// character's fence (`PersistKind::Admin`); ignored if the character is not here (the
    /// operator's wait for the order's key then ends in "not applied").
    Admin {
        character: CharacterId,
        order: AdminOrder,
    },
    /// Stop accepting spawns and take every character out with a final save. The zone emits
    /// `ZoneOutput::ShutdownComplete` once the last one is released.
    Shutdown,
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
        /// Set on the first notice about a tagged command of this player.
        reply_to: Option<ReplyTo>,
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
