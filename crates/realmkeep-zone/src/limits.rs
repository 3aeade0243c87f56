//! Every bound of a zone, named once. The host sizes its queues from these.

/// Inputs waiting for the next tick, all kinds together. Store results, spawns and leaves may use
/// the whole queue; player commands only `INPUT_COMMANDS_MAX` of it, so a flood of commands can
/// never push a store result out (the host would have to hold it and retry).
pub const INPUT_QUEUE_MAX: usize = 16_384;
/// The share of `INPUT_QUEUE_MAX` player commands may fill.
pub const INPUT_COMMANDS_MAX: usize = 12_288;
/// Commands of one player applied in one tick; the rest of that tick's commands are dropped and
/// the player is told (`PlayerEvent::Throttled`).
pub const COMMANDS_PER_PLAYER_PER_TICK_MAX: usize = 4;
/// Players one zone holds (spawns beyond it are refused).
pub const PLAYERS_MAX: usize = 4_096;
/// Critical requests (pickup, gold, quest, trade) one player may have waiting for the store; more
/// are refused with "busy, try again".
pub const PENDING_CRITICAL_PER_PLAYER_MAX: usize = 4;
/// Requests of any kind waiting for a result, zone-wide. Every such request holds an entry until
/// its result arrives, so this bounds the zone's bookkeeping.
pub const PENDING_REQUESTS_MAX: usize = 32_768;
/// Log events buffered before they leave as one `PersistKind::Logs` batch (also flushed every
/// `LOG_FLUSH_TICKS`). Beyond `LOG_BUFFER_MAX` events are dropped and counted: logs are
/// non-critical, the store logs every economy action in its own transaction anyway.
pub const LOG_BATCH_EVENTS_MAX: usize = 1_000;
pub const LOG_BUFFER_MAX: usize = 10_000;
pub const LOG_FLUSH_TICKS: u64 = 20;
/// Non-critical outputs (cache updates, player notices) one tick may emit; beyond, they are
/// dropped and counted in the `TickReport`. Persistence requests are never dropped: they are
/// bounded by `PENDING_REQUESTS_MAX` instead.
pub const CACHE_OUTPUTS_PER_TICK_MAX: usize = 8_192;
pub const PLAYER_EVENTS_PER_TICK_MAX: usize = 32_768;
/// Characters of one chat message.
pub const CHAT_TEXT_CHARS_MAX: usize = 256;
/// Monsters one zone spawns from its definition at the most.
pub const MONSTERS_MAX: usize = 20_000;
/// Loot entities lying on the ground in one zone; the oldest are removed first beyond it.
pub const LOOT_ENTITIES_MAX: usize = 20_000;
/// Loot lies on the ground this long (spec: despawns after 60 s).
pub const LOOT_LIFETIME_MS: u64 = 60_000;
/// A disconnected character stays in the world this long before it leaves as a normal leave.
pub const DISCONNECT_GRACE_MS: u64 = 30_000;
/// A failed (unavailable) final save is sent again after this long, doubling up to the max.
pub const RELEASE_RETRY_MS: u64 = 500;
pub const RELEASE_RETRY_MAX_MS: u64 = 10_000;
/// A trade offer waits this long for the other side's matching offer.
pub const TRADE_OFFER_MS: u64 = 30_000;
/// A dead player comes back at the zone's entry after this long.
pub const PLAYER_RESPAWN_MS: u64 = 5_000;
/// Status effects one entity carries at the most (the oldest is dropped first).
pub const STATUS_EFFECTS_MAX: usize = 16;
/// Radius of "nearby" in snapshots and local chat.
pub const NEARBY_RADIUS: f32 = 40.0;
/// A watching player is told what changed in view every this many ticks (10 Hz at 20 Hz).
pub const VIEW_EVERY_TICKS: u64 = 2;
/// A viewer whose last view held more than this many entities is in a crowd, and is told what
/// changed every `VIEW_CROWD_EVERY_TICKS` (5 Hz) instead. In a crowd nearly every view carries
/// someone's start, stop or wound, so a frame to every player at every view was most of a
/// node's work with thousands of players; and a start seen 100 ms later among fifty others
/// does not stand out as it would in a duel. Below it, views keep the full pace.
pub const VIEW_CROWD_ENTITIES: usize = 48;
/// Ticks between two views of a viewer in a crowd (5 Hz at 20 Hz).
pub const VIEW_CROWD_EVERY_TICKS: u64 = 2 * VIEW_EVERY_TICKS;
/// A host short of CPU stretches every viewer's pace (both of the above) by up to this factor
/// (`Zone::set_view_stretch`), doubling it a step at a time (1, 2, 4): on a machine that cannot
/// keep up, a start seen later is better than every command answered later. At the most, a
/// crowd is told every 800 ms, others every 400 ms (dead reckoning carries a straight walk
/// between them). At 5,000 active players and their bots on two cores, a stretch of 2 still left
/// the machine short (its views were half the node's frames and most of the bots').
pub const VIEW_STRETCH_MAX: u64 = 4;
/// How far a player sees: entities within it are in view.
pub const VIEW_RADIUS: f32 = 48.0;
/// Entities one view holds at the most (the nearest); the rest are out of view.
pub const VIEW_ENTITIES_MAX: usize = 128;
/// Within this distance of the viewer, every move is told at every view; beyond it (up to
/// `VIEW_RADIUS`), an entity's moves and hit points are told on every `VIEW_FAR_EVERY`th view
/// (staggered by network id), since a distant entity needs less: the area beyond is three
/// quarters of the view, and so were most of the moved entries sent.
pub const VIEW_NEAR_RADIUS: f32 = 24.0;
pub const VIEW_FAR_EVERY: u64 = 3;
/// How long the views remember which grid cells changed (ticks): a viewer that looked within it
/// skips its view while nothing around it changed; one that looked longer ago looks again.
pub const CELL_STAMPS_KEPT_TICKS: u64 = 2 * VIEW_CROWD_EVERY_TICKS * VIEW_STRETCH_MAX;
/// Clients extrapolate each entity from what they were told of it (where, and its velocity): a
/// move is told when that belief is off by more than this (units), now or one view later (so a
/// start, a turn and a stop are told at the view that sees them). A quarter of a unit is 40 ms
/// of a player's walk.
pub const VIEW_DRIFT_MAX: f32 = 0.25;
/// Reach of a pickup and of a melee auto-attack.
pub const PICKUP_RANGE: f32 = 4.0;
pub const MELEE_RANGE: f32 = 3.0;
/// Speed of a player, in units per second.
pub const PLAYER_SPEED: f32 = 6.0;
/// Longest single move command (units); longer ones are clamped.
pub const MOVE_STEP_MAX: f32 = 64.0;
/// Guild wars a zone knows at once (the PvP rule); the cache reads no more than this either.
pub const GUILD_WARS_MAX: usize = 10_000;

