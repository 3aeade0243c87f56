//! Character progress: learning and upgrading skills, accepting, advancing and completing quests
//! (rewards and level-ups in one transaction), the zone's immediate save on a level-up, PvP kills,
//! and the leaderboard scores the Redis cache is rebuilt from.

use crate::action_keys::{check_key, keep_in};
use crate::common::{add_gold, check_actor, grant_items, lock_actor, lock_characters};
use crate::conns::on_conn;
use crate::error::{db, refuse, Refusal, StoreResult};
use crate::logs::{write_in_tx, LogEvent};
use crate::saves::{write_full_save, CharacterSnapshot};
use crate::tx::in_tx;
use crate::Store;
use realmkeep_domain::records::InventoryItem;
use realmkeep_domain::rules::{
    base_attributes, level_for_xp, skill_learn_cost, skill_upgrade_cost, LEVEL_SCORE_SCALE,
};
use realmkeep_domain::{Actor, CharacterId, Class, ItemDefId, QuestId, SkillId};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

/// Quests one character may have active at once.
pub const QUESTS_ACTIVE_MAX: i64 = 20;
/// The most progress one report may add (a zone reports kills as they happen, a few at a time).
pub const QUEST_PROGRESS_STEP_MAX: i32 = 1_000;
/// Rows one leaderboard read returns at the most; more are cut off.
pub const LEADERBOARD_ROWS_MAX: i64 = 10_000;

/// What completing a quest changed, as committed: a receipt the caller shows as it is (no read
/// back), like a trade's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestCompletion {
    /// Experience the quest rewarded.
    pub reward_xp: i64,
    /// Gold the quest rewarded.
    pub reward_gold: i64,
    /// The purse after the reward.
    pub gold_after: i64,
    /// The reward items as placed in the bag.
    pub items: Vec<InventoryItem>,
    /// The stored experience after the reward: the greater of the stored count and the one the
    /// caller knows, plus the reward.
    pub xp_after: i64,
    /// The character's level after the reward (never lower than before).
    pub level_after: i32,
    pub leveled_up: bool,
}

/// Which leaderboard to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LeaderboardKind {
    /// By level, then experience.
    Level,
    /// By PvP kills; characters without a kill are not ranked.
    Pvp,
}

async fn read_progress(tx: &mut PgConnection, c: CharacterId) -> StoreResult<(Class, i32, i64)> {
    let (class, level, xp): (String, i32, i64) =
        sqlx::query_as("SELECT class, level, xp FROM characters WHERE id = $1")
            .bind(c.0)
            .fetch_one(&mut *tx)
            .await
            .map_err(db("read character progress"))?;
    Ok((class.parse()?, level, xp))
}

async fn learn_skill_in(tx: &mut PgConnection, actor: Actor, skill: SkillId) -> StoreResult<i32> {
    let me = lock_actor(tx, &actor).await?;
    let c = actor.character();
    let (class, level, _) = read_progress(tx, c).await?;
    let def: Option<(Option<String>, i32)> =
        sqlx::query_as("SELECT class, level_req FROM skill_definitions WHERE id = $1")
            .bind(skill.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db("skill definition"))?;
    let Some((skill_class, level_req)) = def else {
        refuse!(Refusal::NotFound("skill"))
    };
    if skill_class.is_some_and(|k| k != class.as_str()) {
        refuse!(Refusal::NotAllowed("that skill belongs to another class"));
    }
    if level < level_req {
        refuse!(Refusal::NotAllowed("the character's level is too low"));
    }
    let known: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM skills WHERE character_id = $1 AND skill_id = $2)",
    )
    .bind(c.0)
    .bind(skill.0)
    .fetch_one(&mut *tx)
    .await
    .map_err(db("learned skill"))?;
    if known {
        refuse!(Refusal::NotAllowed("the skill is already learned"));
    }
    let cost = skill_learn_cost(level_req);
    add_gold(tx, c, -cost).await?;
    sqlx::query("INSERT INTO skills (character_id, skill_id, level) VALUES ($1, $2, 1)")
        .bind(c.0)
        .bind(skill.0)
        .execute(&mut *tx)
        .await
        .map_err(db("learn skill"))?;
    write_in_tx(
        tx,
        &[LogEvent::new("skill_learned")
            .actor(me.id)
            .gold(cost)
            .details(serde_json::json!({ "skill_id": skill.0, "level": 1 }))],
    )
    .await?;
    Ok(1)
}

