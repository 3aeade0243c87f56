//! What every clone of a [`crate::Cache`] shares: the core, and each feature's own state on the
//! node (defined by its feature, gathered here once), which the health watcher registers again
//! when Redis returns.

use crate::cooldowns::LocalCooldowns;
use crate::core::Core;
use crate::leaderboard::RebuildGate;
use crate::options::CacheOptions;
use crate::presence::NodeRegistry;
use crate::rate_limit::LocalWindows;
use crate::rate_tally::Tally;
use crate::sessions::LocalSessions;
use std::sync::{Arc, Mutex};

#[derive(Debug)]
pub(crate) struct Shared {
    /// An `Arc` of its own: background tasks (subscribers, leaderboard rebuilds) hold the core
    /// only.
    pub core: Arc<Core>,
    pub registry: NodeRegistry,
    pub sessions: LocalSessions,
    pub rate_limits: LocalWindows,
    /// The frequent hits tallied on the node (`rate_tally.rs`).
    pub tally: Tally,
    pub cooldowns: LocalCooldowns,
    pub leaderboards: RebuildGate,
    /// The health watcher, stopped by [`crate::Cache::close`].
    pub watcher: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// The rate tally's flusher, stopped by [`crate::Cache::close`].
    pub tally_flusher: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Shared {
    pub fn new(client: redis::Client, opts: CacheOptions) -> Self {
        let sessions = LocalSessions::new(&opts);
        Self {
            core: Arc::new(Core::new(client, opts)),
            registry: NodeRegistry::default(),
            sessions,
            rate_limits: LocalWindows::default(),
            tally: Tally::default(),
            cooldowns: LocalCooldowns::default(),
            leaderboards: RebuildGate::default(),
            watcher: Mutex::new(None),
            tally_flusher: Mutex::new(None),
        }
    }
}