// How these limits relate, checked when the crate compiles.
const _: () = assert!(
    INPUT_COMMANDS_MAX < INPUT_QUEUE_MAX,
    "store results keep room"
);
const _: () = assert!(
    PENDING_CRITICAL_PER_PLAYER_MAX * PLAYERS_MAX <= PENDING_REQUESTS_MAX,
    "every player can have its critical requests open at once"
);
const _: () = assert!(LOG_BATCH_EVENTS_MAX <= LOG_BUFFER_MAX && LOG_FLUSH_TICKS > 0);
const _: () = assert!(COMMANDS_PER_PLAYER_PER_TICK_MAX >= 1);
const _: () = assert!(RELEASE_RETRY_MS > 0 && RELEASE_RETRY_MS <= RELEASE_RETRY_MAX_MS);
const _: () = assert!(MELEE_RANGE <= PICKUP_RANGE && PICKUP_RANGE < NEARBY_RADIUS);
const _: () = assert!(PLAYER_RESPAWN_MS < DISCONNECT_GRACE_MS && TRADE_OFFER_MS > 0);
const _: () = assert!(
    realmkeep_domain::limits::TRADE_ITEMS_PER_SIDE_MAX
        <= realmkeep_domain::limits::INVENTORY_SLOTS as usize
);
const _: () =
    assert!(VIEW_EVERY_TICKS >= 1 && VIEW_RADIUS >= NEARBY_RADIUS && VIEW_ENTITIES_MAX >= 1);
const _: () = assert!(VIEW_NEAR_RADIUS >= PICKUP_RANGE && VIEW_NEAR_RADIUS < VIEW_RADIUS);
const _: () = assert!(VIEW_FAR_EVERY >= 1);
const _: () = assert!(
    VIEW_DRIFT_MAX > 0.0 && VIEW_DRIFT_MAX < PICKUP_RANGE / 4.0,
    "a client's belief stays well within a pickup's reach"
);
const _: () = assert!(
    CELL_STAMPS_KEPT_TICKS > VIEW_CROWD_EVERY_TICKS * VIEW_STRETCH_MAX
        && VIEW_CROWD_EVERY_TICKS >= VIEW_EVERY_TICKS
        && VIEW_STRETCH_MAX >= 1,
    "a viewer's stamps outlive the gap between its views, in a crowd too, stretched too"
);
const _: () = assert!(
    VIEW_STRETCH_MAX.is_power_of_two(),
    "the stretches are powers of two (1, 2, 4...), so the paces nest (2, 4, 8, 16 ticks): when the \
     pace changes, a viewer's next view comes no sooner than the shorter of its old and new \
     intervals and no later than the longer; a stretch of 3 would not nest"
);
const _: () = assert!(
    VIEW_CROWD_EVERY_TICKS.is_multiple_of(VIEW_EVERY_TICKS),
    "a crowd's views fall on the full pace's ticks, so a viewer leaving or joining a crowd is \
     never viewed twice in one interval"
);
const _: () = assert!(VIEW_CROWD_ENTITIES < VIEW_ENTITIES_MAX);