async fn upgrade_skill_in(tx: &mut PgConnection, actor: Actor, skill: SkillId) -> StoreResult<i32> {
    let me = lock_actor(tx, &actor).await?;
    let row: Option<(i32, i32)> = sqlx::query_as(
        "SELECT s.level, d.max_level FROM skills s JOIN skill_definitions d ON d.id = s.skill_id
         WHERE s.character_id = $1 AND s.skill_id = $2",
    )
    .bind(me.id)
    .bind(skill.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db("learned skill"))?;
    let Some((level, max_level)) = row else {
        refuse!(Refusal::NotFound("learned skill"))
    };
    if level >= max_level {
        refuse!(Refusal::LimitReached("skill level"));
    }
    let next = level + 1;
    let cost = skill_upgrade_cost(next);
    add_gold(tx, actor.character(), -cost).await?;
    sqlx::query("UPDATE skills SET level = $3 WHERE character_id = $1 AND skill_id = $2")
        .bind(me.id)
        .bind(skill.0)
        .bind(next)
        .execute(&mut *tx)
        .await
        .map_err(db("upgrade skill"))?;
    write_in_tx(
        tx,
        &[LogEvent::new("skill_upgraded")
            .actor(me.id)
            .gold(cost)
            .details(serde_json::json!({ "skill_id": skill.0, "level": next }))],
    )
    .await?;
    Ok(next)
}

async fn accept_quest_in(tx: &mut PgConnection, actor: Actor, quest: QuestId) -> StoreResult<()> {
    let me = lock_actor(tx, &actor).await?;
    let level_req: Option<i32> =
        sqlx::query_scalar("SELECT level_req FROM quest_definitions WHERE id = $1")
            .bind(quest.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db("quest definition"))?;
    let Some(level_req) = level_req else {
        refuse!(Refusal::NotFound("quest"))
    };
    if me.level < level_req {
        refuse!(Refusal::NotAllowed("the character's level is too low"));
    }
    let (taken, active): (bool, i64) = sqlx::query_as(
        "SELECT bool_or(quest_id = $2) IS TRUE, count(*) FILTER (WHERE status = 'active')
         FROM quests WHERE character_id = $1",
    )
    .bind(me.id)
    .bind(quest.0)
    .fetch_one(&mut *tx)
    .await
    .map_err(db("quests of character"))?;
    if taken {
        refuse!(Refusal::NotAllowed(
            "the quest is already accepted or completed"
        ));
    }
    if active >= QUESTS_ACTIVE_MAX {
        refuse!(Refusal::LimitReached("active quests"));
    }
    sqlx::query("INSERT INTO quests (character_id, quest_id, status) VALUES ($1, $2, 'active')")
        .bind(me.id)
        .bind(quest.0)
        .execute(&mut *tx)
        .await
        .map_err(db("accept quest"))?;
    write_in_tx(
        tx,
        &[LogEvent::new("quest_accepted")
            .actor(me.id)
            .details(serde_json::json!({ "quest_id": quest.0 }))],
    )
    .await
}

async fn progress_quest_in(
    tx: &mut PgConnection,
    actor: Actor,
    quest: QuestId,
    amount: i32,
) -> StoreResult<i32> {
    let me = lock_actor(tx, &actor).await?;
    let progress: Option<i32> = sqlx::query_scalar(
        "UPDATE quests q SET progress = least(q.progress + $3, d.target_count)
         FROM quest_definitions d
         WHERE q.character_id = $1 AND q.quest_id = $2 AND q.status = 'active' AND d.id = q.quest_id
         RETURNING q.progress",
    )
    .bind(me.id)
    .bind(quest.0)
    .bind(amount)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db("quest progress"))?;
    let Some(progress) = progress else {
        refuse!(Refusal::NotFound("active quest"))
    };
    write_in_tx(
        tx,
        &[LogEvent::new("quest_progress")
            .actor(me.id)
            .details(serde_json::json!({ "quest_id": quest.0, "amount": amount,
                                         "progress": progress }))],
    )
    .await?;
    Ok(progress)
}

