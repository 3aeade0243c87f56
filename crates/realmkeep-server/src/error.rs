//! What the host's API answers besides success. Players see the `Display` text (generic); the
//! detail of operating errors goes to the logs where they happen.

use realmkeep_store::{Refusal, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The zone (or the node) is shutting down and takes no one in.
    #[error("the zone is shutting down")]
    ShuttingDown,
    /// Another zone holds the character's claim (it is playing, or its lease has not expired).
    #[error("the character is in another zone")]
    ClaimHeld,
    #[error("no such character")]
    NotFound,
    /// The character is already in this zone.
    #[error("the character is already in this zone")]
    AlreadyHere,
    /// The character is not in this zone.
    #[error("the character is not in this zone")]
    NotHere,
    #[error("no such zone on this node")]
    NoSuchZone,
    /// A queue is full: nothing happened; try again shortly.
    #[error("the zone is busy, try again")]
    Busy,
    /// PostgreSQL cannot be reached: nothing happened; try again. (The detail is logged.)
    #[error("the game is unavailable, try again")]
    Unavailable,
    /// The store refused or failed in another way.
    #[error("the request failed: {0}")]
    Store(#[source] StoreError),
    /// The cache could not be set up.
    #[error("the cache failed: {0}")]
    Cache(#[from] realmkeep_cache::CacheError),
    #[error("the node could not start: {0}")]
    Start(String),
}

impl HostError {
    pub fn from_store(e: StoreError) -> Self {
        match e.refusal() {
            Some(Refusal::ClaimHeld) => HostError::ClaimHeld,
            Some(Refusal::NotFound(_)) => HostError::NotFound,
            _ if e.is_busy() => {
                tracing::debug!(error = %e, "every database connection busy: answered \"try again\"");
                HostError::Busy
            }
            _ if e.is_unavailable() => {
                tracing::warn!(error = %e, "PostgreSQL unavailable: answered \"try again\"");
                HostError::Unavailable
            }
            _ => HostError::Store(e),
        }
    }

    /// True when trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            HostError::Busy | HostError::Unavailable | HostError::ClaimHeld
        )
    }
}
