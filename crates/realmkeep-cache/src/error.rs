//! The crate's errors. Operators see the detail (logged where it happens); players see only the
//! generic messages the feature modules give (e.g. [`crate::MATCHMAKING_PAUSED_MESSAGE`]).

use std::time::Duration;

/// An error a caller-implemented source (PostgreSQL, through the store) may return.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// Redis is unreachable (the health watcher saw it go, or the connection dropped): the
    /// feature answers in degraded mode where it has one.
    #[error("Redis is unavailable")]
    Unavailable,
    /// A command did not answer within the per-command timeout.
    #[error("Redis did not answer within {0:?}")]
    Timeout(Duration),
    /// Redis answered with an error (out of memory, a script error, a wrong type, ...).
    #[error("Redis refused the command: {0}")]
    Redis(#[from] redis::RedisError),
    /// Something Redis holds did not parse: an operator or an older version wrote it.
    #[error("malformed value under `{key}`: {detail}")]
    Malformed { key: String, detail: String },
    /// The caller's PostgreSQL-side source failed.
    #[error("the {what} source failed: {source}")]
    Source {
        what: &'static str,
        #[source]
        source: BoxError,
    },
    /// No source was configured for a feature that needs one.
    #[error("no {0} source is configured")]
    NoSource(&'static str),
    /// A bound of this crate was reached (local maps, message sizes, read counts).
    #[error("{what} is over its limit of {max}")]
    Limit { what: &'static str, max: usize },
    /// The caller passed something this crate refuses (parse at the boundary).
    #[error("invalid {what}: {detail}")]
    Invalid { what: &'static str, detail: String },
}

impl CacheError {
    /// True when the error means "Redis cannot be used right now": the caller (or the feature
    /// module) answers in degraded mode.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, CacheError::Unavailable | CacheError::Timeout(_))
    }
}
