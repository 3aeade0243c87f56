//! Claims: one owner per character. A zone claims a character (the epoch grows by one), renews
//! the lease while it plays, and releases it with a final save. A claim whose lease expired may
//! be taken by another zone; the old zone's epoch is then stale and all its writes are refused.

use crate::characters::{load_with, LoadedCharacter};
use crate::conns::on_conn;
use crate::error::{db, refuse, Refusal, StoreResult};
use crate::saves::{write_full_save, CharacterSnapshot};
use crate::tx::in_tx;
use crate::Store;
use realmkeep_domain::{AccountId, CharacterId, ClaimEpoch, Fence};
use serde::Serialize;
use sqlx::{AssertSqlSafe, PgConnection};
use std::time::Duration;

/// Longest holder name (zone, node and process nonce).
pub const HOLDER_CHARS_MAX: usize = 128;
/// Shortest and longest lease a claim may ask for.
pub const LEASE_MIN: Duration = Duration::from_secs(1);
pub const LEASE_MAX: Duration = Duration::from_secs(600);
/// Fences one renewal call may carry.
pub const RENEW_ROWS_MAX: usize = 16_384;

/// Who holds a character now.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ClaimInfo {
    pub holder: Option<String>,
    pub epoch: i64,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    pub live: bool,
}

fn check_claim_args(holder: &str, lease: Duration) -> StoreResult<f64> {
    if holder.is_empty() || holder.len() > HOLDER_CHARS_MAX {
        refuse!(Refusal::Invalid(format!(
            "holder must be 1 to {HOLDER_CHARS_MAX} bytes"
        )));
    }
    if !(LEASE_MIN..=LEASE_MAX).contains(&lease) {
        refuse!(Refusal::Invalid(format!(
            "lease must be between {LEASE_MIN:?} and {LEASE_MAX:?}"
        )));
    }
    Ok(lease.as_secs_f64())
}

/// A ban in force on the account of the character row `c` (the same rule as
/// `bans::active_ban`: not revoked, not expired).
const ACCOUNT_BANNED_SQL: &str = "EXISTS (SELECT 1 FROM bans b WHERE b.account_id = c.account_id
     AND b.revoked_at IS NULL AND (b.expires_at IS NULL OR b.expires_at > now()))";

/// Takes the claim (the epoch grows by one) if no live claim holds the character and its
/// account is not banned; `None` if one does, it is banned or the character does not exist.
/// The ban is checked by the claiming statement itself, so no claim is ever taken for an account
/// banned before the statement began.
async fn claim_in(
    conn: &mut PgConnection,
    character: CharacterId,
    holder: &str,
    lease_secs: f64,
) -> StoreResult<Option<ClaimEpoch>> {
    let sql = format!(
        "UPDATE characters c SET claim_holder = $2, claim_epoch = c.claim_epoch + 1,
                claim_expires_at = now() + make_interval(secs => $3)
         WHERE c.id = $1 AND (c.claim_holder IS NULL OR c.claim_expires_at <= now())
           AND c.deleted_at IS NULL AND NOT {ACCOUNT_BANNED_SQL}
         RETURNING c.claim_epoch"
    );
    let epoch: Option<i64> = sqlx::query_scalar(AssertSqlSafe(sql))
        .bind(character.0)
        .bind(holder)
        .bind(lease_secs)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db("claim"))?;
    Ok(epoch.map(ClaimEpoch))
}

impl Store {
    /// Claims a character for `holder` and loads everything about it, in one transaction of two
    /// statements: the claim, then the load. The load is a statement of its own so that it reads
    /// with a snapshot taken after the claim got the row: when the claim waited for a transaction
    /// holding the character (a trade), the load sees all of what that transaction committed, not
    /// the newest character row beside older bags (see `characters::load_sql`). Refused with
    /// `Banned` while a ban is in force on the account and `ClaimHeld` while another live claim
    /// holds it; nothing changes then.
    pub async fn claim_and_load(
        &self,
        character: CharacterId,
        holder: &str,
        lease: Duration,
    ) -> StoreResult<(Fence, LoadedCharacter)> {
        let secs = check_claim_args(holder, lease)?;
        let claimed = in_tx!(self.conns(), |tx| async move {
            let Some(epoch) = claim_in(tx, character, holder, secs).await? else {
                return Ok(None);
            };
            let loaded = load_with(tx, character)
                .await?
                .ok_or(crate::StoreError::Refused(Refusal::NotFound("character")))?;
            Ok(Some((epoch, loaded)))
        })?;
        match claimed {
            Some((epoch, loaded)) => Ok((Fence { character, epoch }, loaded)),
            // Nothing was claimed: ask why, outside the (committed, empty) transaction.
            None => refuse!(self.why_not_claimed(character).await?),
        }
    }

    /// Claims without loading.
    pub async fn claim(
        &self,
        character: CharacterId,
        holder: &str,
        lease: Duration,
    ) -> StoreResult<Fence> {
        let secs = check_claim_args(holder, lease)?;
        match on_conn!(self.conns(), |conn| claim_in(conn, character, holder, secs))? {
            Some(epoch) => Ok(Fence { character, epoch }),
            None => refuse!(self.why_not_claimed(character).await?),
        }
    }

    /// Why a claim found no row to take: a ban on the account, another live claim, or no such
    /// character (or a deleted one).
    async fn why_not_claimed(&self, character: CharacterId) -> StoreResult<Refusal> {
        let sql = format!(
            "SELECT {ACCOUNT_BANNED_SQL} FROM characters c WHERE c.id = $1 AND c.deleted_at IS NULL"
        );
        let banned: Option<bool> =
            on_conn!(self.conns(), |conn| sqlx::query_scalar(AssertSqlSafe(sql))
                .bind(character.0)
                .fetch_optional(conn))
            .map_err(db("claim lookup"))?;
        Ok(match banned {
            Some(true) => Refusal::Banned,
            Some(false) => Refusal::ClaimHeld,
            None => Refusal::NotFound("character"),
        })
    }

