//! Rate limits: `rate_limit:{ip}:{action}`, a fixed window counted by a Lua script (INCR, and
//! PEXPIRE on the first hit), so concurrent hits from every node let exactly `limit` through per
//! window. While Redis is down each node counts alone, in a bounded local map: a client spread
//! over n nodes gets at most n times the limit until Redis returns.

use crate::core::{lock, Cache, Core};
use crate::{keys, scripts};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// What a client does that is limited.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum RateAction {
    Login,
    Register,
    Chat,
    Whisper,
    Trade,
    Market,
    Mail,
}

impl RateAction {
    pub const ALL: &'static [RateAction] = &[
        RateAction::Login,
        RateAction::Register,
        RateAction::Chat,
        RateAction::Whisper,
        RateAction::Trade,
        RateAction::Market,
        RateAction::Mail,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            RateAction::Login => "login",
            RateAction::Register => "register",
            RateAction::Chat => "chat",
            RateAction::Whisper => "whisper",
            RateAction::Trade => "trade",
            RateAction::Market => "market",
            RateAction::Mail => "mail",
        }
    }
}

/// `limit` hits per `window` for one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitConfig {
    pub action: RateAction,
    pub limit: u32,
    pub window: Duration,
}

/// Default limits, per IP address.
pub const LOGIN_LIMIT_PER_MINUTE: u32 = 10;
pub const REGISTER_LIMIT_PER_HOUR: u32 = 5;
pub const CHAT_LIMIT_PER_10_S: u32 = 20;
pub const WHISPER_LIMIT_PER_10_S: u32 = 20;
pub const TRADE_LIMIT_PER_MINUTE: u32 = 30;
pub const MARKET_LIMIT_PER_MINUTE: u32 = 60;
pub const MAIL_LIMIT_PER_MINUTE: u32 = 10;

impl RateLimitConfig {
    pub fn default_for(action: RateAction) -> Self {
        let (limit, secs) = match action {
            RateAction::Login => (LOGIN_LIMIT_PER_MINUTE, 60),
            RateAction::Register => (REGISTER_LIMIT_PER_HOUR, 3_600),
            RateAction::Chat => (CHAT_LIMIT_PER_10_S, 10),
            RateAction::Whisper => (WHISPER_LIMIT_PER_10_S, 10),
            RateAction::Trade => (TRADE_LIMIT_PER_MINUTE, 60),
            RateAction::Market => (MARKET_LIMIT_PER_MINUTE, 60),
            RateAction::Mail => (MAIL_LIMIT_PER_MINUTE, 60),
        };
        Self {
            action,
            limit,
            window: Duration::from_secs(secs),
        }
    }

    pub fn defaults() -> Vec<Self> {
        RateAction::ALL
            .iter()
            .map(|a| Self::default_for(*a))
            .collect()
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

/// Rate limits. Get it from [`Cache::rate_limits`].
#[derive(Debug, Clone, Copy)]
pub struct RateLimits<'a> {
    cache: &'a Cache,
}

impl Cache {
    pub fn rate_limits(&self) -> RateLimits<'_> {
        RateLimits { cache: self }
    }
}

impl RateLimits<'_> {
    fn core(&self) -> &Core {
        &self.cache.core
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
                local_check(core, ip, &cfg)
            }
        }
    }
}

fn local_check(core: &Core, ip: IpAddr, cfg: &RateLimitConfig) -> RateDecision {
    let now = Instant::now();
    let mut map = lock(&core.local_rate);
    let key = (ip, cfg.action);
    if let Some((count, until)) = map.get_mut(&key, now) {
        *count = count.saturating_add(1);
        return decide(u64::from(*count), *until - now, cfg.limit, true);
    }
    map.insert(key, 1, now + cfg.window, now);
    decide(1, cfg.window, cfg.limit, true)
}
