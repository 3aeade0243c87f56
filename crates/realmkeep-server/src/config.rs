//! How a node is set up: which zones it runs, under which node name, and the timings and queue
//! sizes of its pipeline. Production defaults come from the spec (30 s batch saves); tests shrink
//! the intervals and the lease.

use crate::limits::*;
use realmkeep_domain::{redact_url, ZoneId};
use std::time::Duration;

/// The default lease of a claim: renewed every third of it, so a zone survives two missed
/// renewals, and a crashed zone's characters can be claimed elsewhere within a minute.
pub const LEASE_DEFAULT: Duration = Duration::from_secs(60);
/// The spec's batch-save period.
pub const SAVE_INTERVAL_DEFAULT: Duration = Duration::from_secs(30);

/// Capacities of the channels around a zone's tick thread. Every one is bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueSizes {
    pub control: usize,
    pub commands: usize,
    pub store: usize,
    pub cache: usize,
    pub logs: usize,
    pub events: usize,
    pub notices_per_player: usize,
}

impl Default for QueueSizes {
    fn default() -> Self {
        Self {
            control: CONTROL_QUEUE_MAX,
            commands: COMMAND_QUEUE_MAX,
            store: STORE_QUEUE_MAX,
            cache: CACHE_QUEUE_MAX,
            logs: LOG_QUEUE_MAX,
            events: EVENT_QUEUE_MAX,
            notices_per_player: PLAYER_NOTICE_QUEUE_MAX,
        }
    }
}

/// The settings one zone host runs with.
#[derive(Debug, Clone, PartialEq)]
pub struct HostConfig {
    /// The node (process) name: part of the claim holder name. ASCII letters, digits, `-`, `_`.
    pub node: String,
    /// Claim lease; renewed every `lease / 3`.
    pub lease: Duration,
    /// How often the zone batch-saves dirty characters.
    pub save_interval: Duration,
    /// Seeds the zones' randomness (monster placement, loot rolls); `None` picks one at random.
    /// Each zone mixes its id in.
    pub seed: Option<u64>,
    pub queues: QueueSizes,
    /// How long `shutdown` waits for the final saves.
    pub shutdown_wait: Duration,
}

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            node: "node".into(),
            lease: LEASE_DEFAULT,
            save_interval: SAVE_INTERVAL_DEFAULT,
            seed: None,
            queues: QueueSizes::default(),
            shutdown_wait: SHUTDOWN_WAIT,
        }
    }
}

/// Longest node name: the claim holder name (`zone-<id>/<node>/<nonce>`) must stay within the
/// store's `HOLDER_CHARS_MAX`, and the cache uses the same name as its node id.
pub const NODE_NAME_CHARS_MAX: usize = 64;

impl HostConfig {
    /// Refuses settings the pipeline cannot run with (checked when a zone starts).
    pub fn check(&self) -> Result<(), crate::HostError> {
        let bad = |what: String| Err(crate::HostError::Start(what));
        let node_ok = !self.node.is_empty()
            && self.node.len() <= NODE_NAME_CHARS_MAX
            && self
                .node
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !node_ok {
            return bad(format!(
                "node name must be 1 to {NODE_NAME_CHARS_MAX} ASCII letters, digits, '-' or '_'"
            ));
        }
        use realmkeep_store::claims::{LEASE_MAX, LEASE_MIN};
        if !(LEASE_MIN..=LEASE_MAX).contains(&self.lease) {
            return bad(format!(
                "lease must be between {LEASE_MIN:?} and {LEASE_MAX:?}"
            ));
        }
        if self.save_interval < crate::limits::TICK {
            return bad("the save interval must be at least one tick".into());
        }
        let q = &self.queues;
        let sizes = [
            q.control,
            q.commands,
            q.store,
            q.cache,
            q.logs,
            q.events,
            q.notices_per_player,
        ];
        if sizes.contains(&0) {
            return bad("every queue holds at least one item".into());
        }
        Ok(())
    }
}

/// How often each of the node's periodic jobs runs (see `jobs`); tests shrink them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobIntervals {
    pub market_expiry: Duration,
    pub mail_expiry: Duration,
    pub log_partitions: Duration,
    pub key_pruning: Duration,
}

