//! The node's own state, kept in process: what degraded mode answers from, and what is
//! registered again in Redis when it comes back. Every map here has a named bound.

use realmkeep_domain::{AccountId, CharacterId, ZoneId};
use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;
use std::time::Instant;

/// Players one node may hold (the zone servers of a node together).
pub const NODE_PLAYERS_MAX: usize = 20_000;
/// Zones one node may host.
pub const NODE_ZONES_MAX: usize = 1_024;
/// Rate-limit windows kept locally while Redis is down.
pub const LOCAL_RATE_LIMIT_ENTRIES_MAX: usize = 100_000;
/// Cooldowns kept locally.
pub const LOCAL_COOLDOWN_ENTRIES_MAX: usize = 100_000;
/// Sessions validated or issued while Redis was down, to register again when it returns.
pub const LOCAL_DEGRADED_SESSIONS_MAX: usize = 50_000;
/// Sessions revoked on this node, refused locally while Redis is down.
pub const LOCAL_REVOKED_SESSIONS_MAX: usize = 50_000;

/// A map whose entries expire; when full, expired entries go first, then an arbitrary one
/// (losing a local window or cooldown early is the lesser harm than growing without bound).
#[derive(Debug)]
pub(crate) struct ExpiringMap<K, V> {
    entries: HashMap<K, (V, Instant)>,
    max: usize,
}

impl<K: Eq + Hash + Clone, V> ExpiringMap<K, V> {
    pub fn new(max: usize) -> Self {
        Self {
            entries: HashMap::new(),
            max,
        }
    }

    pub fn get(&self, key: &K, now: Instant) -> Option<(&V, Instant)> {
        self.entries
            .get(key)
            .filter(|(_, until)| *until > now)
            .map(|(v, until)| (v, *until))
    }

    pub fn get_mut(&mut self, key: &K, now: Instant) -> Option<&mut (V, Instant)> {
        self.entries.get_mut(key).filter(|(_, until)| *until > now)
    }

    pub fn insert(&mut self, key: K, value: V, until: Instant, now: Instant) {
        if self.entries.len() >= self.max && !self.entries.contains_key(&key) {
            self.entries.retain(|_, (_, u)| *u > now);
            if self.entries.len() >= self.max {
                if let Some(k) = self.entries.keys().next().cloned() {
                    self.entries.remove(&k);
                }
            }
        }
        self.entries.insert(key, (value, until));
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        self.entries.remove(key).map(|(v, _)| v)
    }

    /// A copy of the entries still live.
    pub fn live(&self, now: Instant) -> Vec<(K, V, Instant)>
    where
        V: Clone,
    {
        self.entries
            .iter()
            .filter(|(_, (_, u))| *u > now)
            .map(|(k, (v, u))| (k.clone(), v.clone(), *u))
            .collect()
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

/// The players this node hosts, and its other entities (monsters, NPCs) per zone. Guarded by an async mutex held across the Redis
/// write of each change, so a re-registration never interleaves with a join or a leave.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    pub players: HashMap<CharacterId, ZoneId>,
    pub others: HashMap<ZoneId, u32>,
}

impl Registry {
    /// This node's share of `zone:{id}:entity_count`: its players there plus its other entities.
    pub fn contribution(&self, zone: ZoneId) -> u64 {
        let players = self.players.values().filter(|z| **z == zone).count() as u64;
        players + u64::from(self.others.get(&zone).copied().unwrap_or(0))
    }

    pub fn zones(&self) -> BTreeSet<ZoneId> {
        self.players
            .values()
            .copied()
            .chain(self.others.keys().copied())
            .collect()
    }
}

/// A session this node accepted while Redis was down.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DegradedSession {
    pub account: AccountId,
    pub session: crate::SessionId,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn expiring_map_stays_bounded() {
        let now = Instant::now();
        let mut m = ExpiringMap::new(3);
        for i in 0..10 {
            m.insert(i, i, now + Duration::from_secs(60), now);
            assert!(m.len() <= 3);
        }
        m.insert(100, 0, now + Duration::from_secs(1), now);
        assert!(m.get(&100, now).is_some());
        assert!(m.get(&100, now + Duration::from_secs(2)).is_none());
    }
}
