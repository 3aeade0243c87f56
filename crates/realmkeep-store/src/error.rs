//! What a store call can answer besides success: a typed refusal (the rules said no, nothing
//! changed) or an operating error (the database is away or failed; the caller may try again).

use realmkeep_domain::DomainError;

pub use realmkeep_domain::records::Refusal;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The action was refused by the game's rules; nothing changed.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// PostgreSQL cannot be reached right now; nothing is known to have changed. Try again.
    #[error("the database is unavailable, try again: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// No pooled connection came free in time (`StoreOptions::acquire_timeout`); nothing changed.
    /// Try again. Usually a busy pool, not an outage: `Store::is_outage` tells them apart.
    #[error("every database connection is busy, try again: {0}")]
    Busy(#[source] sqlx::Error),
    /// Any other database failure.
    #[error("database error in {context}: {source}")]
    Database {
        context: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Io(String),
    /// An idempotency key was used before: the action was decided then (`action_keys`).
    #[error("this action was already decided under its key")]
    KeyUsed,
}

impl StoreError {
    /// A refusal (the rules said no) as opposed to an operating error.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            StoreError::Refused(r) => Some(r),
            _ => None,
        }
    }

    /// True when the database could not be reached: the caller should retry later.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }

    /// True when nothing is known of what the action did: the connection was lost (perhaps
    /// during COMMIT) or its key was used before. Only then is it worth asking the database
    /// (`Store::settle_action`); a refusal, a busy pool or an error the server answered mean it
    /// did not commit.
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            StoreError::Unavailable(_) | StoreError::Io(_) | StoreError::KeyUsed
        )
    }

    /// True when no pooled connection came free in time.
    pub fn is_busy(&self) -> bool {
        matches!(self, StoreError::Busy(_))
    }

    /// Whether the connection that gave this answer is ready for its next statement
    /// (`conns.rs`): PostgreSQL answered (a refusal, an error it raised), as opposed to a
    /// connection lost, broken or shut down.
    pub(crate) fn connection_clean(&self) -> bool {
        match self {
            StoreError::Refused(_) | StoreError::KeyUsed => true,
            StoreError::Database { source, .. } => crate::conns::reusable_after(source),
            _ => false,
        }
    }

    /// A statement prepared before the schema changed under it (`is_stale_plan_sqlx`).
    pub(crate) fn is_stale_plan(&self) -> bool {
        matches!(self, StoreError::Database { source, .. } if is_stale_plan_sqlx(source))
    }

    /// Serialization failures, deadlocks and stale plans: the transaction can be run again as a
    /// whole.
    pub(crate) fn is_retryable(&self) -> bool {
        match self {
            StoreError::Database { source, .. } => is_retryable_sqlx(source),
            _ => false,
        }
    }
}

/// Serialization failures, deadlocks and stale plans: the transaction was rolled back whole, so
/// it can be run again.
pub(crate) fn is_retryable_sqlx(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            matches!(db.code().as_deref(), Some("40001") | Some("40P01")) || is_stale_plan_sqlx(e)
        }
        _ => false,
    }
}

/// A statement prepared before a column it returns changed type: recognised by its SQLSTATE and
/// the routine that raised it, not by its message (`conns.rs`). Each kind is raised each time
/// the statement runs again in that session:
/// - "cached plan must not change result type", SQLSTATE 0A000 from `RevalidateCachedQuery`,
///   before a statement prepared by the client runs;
/// - "type of parameter N (new) does not match that when preparing the plan (old)", SQLSTATE
///   42804 from `plpgsql_param_eval_recfield`, in a PL/pgSQL function whose session planned an
///   expression over a record's field that came from the column. (The store's functions cast
///   such fields, `trade.sql`; this covers a function that does not, and the old text of one
///   between a migration and the new text.)
pub(crate) fn is_stale_plan_sqlx(e: &sqlx::Error) -> bool {
    use sqlx::postgres::PgDatabaseError;
    match e {
        sqlx::Error::Database(db) => db.try_downcast_ref::<PgDatabaseError>().is_some_and(|pg| {
            matches!(
                (pg.code(), pg.routine()),
                ("0A000", Some("RevalidateCachedQuery"))
                    | ("42804", Some("plpgsql_param_eval_recfield"))
            )
        }),
        _ => false,
    }
}