#[derive(sqlx::FromRow)]
struct QuestRow {
    status: String,
    progress: i32,
    target_count: i32,
    reward_xp: i64,
    reward_gold: i64,
    reward_items: sqlx::types::Json<Vec<(ItemDefId, i32)>>,
}

async fn complete_quest_in(
    tx: &mut PgConnection,
    actor: Actor,
    quest: QuestId,
    known_xp: i64,
) -> StoreResult<QuestCompletion> {
    let me = lock_actor(tx, &actor).await?;
    let c = actor.character();
    let row: Option<QuestRow> = sqlx::query_as(
        "SELECT q.status, q.progress, d.target_count, d.reward_xp, d.reward_gold, d.reward_items
         FROM quests q JOIN quest_definitions d ON d.id = q.quest_id
         WHERE q.character_id = $1 AND q.quest_id = $2",
    )
    .bind(me.id)
    .bind(quest.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db("quest to complete"))?;
    let Some(q) = row else {
        refuse!(Refusal::NotFound("quest"))
    };
    if q.status == "completed" {
        refuse!(Refusal::NotAllowed("the quest is already completed"));
    }
    if q.progress < q.target_count {
        refuse!(Refusal::NotAllowed("the quest's objective is not met"));
    }
    let rewards = &q.reward_items.0;
    let items = grant_items(tx, c, rewards, "quest_reward").await?;
    let gold_after = add_gold(tx, c, q.reward_gold).await?;
    let (class, level, xp) = read_progress(tx, c).await?;
    // A zone's count may be ahead of the stored one (kills not saved yet): the reward goes on top
    // of the greater, so the committed experience never lags what the player was shown.
    let total_xp = xp.max(known_xp).saturating_add(q.reward_xp);
    // The stored level never goes down, even if it was somehow ahead of its experience.
    let new_level = level_for_xp(total_xp).max(level);
    let a = base_attributes(class, new_level);
    sqlx::query(
        "UPDATE characters SET xp = $2, level = $3, strength = $4, agility = $5, intellect = $6,
                stamina = $7 WHERE id = $1",
    )
    .bind(me.id)
    .bind(total_xp)
    .bind(new_level)
    .bind(a.strength)
    .bind(a.agility)
    .bind(a.intellect)
    .bind(a.stamina)
    .execute(&mut *tx)
    .await
    .map_err(db("quest reward experience"))?;
    sqlx::query(
        "UPDATE quests SET status = 'completed', completed_at = now()
         WHERE character_id = $1 AND quest_id = $2",
    )
    .bind(me.id)
    .bind(quest.0)
    .execute(&mut *tx)
    .await
    .map_err(db("complete quest"))?;

    let mut events = vec![LogEvent::new("quest_completed")
        .actor(me.id)
        .gold(q.reward_gold)
        .details(serde_json::json!({ "quest_id": quest.0, "xp": q.reward_xp }))];
    for item in &items {
        events.push(
            LogEvent::new("quest_reward_item")
                .actor(me.id)
                .item(item.item.0, item.def.0, item.quantity)
                .details(serde_json::json!({ "quest_id": quest.0 })),
        );
    }
    let leveled_up = new_level > level;
    if leveled_up {
        events.push(LogEvent::new("level_up").actor(me.id).details(
            serde_json::json!({ "from": level, "to": new_level, "xp": total_xp,
                                             "quest_id": quest.0 }),
        ));
    }
    write_in_tx(tx, &events).await?;
    Ok(QuestCompletion {
        reward_xp: q.reward_xp,
        reward_gold: q.reward_gold,
        gold_after,
        items,
        xp_after: total_xp,
        level_after: new_level,
        leveled_up,
    })
}

async fn level_up_in(tx: &mut PgConnection, s: &CharacterSnapshot) -> StoreResult<i32> {
    let before: Option<i32> = sqlx::query_scalar("SELECT level FROM characters WHERE id = $1")
        .bind(s.fence.character.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db("level before level-up"))?;
    write_full_save(tx, s).await?;
    write_in_tx(
        tx,
        &[LogEvent::new("level_up")
            .actor(s.fence.character.0)
            .zone(s.position.zone.0)
            .details(serde_json::json!({ "from": before, "to": s.level, "xp": s.xp }))],
    )
    .await?;
    Ok(s.level)
}

