//! Saves of what a zone changes during play: position, health, mana, experience and level.
//! Experience and level only ever grow through a save (`GREATEST`): the zone's snapshot may be
//! older than a quest reward the store committed meanwhile, and must not take it back.
//! Gold and items are never written here; they move only through the economy transactions, so a
//! zone's snapshot can never roll a trade or a pickup back. Every save is fenced by the claim.

use crate::conns::on_conn;
use crate::error::{db, refuse, Refusal, StoreResult};
use crate::tx::in_tx;
use crate::Store;
use realmkeep_domain::limits::{BATCH_SAVE_ROWS_MAX, LEVEL_MAX};
use realmkeep_domain::rules::base_attributes;
use realmkeep_domain::{CharacterId, Class};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

pub use realmkeep_domain::records::CharacterSnapshot;

/// What a batch save did, row by row.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchSaveReport {
    pub saved: Vec<CharacterId>,
    /// Rows whose fence was stale: another zone holds the character, or it was released.
    pub refused: Vec<CharacterId>,
}

fn check(s: &CharacterSnapshot) -> StoreResult<()> {
    let p = &s.position;
    if !(p.x.is_finite() && p.y.is_finite() && p.z.is_finite() && p.rotation.is_finite()) {
        refuse!(Refusal::Invalid(format!(
            "character {} has a position that is not finite",
            s.fence.character
        )));
    }
    if s.health < 0 || s.mana < 0 || s.xp < 0 || !(1..=LEVEL_MAX).contains(&s.level) {
        refuse!(Refusal::Invalid(format!(
            "character {} has stats out of range",
            s.fence.character
        )));
    }
    Ok(())
}

/// The full save of one character inside the caller's transaction (zone exit, level-up).
/// Attributes follow the level. Refused with `StaleClaim` if the fence is not current.
pub(crate) async fn write_full_save(
    tx: &mut PgConnection,
    s: &CharacterSnapshot,
) -> StoreResult<()> {
    check(s)?;
    let row: Option<(String, i32, i64)> = sqlx::query_as(
        "SELECT class, level, xp FROM characters WHERE id = $1 AND claim_epoch = $2 AND claim_holder IS NOT NULL FOR UPDATE",
    )
    .bind(s.fence.character.0)
    .bind(s.fence.epoch.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db("full save lock"))?;
    let Some((class, stored_level, stored_xp)) = row else {
        refuse!(Refusal::StaleClaim)
    };
    let class: Class = class.parse()?;
    // Progress never goes back through a save: a quest reward committed after the zone took
    // this snapshot keeps its experience and level.
    let level = s.level.max(stored_level);
    let xp = s.xp.max(stored_xp);
    let a = base_attributes(class, level);
    sqlx::query(
        "UPDATE characters SET level = $2, xp = $3, health = $4, mana = $5, zone_id = $6,
                strength = $7, agility = $8, intellect = $9, stamina = $10, saved_at = now()
         WHERE id = $1",
    )
    .bind(s.fence.character.0)
    .bind(level)
    .bind(xp)
    .bind(s.health)
    .bind(s.mana)
    .bind(s.position.zone.0)
    .bind(a.strength)
    .bind(a.agility)
    .bind(a.intellect)
    .bind(a.stamina)
    .execute(&mut *tx)
    .await
    .map_err(db("full save"))?;
    sqlx::query(
        "INSERT INTO character_positions (character_id, zone_id, x, y, z, rotation, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, now())
         ON CONFLICT (character_id, zone_id) DO UPDATE SET x = EXCLUDED.x, y = EXCLUDED.y, z = EXCLUDED.z,
             rotation = EXCLUDED.rotation, updated_at = now()",
    )
    .bind(s.fence.character.0)
    .bind(s.position.zone.0)
    .bind(s.position.x)
    .bind(s.position.y)
    .bind(s.position.z)
    .bind(s.position.rotation)
    .execute(&mut *tx)
    .await
    .map_err(db("save position"))?;
    Ok(())
}

/// Whether the statements that join arrays of any length to the rows they lock (the batch save,
/// `Store::renew`) are kept prepared on their connection: no. PostgreSQL plans a prepared
/// statement for its parameters five times, then, if a plan blind to them looks no dearer, keeps
/// that one: for these it guesses a few array elements and joins the arrays to the locked rows by
/// comparing every pair, which made a 5,000-fence renewal take 1.97 s instead of 52 ms and a
/// 10,000-row save 8 s instead of 0.16 s from the sixth call on one connection. An unnamed
/// statement is planned for its arrays on every call: 1 ms of planning for those 5,000 fences,
/// 4 ms for those 10,000 rows (`tests/array_plans.rs`).
pub(crate) const ARRAY_STATEMENT_PERSISTENT: bool = false;