pub(crate) fn is_unavailable_sqlx(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::PoolClosed | sqlx::Error::Tls(_) => true,
        sqlx::Error::WorkerCrashed => true,
        // 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, 08xxx connection
        sqlx::Error::Database(db) => db
            .code()
            .map(|c| c.starts_with("08") || c == "57P01" || c == "57P02" || c == "57P03")
            .unwrap_or(false),
        _ => false,
    }
}

/// The unique-violation constraint name, if `e` is one.
pub(crate) fn unique_violation(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("23505") => {
            Some(db.constraint().unwrap_or_default().to_string())
        }
        _ => None,
    }
}

/// The refusal a store SQL function raised, by SQLSTATE: the one table of the custom codes
/// (class `RK`; PostgreSQL passes any five-character code through). Each refusal has its own code,
/// so no caller reads an error's message. Raised by the sources `trade.sql` and `logs.sql`.
///
/// | SQLSTATE | raised by | refusal |
/// |----------|-----------|---------|
/// | RK001 | `realmkeep_trade`: a character does not exist | `NotFound("character")` |
/// | RK002 | `realmkeep_trade`: an actor's claim epoch is not the current one | `StaleClaim` |
/// | RK003 | `realmkeep_trade`: an offline side is held by a live claim | `ClaimHeld` |
/// | RK004 | `realmkeep_trade`: a side offers more gold than it has | `NotEnoughGold` |
/// | RK005 | `realmkeep_trade`: a purse would pass `gold_max` | `TooMuchGold` |
/// | RK006 | `realmkeep_trade`: an offered item is not in its side's bag | `ItemNotOwned` |
/// | RK007 | `realmkeep_trade`: a bag has too few free slots | `InventoryFull` |
/// | RK010 | `realmkeep_trade`: a character id is NULL, or both sides are one character | `Invalid` |
/// | RK011 | `realmkeep_trade`: gold is NULL, negative or above `gold_max` | `Invalid` |
/// | RK012 | `realmkeep_trade`: an item array is NULL, nested or holds NULL | `Invalid` |
/// | RK013 | `realmkeep_trade`: an item is offered twice | `Invalid` |
/// | RK014 | `realmkeep_trade`: a side offers more items than a bag holds | `LimitReached` |
/// | RK015 | `realmkeep_trade`: `gold_max` or `inventory_slots` out of range | `Invalid` |
/// | RK016 | `realmkeep_trade`: the trade reference is NULL, empty or too long | `Invalid` |
/// | RK017 | `realmkeep_trade`: nothing offered on either side | `Invalid` |
/// | RK018 | `realmkeep_free_slots` (`bag.sql`): a bag of no slot or of more than 64 | `Invalid` |
/// | RK020 | `ensure_game_logs_partition`: the month is NULL or over ten years away | `Invalid` |
/// | RK021 | `realmkeep_pickup`: no such item definition | `NotFound("item definition")` |
/// | RK022 | `realmkeep_pickup`: the loot key was taken by another character | `NotFound("loot")` |
/// | RK023 | `realmkeep_pickup`: what is left does not fit one stack | `Invalid` |
/// | RK024 | `realmkeep_pickup`: an argument is NULL or out of range | `Invalid` |
/// | RK030 | `realmkeep_market_buy`: the listing is gone (bought, cancelled, expired) | `ListingGone` |
/// | RK031 | `realmkeep_market_buy`: a seller buying its own listing | `NotAllowed` |
/// | RK032 | `realmkeep_market_buy`: an argument is NULL or out of range | `Invalid` |
///
/// Integrity rules raised by triggers are not refusals (the code never asks for such states):
/// they use the standard codes, 23514 with the rule's constraint name (`item_must_be_placed`,
/// `item_stack_within_max`, `item_equipped_in_its_slot`, `listing_matches_item`) and 42501 for
/// writes to the append-only `game_logs`.
pub fn refusal_of_sqlstate(code: &str) -> Option<Refusal> {
    Some(match code {
        "RK001" => Refusal::NotFound("character"),
        "RK002" => Refusal::StaleClaim,
        "RK003" => Refusal::ClaimHeld,
        "RK004" => Refusal::NotEnoughGold,
        "RK005" => Refusal::TooMuchGold,
        "RK006" => Refusal::ItemNotOwned,
        "RK007" => Refusal::InventoryFull,
        "RK010" => Refusal::Invalid("a trade needs two different characters".into()),
        "RK011" => Refusal::Invalid("gold offered out of range".into()),
        "RK012" => Refusal::Invalid("the offered items are missing".into()),
        "RK013" => Refusal::Invalid("an item is offered twice".into()),
        "RK014" => Refusal::LimitReached("items per trade side"),
        "RK015" => Refusal::Invalid("trade limits out of range".into()),
        "RK016" => Refusal::Invalid("the trade reference is missing or too long".into()),
        "RK017" => Refusal::Invalid("an empty trade".into()),
        "RK018" => Refusal::Invalid("a bag's slots out of range".into()),
        "RK020" => Refusal::Invalid("log partition month out of range".into()),
        "RK021" => Refusal::NotFound("item definition"),
        "RK022" => Refusal::NotFound("loot"),
        "RK023" => Refusal::Invalid("the loot does not fit one stack".into()),
        "RK024" => Refusal::Invalid("pickup arguments out of range".into()),
        "RK030" => Refusal::ListingGone,
        "RK031" => Refusal::NotAllowed("a seller cannot buy their own listing"),
        "RK032" => Refusal::Invalid("purchase arguments out of range".into()),
        _ => return None,
    })
}