async fn record_pvp_kill_in(
    tx: &mut PgConnection,
    killer: Actor,
    victim: CharacterId,
) -> StoreResult<i32> {
    let k = killer.character();
    let rows = lock_characters(tx, &[k, victim]).await?;
    let me = rows
        .iter()
        .find(|r| r.id == k.0)
        .expect("lock_characters returns every character asked for");
    check_actor(me, &killer)?;
    let kills: Option<i32> = sqlx::query_scalar(
        "UPDATE characters SET pvp_kills = pvp_kills + 1
         WHERE id = $1 AND pvp_kills < 2147483647 RETURNING pvp_kills",
    )
    .bind(k.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db("pvp kill"))?;
    let Some(kills) = kills else {
        refuse!(Refusal::LimitReached("PvP kills"))
    };
    write_in_tx(
        tx,
        &[LogEvent::new("pvp_kill")
            .actor(k.0)
            .target(victim.0)
            .details(serde_json::json!({ "pvp_kills": kills }))],
    )
    .await?;
    Ok(kills)
}

impl Store {
    /// Learns a skill at level 1 for `skill_learn_cost(level_req)` gold. The skill must be of the
    /// character's class (or of none) and its level requirement met. Returns the skill's level.
    pub async fn learn_skill(&self, actor: Actor, skill: SkillId) -> StoreResult<i32> {
        in_tx!(self.conns(), |tx| learn_skill_in(tx, actor, skill))
    }

    /// Raises a learned skill by one level, up to its maximum, for `skill_upgrade_cost` gold.
    /// Returns the new level.
    pub async fn upgrade_skill(&self, actor: Actor, skill: SkillId) -> StoreResult<i32> {
        in_tx!(self.conns(), |tx| upgrade_skill_in(tx, actor, skill))
    }

    /// Accepts a quest: its level requirement met, never accepted before, and fewer than
    /// `QUESTS_ACTIVE_MAX` quests active.
    pub async fn accept_quest(&self, actor: Actor, quest: QuestId) -> StoreResult<()> {
        in_tx!(self.conns(), |tx| accept_quest_in(tx, actor, quest))
    }

    /// `accept_quest` under an idempotency key (`action_keys`); its receipt is `true`.
    pub async fn accept_quest_keyed(
        &self,
        actor: Actor,
        quest: QuestId,
        key: &str,
    ) -> StoreResult<bool> {
        check_key(key)?;
        in_tx!(self.conns(), |tx| async move {
            accept_quest_in(tx, actor, quest).await?;
            keep_in(tx, key, &true).await?;
            Ok(true)
        })
    }

    /// `progress_quest` under an idempotency key: a report retried after a lost answer is not
    /// counted twice.
    pub async fn progress_quest_keyed(
        &self,
        actor: Actor,
        quest: QuestId,
        amount: i32,
        key: &str,
    ) -> StoreResult<i32> {
        check_key(key)?;
        if !(1..=QUEST_PROGRESS_STEP_MAX).contains(&amount) {
            refuse!(Refusal::Invalid(format!(
                "quest progress must be 1 to {QUEST_PROGRESS_STEP_MAX} at a time"
            )));
        }
        in_tx!(self.conns(), |tx| async move {
            let progress = progress_quest_in(tx, actor, quest, amount).await?;
            keep_in(tx, key, &progress).await?;
            Ok(progress)
        })
    }

    /// `complete_quest` under an idempotency key: a completion retried after a lost answer is
    /// answered with the first one's receipt, never rewarded twice.
    pub async fn complete_quest_keyed(
        &self,
        actor: Actor,
        quest: QuestId,
        known_xp: i64,
        key: &str,
    ) -> StoreResult<QuestCompletion> {
        check_key(key)?;
        in_tx!(self.conns(), |tx| async move {
            let done = complete_quest_in(tx, actor, quest, known_xp).await?;
            keep_in(tx, key, &done).await?;
            Ok(done)
        })
    }