/// The statement of a batch save: the rows locked in ascending id order (the order of every
/// economy transaction, whatever the order of the batch, so a save and a trade never wait on each
/// other in a cycle), one UPDATE of `characters` fenced row by row, and the upsert of the saved
/// rows' positions, fed by UNNEST arrays. The saved ids come back as one array (one row to send
/// and decode instead of one per character). Public so the benchmark can run the very same
/// statement server-side as its floor.
pub const BATCH_SAVE_SQL: &str = "
    WITH t AS (
        SELECT * FROM UNNEST($1::int8[], $2::int8[], $3::int4[], $4::real[], $5::real[], $6::real[],
                             $7::real[], $8::int4[], $9::int4[], $10::int8[], $11::int4[])
                 AS t(id, epoch, zone, x, y, z, rot, health, mana, xp, level)
    ), locked AS MATERIALIZED (
        SELECT id FROM characters WHERE id = ANY($1::int8[]) ORDER BY id FOR UPDATE
    ), upd AS (
        UPDATE characters c
        SET health = t.health, mana = t.mana, xp = GREATEST(c.xp, t.xp), level = GREATEST(c.level, t.level),
            zone_id = t.zone, saved_at = now()
        FROM t JOIN locked l ON l.id = t.id
        WHERE c.id = t.id AND c.claim_epoch = t.epoch AND c.claim_holder IS NOT NULL
        RETURNING c.id
    ), pos AS (
        INSERT INTO character_positions (character_id, zone_id, x, y, z, rotation, updated_at)
        SELECT t.id, t.zone, t.x, t.y, t.z, t.rot, now() FROM t JOIN upd ON upd.id = t.id
        ON CONFLICT (character_id, zone_id) DO UPDATE SET x = EXCLUDED.x, y = EXCLUDED.y, z = EXCLUDED.z,
            rotation = EXCLUDED.rotation, updated_at = EXCLUDED.updated_at
    )
    SELECT array_agg(id) FROM upd";

impl Store {
    /// Saves one character in full, fenced, in one transaction.
    pub async fn save_full(&self, snapshot: &CharacterSnapshot) -> StoreResult<()> {
        in_tx!(self.conns(), |tx| write_full_save(tx, snapshot))
    }

    /// Saves positions and stats of many characters in one statement. Each row is fenced on its
    /// own: rows with a stale fence are reported in `refused` and the others are saved. A batch
    /// with an invalid row is refused whole, before anything is written.
    pub async fn save_batch(&self, rows: &[CharacterSnapshot]) -> StoreResult<BatchSaveReport> {
        if rows.is_empty() {
            return Ok(BatchSaveReport::default());
        }
        if rows.len() > BATCH_SAVE_ROWS_MAX {
            refuse!(Refusal::LimitReached("rows per batch save"));
        }
        let mut seen = std::collections::HashSet::with_capacity(rows.len());
        for r in rows {
            check(r)?;
            if !seen.insert(r.fence.character) {
                refuse!(Refusal::Invalid(format!(
                    "character {} appears twice in one batch",
                    r.fence.character
                )));
            }
        }
        let col = |f: &dyn Fn(&CharacterSnapshot) -> f32| rows.iter().map(f).collect::<Vec<f32>>();
        let ids: Vec<i64> = rows.iter().map(|r| r.fence.character.0).collect();
        let saved: Option<Vec<i64>> =
            on_conn!(self.conns(), |conn| sqlx::query_scalar(BATCH_SAVE_SQL)
                .bind(&ids)
                .bind(rows.iter().map(|r| r.fence.epoch.0).collect::<Vec<i64>>())
                .bind(rows.iter().map(|r| r.position.zone.0).collect::<Vec<i32>>())
                .bind(col(&|r| r.position.x))
                .bind(col(&|r| r.position.y))
                .bind(col(&|r| r.position.z))
                .bind(col(&|r| r.position.rotation))
                .bind(rows.iter().map(|r| r.health).collect::<Vec<i32>>())
                .bind(rows.iter().map(|r| r.mana).collect::<Vec<i32>>())
                .bind(rows.iter().map(|r| r.xp).collect::<Vec<i64>>())
                .bind(rows.iter().map(|r| r.level).collect::<Vec<i32>>())
                .persistent(ARRAY_STATEMENT_PERSISTENT)
                .fetch_one(conn))
            .map_err(db("batch save"))?;
        // No row saved: `array_agg` of nothing is NULL.
        let saved = saved.unwrap_or_default();
        let saved_set: std::collections::HashSet<i64> = saved.iter().copied().collect();
        Ok(BatchSaveReport {
            refused: ids
                .iter()
                .filter(|id| !saved_set.contains(id))
                .map(|id| CharacterId(*id))
                .collect(),
            saved: saved.into_iter().map(CharacterId).collect(),
        })
    }
}