impl Default for JobIntervals {
    fn default() -> Self {
        Self {
            market_expiry: MARKET_EXPIRY_INTERVAL,
            mail_expiry: MAIL_EXPIRY_INTERVAL,
            log_partitions: LOG_PARTITION_UPKEEP_INTERVAL,
            key_pruning: KEY_PRUNING_INTERVAL,
        }
    }
}

/// A node: the zones it runs and the settings they share.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterConfig {
    /// Zones to run; each must exist in the content.
    pub zones: Vec<ZoneId>,
    pub host: HostConfig,
    /// The node's periodic jobs.
    pub jobs: JobIntervals,
    /// Rate limits that differ from the cache's defaults (`Cluster::connect` applies them).
    pub rate_limits: Vec<realmkeep_cache::options::RateLimitConfig>,
    /// The queues this node's matchmaker pops, each with the zone its groups are sent to (there
    /// is no instance concept: a zone configured as the queue's instance zone; it may run on
    /// another node). Empty: this node forms no groups (another node, or the simulator, may).
    pub instances: Vec<(realmkeep_cache::QueueKind, ZoneId)>,
}

impl ClusterConfig {
    pub fn new(node: impl Into<String>, zones: Vec<ZoneId>) -> Self {
        Self {
            zones,
            host: HostConfig {
                node: node.into(),
                ..HostConfig::default()
            },
            jobs: JobIntervals::default(),
            rate_limits: Vec::new(),
            instances: Vec::new(),
        }
    }

    /// Pops `queue`'s full groups on this node and sends each to `zone` together.
    pub fn with_instance_zone(mut self, queue: realmkeep_cache::QueueKind, zone: ZoneId) -> Self {
        self.instances.retain(|(q, _)| *q != queue);
        self.instances.push((queue, zone));
        self
    }

    pub fn with_job_intervals(mut self, jobs: JobIntervals) -> Self {
        self.jobs = jobs;
        self
    }

    /// Rate limits other than the defaults (a benchmark's bots all come from one address).
    pub fn with_rate_limits(
        mut self,
        limits: Vec<realmkeep_cache::options::RateLimitConfig>,
    ) -> Self {
        self.rate_limits = limits;
        self
    }

    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.host.lease = lease;
        self
    }

    pub fn with_save_interval(mut self, every: Duration) -> Self {
        self.host.save_interval = every;
        self
    }

    pub fn with_seed(mut self, seed: u64) -> Self {
        self.host.seed = Some(seed);
        self
    }

    pub fn with_queues(mut self, queues: QueueSizes) -> Self {
        self.host.queues = queues;
        self
    }

    pub fn with_shutdown_wait(mut self, wait: Duration) -> Self {
        self.host.shutdown_wait = wait;
        self
    }
}

/// Where a node's backends are, for `realmkeep serve` and the demo. The Redis session secret is
/// needed by the cache crate (it validates session tokens); it never prints.
#[derive(Clone)]
pub struct Endpoints {
    pub database_url: String,
    pub redis_url: String,
    pub session_secret: Vec<u8>,
}

impl std::fmt::Debug for Endpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoints")
            .field("database_url", &redact_url(&self.database_url))
            .field("redis_url", &redact_url(&self.redis_url))
            .field("session_secret", &"***")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusable_settings_are_refused() {
        let ok = ClusterConfig::new("node-1", vec![ZoneId(1)]).host;
        assert!(ok.check().is_ok());
        let with = |f: fn(&mut HostConfig)| {
            let mut c = ok.clone();
            f(&mut c);
            c.check().is_err()
        };
        assert!(with(|c| c.node = "a/b".into()));
        assert!(with(|c| c.node = "n".repeat(NODE_NAME_CHARS_MAX + 1)));
        assert!(with(|c| c.lease = Duration::from_millis(10)));
        assert!(with(|c| c.save_interval = Duration::ZERO));
        assert!(with(|c| c.queues.store = 0));
    }

    #[test]
    fn passwords_never_print() {
        let e = Endpoints {
            database_url: "postgres://rk:hunter2@127.0.0.1:5432/db".into(),
            redis_url: "redis://realmkeep:swordfish@127.0.0.1:6379/".into(),
            session_secret: b"secret-bytes".to_vec(),
        };
        let s = format!("{e:?}");
        for secret in ["hunter2", "swordfish", "secret-bytes"] {
            assert!(!s.contains(secret), "{s}");
        }
        assert!(s.contains("postgres://rk:***@127.0.0.1:5432/db"), "{s}");
    }
}
