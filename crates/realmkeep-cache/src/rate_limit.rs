//! Rate limits: `rate_limit:{ip}:{action}`, a fixed window counted by a Lua script (INCR, and
//! PEXPIRE on the first hit), so concurrent hits from every node let exactly `limit` through per
//! window. While Redis is down each node counts alone, in a bounded local map: a client spread
//! over n nodes gets at most n times the limit until Redis returns.

use crate::core::{lock, Core};
use crate::expiring::ExpiringMap;
use crate::options::RateLimitConfig;
use crate::vocab::RateAction;
use crate::{keys, scripts};
use std::fmt;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Rate-limit windows kept locally while Redis is down.
pub const LOCAL_RATE_LIMIT_ENTRIES_MAX: usize = 100_000;

/// The rate limits' own state on the node: the windows counted while Redis is down.
pub(crate) struct LocalWindows {
    windows: Mutex<ExpiringMap<(IpAddr, RateAction), u32>>,
}

impl Default for LocalWindows {
    fn default() -> Self {
        Self {
            windows: Mutex::new(ExpiringMap::new(LOCAL_RATE_LIMIT_ENTRIES_MAX)),
        }
    }
}

impl fmt::Debug for LocalWindows {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalWindows").finish_non_exhaustive()
    }
}

/// The answer to one hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    Allowed {
        remaining: u32,
        degraded: bool,
    },
    Limited {
        retry_after: Duration,
        degraded: bool,
    },
}

impl RateDecision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, RateDecision::Allowed { .. })
    }

    pub fn is_degraded(&self) -> bool {
        match self {
            RateDecision::Allowed { degraded, .. } | RateDecision::Limited { degraded, .. } => {
                *degraded
            }
        }
    }
}

fn decide(count: u64, left: Duration, limit: u32, degraded: bool) -> RateDecision {
    if count <= u64::from(limit) {
        RateDecision::Allowed {
            remaining: limit - count as u32,
            degraded,
        }
    } else {
        RateDecision::Limited {
            retry_after: left,
            degraded,
        }
    }
}

/// Rate limits. Get it from [`crate::Cache::rate_limits`].
#[derive(Debug, Clone, Copy)]
pub struct RateLimits<'a> {
    core: &'a Core,
    local: &'a LocalWindows,
}

impl<'a> RateLimits<'a> {
    pub(crate) fn new(core: &'a Core, local: &'a LocalWindows) -> Self {
        Self { core, local }
    }
}

impl RateLimits<'_> {
    fn core(&self) -> &Core {
        self.core
    }

    /// Counts one hit of `action` from `ip` and says whether it may go ahead.
    pub async fn check(&self, ip: IpAddr, action: RateAction) -> RateDecision {
        let core = self.core();
        let cfg = core.opts.rate_limit(action);
        let mut inv = scripts::RATE_LIMIT.prepare_invoke();
        inv.key(keys::rate_limit(ip, action))
            .arg(cfg.window.as_millis() as u64);
        match core.eval::<(u64, i64)>(&inv).await {
            Ok((count, left_ms)) => decide(
                count,
                Duration::from_millis(left_ms.max(0) as u64),
                cfg.limit,
                false,
            ),
            Err(e) => {
                core.degraded("rate limit", &e);
                let (count, left) = local_count(self.local, ip, &cfg, 1);
                decide(count, left, cfg.limit, true)
            }
        }
    }
}

/// Counts `hits` in the local window of `ip` and `cfg`'s action (Redis is down): the window's
/// count and how long it has left.
pub(crate) fn local_count(
    local: &LocalWindows,
    ip: IpAddr,
    cfg: &RateLimitConfig,
    hits: u32,
) -> (u64, Duration) {
    let now = Instant::now();
    let mut map = lock(&local.windows);
    let key = (ip, cfg.action);
    if let Some((count, until)) = map.get_mut(&key, now) {
        *count = count.saturating_add(hits);
        return (u64::from(*count), *until - now);
    }
    map.insert(key, hits, now + cfg.window, now);
    (u64::from(hits), cfg.window)
}
