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

    /// Serialization failures and deadlocks: the transaction can be run again as a whole.
    pub(crate) fn is_retryable(&self) -> bool {
        match self {
            StoreError::Database { source, .. } => is_retryable_sqlx(source),
            _ => false,
        }
    }
}

pub(crate) fn is_retryable_sqlx(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("40001") | Some("40P01")),
        _ => false,
    }
}

fn is_unavailable_sqlx(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Tls(_) => true,
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

/// Wraps a sqlx error with where it happened.
pub(crate) fn db(context: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| {
        if is_unavailable_sqlx(&source) {
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
