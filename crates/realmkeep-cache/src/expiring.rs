//! A bounded map whose entries expire: what the features keep on the node for degraded mode
//! (rate-limit windows, cooldowns, sessions) is held in these, each with its own named bound.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::Instant;

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
