//! Shared steps of a player's way out, and of a level-up.

use crate::components::{
    CombatStats, Health, InventoryView, Leaving, Level, Mana, Player, SaveState,
};
use crate::game::player_stats;
use crate::io::{Board, CacheRequest, LeftReason, PlayerEvent};
use crate::limits::RELEASE_RETRY_MS;
use crate::resources::Outbox;
use bevy_ecs::prelude::*;
use realmkeep_domain::records::LogEvent;
use realmkeep_domain::ZoneId;

/// Marks a player to be despawned by the departures system this tick.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Departing(pub LeftReason);

/// The `Leaving` state of a player who starts leaving now.
pub fn leaving(now_ms: u64, transfer_to: Option<ZoneId>) -> Leaving {
    Leaving {
        transfer_to,
        request: None,
        retry_at_ms: now_ms,
        backoff_ms: RELEASE_RETRY_MS,
    }
}

/// Score of `leaderboard:level`, as the store computes it: level first, then experience.
pub fn level_score(level: &Level) -> i64 {
    realmkeep_domain::rules::level_score(level.level, level.xp)
}

/// The parts of a player a level-up changes.
pub struct LevelUpParts<'a> {
    pub player: &'a Player,
    pub level: &'a Level,
    pub inventory: &'a InventoryView,
    pub stats: &'a mut CombatStats,
    pub health: &'a mut Health,
    pub mana: &'a mut Mana,
    pub save: &'a mut SaveState,
}

/// After `grant_xp` raised the level: new stats, full health and mana, an immediate save (sent by
/// the persistence system this tick, or as soon as no save is in flight) and a log event. The
/// player hears of it (`announce_level`) only once the level is committed: when the `LevelUp`
/// save comes back Ok (also after a quest reward raised it: one path, one notice).
pub fn level_up(p: LevelUpParts<'_>, outbox: &mut Outbox, zone: ZoneId) {
    let (stats, max_health, max_mana) =
        player_stats(p.player.class, p.level.level, &p.inventory.equipment);
    *p.stats = stats;
    *p.health = Health::full(max_health);
    *p.mana = Mana::full(max_mana);
    p.save.urgent = true;
    let character = p.player.character;
    outbox.log(
        LogEvent::new("level_up")
            .actor(character.0)
            .zone(zone.0)
            .details(serde_json::json!({ "level": p.level.level, "xp": p.level.xp })),
    );
}

/// Tells the player its level, and the level leaderboard, once that level is in PostgreSQL.
pub fn announce_level(
    outbox: &mut Outbox,
    character: realmkeep_domain::CharacterId,
    level: &Level,
) {
    outbox.tell(character, PlayerEvent::LevelUp { level: level.level });
    outbox.cache(CacheRequest::Leaderboard {
        board: Board::Level,
        character,
        score: level_score(level),
    });
}
