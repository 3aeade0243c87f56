//! Questions the gateway answers itself, from the cache (never the zone's tick): leaderboards
//! (`leaderboard:pvp`, `leaderboard:level`) and item and skill definitions through the
//! read-through caches `cache:item_def:{id}` and `cache:skill_def:{id}` (1 h); the player's
//! guild and friends list in `lists.rs`.

use super::commands::Info;
use crate::state::App;
use realmkeep_cache::RankedEntry;
use realmkeep_domain::CharacterId;
use realmkeep_protocol::ws::{Data, Ranked};
use realmkeep_protocol::Reason;

fn ranked(e: RankedEntry) -> Ranked {
    Ranked {
        rank: e.position,
        character: e.character.0,
        score: e.score as i64,
    }
}

fn unavailable() -> (Reason, String) {
    (
        Reason::TryAgain,
        "the cache cannot answer right now".to_string(),
    )
}

pub(crate) async fn answer(
    app: &App,
    me: CharacterId,
    info: Info,
) -> Result<Data, (Reason, String)> {
    let cache = app.cache();
    match info {
        Info::Leaderboard { board, top } => {
            let boards = cache.leaderboards();
            let rows = boards
                .top(board, top as usize)
                .await
                .map_err(|_| unavailable())?;
            let mine = boards.rank(board, me).await.map_err(|_| unavailable())?;
            Ok(Data::Leaderboard {
                board: board.as_str().to_string(),
                top: rows.into_iter().map(ranked).collect(),
                me: mine.map(ranked),
            })
        }
        Info::Item(id) => match cache.definitions().item(id).await {
            Ok(Some(def)) => Ok(Data::ItemInfo {
                item_def: id.0,
                definition: serde_json::to_value(def).map_err(|_| unavailable())?,
            }),
            Ok(None) => Err((Reason::Invalid, format!("no item {}", id.0))),
            Err(_) => Err(unavailable()),
        },
        Info::Skill(id) => match cache.definitions().skill(id).await {
            Ok(Some(def)) => Ok(Data::SkillInfo {
                skill: id.0,
                definition: serde_json::to_value(def).map_err(|_| unavailable())?,
            }),
            Ok(None) => Err((Reason::Invalid, format!("no skill {}", id.0))),
            Err(_) => Err(unavailable()),
        },
        Info::Guild => super::lists::guild(app, me).await,
        Info::Friends => super::lists::friends(app, me).await,
    }
}
