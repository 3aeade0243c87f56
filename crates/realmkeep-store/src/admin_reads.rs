//! What operators read (the admin API's search, character page and log browser): bounded reads,
//! no writes. Each caller checks the operator's `Read` power first.

use crate::conns::on_conn;
use crate::error::{db, refuse, Refusal, StoreResult};
use crate::logs::StoredLog;
use crate::Store;
use chrono::{DateTime, Utc};
use realmkeep_domain::{AccountId, CharacterId};
use serde::Serialize;

/// Players one search returns at the most.
pub const PLAYER_SEARCH_ROWS_MAX: i64 = 100;
/// Longest search text.
pub const PLAYER_SEARCH_CHARS_MAX: usize = 64;
/// Log rows one page holds at the most.
pub const LOG_PAGE_ROWS_MAX: i64 = 500;

/// A character found by a search, with its account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PlayerHit {
    pub character_id: i64,
    pub character: String,
    pub account_id: i64,
    pub account: String,
    pub level: i32,
    pub zone_id: i32,
    pub deleted: bool,
}

/// The account side of a character page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AccountInfo {
    pub id: i64,
    pub username: String,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// Which rows of `game_logs` to read, newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogFilter {
    /// Rows where the character acted or was acted on.
    pub character: Option<CharacterId>,
    pub event_type: Option<String>,
    /// From this time (inclusive) to that one (exclusive).
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// The `next` cursor of the previous page: rows strictly before (occurred_at, id).
    pub before: Option<(DateTime<Utc>, i64)>,
    /// 1 to `LOG_PAGE_ROWS_MAX`.
    pub limit: i64,
}

/// One page of logs; `next` is the cursor of the following page, `None` on the last.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogPage {
    pub rows: Vec<StoredLog>,
    pub next: Option<(DateTime<Utc>, i64)>,
}

/// `s` with LIKE's wildcards and escape character escaped, for a prefix match.
fn like_prefix(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 1);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

impl Store {
    /// Characters whose name, or whose account's name, starts with `text` (any case), at most
    /// `limit` (1 to `PLAYER_SEARCH_ROWS_MAX`), by name.
    pub async fn admin_search_players(
        &self,
        text: &str,
        limit: i64,
    ) -> StoreResult<Vec<PlayerHit>> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > PLAYER_SEARCH_CHARS_MAX {
            refuse!(Refusal::Invalid(format!(
                "a search is 1 to {PLAYER_SEARCH_CHARS_MAX} characters"
            )));
        }
        if !(1..=PLAYER_SEARCH_ROWS_MAX).contains(&limit) {
            refuse!(Refusal::Invalid(format!(
                "limit must be 1 to {PLAYER_SEARCH_ROWS_MAX}"
            )));
        }
        on_conn!(self.conns(), |conn| sqlx::query_as(
            "SELECT c.id AS character_id, c.name AS character, a.id AS account_id,
                    a.username AS account, c.level, c.zone_id, c.deleted_at IS NOT NULL AS deleted
             FROM characters c JOIN accounts a ON a.id = c.account_id
             WHERE lower(c.name) LIKE lower($1) ESCAPE '\\' OR lower(a.username) LIKE lower($1) ESCAPE '\\'
             ORDER BY lower(c.name), c.id LIMIT $2",
        )
        .bind(like_prefix(text))
        .bind(limit)
        .fetch_all(conn))
        .map_err(db("player search"))
    }

    /// The account of a character page.
    pub async fn account_info(&self, account: AccountId) -> StoreResult<AccountInfo> {
        let row: Option<AccountInfo> = on_conn!(self.conns(), |conn| sqlx::query_as(
            "SELECT id, username, created_at, last_login_at FROM accounts WHERE id = $1",
        )
        .bind(account.0)
        .fetch_optional(conn))
        .map_err(db("account info"))?;
        row.ok_or(crate::StoreError::Refused(Refusal::NotFound("account")))
    }

    /// One page of `game_logs`, newest first.
    pub async fn admin_logs(&self, f: &LogFilter) -> StoreResult<LogPage> {
        if !(1..=LOG_PAGE_ROWS_MAX).contains(&f.limit) {
            refuse!(Refusal::Invalid(format!(
                "limit must be 1 to {LOG_PAGE_ROWS_MAX}"
            )));
        }
        if let (Some(a), Some(b)) = (f.from, f.to) {
            if a >= b {
                refuse!(Refusal::Invalid("from must come before to".into()));
            }
        }
        let rows: Vec<StoredLog> = on_conn!(self.conns(), |conn| {
            sqlx::query_as(
            "SELECT id, occurred_at, event_type, actor_character_id, target_character_id, item_id,
                    item_def_id, quantity, gold, zone_id, details
             FROM game_logs
             WHERE ($1::int8 IS NULL OR actor_character_id = $1 OR target_character_id = $1)
               AND ($2::text IS NULL OR event_type = $2)
               AND ($3::timestamptz IS NULL OR occurred_at >= $3)
               AND ($4::timestamptz IS NULL OR occurred_at < $4)
               AND ($5::timestamptz IS NULL OR (occurred_at, id) < ($5, $6::int8))
             ORDER BY occurred_at DESC, id DESC LIMIT $7",
        )
        .bind(f.character.map(|c| c.0))
        .bind(f.event_type.as_deref())
        .bind(f.from)
        .bind(f.to)
        .bind(f.before.map(|b| b.0))
        .bind(f.before.map(|b| b.1))
        .bind(f.limit + 1)
        .fetch_all(conn)
        })
        .map_err(db("admin logs"))?;
        let mut rows = rows;
        let next = if rows.len() as i64 > f.limit {
            rows.truncate(f.limit as usize);
            rows.last().map(|r| (r.occurred_at, r.id))
        } else {
            None
        };
        Ok(LogPage { rows, next })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_search_text_matches_as_a_prefix_with_its_wildcards_taken_literally() {
        assert_eq!(super::like_prefix("ab"), "ab%");
        assert_eq!(super::like_prefix("a_%\\"), "a\\_\\%\\\\%");
    }
}
