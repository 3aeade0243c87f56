//! Abandoning an active quest: its row goes (its progress with it), so that it may be accepted
//! again from the start; logged in `game_logs`. A completed quest cannot be abandoned.

use crate::action_keys::{check_key, keep_in};
use crate::common::lock_actor;
use crate::error::{db, refuse, Refusal, StoreResult};
use crate::logs::{write_in_tx, LogEvent};
use crate::tx::in_tx;
use crate::Store;
use realmkeep_domain::{Actor, QuestId};
use sqlx::PgConnection;

async fn abandon_in(tx: &mut PgConnection, actor: Actor, quest: QuestId) -> StoreResult<()> {
    let me = lock_actor(tx, &actor).await?;
    let progress: Option<i32> = sqlx::query_scalar(
        "DELETE FROM quests WHERE character_id = $1 AND quest_id = $2 AND status = 'active'
         RETURNING progress",
    )
    .bind(me.id)
    .bind(quest.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db("abandon quest"))?;
    let Some(progress) = progress else {
        refuse!(Refusal::NotFound("active quest"))
    };
    write_in_tx(
        tx,
        &[LogEvent::new("quest_abandoned")
            .actor(me.id)
            .details(serde_json::json!({ "quest_id": quest.0, "progress": progress }))],
    )
    .await
}

impl Store {
    /// Abandons one of the actor's active quests (`NotFound` if it has none such), under an
    /// idempotency key (`action_keys`); its receipt is `true`.
    pub async fn abandon_quest_keyed(
        &self,
        actor: Actor,
        quest: QuestId,
        key: &str,
    ) -> StoreResult<bool> {
        check_key(key)?;
        in_tx!(self.conns(), |tx| async move {
            abandon_in(tx, actor, quest).await?;
            keep_in(tx, key, &true).await?;
            Ok(true)
        })
    }
}
