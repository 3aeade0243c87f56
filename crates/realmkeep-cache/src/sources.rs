//! What this crate rebuilds from: PostgreSQL, the source of truth, seen through traits the
//! binary implements over the store. Architecture invariant: this crate speaks no SQL.

use crate::error::BoxError;
use crate::vocab::LeaderboardKind;
use futures::future::BoxFuture;
use realmkeep_domain::content::{ItemDef, SkillDef};
use realmkeep_domain::{CharacterId, ItemDefId, SkillId};

/// The scores of a leaderboard as PostgreSQL has them.
pub trait LeaderboardSource: Send + Sync + 'static {
    /// Every ranked character's score (level, or PvP rating), best first, at most
    /// [`crate::LEADERBOARD_ENTRIES_MAX`] of them (more are cut off).
    fn scores(
        &self,
        kind: LeaderboardKind,
    ) -> BoxFuture<'_, Result<Vec<(CharacterId, f64)>, BoxError>>;
}

/// The definition tables as PostgreSQL has them.
pub trait DefinitionSource: Send + Sync + 'static {
    fn item_def(&self, id: ItemDefId) -> BoxFuture<'_, Result<Option<ItemDef>, BoxError>>;
    fn skill_def(&self, id: SkillId) -> BoxFuture<'_, Result<Option<SkillDef>, BoxError>>;
}
