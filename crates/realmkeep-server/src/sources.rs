//! What the cache rebuilds from, implemented by the host (the cache crate speaks no SQL):
//! leaderboards from PostgreSQL through the store, definitions from the content the node runs
//! (the same content that is seeded into PostgreSQL's definition tables).

use futures::future::BoxFuture;
use realmkeep_cache::{BoxError, DefinitionSource, LeaderboardKind, LeaderboardSource};
use realmkeep_domain::content::{Content, ItemDef, SkillDef};
use realmkeep_domain::{CharacterId, ItemDefId, SkillId};
use realmkeep_store::progress::{LeaderboardKind as StoreBoard, LEADERBOARD_ROWS_MAX};
use realmkeep_store::Store;
use std::sync::Arc;

/// Leaderboard scores as PostgreSQL has them.
pub struct StoreLeaderboards(pub Store);

impl LeaderboardSource for StoreLeaderboards {
    fn scores(
        &self,
        kind: LeaderboardKind,
    ) -> BoxFuture<'_, Result<Vec<(CharacterId, f64)>, BoxError>> {
        let board = match kind {
            LeaderboardKind::Level => StoreBoard::Level,
            LeaderboardKind::Pvp => StoreBoard::Pvp,
        };
        Box::pin(async move {
            self.0
                .leaderboard_scores(board, LEADERBOARD_ROWS_MAX)
                .await
                .map_err(|e| Box::new(e) as BoxError)
        })
    }
}

/// Item and skill definitions from the node's content.
pub struct ContentDefinitions(pub Arc<Content>);

impl DefinitionSource for ContentDefinitions {
    fn item_def(&self, id: ItemDefId) -> BoxFuture<'_, Result<Option<ItemDef>, BoxError>> {
        let found = self.0.items.iter().find(|i| i.id == id).cloned();
        Box::pin(async move { Ok(found) })
    }

    fn skill_def(&self, id: SkillId) -> BoxFuture<'_, Result<Option<SkillDef>, BoxError>> {
        let found = self.0.skills.iter().find(|s| s.id == id).cloned();
        Box::pin(async move { Ok(found) })
    }
}
