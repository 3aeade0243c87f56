//! Skill cooldowns that follow a player across zones: `cooldown:{player}:{skill}`, set with
//! `NX` and a TTL equal to the cooldown. Every cooldown is also kept in a bounded local map, so
//! while Redis is down this node still enforces the ones it started or saw.

use crate::core::{lock, Core};
use crate::error::CacheError;
use crate::expiring::ExpiringMap;
use crate::{keys, scripts};
use realmkeep_domain::{CharacterId, SkillId};
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The longest cooldown accepted (a day): anything longer is a content error.
pub const COOLDOWN_MAX: Duration = Duration::from_secs(24 * 60 * 60);
/// Cooldowns kept locally.
pub const LOCAL_COOLDOWN_ENTRIES_MAX: usize = 100_000;

/// The cooldowns' own state on the node: every cooldown it started or saw, enforced from here
/// while Redis is down.
pub(crate) struct LocalCooldowns {
    running: Mutex<ExpiringMap<(CharacterId, SkillId), ()>>,
}

impl Default for LocalCooldowns {
    fn default() -> Self {
        Self {
            running: Mutex::new(ExpiringMap::new(LOCAL_COOLDOWN_ENTRIES_MAX)),
        }
    }
}

impl fmt::Debug for LocalCooldowns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalCooldowns").finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CooldownStart {
    /// The skill may be used; its cooldown now runs.
    Started { degraded: bool },
    /// Still cooling down for `remaining`.
    OnCooldown { remaining: Duration, degraded: bool },
}

impl CooldownStart {
    pub fn started(&self) -> bool {
        matches!(self, CooldownStart::Started { .. })
    }
}

/// Cooldowns. Get it from [`crate::Cache::cooldowns`].
#[derive(Debug, Clone, Copy)]
pub struct Cooldowns<'a> {
    core: &'a Core,
    local: &'a LocalCooldowns,
}

impl<'a> Cooldowns<'a> {
    pub(crate) fn new(core: &'a Core, local: &'a LocalCooldowns) -> Self {
        Self { core, local }
    }
}

impl Cooldowns<'_> {
    fn core(&self) -> &Core {
        self.core
    }

    /// Starts `skill`'s cooldown for `player` unless it is running.
    pub async fn try_start(
        &self,
        player: CharacterId,
        skill: SkillId,
        cooldown: Duration,
    ) -> Result<CooldownStart, CacheError> {
        if cooldown.is_zero() || cooldown > COOLDOWN_MAX {
            return Err(CacheError::Invalid {
                what: "cooldown",
                detail: format!("between 1 ms and {COOLDOWN_MAX:?} expected"),
            });
        }
        let core = self.core();
        let mut inv = scripts::COOLDOWN.prepare_invoke();
        inv.key(keys::cooldown(player, skill))
            .arg(cooldown.as_millis() as u64);
        let now = Instant::now();
        match core.eval::<i64>(&inv).await {
            Ok(-1) => {
                lock(&self.local.running).insert((player, skill), (), now + cooldown, now);
                Ok(CooldownStart::Started { degraded: false })
            }
            Ok(left_ms) => {
                let remaining = Duration::from_millis(left_ms.max(0) as u64);
                lock(&self.local.running).insert((player, skill), (), now + remaining, now);
                Ok(CooldownStart::OnCooldown {
                    remaining,
                    degraded: false,
                })
            }
            Err(e) => {
                core.degraded("cooldown", &e);
                let mut map = lock(&self.local.running);
                if let Some((_, until)) = map.get(&(player, skill), now) {
                    return Ok(CooldownStart::OnCooldown {
                        remaining: until - now,
                        degraded: true,
                    });
                }
                map.insert((player, skill), (), now + cooldown, now);
                Ok(CooldownStart::Started { degraded: true })
            }
        }
    }

    /// Time left on a cooldown (`None`: ready).
    pub async fn remaining(&self, player: CharacterId, skill: SkillId) -> Option<Duration> {
        let core = self.core();
        let cmd = redis::cmd("PTTL")
            .arg(keys::cooldown(player, skill))
            .to_owned();
        match core.query::<i64>(&cmd).await {
            Ok(ms) if ms > 0 => Some(Duration::from_millis(ms as u64)),
            Ok(_) => None,
            Err(e) => {
                core.degraded("cooldown remaining", &e);
                let now = Instant::now();
                lock(&self.local.running)
                    .get(&(player, skill), now)
                    .map(|(_, until)| until - now)
            }
        }
    }
}