/// The refusal a store SQL function raised, if `e` is one (see `refusal_of_sqlstate`).
pub(crate) fn sql_refusal(e: &sqlx::Error) -> Option<Refusal> {
    refusal_of_sqlstate(e.as_database_error()?.code()?.as_ref())
}

/// Wraps a sqlx error with where it happened; a refusal raised by a store SQL function becomes
/// `StoreError::Refused`.
pub(crate) fn db(context: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| {
        if is_stale_plan_sqlx(&source) {
            // Perhaps on a path that settles its connection by hand (which then goes back to
            // sqlx's pool): recorded, so that it is closed before it is lent again.
            crate::conns::stale_plan_met_somewhere();
        }
        if let Some(refusal) = sql_refusal(&source) {
            StoreError::Refused(refusal)
        } else if matches!(source, sqlx::Error::PoolTimedOut) {
            StoreError::Busy(source)
        } else if is_unavailable_sqlx(&source) {
            StoreError::Unavailable(source)
        } else {
            StoreError::Database { context, source }
        }
    }
}

impl From<DomainError> for StoreError {
    fn from(e: DomainError) -> Self {
        StoreError::Refused(Refusal::Invalid(e.to_string()))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Returns early with a refusal.
macro_rules! refuse {
    ($r:expr) => {
        return Err($crate::error::StoreError::Refused($r))
    };
}
pub(crate) use refuse;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_lost_answer_or_a_used_key_leaves_the_outcome_unknown() {
        let io = || sqlx::Error::Io(std::io::Error::other("connection reset"));
        assert!(StoreError::Unavailable(io()).outcome_unknown());
        assert!(StoreError::KeyUsed.outcome_unknown());
        assert!(StoreError::Io("lost".into()).outcome_unknown());
        assert!(!StoreError::Busy(sqlx::Error::PoolTimedOut).outcome_unknown());
        assert!(!StoreError::Refused(Refusal::NotEnoughGold).outcome_unknown());
        assert!(!StoreError::Database {
            context: "trade",
            source: sqlx::Error::RowNotFound
        }
        .outcome_unknown());
    }
}