    /// Extends the lease of every fence still current, in one statement. Returns the characters
    /// whose claim was lost (stale epoch or released): the zone must stop working on them.
    pub async fn renew(&self, fences: &[Fence], lease: Duration) -> StoreResult<Vec<CharacterId>> {
        if fences.is_empty() {
            return Ok(Vec::new());
        }
        if fences.len() > RENEW_ROWS_MAX {
            refuse!(Refusal::LimitReached("fences per renewal"));
        }
        let secs = check_claim_args("x", lease)?;
        let ids: Vec<i64> = fences.iter().map(|f| f.character.0).collect();
        let epochs: Vec<i64> = fences.iter().map(|f| f.epoch.0).collect();
        // The rows are locked first, in ascending id order like every economy transaction (the
        // fences come in whatever order the caller's map holds them), and only then updated.
        // Planned for its arrays on every call (`saves::ARRAY_STATEMENT_PERSISTENT`).
        let renewed: Vec<i64> = on_conn!(self.conns(), |conn| sqlx::query_scalar(
            "WITH locked AS MATERIALIZED (
                 SELECT id FROM characters WHERE id = ANY($1::int8[]) ORDER BY id FOR UPDATE)
             UPDATE characters c SET claim_expires_at = now() + make_interval(secs => $3)
             FROM UNNEST($1::int8[], $2::int8[]) AS t(id, epoch) JOIN locked l ON l.id = t.id
             WHERE c.id = t.id AND c.claim_epoch = t.epoch AND c.claim_holder IS NOT NULL
             RETURNING c.id",
        )
        .bind(&ids)
        .bind(&epochs)
        .bind(secs)
        .persistent(crate::saves::ARRAY_STATEMENT_PERSISTENT)
        .fetch_all(conn))
        .map_err(db("renew claims"))?;
        let renewed: std::collections::HashSet<i64> = renewed.into_iter().collect();
        Ok(ids
            .into_iter()
            .filter(|id| !renewed.contains(id))
            .map(CharacterId)
            .collect())
    }

    /// Saves the character's full state and releases the claim, in one transaction. Refused with
    /// `StaleClaim` (and nothing written) if the fence is no longer current.
    pub async fn release(&self, snapshot: &CharacterSnapshot) -> StoreResult<()> {
        in_tx!(self.conns(), |tx| release_in(tx, snapshot))
    }

    /// Who holds a character (admin tools, tests).
    pub async fn claim_info(&self, character: CharacterId) -> StoreResult<ClaimInfo> {
        let row: Option<ClaimInfo> = on_conn!(self.conns(), |conn| {
            sqlx::query_as(
            "SELECT claim_holder AS holder, claim_epoch AS epoch, claim_expires_at AS expires_at,
                    (claim_holder IS NOT NULL AND claim_expires_at > now()) AS live
             FROM characters WHERE id = $1",
        )
        .bind(character.0)
        .fetch_optional(conn)
        })
        .map_err(db("claim info"))?;
        row.ok_or(crate::StoreError::Refused(Refusal::NotFound("character")))
    }

    /// The characters of `account` that a live claim holds: those in a zone now (a ban kicks
    /// them; once the ban is committed no new claim can join them).
    pub async fn claimed_characters_of_account(
        &self,
        account: AccountId,
    ) -> StoreResult<Vec<CharacterId>> {
        let ids: Vec<i64> = on_conn!(self.conns(), |conn| sqlx::query_scalar(
            "SELECT id FROM characters
             WHERE account_id = $1 AND claim_holder IS NOT NULL AND claim_expires_at > now()
             ORDER BY id",
        )
        .bind(account.0)
        .fetch_all(conn))
        .map_err(db("claimed characters of account"))?;
        Ok(ids.into_iter().map(CharacterId).collect())
    }

    /// Characters whose claims `holder` still holds (a zone restarting under the same name, or an
    /// operator looking at a node).
    pub async fn claims_of_holder(&self, holder: &str) -> StoreResult<Vec<Fence>> {
        let rows: Vec<(i64, i64)> = on_conn!(self.conns(), |conn| sqlx::query_as(
            "SELECT id, claim_epoch FROM characters WHERE claim_holder = $1 ORDER BY id",
        )
        .bind(holder)
        .fetch_all(conn))
        .map_err(db("claims of holder"))?;
        Ok(rows
            .into_iter()
            .map(|(id, e)| Fence {
                character: CharacterId(id),
                epoch: ClaimEpoch(e),
            })
            .collect())
    }
}

/// The final save and the release of the claim, in the caller's transaction: `StaleClaim` (and,
/// once the caller rolls back, nothing written) if the fence is no longer current.
pub(crate) async fn release_in(
    tx: &mut sqlx::PgConnection,
    snapshot: &CharacterSnapshot,
) -> StoreResult<()> {
    write_full_save(tx, snapshot).await?;
    let n = sqlx::query(
        "UPDATE characters SET claim_holder = NULL, claim_expires_at = NULL
         WHERE id = $1 AND claim_epoch = $2 AND claim_holder IS NOT NULL",
    )
    .bind(snapshot.fence.character.0)
    .bind(snapshot.fence.epoch.0)
    .execute(&mut *tx)
    .await
    .map_err(db("release"))?
    .rows_affected();
    if n != 1 {
        refuse!(Refusal::StaleClaim);
    }
    Ok(())
}