    /// `record_pvp_kill` under an idempotency key: a kill is counted once.
    pub async fn record_pvp_kill_keyed(
        &self,
        killer: Actor,
        victim: CharacterId,
        key: &str,
    ) -> StoreResult<i32> {
        check_key(key)?;
        if killer.character() == victim {
            refuse!(Refusal::Invalid(
                "a character cannot kill itself in PvP".into()
            ));
        }
        in_tx!(self.conns(), |tx| async move {
            let kills = record_pvp_kill_in(tx, killer, victim).await?;
            keep_in(tx, key, &kills).await?;
            Ok(kills)
        })
    }

    /// Adds `amount` (1 to `QUEST_PROGRESS_STEP_MAX`) to an active quest's progress, which never
    /// goes past the quest's target count. Returns the progress.
    pub async fn progress_quest(
        &self,
        actor: Actor,
        quest: QuestId,
        amount: i32,
    ) -> StoreResult<i32> {
        if !(1..=QUEST_PROGRESS_STEP_MAX).contains(&amount) {
            refuse!(Refusal::Invalid(format!(
                "quest progress must be 1 to {QUEST_PROGRESS_STEP_MAX} at a time"
            )));
        }
        in_tx!(self.conns(), |tx| progress_quest_in(
            tx, actor, quest, amount
        ))
    }

    /// Completes a quest whose objective is met: grants its experience (with any level-up and
    /// the attributes of the new level), gold and items, all in one transaction, and answers with
    /// what changed. `known_xp` is the experience the caller holds (a zone's own count, which may
    /// be ahead of the last save; 0 when offline): the reward goes on top of the greater. A reward
    /// that does not fit (`InventoryFull`, `TooMuchGold`) refuses the whole completion.
    pub async fn complete_quest(
        &self,
        actor: Actor,
        quest: QuestId,
        known_xp: i64,
    ) -> StoreResult<QuestCompletion> {
        in_tx!(self.conns(), |tx| complete_quest_in(
            tx, actor, quest, known_xp
        ))
    }

    /// The zone's immediate save on a level-up: a fenced full save whose level must be the one
    /// its experience gives. Returns the new level.
    pub async fn level_up(&self, snapshot: &CharacterSnapshot) -> StoreResult<i32> {
        if level_for_xp(snapshot.xp) != snapshot.level {
            refuse!(Refusal::Invalid(format!(
                "level {} does not match {} experience",
                snapshot.level, snapshot.xp
            )));
        }
        in_tx!(self.conns(), |tx| level_up_in(tx, snapshot))
    }

    /// Counts a PvP kill for `killer`. Returns the killer's kills.
    pub async fn record_pvp_kill(&self, killer: Actor, victim: CharacterId) -> StoreResult<i32> {
        if killer.character() == victim {
            refuse!(Refusal::Invalid(
                "a character cannot kill itself in PvP".into()
            ));
        }
        in_tx!(self.conns(), |tx| record_pvp_kill_in(tx, killer, victim))
    }

    /// The best `limit` scores of a leaderboard, best first (at most `LEADERBOARD_ROWS_MAX`; a
    /// larger limit is cut down to it). Level: `level * 1e12 + xp`; PvP: kills.
    pub async fn leaderboard_scores(
        &self,
        kind: LeaderboardKind,
        limit: i64,
    ) -> StoreResult<Vec<(CharacterId, f64)>> {
        if limit < 1 {
            refuse!(Refusal::Invalid(
                "a leaderboard has at least one row".into()
            ));
        }
        let limit = limit.min(LEADERBOARD_ROWS_MAX);
        let query = match kind {
            LeaderboardKind::Level => sqlx::query_as(
                "SELECT id, level::float8 * $2::float8 + least(xp, $2 - 1)::float8 FROM characters
                 ORDER BY level DESC, xp DESC, id LIMIT $1",
            )
            .bind(limit)
            .bind(LEVEL_SCORE_SCALE),
            LeaderboardKind::Pvp => sqlx::query_as(
                "SELECT id, pvp_kills::float8 FROM characters WHERE pvp_kills > 0
                 ORDER BY pvp_kills DESC, id LIMIT $1",
            )
            .bind(limit),
        };
        let rows: Vec<(i64, f64)> = on_conn!(self.conns(), |conn| query.fetch_all(conn))
            .map_err(db("leaderboard scores"))?;
        Ok(rows
            .into_iter()
            .map(|(id, score)| (CharacterId(id), score))
            .collect())
    }
}
